/*
 * trends.h — per-topic sentiment over time: aggregation of classified documents
 * into UTC hour and day buckets, and spike detection on each topic's history.
 *
 * Input: table classifications (one row per document: topic 0..19, sentiment
 * 0 negative / 1 neutral / 2 positive, score = p(pos) - p(neg)) joined with
 * documents for the time: published_at, or fetched_at when published_at is NULL.
 * Output: table buckets, one row per (granularity, topic, bucket_start) that has
 * at least one document; topic -1 is the all-topics series.
 *
 * Incremental and exact. A trigger queues every new classification in table
 * trends_pending; trends_update() counts the queued ones, re-evaluates each
 * touched series from its earliest touched bucket on (a late document re-scores
 * the buckets after it), and empties the queue, all in one transaction: a run
 * killed midway loses nothing and the next run does the work. Deleting, replacing (INSERT OR
 * REPLACE) or changing a counted classification fires a trigger that sets meta
 * 'trends.stale'; the next update then recounts every bucket from scratch. A
 * rebuild compares what it counted with the stored rows: a row that comes out
 * the same is not written again, a bucket left without documents is deleted
 * (so a rebuild after a small change writes little; the rows stay what a
 * rebuild into empty tables gives).
 * Changing the [trends] parameters re-scores every series (counts are kept).
 * Counts are integers and the score sum is kept in integer micro-units, so an
 * incremental history and a recomputation from scratch give identical rows.
 *
 * Entities have their series too, kept by the same code with the same [trends]
 * parameters in the same transaction: table entity_buckets (one row per
 * granularity, entities.id and bucket; no "all" series), fed by
 * entity_sentiments (each document's sentiment for each entity it mentions,
 * classify/entity_sentiment.h) through queue entity_trends_pending, rebuilt
 * after meta 'entity_trends.stale' (e.g. `finsent entities rescan`). alerts/
 * reads entity_buckets under the same contract as buckets below.
 *
 * Configuration, section [trends] (errors name file:line):
 *   alpha              = 0.1   EWMA smoothing factor (0.001 .. 1)
 *   z_threshold        = 4.0   z-score from which a bucket is a spike
 *   min_docs           = 5     documents a bucket needs to be a spike
 *   min_negative_share = 0.3   negative share a bucket needs to be a spike
 *   warmup             = 6     buckets of history a series needs before it can spike
 * The method (EWMA with winsorising and noise floors) is explained in spike.h.
 *
 * ---------------------------------------------------------------------------
 * Contract for alerts/ (reading table buckets; see db/schema.c):
 *
 *   Which rows: granularity 'hour' (reacts within the hour) or 'day' (daily
 *   digest); both are maintained identically. topic is 0..19, or -1 for all
 *   topics together. bucket_start is the UTC start (seconds); the bucket covers
 *   [bucket_start, bucket_start + 3600 or 86400). Only buckets with documents
 *   have rows; a missing bucket means zero documents.
 *
 *   What to read: spike (0/1: the verdict with the [trends] thresholds already
 *   applied — alerts should not re-derive it), z_score (min of z_count and
 *   z_share; NULL for a series' first bucket), n_docs, n_negative,
 *   negative_share (n_negative / n_docs), mean_score, baseline_mean and
 *   baseline_std (the EWMA of n_negative before this bucket), share_baseline
 *   and share_std (same for negative_share).
 *
 *   When to read: after trends_update(), rows with evaluated = 0 are new or have
 *   changed since alerts last looked. trends/ sets evaluated = 0 whenever it
 *   changes a row (new documents, re-scoring, the bucket becoming final);
 *   alerts/ sets evaluated = 1 after reading (the only column alerts/ writes),
 *   in the same BEGIN IMMEDIATE transaction as the read, so that an update in
 *   between cannot be marked read unseen. Index buckets_unevaluated serves
 *   "WHERE evaluated = 0 AND granularity = ?".
 *   After a rebuild every row it changed has evaluated = 0 (after a rebuild
 *   into empty tables, every row): consider only buckets within your
 *   look-back window.
 *
 *   Final vs filling: final = 1 once the bucket's end was <= `now` of an update
 *   (the bucket is over). While final = 0 the bucket is still filling: its
 *   n_docs grows and its spike can appear (or disappear) on the next update —
 *   fine for an early warning, not for a "resolved" decision. A final bucket only
 *   changes again if a late document (published earlier, crawled later) arrives
 *   or classifications are redone; it then comes back with evaluated = 0.
 * ---------------------------------------------------------------------------
 */
