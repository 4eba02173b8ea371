/* db_alerts.c — SQL of the alerting stage (see db_alerts.h). */
#include "db/db_alerts.h"

#include "common/util.h"
#include "db/db.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double col_double_or_nan(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

static void bind_double_or_null(sqlite3_stmt *st, int idx, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_double(st, idx, v);
}

static void bind_time_or_null(sqlite3_stmt *st, int idx, int64_t t)
{
    if (t == 0)
        sqlite3_bind_null(st, idx);
    else
        sqlite3_bind_int64(st, idx, t);
}

static void col_copy(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    str_copy(dst, size, t ? (const char *)t : "");
}

/* ---- buckets and examples ---------------------------------------------------- */

/* The series of (topic, entity_id): table buckets by topic, or table
 * entity_buckets by entity (db_alerts.h). */
static int64_t series_key(int topic, int64_t entity_id)
{
    return entity_id ? entity_id : topic;
}

#define BUCKETS_SQL(table, key)                                                                    \
    "SELECT bucket_start, n_docs, n_negative, share_baseline, share_std, baseline_mean, "          \
    "baseline_std, z_score, spike, final, history FROM " table " WHERE granularity = ?1 AND " key  \
    " = ?2 AND bucket_start BETWEEN ?3 AND ?4 ORDER BY bucket_start DESC LIMIT ?5"

/* Reads a row of BUCKETS_SQL (all but bucket_end, which the granularity gives). */
static void bucket_from_row(sqlite3_stmt *st, void *row)
{
    struct bucket_obs *b = row;
    b->bucket_start = sqlite3_column_int64(st, 0);
    b->n_docs = sqlite3_column_int64(st, 1);
    b->n_negative = sqlite3_column_int64(st, 2);
    b->share_mean = col_double_or_nan(st, 3);
    b->share_std = col_double_or_nan(st, 4);
    b->count_mean = col_double_or_nan(st, 5);
    b->count_std = col_double_or_nan(st, 6);
    b->z_score = col_double_or_nan(st, 7);
    b->spike = sqlite3_column_int(st, 8);
    b->final = sqlite3_column_int(st, 9);
    b->history = sqlite3_column_int64(st, 10);
}

/* Prepares sql, a statement over one series' buckets, with ?1 the granularity,
 * ?2 the series key and ?3..?4 the range of bucket starts bound. */
