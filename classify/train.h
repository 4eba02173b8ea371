/*
 * train.h — training the encoder: AdamW with decoupled weight decay, linear
 * warm-up then cosine decay of the learning rate, global gradient-norm clipping,
 * label smoothing, dropout, multi-task batches (each row adds the loss of the
 * head it is labelled for). Batches are drawn in length buckets (shuffled rows,
 * sorted by length within large windows, batches shuffled), so little padding
 * is computed; a token budget keeps batches of long rows small, and with it the
 * activation memory. Deterministic for a seed on a given backend.
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

#endif
