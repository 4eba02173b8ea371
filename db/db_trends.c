/* db_trends.c — SQL of the trends stage (see db_trends.h). */
#include "db/db_trends.h"

#include "db/db.h"

#include <string.h>

#define DOC_TIME DB_DOC_TIME

const char *db_trend_granularity_name(int granularity)
{
    return granularity == DB_TREND_DAY ? "day" : "hour";
}

static int granularity_from_text(const unsigned char *s)
{
    return s && strcmp((const char *)s, "day") == 0 ? DB_TREND_DAY : DB_TREND_HOUR;
}

/* The same statements over the two kinds of series: per topic (table buckets,
 * fed by classifications) and per entity (table entity_buckets, fed by
 * entity_sentiments). Only constant strings are chosen between. */
int db_trends_scan_by(sqlite3 *db, int by, int all, db_trends_doc_fn fn, void *ctx,
                      struct fs_error *err)
{
    static const char *const pending_sql[] = {
        /* CROSS JOIN fixes the loop order: walk the (small) queue, look up the rest */
        "SELECT c.topic, c.sentiment, c.score, " DOC_TIME " FROM trends_pending p "
        "CROSS JOIN classifications c ON c.document_id = p.document_id "
        "CROSS JOIN documents d ON d.id = c.document_id",
        "SELECT s.entity_id, s.sentiment, s.score, s.at FROM entity_trends_pending p "
        "CROSS JOIN entity_sentiments s ON s.document_id = p.document_id "
        "AND s.entity_id = p.entity_id WHERE s.at IS NOT NULL"};
    static const char *const all_sql[] = {
        "SELECT c.topic, c.sentiment, c.score, " DOC_TIME " FROM classifications c "
        "CROSS JOIN documents d ON d.id = c.document_id",
        /* the table in its own order: no lookups (its entity index is not covering) */
        "SELECT entity_id, sentiment, score, at FROM entity_sentiments NOT INDEXED "
        "WHERE at IS NOT NULL"};
    sqlite3_stmt *st;
    if (db_prepare(db, &st, all ? all_sql[by] : pending_sql[by], err) < 0)
        return -1;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fn(ctx, sqlite3_column_int(st, 0), sqlite3_column_int(st, 1),
               sqlite3_column_double(st, 2), sqlite3_column_int64(st, 3)) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_error(db, err, "database: reading classifications");
    return 0;
}

int db_trends_scan(sqlite3 *db, int all, db_trends_doc_fn fn, void *ctx, struct fs_error *err)
{
    return db_trends_scan_by(db, DB_TREND_BY_TOPIC, all, fn, ctx, err);
}

int db_trends_mark_counted_by(sqlite3 *db, int by, struct fs_error *err)
{
    return db_exec(db, by == DB_TREND_BY_ENTITY ? "DELETE FROM entity_trends_pending"
                                               : "DELETE FROM trends_pending",
                   err);
}

int db_trends_mark_counted(sqlite3 *db, struct fs_error *err)
{
    return db_trends_mark_counted_by(db, DB_TREND_BY_TOPIC, err);
}

/* K: the series column, "topic" (buckets) or "entity_id" (entity_buckets) */
#define ROW_COLUMNS_K(K)                                                                           \
    "granularity, " K ", bucket_start, n_docs, n_negative, n_neutral, n_positive, "                \
    "score_sum_micro, history, baseline_mean, baseline_std, share_baseline, share_std, "           \
    "z_count, z_share, z_score, spike, ewma_count_mean, ewma_count_var, ewma_share_mean, "         \
    "ewma_share_excess, ewma_share_n, final, updated_at, evaluated"
#define ROW_COLUMNS ROW_COLUMNS_K("topic")
#define E_ROW_COLUMNS ROW_COLUMNS_K("entity_id")

static double col_opt(sqlite3_stmt *st, int col, int *present)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL) {
        if (present)
            *present = 0;
        return 0;
    }
    if (present)
        *present = 1;
    return sqlite3_column_double(st, col);
}