static int prepare_series_range(sqlite3 *db, sqlite3_stmt **st, const char *sql,
                                const char *granularity, int64_t key, int64_t from, int64_t to,
                                struct fs_error *err)
{
    if (db_prepare(db, st, sql, err) < 0)
        return -1;
    sqlite3_bind_text(*st, 1, granularity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(*st, 2, key);
    sqlite3_bind_int64(*st, 3, from);
    sqlite3_bind_int64(*st, 4, to);
    return 0;
}

int db_alerts_buckets(sqlite3 *db, const char *granularity, int gran_seconds, int topic,
                      int64_t entity_id, int64_t from, int64_t to, struct bucket_obs *out, int max,
                      struct fs_error *err)
{
    sqlite3_stmt *st;
    if (prepare_series_range(db, &st,
                             entity_id ? BUCKETS_SQL("entity_buckets", "entity_id")
                                       : BUCKETS_SQL("buckets", "topic"),
                             granularity, series_key(topic, entity_id), from, to, err) < 0)
        return -1;
    sqlite3_bind_int(st, 5, max);
    int n = db_fill_rows(db, st, out, sizeof *out, max, bucket_from_row, NULL, "database: buckets",
                         err);
    for (int i = 0; i < n; i++)
        out[i].bucket_end = out[i].bucket_start + gran_seconds;
    return n;
}

/* The documents of a window with their sentiment (c: a classification, or an
 * entity's sentiment in the document), most negative first. */
#define EXAMPLES_SQL(table, filter)                                                                \
    "SELECT d.id, d.title, d.text, COALESCE(d.url, p.url), c.attended, c.score, "                  \
    "COALESCE(s.name, ps.name) FROM documents d JOIN " table " c ON c.document_id = d.id "         \
    "LEFT JOIN documents p ON p.id = d.parent_id LEFT JOIN sources s ON s.id = d.source_id "       \
    "LEFT JOIN sources ps ON ps.id = p.source_id WHERE " filter " "                                \
    "AND COALESCE(d.published_at, d.fetched_at) >= ?2 "                                            \
    "AND COALESCE(d.published_at, d.fetched_at) < ?3 ORDER BY c.score ASC, d.id ASC LIMIT ?4"

/* Reads a row of EXAMPLES_SQL. */
static void example_from_row(sqlite3_stmt *st, void *row)
{
    struct alert_example *ex = row;
    ex->document_id = sqlite3_column_int64(st, 0);
    ex->title = db_column_strdup(st, 1);
    ex->text = db_column_strdup(st, 2);
    if (!ex->text)
        ex->text = xstrdup("");
    ex->url = db_column_strdup(st, 3);
    ex->attended = db_column_strdup(st, 4);
    ex->score = sqlite3_column_double(st, 5);
    ex->source = db_column_strdup(st, 6);
}

/* db_alert_example_free() as a db_row_clear. */
static void example_clear(void *row)
{
    db_alert_example_free(row);
}

int db_alerts_examples(sqlite3 *db, int topic, int64_t entity_id, int64_t start, int64_t end,
                       struct alert_example *out, int max, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   entity_id ? EXAMPLES_SQL("entity_sentiments", "c.entity_id = ?1")
                             : EXAMPLES_SQL("classifications", "(?1 < 0 OR c.topic = ?1)"),
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, series_key(topic, entity_id));
    sqlite3_bind_int64(st, 2, start);
    sqlite3_bind_int64(st, 3, end);
    sqlite3_bind_int(st, 4, max);
    return db_fill_rows(db, st, out, sizeof *out, max, example_from_row, example_clear,
                        "database: examples", err);
}

void db_alert_example_free(struct alert_example *ex)
{
    free(ex->title);
    free(ex->text);
    free(ex->url);
    free(ex->attended);
    free(ex->source);
    memset(ex, 0, sizeof *ex);
}

#define EVALUATED_SQL(table, key)                                                                  \
    "UPDATE " table " SET evaluated = 1 WHERE granularity = ?1 AND " key " = ?2 "                  \
    "AND bucket_start BETWEEN ?3 AND ?4 AND evaluated = 0"

int db_alerts_buckets_mark_evaluated(sqlite3 *db, const char *granularity, int topic,
                                     int64_t entity_id, int64_t from, int64_t to,
                                     struct fs_error *err)
{
    sqlite3_stmt *st;
    if (prepare_series_range(db, &st,
                             entity_id ? EVALUATED_SQL("entity_buckets", "entity_id")
                                       : EVALUATED_SQL("buckets", "topic"),
                             granularity, series_key(topic, entity_id), from, to, err) < 0)
        return -1;
    return db_step_done(db, st, "database: buckets evaluated", err);
}

/* ---- alerts ------------------------------------------------------------------ */

#define ALERT_COLS                                                                                 \
    "id, rule, topic, granularity, state, severity, bucket_start, bucket_end, z_score, "           \
    "negative_share, n_negative, n_docs, baseline_share, baseline_share_std, first_seen_at, "      \
    "fired_at, last_seen_at, last_notified_at, notify_count, resolved_at, acked_at, "              \
    "baseline_count, baseline_count_std, entity_id"

/* ALERT_COLS and the entity's name, for reading. */
#define ALERT_READ_COLS ALERT_COLS ", (SELECT e.name FROM entities e WHERE e.id = alerts.entity_id)"

