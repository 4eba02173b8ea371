/*
 * spike.h — baselines and z-scores of one topic's negative sentiment over time.
 *
 * A series is one (granularity, topic) sequence of consecutive time buckets. For
 * each bucket we compare two numbers with that series' own past:
 *
 *   - the negative count  n_negative           (volume of bad news)
 *   - the negative share  n_negative / n_docs  (tone of the news)
 *
 * Baseline: exponentially weighted moving averages (EWMA) with smoothing factor
 * alpha ([trends] alpha).
 *
 *   count: mean and variance of n_negative,
 *            d = x - mean;  mean += alpha * d;  var = (1 - alpha) * (var + alpha * d * d)
 *          std = max(sqrt(var), sqrt(mean + 1))   (Poisson floor, with one document
 *          of slack so that a quiet topic going from 1 to 4 negatives is not 3 sigma)
 *
 *   share: mean p of negative_share, and the *excess* variance tau^2 — how much
 *          the share moves between buckets beyond the binomial noise of their size:
 *            d = x - p;  tau2 += alpha * (d * d - p (1 - p) / n_b - tau2);  p += alpha * d
 *          std for a bucket of n documents = max(sqrt(max(tau2, 0) + p (1 - p) / n), 0.02)
 *          (p clamped to [0.05, 0.95] inside the binomial term). So a quiet topic
 *          whose 4-document hours swing between 0 % and 50 % negative is judged on
 *          a 30-document burst with the burst's own, much smaller, noise.
 *
 * Why EWMA rather than a median/MAD window: the whole state of a series is a few
 * numbers, stored with each bucket, so an incremental update re-evaluates only
 * the buckets it touched, starting from the stored state of the bucket before
 * (a window would need the last W buckets, and W hours of rows per topic, for
 * every evaluation); empty buckets are folded in exactly as zeros in O(1) each;
 * and the one knob (alpha ~ 2 / (span + 1)) is easy to explain. EWMA's weakness
 * — an outlier inflates the baseline it is later compared with — is handled the
 * robust way: a value entering the baseline is first clipped (winsorised) to
 * mean + z_threshold * std, so a spike cannot hide the next one, while a lasting
 * level shift is still absorbed within a few spans.
 *
 *   z_count = (n_negative - count_mean) / count_std
 *   z_share = (negative_share - share_mean) / share_std
 *   z       = min(z_count, z_share)      (both must be unusual: more bad news AND
 *                                         a more negative tone; a busy but calm day
 *                                         is not a spike)
 *   spike   = history >= warmup && n_docs >= min_docs
 *             && negative_share >= min_negative_share && z >= z_threshold
 *
 * Empty buckets (n_docs = 0) between active ones enter the count baseline as
 * zeros; they carry no share, so the share baseline skips them.
 *
 * Pure functions, no allocation, no I/O: tested directly in tests/test_trends.c.
 */
#ifndef FINSENT_SPIKE_H
#define FINSENT_SPIKE_H

#include <stdint.h>

/* Detection parameters, from the [trends] section (see trends_config_load()). */
struct spike_params {
    double alpha;              /* EWMA smoothing factor, (0, 1]; default 0.1 */
    double z_threshold;        /* default 4.0 */
    int64_t min_docs;          /* documents a bucket needs to spike; default 5 */
    double min_negative_share; /* default 0.3 */
    int64_t warmup;            /* buckets of history before a spike can be declared; 6 */
};

/* The EWMA state of a series after some bucket (stored in buckets.ewma_*). */
struct spike_state {
    int64_t history;   /* buckets folded in so far, empty ones included */
    double count_mean; /* EWMA of n_negative */
    double count_var;
    double share_mean;   /* EWMA of negative_share over non-empty buckets */
    double share_excess; /* EWMA of the share's variance beyond binomial noise */
    int64_t share_n;     /* buckets folded into the share baseline */
};

/* What one bucket is compared with, and the verdict. */
struct spike_eval {
    int has_baseline;             /* 0 for a series' first bucket: every field below unset */
    double count_mean, count_std; /* the baseline before this bucket (std floored) */
    double z_count;
    int has_share; /* the share baseline exists and n_docs > 0 */
    double share_mean, share_std;
    double z_share;
    int has_z; /* has_baseline && has_share: z is min(z_count, z_share) */
    double z;
    int spike;
};

/* Default parameters (the values documented above). */
void spike_params_default(struct spike_params *p);

/* The state of a series before its first bucket. */
void spike_state_init(struct spike_state *st);

/* Folds n_empty empty buckets into st (zero negatives, no share). Cheap for any
 * n_empty: stops iterating once the state has decayed to zero. */
void spike_state_skip(struct spike_state *st, const struct spike_params *p, int64_t n_empty);

/* Evaluates one bucket (n_docs documents, n_negative of them negative) against st,
 * fills *ev, then folds the bucket into st. */
void spike_step(struct spike_state *st, const struct spike_params *p, int64_t n_docs,
                int64_t n_negative, struct spike_eval *ev);

#endif
