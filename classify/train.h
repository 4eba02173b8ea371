/*
 * train.h — training the encoder: AdamW with decoupled weight decay, linear
 * warm-up then cosine decay of the learning rate, global gradient-norm clipping,
 * label smoothing, dropout, multi-task batches (each row adds the loss of the
 * head it is labelled for). Batches are drawn in length buckets (shuffled rows,
 * sorted by length within large windows, batches shuffled), so little padding
 * is computed; a token budget keeps batches of long rows small, and with it the
 * activation memory. On the CPU each batch is cut into one part per core, run
 * side by side with their gradients summed (data parallelism: every op, not
 * only the matrix products, uses all cores). Deterministic for a seed on a
 * given backend and number of cores.
 */
#ifndef FINSENT_TRAIN_H
#define FINSENT_TRAIN_H

#include "classify/infer.h"
#include "classify/model.h"
#include "common/common.h"

#include <stdint.h>
#include <stdio.h>

struct train_options {
    int epochs;
    int batch_size;   /* rows per batch at most */
    int batch_tokens; /* padded tokens per batch at most (0: no limit); caps memory */
    float lr;           /* peak learning rate */
    float warmup;       /* fraction of the steps spent warming up */
    float weight_decay; /* on matrices only */
    float clip;         /* max global gradient norm (0: off) */
    float label_smoothing;
    uint64_t seed;
    /* parts each batch is cut into, run side by side on the cores with their
     * gradients summed (0: one per core on a backend that can, at most
     * PARALLEL_MAX_WORKERS; 1: every batch whole) */
    int workers;
    FILE *progress; /* a terminal to draw a progress bar on, or NULL */
    FILE *log;      /* a line per epoch and per minute, with the time left (for logs), or NULL */
    /* with log: accuracy on these rows printed after each epoch (or NULL) */
    const struct encoded_set *validation;
};

void train_options_default(struct train_options *o);

struct train_stats {
    int steps;
    double seconds;
    float last_loss; /* mean loss of the last epoch */
    double examples_per_second;
};

/* Trains m (created with model_create) on the rows of set. Returns 0 or -1. */
int train_model(struct model *m, const struct encoded_set *set, const struct train_options *o,
                struct train_stats *stats, struct fs_error *err);

/* What one training step computes before its update: the gradient of the
 * mean loss of rows[0..k) of s into m->grads (allocated if needed), with the
 * batch cut into `workers` parts as train_model() cuts it (0: one per core);
 * *loss gets the mean loss. With dropout off the result does not depend on
 * the parts but for rounding. Returns 0 or -1 with err set. */
int train_batch_gradient(struct model *m, const struct encoded_set *s, const size_t *rows, int k,
                         int workers, uint64_t seed, float *loss, struct fs_error *err);

#endif
