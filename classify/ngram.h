/*
 * ngram.h — the wide path beside the encoder: one linear softmax layer per head
 * on hashed word and character n-grams of the raw text. Its log-probabilities
 * are mixed with the encoder's (infer.c):
 *
 *   p(class) = softmax((1 - mix) * log p_encoder + mix * log p_ngram)   per head
 *
 * The encoder reads order and context; this path remembers the exact phrases
 * and word pieces of the training texts. Each alone is a few points behind the
 * pair on the bundled validation sets (bench/bench_baseline.py prints all three).
 *
 * Features, computed the way scikit-learn's HashingVectorizer + TfidfTransformer
 * compute them (tests/it_ngram.py compares the two on real texts):
 *  - the text with URLs removed (http://, https://, www., t.co/ up to the next
 *    space), ASCII letters lowercased;
 *  - word block: tokens are runs of ASCII letters, digits, '_' and bytes >= 0x80,
 *    or one of < > $ % + -; every token and every pair of neighbours ("w1 w2");
 *  - char block: each space-separated word padded with one space on both sides;
 *    its n-grams of 2..5 characters (UTF-8 code points); a padded word of at
 *    most n characters gives itself once and no longer n-grams;
 *  - each n-gram hashed with MurmurHash3 (x86, 32 bits, seed 0), |h| modulo
 *    2^bits, into its block's buckets; a bucket hit c times weighs
 *    (1 + ln c) * idf[bucket]; each block is then scaled to unit L2 norm.
 *  - idf from the training texts: ln((1 + n) / (1 + df)) + 1; 0 (the n-gram is
 *    dropped) for buckets no training text hit and char buckets hit by fewer
 *    than NGRAM_CHAR_MIN_DF texts.
 *
 *   struct ngram_model *m = ngram_create(17, &cfg);   // heads as the encoder's
 *   ngram_train(m, &dataset, &opt, &err);              // idf, then SGD
 *   ngram_predict_logits(m, text, len, logits);        // [K] raw scores
 *   ngram_free(m);
 */
#ifndef FINSENT_NGRAM_H
#define FINSENT_NGRAM_H

#include "classify/dataset.h"
#include "classify/model.h"
#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

enum { NGRAM_MIN_BITS = 4, NGRAM_MAX_BITS = 22, NGRAM_DEFAULT_BITS = 17 };
enum { NGRAM_CHAR_MIN_DF = 2 };
#define NGRAM_DEFAULT_MIX 0.5f

struct ngram_model {
    int bits; /* buckets per block: 1 << bits */
    int n_out, out_sizes[MODEL_MAX_HEADS_OUT];
    int K;         /* logits per text: sum of out_sizes */
    float mix;     /* weight of this path's log-probabilities, in [0, 1] */
    float *idf;    /* [ngram_rows()]: word block, then char block */
    float *weight; /* [ngram_rows() * K]: one row of K per bucket */
    float *bias;   /* [K] */
};

/* A sparse feature vector: n (index, value) pairs, indices increasing. */
struct ngram_vec {
    int n, cap;
    uint32_t *index;
    float *value;
};

/* A zeroed model with cfg's heads (n_out, out_sizes), mix NGRAM_DEFAULT_MIX. */
struct ngram_model *ngram_create(int bits, const struct model_config *cfg);
void ngram_free(struct ngram_model *m);

/* Rows of idf and weight: 2 << bits (word block, then char block). */
size_t ngram_rows(const struct ngram_model *m);

/* MurmurHash3 x86 32-bit of len bytes, as a signed value (scikit-learn's). */
int32_t ngram_murmur3(const void *key, size_t len, uint32_t seed);

/* The TF-IDF feature vector of a text (any bytes) into v (reused; free with
 * ngram_vec_free). */
void ngram_featurize(const struct ngram_model *m, const char *text, size_t len,
                     struct ngram_vec *v);
void ngram_vec_free(struct ngram_vec *v);

/* Sets m->idf from n training texts. */
void ngram_fit_idf(struct ngram_model *m, const char *const *texts, size_t n);

/* logits[K] = bias + sum of value * weight row, for every head. */
void ngram_logits(const struct ngram_model *m, const struct ngram_vec *v, float *logits);

/* Featurizes text and computes its logits[K] (scratch v reused by the caller). */
void ngram_predict_logits(const struct ngram_model *m, const char *text, size_t len,
                          struct ngram_vec *v, float *logits);

struct ngram_train_options {
    int epochs;
    double alpha; /* L2 penalty per example; also sets the step sizes */
    uint64_t seed;
};

void ngram_train_options_default(struct ngram_train_options *o);

/* Fits idf on the texts of ds, then the weights: each example updates the head
 * of its task (cross-entropy + alpha/2 |w|^2, SGD with steps 1/(alpha (t0 + t)),
 * examples shuffled per epoch from seed).
 * Deterministic for a seed. Returns 0 or -1 (no examples). */
int ngram_train(struct ngram_model *m, const struct dataset *ds,
                const struct ngram_train_options *o, struct fs_error *err);

/* Probabilities of every head [K] from the encoder's logits enc[K] and this
 * path's logits ng[K], mixed with weight mix (0: the encoder alone; 1: this
 * path alone; ng may be NULL when mix is 0). */
void ngram_mix_probs(const int *out_sizes, int n_out, float mix, const float *enc, const float *ng,
                     float *probs);

#endif
