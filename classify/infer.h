/*
 * infer.h — a trained classifier (encoder + tokenizer + identity), its model
 * file, and batched inference.
 *
 * Model file (classify/model_file.c): safetensors with every parameter as F32
 * and, in __metadata__ (all strings): format "finsent-model", format_version
 * "1", config (JSON object of the hyperparameters), labels.topic and
 * labels.sentiment (JSON arrays of label names), tokenizer (the serialised
 * tokenizer), model_id (32 hex digits: hash of the parameters). A model with
 * the n-gram path also holds tensors ngram.idf [R], ngram.weight [R, K] and
 * ngram.bias [K] (R = 2 << bits) and metadata "ngram" ({"bits": B, "mix": M}).
 * Loading checks all of it; any mismatch fails with one line ending in a hint
 * to retrain.
 *
 * Inference (classify/infer.c) sorts texts by token length and runs them in
 * batches of similar lengths (each batch padded only to its own longest text),
 * within a token budget, so short texts cost little. On a backend with
 * set_threads (the CPU), classifier_predict() runs the batches on one thread
 * per core (at most 4), each on its own model_share() view kept in the
 * classifier; results agree with one text at a time up to float rounding (BLAS
 * threads change summation order). The n-gram path,
 * when the model has one, is mixed in on the host (classify/ngram.h).
 */
#ifndef FINSENT_INFER_H
#define FINSENT_INFER_H

#include "classify/backend.h"
#include "classify/dataset.h"
#include "classify/model.h"
#include "classify/parallel.h"
#include "classify/ngram.h"
#include "classify/text_tok.h"
#include "common/common.h"

#include <stddef.h>

/* Which paths give the probabilities (eval --parts): both (the default), or
 * one alone for comparison. */
enum classifier_parts { PARTS_BOTH = 0, PARTS_ENCODER = 1, PARTS_NGRAM = 2 };

struct classifier {
    struct backend *be; /* not owned */
    struct model *model;
    struct text_tok *tok;
    struct ngram_model *ngram; /* the wide path (classify/ngram.h), or NULL */
    enum classifier_parts parts;
    char model_id[33];
    char base_name[200];  /* the pretrained base fine-tuned, or "" */
    char base_sha256[65]; /* sha256 of its model.safetensors */
    struct model *views[PARALLEL_MAX_WORKERS - 1]; /* model_share() views, threads 1.. */
};

/* Writes c atomically to path (creating its directory); sets c->model_id. */
int classifier_save(struct classifier *c, const char *path, struct fs_error *err);

/* Loads path onto backend be. Errors: "PATH: reason". Free with classifier_free
 * (which does not free be). */
int classifier_load(const char *path, struct backend *be, struct classifier **out,
                    struct fs_error *err);
/* The same from a file image of len bytes, which it takes ownership of (as
 * st_parse does); errors carry no path. */
int classifier_parse(unsigned char *buf, size_t len, struct backend *be, struct classifier **out,
                     struct fs_error *err);
void classifier_free(struct classifier *c);

enum { INFER_MAX_ATTENDED = 5 };

struct prediction {
    int topic;
    float topic_probs[N_TOPICS];
    int sentiment; /* SENT_NEGATIVE / NEUTRAL / POSITIVE */
    float sentiment_probs[N_SENTIMENTS];
    float score; /* p(positive) - p(negative), in [-1, 1] */
    int n_attended;
    char *attended[INFER_MAX_ATTENDED]; /* most attended words, strongest first */
};

struct infer_options {
    int max_tokens; /* token budget per batch (B * T); 0: PARALLEL_BATCH_TOKENS */
    int n_attended; /* words to report per text (0..INFER_MAX_ATTENDED) */
};

/* Classifies n texts (texts[i] of lens[i] bytes). out[n] is filled (free each
 * with prediction_free). Returns 0 or -1. */
int classifier_predict(struct classifier *c, const char *const *texts, const size_t *lens, size_t n,
                       const struct infer_options *opt, struct prediction *out,
                       struct fs_error *err);
void prediction_free(struct prediction *p);

/* Tokenized texts for training and evaluation: n rows of up to max_len ids,
 * and the texts themselves (borrowed from the dataset) for the n-gram path. */
struct encoded_set {
    size_t n;
    const char **texts; /* [n] */
    int max_len;
    int32_t *ids;    /* [n * max_len], padded with TOK_PAD */
    int32_t *length; /* [n] */
    int32_t *task;   /* [n] */
    int32_t *label;  /* [n] */
};

void encoded_set_build(const struct text_tok *tok, const struct dataset *ds, int max_len,
                       struct encoded_set *out);
void encoded_set_free(struct encoded_set *s);

/* Predicted label of head `task` for every row of s (length-bucketed batches;
 * the n-gram path mixed in when c has one). */
int classifier_predict_encoded(struct classifier *c, const struct encoded_set *s, int *pred,
                               struct fs_error *err);

#endif