static void row_read(sqlite3_stmt *st, void *row)
{
    struct trend_row *r = row;
    memset(r, 0, sizeof *r);
    r->granularity = granularity_from_text(sqlite3_column_text(st, 0));
    r->topic = sqlite3_column_int(st, 1);
    r->bucket_start = sqlite3_column_int64(st, 2);
    r->n_docs = sqlite3_column_int64(st, 3);
    r->n_negative = sqlite3_column_int64(st, 4);
    r->n_neutral = sqlite3_column_int64(st, 5);
    r->n_positive = sqlite3_column_int64(st, 6);
    r->score_sum_micro = sqlite3_column_int64(st, 7);
    r->history = sqlite3_column_int64(st, 8);
    r->baseline_mean = col_opt(st, 9, &r->has_baseline);
    r->baseline_std = col_opt(st, 10, NULL);
    r->share_baseline = col_opt(st, 11, &r->has_share);
    r->share_std = col_opt(st, 12, NULL);
    r->z_count = col_opt(st, 13, NULL);
    r->z_share = col_opt(st, 14, NULL);
    r->z_score = col_opt(st, 15, &r->has_z);
    r->spike = sqlite3_column_int(st, 16);
    r->ewma_count_mean = sqlite3_column_double(st, 17);
    r->ewma_count_var = sqlite3_column_double(st, 18);
    r->ewma_share_mean = sqlite3_column_double(st, 19);
    r->ewma_share_excess = sqlite3_column_double(st, 20);
    r->ewma_share_n = sqlite3_column_int64(st, 21);
    r->final = sqlite3_column_int(st, 22);
    r->updated_at = sqlite3_column_int64(st, 23);
    r->evaluated = sqlite3_column_int(st, 24);
}

/* Steps st to the end, appending rows to a growing array. */
static int rows_collect(sqlite3 *db, sqlite3_stmt *st, struct trend_row **rows, size_t *n,
                        struct fs_error *err)
{
    void *got;
    int rc = db_collect_all(db, st, sizeof **rows, row_read, NULL, &got, n,
                            "database: reading buckets", err);
    *rows = got;
    return rc;
}

