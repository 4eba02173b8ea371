/*
 * hf_bert.h — reading a pretrained BERT-family checkpoint in the Hugging Face
 * layout into finsent's encoder (classify/model.h, ARCH_POST_LN).
 *
 * A checkpoint directory holds config.json and model.safetensors (the
 * tokenizer's vocab.txt and tokenizer_config.json are read by
 * classify/wordpiece.h). config.json must say model_type "bert", hidden_act
 * "gelu" (the exact erf form), and absolute position embeddings; its sizes
 * (vocab_size, hidden_size, num_hidden_layers, num_attention_heads,
 * intermediate_size, max_position_embeddings, type_vocab_size, layer_norm_eps)
 * become the model's configuration. Tensors may be F32, F16 or BF16 (read as
 * F32), named with the "bert." prefix (BertModel inside BertFor*) or without it
 * (BertModel, sentence-transformers); pooler.*, heads of other tasks and
 * buffers such as embeddings.position_ids are ignored; LayerNorm parameters may
 * be called weight/bias or gamma/beta (older conversions).
 *
 * One name table (hf_bert.c) maps each tensor of the model to the checkpoint's:
 * the fused attention input projection layers.L.attn.qkv is the query, key and
 * value projections stacked by rows. The classification heads (and the
 * attention-pooling query) are not in a checkpoint: they keep their random
 * initialisation. Everything is checked before use (model_type, sizes, every
 * tensor's presence, dtype and shape, the file's offsets): a bad checkpoint is
 * one line in err, never a crash.
 *
 *   struct model_config heads;          // n_out, out_sizes, pool, dropout
 *   model_config_default(&heads);
 *   struct model *m;
 *   if (hf_bert_load(dir, be, &heads, seed, &m, &err) < 0) ... err.msg
 */
#ifndef FINSENT_HF_BERT_H
#define FINSENT_HF_BERT_H

#include "classify/model.h"
#include "classify/safetensors.h"
#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

/* Parses config.json text (len bytes) into cfg: the encoder's sizes, ARCH_POST_LN,
 * the epsilon; pool, dropout and heads are taken from heads (or none when heads
 * is NULL). Returns 0 or -1 with a reason. */
int hf_bert_parse_config(const char *json, size_t len, const struct model_config *heads,
                         struct model_config *cfg, struct fs_error *err);

/* Copies the encoder tensors of a parsed checkpoint into m (made with the
 * configuration hf_bert_parse_config gave). Returns 0 or -1 with a reason
 * naming the tensor. */
int hf_bert_load_tensors(const struct st_file *f, struct model *m, struct fs_error *err);

/* The same into a host copy of m's parameters (n_params floats, m's layout);
 * tensors outside the encoder are left as they are. */
int hf_bert_read_tensors(const struct st_file *f, const struct model *m, float *host,
                         struct fs_error *err);

/* How many checkpoint tensors hold m's encoder (query, key and value apart). */
int hf_bert_n_tensors(const struct model *m);

/* Whether m's tensor i belongs to the encoder (has checkpoint names); the
 * heads and the pooling query do not. */
int hf_bert_is_encoder_tensor(const struct model *m, int i);

/* Adds m's encoder tensors to w under the checkpoint's names (with prefix,
 * e.g. "" or "bert."), the data taken from host (model_get_params; kept by w
 * until it is saved): what hf_bert_load_tensors reads back, and what the
 * reference implementation loads. Returns how many tensors were added. */
int hf_bert_add_tensors(struct st_writer *w, const struct model *m, const float *host,
                        const char *prefix);

/* The whole load: dir/config.json and dir/model.safetensors into a new model
 * on be (heads initialised from seed). Errors start with the file's path.
 * Returns 0 and *out, or -1. */
int hf_bert_load(const char *dir, struct backend *be, const struct model_config *heads,
                 uint64_t seed, struct model **out, struct fs_error *err);

#endif
