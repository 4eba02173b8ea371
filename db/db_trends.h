/*
 * db_trends.h — the SQL of the trends stage: reading classified documents,
 * reading and writing table buckets, and the queries behind `finsent trends`,
 * `export` and `report`.
 *
 * The logic (bucketing, baselines, spikes) lives in trends/; this file only
 * moves rows. Functions return 0 or -1 with err set; none opens a transaction
 * (trends_update() wraps its calls in one).
 *
 * A document's time is published_at, or fetched_at when published_at is NULL.
 */
#ifndef FINSENT_DB_TRENDS_H
#define FINSENT_DB_TRENDS_H

#include "common/common.h"

#include <sqlite3.h>
#include <stdint.h>

/* Granularity ids, as stored in buckets.granularity ('hour', 'day'). */
enum { DB_TREND_HOUR = 0, DB_TREND_DAY = 1 };

/* The two kinds of series. Topics: table buckets, fed by classifications
 * (queue trends_pending), series key = topic (0..19, -1 all). Entities: table
 * entity_buckets, fed by entity_sentiments (queue entity_trends_pending),
 * series key = entities.id (no "all" series), in the `topic` field of the
 * structs below. Every function without _by works on topics; each _by variant
 * takes the kind first. */
enum { DB_TREND_BY_TOPIC = 0, DB_TREND_BY_ENTITY = 1 };

/* One row of table buckets (see db/schema.c and trends/trends.h). */
struct trend_row {
    int granularity; /* DB_TREND_HOUR or DB_TREND_DAY */
    int topic;       /* 0..19, -1 = all topics */
    int64_t bucket_start;
    int64_t n_docs, n_negative, n_neutral, n_positive;
    int64_t score_sum_micro; /* sum of llround(score * 1e6) */
    int64_t history;
    int has_baseline;
    double baseline_mean, baseline_std;
    int has_share;
    double share_baseline, share_std;
    double z_count, z_share;
    int has_z;
    double z_score;
    int spike;
    /* EWMA state after this bucket */
    double ewma_count_mean, ewma_count_var, ewma_share_mean, ewma_share_excess;
    int64_t ewma_share_n;
    int final;
    int64_t updated_at;
    int evaluated;
};

/* 'hour' / 'day' for a granularity id. */
const char *db_trend_granularity_name(int granularity);

/* Called once per classified document by db_trends_scan(). Returns 0 to go on. */
typedef int (*db_trends_doc_fn)(void *ctx, int topic, int sentiment, double score, int64_t t);

/* Calls fn for every classification not yet counted (queued in trends_pending),
 * or for every classification when all is non-zero. */
int db_trends_scan(sqlite3 *db, int all, db_trends_doc_fn fn, void *ctx, struct fs_error *err);

int db_trends_scan_by(sqlite3 *db, int by, int all, db_trends_doc_fn fn, void *ctx,
                      struct fs_error *err);

/* Marks every classification counted (empties the queue trends_pending). */
int db_trends_mark_counted(sqlite3 *db, struct fs_error *err);
int db_trends_mark_counted_by(sqlite3 *db, int by, struct fs_error *err);

/* Loads a series: the last row strictly before `from` into *prev (*has_prev = 0
 * when none) and all rows with bucket_start >= from, ascending, into a new array
 * *rows (caller frees) of *n rows. */
int db_trends_load_series(sqlite3 *db, int granularity, int topic, int64_t from,
                          struct trend_row *prev, int *has_prev, struct trend_row **rows, size_t *n,
                          struct fs_error *err);
int db_trends_load_series_by(sqlite3 *db, int by, int granularity, int topic, int64_t from,
                             struct trend_row *prev, int *has_prev, struct trend_row **rows,
                             size_t *n, struct fs_error *err);

/* Every (granularity, topic) series present, as pairs in a new array (caller
 * frees): out[2 * i] = granularity, out[2 * i + 1] = topic. */
