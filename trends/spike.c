/* spike.c — EWMA baselines, z-scores and the spike verdict of one series. */
#include "trends/spike.h"

#include <math.h>

/* Below this a decayed mean or variance is treated as exactly zero. */
#define SPIKE_EPS 1e-12

void spike_params_default(struct spike_params *p)
{
    p->alpha = 0.1;
    p->z_threshold = 4.0;
    p->min_docs = 5;
    p->min_negative_share = 0.3;
    p->warmup = 6;
}

void spike_state_init(struct spike_state *st)
{
    st->history = 0;
    st->count_mean = st->count_var = 0;
    st->share_mean = st->share_excess = 0;
    st->share_n = 0;
}

static void ewma_fold(double *mean, double *var, double alpha, double x)
{
    double d = x - *mean;
    *mean += alpha * d;
    *var = (1.0 - alpha) * (*var + alpha * d * d);
}

void spike_state_skip(struct spike_state *st, const struct spike_params *p, int64_t n_empty)
{
    if (n_empty <= 0)
        return;
    st->history += n_empty;
    for (int64_t i = 0; i < n_empty; i++) {
        if (st->count_mean < SPIKE_EPS && st->count_var < SPIKE_EPS) {
            st->count_mean = st->count_var = 0;
            return;
        }
        ewma_fold(&st->count_mean, &st->count_var, p->alpha, 0.0);
    }
}

static double count_std(const struct spike_state *st)
{
    double sd = sqrt(st->count_var);
    double poisson = sqrt(st->count_mean + 1.0);
    return sd < poisson ? poisson : sd;
}

/* Binomial variance of a share p over n documents. p is kept inside [0.05, 0.95]
 * so that a topic that was never (or always) negative still has room for noise. */
static double binomial_var(double p, int64_t n)
{
    if (p < 0.05)
        p = 0.05;
    if (p > 0.95)
        p = 0.95;
    return p * (1.0 - p) / (double)n;
}

/* The share's std for a bucket of n_docs: the between-bucket excess variance
 * (what the topic's tone really moves) plus this bucket's own sampling noise. */
static double share_std(const struct spike_state *st, int64_t n_docs)
{
    double excess = st->share_excess > 0 ? st->share_excess : 0;
    double sd = sqrt(excess + binomial_var(st->share_mean, n_docs));
    return sd < 0.02 ? 0.02 : sd;
}

/* Folds a bucket's share x (of n_docs documents) into the share baseline: the
 * EWMA mean, and the EWMA of the squared deviation beyond binomial noise. */
static void share_fold(struct spike_state *st, double alpha, double x, int64_t n_docs)
{
    double d = x - st->share_mean;
    double excess = d * d - binomial_var(st->share_mean, n_docs);
    st->share_excess += alpha * (excess - st->share_excess);
    st->share_mean += alpha * d;
}

static double clip_high(double x, double limit)
{
    return x > limit ? limit : x;
}

void spike_step(struct spike_state *st, const struct spike_params *p, int64_t n_docs,
                int64_t n_negative, struct spike_eval *ev)
{
    *ev = (struct spike_eval){0};
    double x_count = (double)n_negative;
    double x_share = n_docs > 0 ? (double)n_negative / (double)n_docs : 0.0;

    if (st->history == 0) {
        st->count_mean = x_count;
        st->count_var = 0;
    } else {
        ev->has_baseline = 1;
        ev->count_mean = st->count_mean;
        ev->count_std = count_std(st);
        ev->z_count = (x_count - ev->count_mean) / ev->count_std;
        double limit = ev->count_mean + p->z_threshold * ev->count_std;
        ewma_fold(&st->count_mean, &st->count_var, p->alpha, clip_high(x_count, limit));
    }

    if (st->share_n > 0 && n_docs > 0) {
        ev->has_share = 1;
        ev->share_mean = st->share_mean;
        ev->share_std = share_std(st, n_docs);
        ev->z_share = (x_share - ev->share_mean) / ev->share_std;
    }
    if (n_docs > 0) {
        if (st->share_n == 0) {
            st->share_mean = x_share;
            st->share_excess = 0;
        } else {
            double limit = ev->share_mean + p->z_threshold * ev->share_std;
            share_fold(st, p->alpha, clip_high(x_share, limit), n_docs);
        }
        st->share_n++;
    }

    if (ev->has_baseline && ev->has_share) {
        ev->has_z = 1;
        ev->z = ev->z_count < ev->z_share ? ev->z_count : ev->z_share;
        ev->spike = st->history >= p->warmup && n_docs >= p->min_docs &&
                    x_share >= p->min_negative_share && ev->z >= p->z_threshold;
    }
    st->history++;
}