static void alert_from_row(sqlite3_stmt *st, void *row)
{
    struct alert_row *a = row;
    memset(a, 0, sizeof *a);
    a->id = sqlite3_column_int64(st, 0);
    col_copy(st, 1, a->rule, sizeof a->rule);
    a->topic = sqlite3_column_int(st, 2);
    col_copy(st, 3, a->granularity, sizeof a->granularity);
    col_copy(st, 4, a->state, sizeof a->state);
    col_copy(st, 5, a->severity, sizeof a->severity);
    a->bucket_start = sqlite3_column_int64(st, 6);
    a->bucket_end = sqlite3_column_int64(st, 7);
    a->z_score = col_double_or_nan(st, 8);
    a->negative_share = col_double_or_nan(st, 9);
    a->n_negative = sqlite3_column_int64(st, 10);
    a->n_docs = sqlite3_column_int64(st, 11);
    a->baseline_share = col_double_or_nan(st, 12);
    a->baseline_share_std = col_double_or_nan(st, 13);
    a->first_seen_at = sqlite3_column_int64(st, 14);
    a->fired_at = sqlite3_column_int64(st, 15);
    a->last_seen_at = sqlite3_column_int64(st, 16);
    a->last_notified_at = sqlite3_column_int64(st, 17);
    a->notify_count = sqlite3_column_int64(st, 18);
    a->resolved_at = sqlite3_column_int64(st, 19);
    a->acked_at = sqlite3_column_int64(st, 20);
    a->baseline_count = col_double_or_nan(st, 21);
    a->baseline_count_std = col_double_or_nan(st, 22);
    a->entity_id = sqlite3_column_int64(st, 23);
    col_copy(st, 24, a->entity, sizeof a->entity);
}

static int alert_select_one(sqlite3 *db, sqlite3_stmt *st, struct alert_row *out,
                            struct fs_error *err)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        alert_from_row(st, out);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return db_error(db, err, "database: alerts");
}

int db_alert_open_get(sqlite3 *db, const char *rule, int topic, int64_t entity_id,
                      struct alert_row *out, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT " ALERT_READ_COLS " FROM alerts WHERE rule = ?1 AND topic = ?2 "
                   "AND COALESCE(entity_id, 0) = ?3 AND state != 'resolved'",
                   err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, rule, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, topic);
    sqlite3_bind_int64(st, 3, entity_id);
    return alert_select_one(db, st, out, err);
}

int db_alert_get(sqlite3 *db, int64_t id, struct alert_row *out, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, "SELECT " ALERT_READ_COLS " FROM alerts WHERE id = ?1", err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    return alert_select_one(db, st, out, err);
}

/* Binds columns 2..24 of ALERT_COLS (everything but id) to parameters ?2..?24. */
static void alert_bind(sqlite3_stmt *st, const struct alert_row *a)
{
    sqlite3_bind_text(st, 2, a->rule, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, a->topic);
    sqlite3_bind_text(st, 4, a->granularity, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, a->state, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->severity, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, a->bucket_start);
    sqlite3_bind_int64(st, 8, a->bucket_end);
    bind_double_or_null(st, 9, a->z_score);
    bind_double_or_null(st, 10, a->negative_share);
    sqlite3_bind_int64(st, 11, a->n_negative);
    sqlite3_bind_int64(st, 12, a->n_docs);
    bind_double_or_null(st, 13, a->baseline_share);
    bind_double_or_null(st, 14, a->baseline_share_std);
    sqlite3_bind_int64(st, 15, a->first_seen_at);
    bind_time_or_null(st, 16, a->fired_at);
    sqlite3_bind_int64(st, 17, a->last_seen_at);
    bind_time_or_null(st, 18, a->last_notified_at);
    sqlite3_bind_int64(st, 19, a->notify_count);
    bind_time_or_null(st, 20, a->resolved_at);
    bind_time_or_null(st, 21, a->acked_at);
    bind_double_or_null(st, 22, a->baseline_count);
    bind_double_or_null(st, 23, a->baseline_count_std);
    if (a->entity_id)
        sqlite3_bind_int64(st, 24, a->entity_id);
    else
        sqlite3_bind_null(st, 24); /* a topic alert */
}