int db_trends_series(sqlite3 *db, int **out, size_t *n, struct fs_error *err);
int db_trends_series_by(sqlite3 *db, int by, int **out, size_t *n, struct fs_error *err);

/* Prepared statements writing whole bucket rows: INSERT OR REPLACE, UPDATE
 * (of a row known to be stored: no delete and insert) and DELETE. */
struct db_trends_writer {
    sqlite3_stmt *st, *upd, *del;
};
int db_trends_writer_open(sqlite3 *db, struct db_trends_writer *w, struct fs_error *err);
int db_trends_writer_open_by(sqlite3 *db, int by, struct db_trends_writer *w, struct fs_error *err);
/* Writes r; stored: r's row exists (it is updated in place). */
int db_trends_write(sqlite3 *db, struct db_trends_writer *w, const struct trend_row *r, int stored,
                    struct fs_error *err);
/* Deletes the row of r's granularity, series and bucket_start (a bucket left
 * with no documents by a rebuild). */
int db_trends_delete(sqlite3 *db, struct db_trends_writer *w, const struct trend_row *r,
                     struct fs_error *err);
void db_trends_writer_close(struct db_trends_writer *w);

/* Marks final (and unevaluated) every bucket that had ended by now. *n = rows. */
int db_trends_finalize(sqlite3 *db, int64_t now, int64_t *n, struct fs_error *err);
int db_trends_finalize_by(sqlite3 *db, int by, int64_t now, int64_t *n, struct fs_error *err);

/* Filter of the read-side queries. topic_set = 0 means every topic and "all". */
struct trend_filter {
    int granularity;
    int topic_set;
    int topic;
    int64_t since; /* bucket_start >= since (INT64_MIN for no bound) */
    int64_t until; /* bucket_start <  until (INT64_MAX for no bound) */
};

/* Rows matching f ordered by topic (-1 first), then bucket_start. New array. */
int db_trends_query(sqlite3 *db, const struct trend_filter *f, struct trend_row **rows, size_t *n,
                    struct fs_error *err);
/* Entities: ordered by entities.id, then bucket_start; topic_set/topic filter
 * one entity. */
int db_trends_query_by(sqlite3 *db, int by, const struct trend_filter *f, struct trend_row **rows,
                       size_t *n, struct fs_error *err);

/* One classified document, for CSV export and the report's headlines. Strings
 * are borrowed from SQLite and valid only during the callback; may be NULL. */
struct trend_doc {
    int64_t id;
    int64_t published_at; /* 0 with has_published = 0 when NULL */
    int has_published;
    int64_t fetched_at;
    const char *source; /* sources.name */
    const char *kind;
    const char *url;
    const char *title;
    const char *text;
    const char *model_id;
    int topic;
    int sentiment;
    double score;
};
typedef int (*db_trends_doc_row_fn)(void *ctx, const struct trend_doc *d);

/* Classified documents whose time is in [since, until) and (topic_set) whose
 * topic is f->topic, ordered by time then id. f->granularity is ignored. */
int db_trends_documents(sqlite3 *db, const struct trend_filter *f, db_trends_doc_row_fn fn,
                        void *ctx, struct fs_error *err);

/* The `limit` most negative documents (sentiment negative, lowest score first) of
 * topic (-1 = any) with time in [from, to). */
int db_trends_headlines(sqlite3 *db, int topic, int64_t from, int64_t to, int limit,
                        db_trends_doc_row_fn fn, void *ctx, struct fs_error *err);
/* The same for either kind: by DB_TREND_BY_ENTITY lists the documents whose
 * sentiment about entity id key is negative, lowest entity score first, with
 * the entity's sentiment and score in d->sentiment and d->score. */
int db_trends_headlines_by(sqlite3 *db, int by, int64_t key, int64_t from, int64_t to, int limit,
                           db_trends_doc_row_fn fn, void *ctx, struct fs_error *err);

#endif
