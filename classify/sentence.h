/*
 * sentence.h — sentence embeddings from a pretrained encoder, computed as
 * sentence-transformers computes them for all-MiniLM-L6-v2: WordPiece ids
 * ([CLS] ... [SEP], truncated to max_len), the encoder's last hidden states,
 * their mean over the real tokens (the attention mask), then L2 normalisation.
 * Texts are encoded in batches of similar length (padding never changes a real
 * token's state: attention ignores padded keys).
 *
 *   struct model *m;       // hf_bert_load(dir, be, NULL, 0, &m, &err)
 *   struct wordpiece *wp;  // wordpiece_load_dir(dir, &wp, &err)
 *   float *emb = malloc(n * m->cfg.width * sizeof(float));
 *   sentence_embed(m, wp, texts, lens, n, sentence_max_len(dir, m), emb, &err);
 */
#ifndef FINSENT_SENTENCE_H
#define FINSENT_SENTENCE_H

#include "classify/model.h"
#include "classify/wordpiece.h"
#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

/* The sequence length to use with a base directory: max_seq_length of its
 * sentence_bert_config.json when present (256 for all-MiniLM-L6-v2), else the
 * model's positions. */
int sentence_max_len(const char *dir, const struct model *m);

/* Embeds n texts (lens[i] bytes each; lens NULL: NUL-terminated) into out
 * [n, width], each row of unit length. Returns 0 or -1 (backend failure). */
int sentence_embed(struct model *m, const struct wordpiece *wp, const char *const *texts,
                   const size_t *lens, size_t n, int max_len, float *out, struct fs_error *err);

/* One text's ids (room for max_len), last hidden states (room for max_len x
 * width floats) and, when emb is not NULL, its embedding (width floats). Returns
 * the number of tokens, or -1. */
int sentence_token_states(struct model *m, const struct wordpiece *wp, const char *text,
                          size_t len, int max_len, int32_t *ids, float *states, float *emb,
                          struct fs_error *err);

#endif