int db_alert_insert(sqlite3 *db, struct alert_row *a, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(
            db, &st,
            "INSERT INTO alerts(" ALERT_COLS ") VALUES (NULL, ?2, ?3, ?4, ?5, ?6, ?7, "
            "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24)",
            err) < 0)
        return -1;
    alert_bind(st, a);
    if (db_step_done(db, st, "database: insert alert", err) < 0)
        return -1;
    a->id = sqlite3_last_insert_rowid(db);
    return 0;
}

int db_alert_update(sqlite3 *db, const struct alert_row *a, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(
            db, &st,
            "UPDATE alerts SET rule = ?2, topic = ?3, granularity = ?4, state = ?5, "
            "severity = ?6, bucket_start = ?7, bucket_end = ?8, z_score = ?9, "
            "negative_share = ?10, n_negative = ?11, n_docs = ?12, baseline_share = ?13, "
            "baseline_share_std = ?14, first_seen_at = ?15, fired_at = ?16, last_seen_at = ?17, "
            "last_notified_at = ?18, notify_count = ?19, resolved_at = ?20, "
            "acked_at = ?21, baseline_count = ?22, baseline_count_std = ?23, entity_id = ?24 "
            "WHERE id = ?1",
            err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, a->id);
    alert_bind(st, a);
    return db_step_done(db, st, "database: update alert", err);
}

int db_alerts_list(sqlite3 *db, int open_only, int limit, struct alert_row **out, int *n,
                   struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT " ALERT_READ_COLS " FROM alerts WHERE (?1 = 0 OR state != 'resolved') "
                   "ORDER BY id DESC LIMIT ?2",
                   err) < 0)
        return -1;
    sqlite3_bind_int(st, 1, open_only);
    sqlite3_bind_int64(st, 2, limit > 0 ? limit : -1);
    void *rows;
    if (db_collect_counted(db, st, sizeof **out, alert_from_row, NULL, &rows, n,
                           "database: list alerts", err) < 0)
        return -1;
    *out = rows;
    return 0;
}

int db_alert_ack(sqlite3 *db, int64_t id, int64_t now, struct fs_error *err)
{
    return db_update_id_at(db, "UPDATE alerts SET acked_at = COALESCE(acked_at, ?2) WHERE id = ?1",
                           id, now, "database: ack alert", err);
}

/* ---- alert history --------------------------------------------------------------- */

int db_alert_event_insert(sqlite3 *db, struct alert_event_row *e, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "INSERT INTO alert_events(alert_id, at, kind, severity, bucket_start, "
                   "bucket_end, n_docs, n_negative, baseline_share, baseline_share_std, "
                   "baseline_count, baseline_count_std, z_score, notified) VALUES (?1, ?2, ?3, "
                   "NULLIF(?4, ''), ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, e->alert_id);
    sqlite3_bind_int64(st, 2, e->at);
    sqlite3_bind_text(st, 3, e->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->severity, -1, SQLITE_STATIC);
    if (e->bucket_start != 0) { /* unbound parameters are NULL */
        sqlite3_bind_int64(st, 5, e->bucket_start);
        sqlite3_bind_int64(st, 6, e->bucket_end);
        sqlite3_bind_int64(st, 7, e->n_docs);
        sqlite3_bind_int64(st, 8, e->n_negative);
    }
    bind_double_or_null(st, 9, e->baseline_share);
    bind_double_or_null(st, 10, e->baseline_share_std);
    bind_double_or_null(st, 11, e->baseline_count);
    bind_double_or_null(st, 12, e->baseline_count_std);
    bind_double_or_null(st, 13, e->z_score);
    sqlite3_bind_int(st, 14, e->notified);
    if (db_step_done(db, st, "database: alert event", err) < 0)
        return -1;
    e->id = sqlite3_last_insert_rowid(db);
    return 0;
}