#ifndef FINSENT_TRENDS_H
#define FINSENT_TRENDS_H

#include "classify/dataset.h"
#include "common/common.h"
#include "common/config.h"
#include "db/db_trends.h"
#include "trends/spike.h"

#include <sqlite3.h>
#include <stdint.h>

#define TRENDS_N_TOPICS N_TOPICS
#define TRENDS_ALL_TOPICS (-1)

/* Seconds in a bucket of granularity g (DB_TREND_HOUR or DB_TREND_DAY). */
int64_t trend_bucket_width(int granularity);

/* Start of the UTC bucket holding t (floor, also for times before 1970). */
int64_t trend_bucket_start(int64_t t, int granularity);

/* A bucket's start for people: "2026-03-06" (day), "2026-03-06 14:00" (hour). */
void trend_format_bucket(int64_t t, int granularity, char *buf, size_t size);

/* "hour" / "day" -> granularity id; -1 when neither. */
int trend_granularity_parse(const char *s);

/* Topic name: "all" for -1, the bundled label names for 0..19 ("Fed | Central
 * Banks"), "unknown" otherwise. Static string. (The names duplicate
 * data/twitter_financial_news_topic/LABELS; classify/dataset.h task_label_name()
 * may replace this table.) */
const char *trends_topic_name(int topic);

/* Parses a topic given as an id ("-1".."19"), a name or a unique prefix (any
 * case; classify/dataset.h topic_lookup()) or "all". Returns 0 and sets
 * *topic, or -1 when unknown or ambiguous. */
int trends_topic_parse(const char *s, int *topic);

/* The keys of [trends] (NULL-terminated), for the configuration's schema. */
extern const char *const trends_config_keys[];

/* Reads [trends] into p (defaults for absent keys). -1 with "file:line: ..." on
 * a malformed or out-of-range value. */
int trends_config_load(const struct config *cfg, struct spike_params *p, struct fs_error *err);

/* One topic's rows inside a sorted row array (as db_trends_query() returns). */
struct trend_series {
    int topic;
    const struct trend_row *rows;
    size_t n;
};

/* Splits rows (sorted by topic, then time) into per-topic series. Returns the
 * number of series and a new array in *out (caller frees; rows stay borrowed). */
size_t trends_series_split(const struct trend_row *rows, size_t n, struct trend_series **out);

/* Totals of a series: documents, negatives, score sum (micro-units), spikes. */
struct trend_totals {
    int64_t n_docs, n_negative, score_sum_micro, n_spikes;
};
void trends_series_totals(const struct trend_series *s, struct trend_totals *t);

/* What an update did. */
struct trends_stats {
    int64_t n_docs;       /* classified documents newly counted */
    int64_t n_rows;       /* bucket rows written (new or changed) or deleted */
    int64_t n_new_spikes; /* rows that became spike = 1 */
    int64_t n_final;      /* rows that became final */
    int rebuilt;          /* 1 when the buckets were recomputed from scratch */
    int rescored;         /* 1 when the parameters changed and every series was re-scored */
    /* the same for the per-entity series (table entity_buckets) */
    int64_t entity_docs;       /* entity sentiments newly counted */
    int64_t entity_rows;       /* entity bucket rows written */
    int64_t entity_new_spikes; /* entity rows that became spike = 1 */
    int entity_rebuilt;
};

/* Counts every classification not yet counted into table buckets (and every
 * entity sentiment into entity_buckets), re-scores the series it touched and
 * marks newly ended buckets final, in one transaction
 * (BEGIN IMMEDIATE .. COMMIT; rolled back on error; so db must not be inside a
 * transaction already). Idempotent: a second call
 * with nothing new writes nothing. cfg may be NULL (defaults). `now` is the
 * clock (tests fix it). out may be NULL. Returns 0 or -1 with err set. */
int trends_update(sqlite3 *db, const struct config *cfg, int64_t now, struct trends_stats *out,
                  struct fs_error *err);

/* The same with explicit parameters. */
int trends_update_params(sqlite3 *db, const struct spike_params *p, int64_t now,
                         struct trends_stats *out, struct fs_error *err);

/* Recomputes every bucket from all classifications (and entity sentiments),
 * in one transaction, writing the rows that come out different and deleting
 * the buckets left without documents. (What trends_update() does by itself
 * after a stale trigger.) */
int trends_rebuild(sqlite3 *db, const struct spike_params *p, int64_t now, struct trends_stats *out,
                   struct fs_error *err);

#endif
