/*
 * metrics.h — classification metrics: accuracy, per-class precision / recall /
 * F1, macro-F1 and the confusion matrix.
 */
#ifndef FINSENT_METRICS_H
#define FINSENT_METRICS_H

#include <stddef.h>

struct metrics {
    int n_classes;
    size_t n;
    double accuracy;
    double macro_f1;  /* mean F1 over classes that occur in truth or predictions */
    double *precision; /* [n_classes] */
    double *recall;    /* [n_classes] */
    double *f1;        /* [n_classes] */
    size_t *support;   /* [n_classes] true examples per class */
    size_t *confusion; /* [n_classes * n_classes], row = true, column = predicted */
};

/* Computes metrics for n predictions. Labels outside [0, n_classes) are counted
 * as wrong. Free with metrics_free(). */
void metrics_compute(const int *truth, const int *pred, size_t n, int n_classes,
                     struct metrics *out);
void metrics_free(struct metrics *m);

#endif