static void event_from_row(sqlite3_stmt *st, void *row)
{
    struct alert_event_row *e = row;
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(st, 0);
    e->alert_id = sqlite3_column_int64(st, 1);
    e->at = sqlite3_column_int64(st, 2);
    col_copy(st, 3, e->kind, sizeof e->kind);
    col_copy(st, 4, e->severity, sizeof e->severity);
    e->bucket_start = sqlite3_column_int64(st, 5);
    e->bucket_end = sqlite3_column_int64(st, 6);
    e->n_docs = sqlite3_column_int64(st, 7);
    e->n_negative = sqlite3_column_int64(st, 8);
    e->baseline_share = col_double_or_nan(st, 9);
    e->baseline_share_std = col_double_or_nan(st, 10);
    e->baseline_count = col_double_or_nan(st, 11);
    e->baseline_count_std = col_double_or_nan(st, 12);
    e->z_score = col_double_or_nan(st, 13);
    e->notified = sqlite3_column_int(st, 14);
}

int db_alert_events(sqlite3 *db, int64_t alert_id, struct alert_event_row **out, int *n,
                    struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT id, alert_id, at, kind, severity, bucket_start, bucket_end, n_docs, "
                   "n_negative, baseline_share, baseline_share_std, baseline_count, "
                   "baseline_count_std, z_score, notified FROM alert_events WHERE alert_id = ?1 "
                   "ORDER BY id",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, alert_id);
    void *rows;
    if (db_collect_counted(db, st, sizeof **out, event_from_row, NULL, &rows, n,
                           "database: alert events", err) < 0)
        return -1;
    *out = rows;
    return 0;
}

static const char *headline_or_text(const struct alert_example *ex)
{
    return ex->title && *ex->title ? ex->title : ex->text ? ex->text : "";
}

int db_alert_texts_insert(sqlite3 *db, int64_t event_id, const struct alert_example *ex, int n,
                          struct fs_error *err)
{
    for (int i = 0; i < n; i++) {
        sqlite3_stmt *st;
        if (db_prepare(db, &st,
                       "INSERT INTO alert_texts(event_id, rank, document_id, score, headline, "
                       "url, source, attended) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                       err) < 0)
            return -1;
        sqlite3_bind_int64(st, 1, event_id);
        sqlite3_bind_int(st, 2, i + 1);
        sqlite3_bind_int64(st, 3, ex[i].document_id);
        sqlite3_bind_double(st, 4, ex[i].score);
        sqlite3_bind_text(st, 5, headline_or_text(&ex[i]), -1, SQLITE_STATIC);
        db_bind_text(st, 6, ex[i].url);
        db_bind_text(st, 7, ex[i].source);
        db_bind_text(st, 8, ex[i].attended);
        if (db_step_done(db, st, "database: alert texts", err) < 0)
            return -1;
    }
    return 0;
}

/* Reads a stored text (table alert_texts) as an example: title holds the headline. */
static void text_from_row(sqlite3_stmt *st, void *row)
{
    struct alert_example *ex = row;
    ex->document_id = sqlite3_column_int64(st, 0);
    ex->title = db_column_strdup(st, 1);
    ex->text = xstrdup("");
    ex->url = db_column_strdup(st, 2);
    ex->source = db_column_strdup(st, 3);
    ex->attended = db_column_strdup(st, 4);
    ex->score = sqlite3_column_double(st, 5);
}

int db_alert_texts(sqlite3 *db, int64_t event_id, struct alert_example *out, int max,
                   struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT COALESCE(document_id, 0), headline, url, source, attended, score "
                   "FROM alert_texts WHERE event_id = ?1 ORDER BY rank LIMIT ?2",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, event_id);
    sqlite3_bind_int(st, 2, max);
    return db_fill_rows(db, st, out, sizeof *out, max, text_from_row, example_clear,
                        "database: alert texts", err);
}

/* ---- silences ------------------------------------------------------------------ */

int db_silence_add(sqlite3 *db, struct silence_row *s, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "INSERT INTO silences(topic, created_at, until, comment, entity_id) "
                   "VALUES (?1, ?2, ?3, NULLIF(?4, ''), NULLIF(?5, 0))",
                   err) < 0)
        return -1;
    sqlite3_bind_int(st, 1, s->topic);
    sqlite3_bind_int64(st, 2, s->created_at);
    sqlite3_bind_int64(st, 3, s->until);
    sqlite3_bind_text(st, 4, s->comment, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, s->entity_id);
    if (db_step_done(db, st, "database: silence", err) < 0)
        return -1;
    s->id = sqlite3_last_insert_rowid(db);
    return 0;
}

