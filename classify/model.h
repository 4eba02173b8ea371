/*
 * model.h — the encoder: token + learned position embeddings, L transformer
 * blocks (multi-head self-attention with a padding mask, GELU feed-forward,
 * dropout on each residual branch), pooling by the first token ([CLS]) or
 * attention pooling, and one linear layer holding every classification head
 * side by side (topic 20 | sentiment 3).
 *
 * Two block arrangements, chosen by the configuration (cfg.arch), share every
 * layer function:
 *   ARCH_PRE_LN  (finsent's own encoder, trained from scratch):
 *       e = tok + pos;  x += drop(attn(LN1(x)));  x += drop(ffn(LN2(x)));
 *       a final LayerNorm after the last block.
 *   ARCH_POST_LN (BERT and its family, read from a pretrained checkpoint by
 *       classify/hf_bert.h): e = LN_emb(tok + pos + type[0]);
 *       x = LN1(x + drop(attn(x)));  x = LN2(x + drop(ffn(x)));  no final LN.
 * The LayerNorm epsilon is cfg.ln_eps (1e-5 here, 1e-12 for BERT).
 *
 * The model is written once above struct backend (classify/backend.h): its
 * parameters, gradients, optimiser state and activations are backend buffers.
 * One function pair per layer (forward beside backward) lives in model.c.
 *
 *   struct model *m;
 *   model_create(&cfg, be, seed, &m, &err);        // random init
 *   model_forward(m, &batch, 1, step_seed, &loss); // training mode: dropout on
 *   model_backward(m);                             // gradients into m->grads
 *   ...                                            // optimiser: classify/train.h
 *   model_free(m);
 */
#ifndef FINSENT_MODEL_H
#define FINSENT_MODEL_H

#include "classify/backend.h"
#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

enum { MODEL_MAX_LAYERS = 24, MODEL_MAX_HEADS_OUT = 4 }; /* 24: BERT-large */
/* Pooling for the heads: the first token ([CLS]); attention pooling with a
 * learned query; the mean of the real tokens' last hidden states. */
enum { POOL_CLS = 0, POOL_ATTENTION = 1, POOL_MEAN = 2 };
enum { ARCH_PRE_LN = 0, ARCH_POST_LN = 1 };

struct model_config {
    int vocab;   /* token ids are in [0, vocab) */
    int max_len; /* positions (tokens per text, [CLS] included) */
    int width;   /* C */
    int layers;  /* L */
    int heads;   /* attention heads; width % heads == 0 */
    int ffn;     /* feed-forward hidden size */
    int pool;    /* POOL_CLS, POOL_ATTENTION or POOL_MEAN */
    float dropout;
    int arch;         /* ARCH_PRE_LN or ARCH_POST_LN (see above) */
    int type_vocab;   /* token-type (segment) embeddings, 0: none; type 0 is used */
    float ln_eps;     /* LayerNorm epsilon */
    int n_out;        /* classification heads; 0: a bare encoder (no head tensors) */
    int out_sizes[MODEL_MAX_HEADS_OUT]; /* classes per head (20 topics, 3 sentiments) */
};

/* Fills cfg with finsent's defaults (vocab given by the tokenizer). */
void model_config_default(struct model_config *cfg);

/* Checks ranges and divisibility; -1 with a reason. */
int model_config_check(const struct model_config *cfg, struct fs_error *err);

/* "cls", "attention", "mean" and back (-1 for an unknown name). */
const char *model_pool_name(int pool);
int model_pool_from_name(const char *s);

/* Total logits per row (sum of out_sizes; 0 for a bare encoder). */
int model_config_logits(const struct model_config *cfg);

/* One named parameter tensor (a slice of the parameter buffer). */
struct model_tensor {
    char name[48];
    int ndim;
    int shape[2];
    size_t offset; /* in floats, into params / grads / m / v */
    size_t size;   /* floats */
    int decay;     /* AdamW weight decay applies (matrices) */
};

/* A batch on the host: B texts of T ids each (padded with 0 after lengths[b]),
 * task[b] / label[b] the head and class a row is labelled with (task -1: none). */
struct model_batch {
    int B, T;
    const int32_t *ids;     /* [B*T] */
    const int32_t *lengths; /* [B], 1..T */
    const int32_t *task;    /* [B] or NULL (inference) */
    const int32_t *label;   /* [B] or NULL */
};

struct model_acts; /* activation buffers (model.c) */

/* Where the tensors outside the blocks are in model->tensors (-1: absent). */
struct model_index {
    int wte, wpe, wtt;       /* token, position, token-type embeddings */
    int eln_w, eln_b;        /* embedding LayerNorm (ARCH_POST_LN) */
    int layer0;              /* first tensor of block 0 (MODEL_LAYER_TENSORS per block) */
    int lnf_w, lnf_b;        /* final LayerNorm (ARCH_PRE_LN) */
    int pool_q;              /* attention pooling query (POOL_ATTENTION) */
    int head_w, head_b;      /* the classification heads (n_out > 0) */
};