int db_trends_load_series_by(sqlite3 *db, int by, int granularity, int topic, int64_t from,
                             struct trend_row *prev, int *has_prev, struct trend_row **rows,
                             size_t *n, struct fs_error *err)
{
    static const char *const prev_sql[] = {
        "SELECT " ROW_COLUMNS " FROM buckets WHERE granularity = ?1 AND topic = ?2 "
        "AND bucket_start < ?3 ORDER BY bucket_start DESC LIMIT 1",
        "SELECT " E_ROW_COLUMNS " FROM entity_buckets WHERE granularity = ?1 AND entity_id = ?2 "
        "AND bucket_start < ?3 ORDER BY bucket_start DESC LIMIT 1"};
    static const char *const rows_sql[] = {
        "SELECT " ROW_COLUMNS " FROM buckets WHERE granularity = ?1 AND topic = ?2 "
        "AND bucket_start >= ?3 ORDER BY bucket_start",
        "SELECT " E_ROW_COLUMNS " FROM entity_buckets WHERE granularity = ?1 AND entity_id = ?2 "
        "AND bucket_start >= ?3 ORDER BY bucket_start"};
    sqlite3_stmt *st;
    const char *g = db_trend_granularity_name(granularity);
    if (db_prepare(db, &st, prev_sql[by], err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, g, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, topic);
    sqlite3_bind_int64(st, 3, from);
    int rc = sqlite3_step(st);
    *has_prev = rc == SQLITE_ROW;
    if (*has_prev)
        row_read(st, prev);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(db, err, "database: reading buckets");
    if (db_prepare(db, &st, rows_sql[by], err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, g, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, topic);
    sqlite3_bind_int64(st, 3, from);
    return rows_collect(db, st, rows, n, err);
}

int db_trends_load_series(sqlite3 *db, int granularity, int topic, int64_t from,
                          struct trend_row *prev, int *has_prev, struct trend_row **rows, size_t *n,
                          struct fs_error *err)
{
    return db_trends_load_series_by(db, DB_TREND_BY_TOPIC, granularity, topic, from, prev,
                                    has_prev, rows, n, err);
}

int db_trends_series(sqlite3 *db, int **out, size_t *n, struct fs_error *err)
{
    return db_trends_series_by(db, DB_TREND_BY_TOPIC, out, n, err);
}

/* Reads a (granularity, series) row into a pair of ints. */
static void series_read(sqlite3_stmt *st, void *row)
{
    int *pair = row;
    pair[0] = granularity_from_text(sqlite3_column_text(st, 0));
    pair[1] = sqlite3_column_int(st, 1);
}

int db_trends_series_by(sqlite3 *db, int by, int **out, size_t *n, struct fs_error *err)
{
    static const char *const sql[] = {
        "SELECT DISTINCT granularity, topic FROM buckets ORDER BY granularity, topic",
        "SELECT DISTINCT granularity, entity_id FROM entity_buckets ORDER BY granularity, "
        "entity_id"};
    sqlite3_stmt *st;
    if (db_prepare(db, &st, sql[by], err) < 0)
        return -1;
    void *pairs;
    int rc = db_collect_all(db, st, 2 * sizeof **out, series_read, NULL, &pairs, n,
                            "database: reading buckets", err);
    *out = pairs;
    return rc;
}

#define ROW_VALUES                                                                                 \
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "    \
    "?19, ?20, ?21, ?22, ?23, ?24, ?25)"

/* The row of bucket (?1, ?2, ?3) in table T with series column K. */
#define ROW_KEY(K) " WHERE granularity = ?1 AND " K " = ?2 AND bucket_start = ?3"
#define UPDATE_SQL(T, K)                                                                           \
    "UPDATE " T " SET n_docs = ?4, n_negative = ?5, n_neutral = ?6, n_positive = ?7, "             \
    "score_sum_micro = ?8, history = ?9, baseline_mean = ?10, baseline_std = ?11, "                \
    "share_baseline = ?12, share_std = ?13, z_count = ?14, z_share = ?15, z_score = ?16, "         \
    "spike = ?17, ewma_count_mean = ?18, ewma_count_var = ?19, ewma_share_mean = ?20, "            \
    "ewma_share_excess = ?21, ewma_share_n = ?22, final = ?23, updated_at = ?24, "                 \
    "evaluated = ?25" ROW_KEY(K)

int db_trends_writer_open_by(sqlite3 *db, int by, struct db_trends_writer *w,
                             struct fs_error *err)
{
    static const char *const sql[] = {
        "INSERT OR REPLACE INTO buckets(" ROW_COLUMNS ")" ROW_VALUES,
        "INSERT OR REPLACE INTO entity_buckets(" E_ROW_COLUMNS ")" ROW_VALUES};
    static const char *const upd_sql[] = {UPDATE_SQL("buckets", "topic"),
                                          UPDATE_SQL("entity_buckets", "entity_id")};
    static const char *const del_sql[] = {"DELETE FROM buckets" ROW_KEY("topic"),
                                          "DELETE FROM entity_buckets" ROW_KEY("entity_id")};
    w->st = w->upd = w->del = NULL;
    if (db_prepare(db, &w->st, sql[by], err) < 0 || db_prepare(db, &w->upd, upd_sql[by], err) < 0 ||
        db_prepare(db, &w->del, del_sql[by], err) < 0) {
        db_trends_writer_close(w);
        return -1;
    }
    return 0;
}

int db_trends_writer_open(sqlite3 *db, struct db_trends_writer *w, struct fs_error *err)
{
    return db_trends_writer_open_by(db, DB_TREND_BY_TOPIC, w, err);
}

static void bind_opt(sqlite3_stmt *st, int idx, int present, double v)
{
    if (present)
        sqlite3_bind_double(st, idx, v);
    else
        sqlite3_bind_null(st, idx);
}

int db_trends_write(sqlite3 *db, struct db_trends_writer *w, const struct trend_row *r, int stored,
                    struct fs_error *err)
{
    sqlite3_stmt *st = stored ? w->upd : w->st;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, db_trend_granularity_name(r->granularity), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->topic);
    sqlite3_bind_int64(st, 3, r->bucket_start);
    sqlite3_bind_int64(st, 4, r->n_docs);
    sqlite3_bind_int64(st, 5, r->n_negative);
    sqlite3_bind_int64(st, 6, r->n_neutral);
    sqlite3_bind_int64(st, 7, r->n_positive);
    sqlite3_bind_int64(st, 8, r->score_sum_micro);
    sqlite3_bind_int64(st, 9, r->history);
    bind_opt(st, 10, r->has_baseline, r->baseline_mean);
    bind_opt(st, 11, r->has_baseline, r->baseline_std);
    bind_opt(st, 12, r->has_share, r->share_baseline);
    bind_opt(st, 13, r->has_share, r->share_std);
    bind_opt(st, 14, r->has_baseline, r->z_count);
    bind_opt(st, 15, r->has_share, r->z_share);
    bind_opt(st, 16, r->has_z, r->z_score);
    sqlite3_bind_int(st, 17, r->spike);
    sqlite3_bind_double(st, 18, r->ewma_count_mean);
    sqlite3_bind_double(st, 19, r->ewma_count_var);
    sqlite3_bind_double(st, 20, r->ewma_share_mean);
    sqlite3_bind_double(st, 21, r->ewma_share_excess);
    sqlite3_bind_int64(st, 22, r->ewma_share_n);
    sqlite3_bind_int(st, 23, r->final);
    sqlite3_bind_int64(st, 24, r->updated_at);
    sqlite3_bind_int(st, 25, r->evaluated);
    if (sqlite3_step(st) != SQLITE_DONE)
        return db_error(db, err, "database: writing bucket");
    return 0;
}