#define SILENCE_ACTIVE "lifted_at IS NULL AND created_at <= ?1 AND until > ?1"

int db_silence_active(sqlite3 *db, int topic, int64_t entity_id, int64_t now, int64_t *id,
                      struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT id FROM silences WHERE " SILENCE_ACTIVE " AND ((topic = ?2 AND "
                   "COALESCE(entity_id, 0) = ?3) OR topic = -2) ORDER BY until DESC, id DESC "
                   "LIMIT 1",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, topic);
    sqlite3_bind_int64(st, 3, entity_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && id)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return db_error(db, err, "database: silences");
}

static void silence_from_row(sqlite3_stmt *st, void *row)
{
    struct silence_row *s = row;
    memset(s, 0, sizeof *s);
    s->id = sqlite3_column_int64(st, 0);
    s->topic = sqlite3_column_int(st, 1);
    s->created_at = sqlite3_column_int64(st, 2);
    s->until = sqlite3_column_int64(st, 3);
    col_copy(st, 4, s->comment, sizeof s->comment);
    s->lifted_at = sqlite3_column_int64(st, 5);
    s->entity_id = sqlite3_column_int64(st, 6);
    col_copy(st, 7, s->entity, sizeof s->entity);
}

int db_silences_list(sqlite3 *db, int64_t now, int all, struct silence_row **out, int *n,
                     struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT id, topic, created_at, until, comment, lifted_at, entity_id, "
                   "(SELECT e.name FROM entities e WHERE e.id = silences.entity_id) "
                   "FROM silences WHERE ?2 OR (" SILENCE_ACTIVE ") ORDER BY id DESC",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int(st, 2, all);
    void *rows;
    if (db_collect_counted(db, st, sizeof **out, silence_from_row, NULL, &rows, n,
                           "database: silences", err) < 0)
        return -1;
    *out = rows;
    return 0;
}

int db_silence_lift(sqlite3 *db, int64_t id, int64_t now, struct fs_error *err)
{
    sqlite3_stmt *st; /* SILENCE_ACTIVE reads the time as ?1 */
    if (db_prepare(db, &st, "UPDATE silences SET lifted_at = ?1 WHERE id = ?2 AND " SILENCE_ACTIVE,
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, id);
    return db_step_changed(db, st, "database: unsilence", err);
}

/* ---- outbox -------------------------------------------------------------------- */

int db_outbox_insert(sqlite3 *db, struct outbox_row *r, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "INSERT INTO outbox(channel, alert_ids, subject, body_text, body_html, "
                   "urgency, message_id, created_at, next_attempt_at, target) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, NULLIF(?10, ''))",
                   err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, r->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->alert_ids, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, r->subject, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, r->body_text, -1, SQLITE_STATIC);
    db_bind_text(st, 5, r->body_html);
    sqlite3_bind_text(st, 6, r->urgency, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->message_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, r->created_at);
    sqlite3_bind_int64(st, 9, r->next_attempt_at);
    db_bind_text(st, 10, r->target);
    if (db_step_done(db, st, "database: outbox insert", err) < 0)
        return -1;
    r->id = sqlite3_last_insert_rowid(db);
    str_copy(r->state, sizeof r->state, "queued");
    r->attempts = 0;
    return 0;
}

static void outbox_from_row(sqlite3_stmt *st, void *row)
{
    struct outbox_row *r = row;
    memset(r, 0, sizeof *r);
    r->id = sqlite3_column_int64(st, 0);
    col_copy(st, 1, r->channel, sizeof r->channel);
    r->alert_ids = db_column_strdup(st, 2);
    r->subject = db_column_strdup(st, 3);
    r->body_text = db_column_strdup(st, 4);
    r->body_html = db_column_strdup(st, 5);
    col_copy(st, 6, r->urgency, sizeof r->urgency);
    r->message_id = db_column_strdup(st, 7);
    r->created_at = sqlite3_column_int64(st, 8);
    col_copy(st, 9, r->state, sizeof r->state);
    r->attempts = sqlite3_column_int64(st, 10);
    r->next_attempt_at = sqlite3_column_int64(st, 11);
    r->sent_at = sqlite3_column_int64(st, 12);
    r->last_error = db_column_strdup(st, 13);
    r->target = db_column_strdup(st, 14);
}

/* db_outbox_rows_free() as a db_rows_free. */
static void outbox_rows_free(void *rows, size_t n)
{
    db_outbox_rows_free(rows, (int)n);
}

int db_outbox_due(sqlite3 *db, int64_t now, struct outbox_row **out, int *n, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT id, channel, alert_ids, subject, body_text, body_html, urgency, "
                   "message_id, created_at, state, attempts, next_attempt_at, sent_at, "
                   "last_error, target FROM outbox WHERE state = 'queued' "
                   "AND next_attempt_at <= ?1 "
                   "ORDER BY id",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, now);
    void *rows;
    if (db_collect_counted(db, st, sizeof **out, outbox_from_row, outbox_rows_free, &rows, n,
                           "database: outbox", err) < 0)
        return -1;
    *out = rows;
    return 0;
}