/* A block's tensors, in order, from model->ix.layer0 + l * MODEL_LAYER_TENSORS.
 * LN1 / LN2 normalise the attention / feed-forward branch input (pre-LN) or the
 * residual sum after it (post-LN). */
enum {
    LN1_W,
    LN1_B,
    QKV_W, /* [3C, C]: query rows, then key rows, then value rows */
    QKV_B,
    OUT_W,
    OUT_B,
    LN2_W,
    LN2_B,
    FFN_IN_W,
    FFN_IN_B,
    FFN_OUT_W,
    FFN_OUT_B,
    MODEL_LAYER_TENSORS
};

struct model {
    struct model_config cfg;
    struct backend *be; /* not owned */
    size_t n_params;
    float *params; /* backend buffer [n_params] */
    float *grads;  /* NULL until model_train_alloc() */
    float *adam_m, *adam_v;
    struct model_tensor *tensors;
    int n_tensors;
    struct model_index ix;
    float label_smoothing;
    struct model_acts *acts;
    int shares_params; /* made by model_share(): params belong to another model */
};

/* Allocates a model with parameters initialised from seed (N(0, 0.02) weights,
 * zero biases, unit LayerNorm gains). Returns 0 or -1 (out of device memory,
 * bad config). */
int model_create(const struct model_config *cfg, struct backend *be, uint64_t seed,
                 struct model **out, struct fs_error *err);

/* The same with every parameter 0, for a caller that sets them all (loading a
 * model file: the random initialisation would be thrown away). */
int model_create_blank(const struct model_config *cfg, struct backend *be, struct model **out,
                       struct fs_error *err);

/* Parameters (floats) a model of configuration cfg has, without allocating
 * them (cfg must pass model_config_check). */
size_t model_config_params(const struct model_config *cfg);

/* Allocates gradients and AdamW moments (zeroed); for a view (model_share),
 * gradients only: its parameters are updated through the model it shares. */
int model_train_alloc(struct model *m, struct fs_error *err);

void model_free(struct model *m);

/* A second model over m's parameters (shared, not copied) with activations of
 * its own, for inference on another thread, or for part of a training batch
 * once model_train_alloc() has given it gradients of its own. Free it with
 * model_free() before m. */
struct model *model_share(const struct model *m);

/* Allocates the activations for batches of up to B x T tokens (train: every
 * layer's, with gradients) once, so that later batches never grow them: the
 * largest batch a training run will see, known in advance, costs exactly its
 * size instead of a doubled capacity. Returns 0 or -1 (device memory). */
int model_reserve(struct model *m, int B, int T, int train, struct fs_error *err);

/* The same for batches of up to B rows that hold at most tokens padded tokens,
 * none longer than T (B x T may exceed tokens: batches of long rows have fewer
 * rows). */
int model_reserve_tokens(struct model *m, int B, size_t tokens, int T, int train,
                         struct fs_error *err);

/* Floats held for activations (and their gradients) now: what batches cost. */
size_t model_activation_floats(const struct model *m);

/* Index of the tensor called name, or -1. */
int model_tensor_find(const struct model *m, const char *name);

/* Runs the encoder and heads on a batch. train != 0 turns dropout on (masks
 * from seed) and keeps every layer's activations for model_backward(); when
 * task/label are given, *loss (if not NULL) is the mean loss over labelled rows.
 * Returns 0, or -1 when the batch does not fit (ids out of range, T > max_len,
 * device memory). */
int model_forward(struct model *m, const struct model_batch *batch, int train, uint64_t seed,
                  float *loss, struct fs_error *err);

/* Backward pass of the last training forward: m->grads = d(mean loss)/d(params)
 * (overwritten, not accumulated). */
void model_backward(struct model *m);

/* The same for one part of a batch that was cut into parts: the gradient of
 * (the sum of this part's losses) / rows, where rows counts the labelled rows
 * of the whole batch, so that the parts' gradients add up to the batch's. */
void model_backward_rows(struct model *m, int rows);

/* Whether a row with this task and label counts in the loss (a known head and
 * a class of it). */
int model_row_labeled(const struct model_config *c, int32_t task, int32_t label);

/* After model_forward: the probabilities [B, logits] (each head's softmax side
 * by side) into host memory. */
void model_get_probs(struct model *m, float *probs);

/* After model_forward: the logits [B, logits] into host memory. */
void model_get_logits(struct model *m, float *logits);

/* After model_forward: how much the pooled representation attended to each
 * token, [B, T] on the host (attention-pooling weights, or the last layer's
 * [CLS] attention row averaged over heads); 0 on padding. */
void model_get_attention(struct model *m, float *att);

/* After model_forward: the encoder's last hidden states [B, T, C] into host
 * memory (what pooling and the heads read: after the final LayerNorm for
 * ARCH_PRE_LN, the last block's output for ARCH_POST_LN). Padded rows are
 * unspecified. */
void model_get_hidden(struct model *m, float *hidden);

/* Copies all parameters to / from host memory (n_params floats). */
void model_get_params(struct model *m, float *host);
void model_set_params(struct model *m, const float *host);

#endif
