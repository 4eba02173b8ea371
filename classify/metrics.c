/* metrics.c — accuracy, per-class precision / recall / F1, macro-F1, confusion. */
#include "classify/metrics.h"

#include "common/common.h"

#include <stdlib.h>
#include <string.h>

static double ratio(size_t num, size_t den)
{
    return den ? (double)num / (double)den : 0.0;
}

void metrics_compute(const int *truth, const int *pred, size_t n, int n_classes,
                     struct metrics *out)
{
    memset(out, 0, sizeof *out);
    if (n_classes < 0)
        n_classes = 0;
    size_t k = (size_t)n_classes;
    out->n_classes = n_classes;
    out->n = n;
    out->precision = xcalloc(k ? k : 1, sizeof *out->precision);
    out->recall = xcalloc(k ? k : 1, sizeof *out->recall);
    out->f1 = xcalloc(k ? k : 1, sizeof *out->f1);
    out->support = xcalloc(k ? k : 1, sizeof *out->support);
    out->confusion = xcalloc(k > 0 ? k * k : 1, sizeof *out->confusion);
    size_t *predicted = xcalloc(k ? k : 1, sizeof *predicted);
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        int t = truth[i], p = pred[i];
        int t_ok = t >= 0 && t < n_classes, p_ok = p >= 0 && p < n_classes;
        if (t_ok)
            out->support[t]++;
        if (p_ok)
            predicted[p]++;
        if (t_ok && p_ok)
            out->confusion[(size_t)t * k + (size_t)p]++;
        if (t_ok && p_ok && t == p)
            correct++;
    }
    out->accuracy = ratio(correct, n);
    int present = 0;
    double f1_sum = 0;
    for (size_t c = 0; c < k; c++) {
        size_t tp = out->confusion[c * k + c];
        out->precision[c] = ratio(tp, predicted[c]);
        out->recall[c] = ratio(tp, out->support[c]);
        double pr = out->precision[c] + out->recall[c];
        out->f1[c] = pr > 0 ? 2 * out->precision[c] * out->recall[c] / pr : 0.0;
        if (out->support[c] || predicted[c]) {
            present++;
            f1_sum += out->f1[c];
        }
    }
    out->macro_f1 = present ? f1_sum / present : 0.0;
    free(predicted);
}

void metrics_free(struct metrics *m)
{
    free(m->precision);
    free(m->recall);
    free(m->f1);
    free(m->support);
    free(m->confusion);
    memset(m, 0, sizeof *m);
}