int db_outbox_counts(sqlite3 *db, int64_t *queued, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, "SELECT count(*) FROM outbox WHERE state = 'queued'", err) < 0)
        return -1;
    int rc = sqlite3_step(st);
    *queued = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW)
        return db_error(db, err, "database: outbox");
    return 0;
}

int db_outbox_claim(sqlite3 *db, int64_t id, int64_t now, int64_t lease_until, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "UPDATE outbox SET next_attempt_at = ?3 WHERE id = ?1 AND state = 'queued' "
                   "AND next_attempt_at <= ?2",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, lease_until);
    return db_step_changed(db, st, "database: outbox claim", err);
}

int db_outbox_mark_sent(sqlite3 *db, int64_t id, int64_t now, struct fs_error *err)
{
    int rc = db_update_id_at(db,
                             "UPDATE outbox SET state = 'sent', sent_at = ?2, "
                             "attempts = attempts + 1, last_error = NULL WHERE id = ?1",
                             id, now, "database: outbox sent", err);
    return rc < 0 ? -1 : 0;
}

int db_outbox_mark_failed(sqlite3 *db, int64_t id, int64_t next_attempt_at, const char *error,
                          int expire, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2, "
                   "last_error = ?3, state = CASE WHEN ?4 THEN 'expired' ELSE state END "
                   "WHERE id = ?1",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, next_attempt_at);
    db_bind_text(st, 3, error);
    sqlite3_bind_int(st, 4, expire);
    return db_step_done(db, st, "database: outbox failed", err);
}

void db_outbox_row_free(struct outbox_row *r)
{
    free(r->alert_ids);
    free(r->subject);
    free(r->body_text);
    free(r->body_html);
    free(r->message_id);
    free(r->last_error);
    free(r->target);
    memset(r, 0, sizeof *r);
}

void db_outbox_rows_free(struct outbox_row *rows, int n)
{
    for (int i = 0; i < n; i++)
        db_outbox_row_free(&rows[i]);
    free(rows);
}