int db_trends_delete(sqlite3 *db, struct db_trends_writer *w, const struct trend_row *r,
                     struct fs_error *err)
{
    sqlite3_stmt *st = w->del;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, db_trend_granularity_name(r->granularity), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, r->topic);
    sqlite3_bind_int64(st, 3, r->bucket_start);
    if (sqlite3_step(st) != SQLITE_DONE)
        return db_error(db, err, "database: deleting bucket");
    return 0;
}

void db_trends_writer_close(struct db_trends_writer *w)
{
    sqlite3_finalize(w->st);
    sqlite3_finalize(w->upd);
    sqlite3_finalize(w->del);
    w->st = w->upd = w->del = NULL;
}

int db_trends_finalize(sqlite3 *db, int64_t now, int64_t *n, struct fs_error *err)
{
    return db_trends_finalize_by(db, DB_TREND_BY_TOPIC, now, n, err);
}

#define FINALIZE_SQL(T)                                                                            \
    "UPDATE " T " SET final = 1, evaluated = 0, updated_at = ?1 "                                  \
    "WHERE final = 0 AND bucket_start + "                                                          \
    "(CASE granularity WHEN 'day' THEN 86400 ELSE 3600 END) <= ?1"

int db_trends_finalize_by(sqlite3 *db, int by, int64_t now, int64_t *n, struct fs_error *err)
{
    static const char *const sql[] = {FINALIZE_SQL("buckets"), FINALIZE_SQL("entity_buckets")};
    sqlite3_stmt *st;
    if (db_prepare(db, &st, sql[by], err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    if (db_step_done(db, st, "database: finalising buckets", err) < 0)
        return -1;
    if (n)
        *n = sqlite3_changes64(db);
    return 0;
}

int db_trends_query(sqlite3 *db, const struct trend_filter *f, struct trend_row **rows, size_t *n,
                    struct fs_error *err)
{
    return db_trends_query_by(db, DB_TREND_BY_TOPIC, f, rows, n, err);
}

int db_trends_query_by(sqlite3 *db, int by, const struct trend_filter *f, struct trend_row **rows,
                       size_t *n, struct fs_error *err)
{
    static const char *const sql[] = {
        "SELECT " ROW_COLUMNS " FROM buckets WHERE granularity = ?1 "
        "AND (?2 = 0 OR topic = ?3) AND bucket_start >= ?4 AND bucket_start < ?5 "
        "ORDER BY topic, bucket_start",
        "SELECT " E_ROW_COLUMNS " FROM entity_buckets WHERE granularity = ?1 "
        "AND (?2 = 0 OR entity_id = ?3) AND bucket_start >= ?4 AND bucket_start < ?5 "
        "ORDER BY entity_id, bucket_start"};
    sqlite3_stmt *st;
    if (db_prepare(db, &st, sql[by], err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, db_trend_granularity_name(f->granularity), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, f->topic_set);
    sqlite3_bind_int(st, 3, f->topic);
    sqlite3_bind_int64(st, 4, f->since);
    sqlite3_bind_int64(st, 5, f->until);
    return rows_collect(db, st, rows, n, err);
}

#define DOC_COLUMNS                                                                                \
    "d.id, d.published_at, d.fetched_at, s.name, d.kind, d.url, d.title, d.text, "                 \
    "c.model_id, c.topic, c.sentiment, c.score"
#define DOC_FROM                                                                                   \
    " FROM classifications c JOIN documents d ON d.id = c.document_id "                            \
    "LEFT JOIN sources s ON s.id = d.source_id "

static int docs_emit(sqlite3 *db, sqlite3_stmt *st, db_trends_doc_row_fn fn, void *ctx,
                     struct fs_error *err)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct trend_doc d = {0};
        d.id = sqlite3_column_int64(st, 0);
        d.has_published = sqlite3_column_type(st, 1) != SQLITE_NULL;
        d.published_at = sqlite3_column_int64(st, 1);
        d.fetched_at = sqlite3_column_int64(st, 2);
        d.source = (const char *)sqlite3_column_text(st, 3);
        d.kind = (const char *)sqlite3_column_text(st, 4);
        d.url = (const char *)sqlite3_column_text(st, 5);
        d.title = (const char *)sqlite3_column_text(st, 6);
        d.text = (const char *)sqlite3_column_text(st, 7);
        d.model_id = (const char *)sqlite3_column_text(st, 8);
        d.topic = sqlite3_column_int(st, 9);
        d.sentiment = sqlite3_column_int(st, 10);
        d.score = sqlite3_column_double(st, 11);
        if (fn(ctx, &d) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_error(db, err, "database: reading documents");
    return 0;
}

int db_trends_documents(sqlite3 *db, const struct trend_filter *f, db_trends_doc_row_fn fn,
                        void *ctx, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT " DOC_COLUMNS DOC_FROM "WHERE (?1 = 0 OR c.topic = ?2) AND " DOC_TIME
                   " >= ?3 AND " DOC_TIME " < ?4 ORDER BY " DOC_TIME ", d.id",
                   err) < 0)
        return -1;
    sqlite3_bind_int(st, 1, f->topic_set);
    sqlite3_bind_int(st, 2, f->topic);
    sqlite3_bind_int64(st, 3, f->since);
    sqlite3_bind_int64(st, 4, f->until);
    return docs_emit(db, st, fn, ctx, err);
}

int db_trends_headlines(sqlite3 *db, int topic, int64_t from, int64_t to, int limit,
                        db_trends_doc_row_fn fn, void *ctx, struct fs_error *err)
{
    return db_trends_headlines_by(db, DB_TREND_BY_TOPIC, topic, from, to, limit, fn, ctx, err);
}

/* An entity's headline carries the entity's own sentiment and score (the
 * sentences that mention it), in the columns of DOC_COLUMNS. */
#define ENTITY_DOC_COLUMNS                                                                         \
    "d.id, d.published_at, d.fetched_at, s.name, d.kind, d.url, d.title, d.text, "                 \
    "c.model_id, c.topic, e.sentiment, e.score"
#define ENTITY_DOC_FROM                                                                            \
    " FROM entity_sentiments e JOIN documents d ON d.id = e.document_id "                          \
    "JOIN classifications c ON c.document_id = e.document_id "                                     \
    "LEFT JOIN sources s ON s.id = d.source_id "

int db_trends_headlines_by(sqlite3 *db, int by, int64_t key, int64_t from, int64_t to, int limit,
                           db_trends_doc_row_fn fn, void *ctx, struct fs_error *err)
{
    static const char *const sql[] = {
        "SELECT " DOC_COLUMNS DOC_FROM "WHERE (?1 < 0 OR c.topic = ?1) "
        "AND c.sentiment = 0 AND " DOC_TIME " >= ?2 AND " DOC_TIME " < ?3 "
        "ORDER BY c.score, d.id LIMIT ?4",
        "SELECT " ENTITY_DOC_COLUMNS ENTITY_DOC_FROM "WHERE e.entity_id = ?1 "
        "AND e.sentiment = 0 AND " DOC_TIME " >= ?2 AND " DOC_TIME " < ?3 "
        "ORDER BY e.score, d.id LIMIT ?4"};
    sqlite3_stmt *st;
    if (db_prepare(db, &st, sql[by], err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    sqlite3_bind_int(st, 4, limit);
    return docs_emit(db, st, fn, ctx, err);
}
