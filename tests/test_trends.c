/* test_trends.c — bucketing, baselines and spikes, incremental updates, CSV export. */
#include "common/config.h"
#include "common/csv.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "db/db.h"
#include "db/db_trends.h"
#include "tests/check.h"
#include "trends/export.h"
#include "trends/report.h"
#include "trends/sparkline.h"
#include "trends/spike.h"
#include "trends/table.h"
#include "trends/trends.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define T0 1772323200 /* 2026-03-01T00:00:00Z */
#define HOUR 3600
#define DAY 86400

/* ---- helpers ---- */

/* Every test database lives in one directory, removed when the program ends. */
static char test_dir[] = "/tmp/finsent-trends-XXXXXX";
static int test_db_count;

static sqlite3 *temp_db(void)
{
    if (test_db_count == 0 && !mkdtemp(test_dir))
        return NULL;
    char path[128];
    snprintf(path, sizeof path, "%s/t%d.db", test_dir, ++test_db_count);
    sqlite3 *db;
    struct fs_error err;
    if (db_open(&db, path, &err) < 0) {
        printf("  db_open: %s\n", err.msg);
        return NULL;
    }
    return db;
}

static void remove_test_dir(void)
{
    if (test_db_count == 0)
        return;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", test_dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", test_dir);
}

struct doc_inserter {
    sqlite3 *db;
    sqlite3_stmt *doc, *cls;
    int64_t next_id;
};

static int ins_open(struct doc_inserter *in, sqlite3 *db)
{
    in->db = db;
    in->next_id = 1;
    struct fs_error err;
    if (db_prepare(db, &in->doc,
                   "INSERT INTO documents(id, url, dedupe_hash, title, text, kind, published_at, "
                   "fetched_at) VALUES (?1, ?2, ?3, ?4, ?5, 'article', ?6, ?7)",
                   &err) < 0)
        return -1;
    return db_prepare(db, &in->cls,
                      "INSERT INTO classifications(document_id, model_id, topic, topic_probs, "
                      "sentiment, sentiment_probs, score, classified_at) "
                      "VALUES (?1, 'test', ?2, '[]', ?3, '[]', ?4, 0)",
                      &err);
}

static void ins_close(struct doc_inserter *in)
{
    sqlite3_finalize(in->doc);
    sqlite3_finalize(in->cls);
}

/* Inserts one classified document. published < 0 means NULL (fetched used). */
static int ins_doc_full(struct doc_inserter *in, int64_t published, int64_t fetched, int topic,
                        int sentiment, double score, const char *title, const char *url)
{
    int64_t id = in->next_id++;
    char hash[32];
    snprintf(hash, sizeof hash, "h%lld", (long long)id);
    sqlite3_reset(in->doc);
    sqlite3_bind_int64(in->doc, 1, id);
    db_bind_text(in->doc, 2, url);
    sqlite3_bind_text(in->doc, 3, hash, -1, SQLITE_TRANSIENT);
    db_bind_text(in->doc, 4, title);
    sqlite3_bind_text(in->doc, 5, title ? title : "text", -1, SQLITE_TRANSIENT);
    if (published < 0)
        sqlite3_bind_null(in->doc, 6);
    else
        sqlite3_bind_int64(in->doc, 6, published);
    sqlite3_bind_int64(in->doc, 7, fetched);
    if (sqlite3_step(in->doc) != SQLITE_DONE)
        return -1;
    sqlite3_reset(in->cls);
    sqlite3_bind_int64(in->cls, 1, id);
    sqlite3_bind_int(in->cls, 2, topic);
    sqlite3_bind_int(in->cls, 3, sentiment);
    sqlite3_bind_double(in->cls, 4, score);
    return sqlite3_step(in->cls) == SQLITE_DONE ? 0 : -1;
}

static int ins_doc(struct doc_inserter *in, int64_t t, int topic, int sentiment)
{
    double score = sentiment == 0 ? -0.8 : sentiment == 2 ? 0.7 : 0.05;
    return ins_doc_full(in, t, t + 60, topic, sentiment, score, NULL, NULL);
}

/* n documents at time t of topic, n_neg of them negative, the rest split. */
static int ins_bucket(struct doc_inserter *in, int64_t t, int topic, int n, int n_neg)
{
    for (int i = 0; i < n; i++) {
        int s = i < n_neg ? 0 : (i % 2 ? 1 : 2);
        if (ins_doc(in, t + (i * 37) % HOUR, topic, s) < 0)
            return -1;
    }
    return 0;
}

static int64_t count_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    struct fs_error err;
    if (db_prepare(db, &st, sql, &err) < 0)
        return -1;
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* The whole buckets table as text, for comparing two databases. */
static char *dump_buckets(sqlite3 *db)
{
    struct strbuf sb = STRBUF_INIT;
    sqlite3_stmt *st;
    struct fs_error err;
    if (db_prepare(db, &st, "SELECT * FROM buckets ORDER BY granularity, topic, bucket_start",
                   &err) < 0)
        return sb_detach(&sb);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            if (sqlite3_column_type(st, c) == SQLITE_FLOAT)
                sb_appendf(&sb, "%.17g|", sqlite3_column_double(st, c));
            else
                sb_appendf(&sb, "%s|", (const char *)sqlite3_column_text(st, c) ?: "NULL");
        }
        sb_append_char(&sb, '\n');
    }
    sqlite3_finalize(st);
    return sb_detach(&sb);
}

static struct spike_params test_params(void)
{
    struct spike_params p;
    spike_params_default(&p);
    return p;
}

/* ---- pure functions ---- */

static void test_bucket_start_utc_boundaries(void)
{
    CHECK_INT_EQ(trend_bucket_start(T0, DB_TREND_HOUR), T0);
    CHECK_INT_EQ(trend_bucket_start(T0 - 1, DB_TREND_HOUR), T0 - HOUR);
    CHECK_INT_EQ(trend_bucket_start(T0 + HOUR - 1, DB_TREND_HOUR), T0);
    CHECK_INT_EQ(trend_bucket_start(T0 + HOUR, DB_TREND_HOUR), T0 + HOUR);
    CHECK_INT_EQ(trend_bucket_start(T0 - 1, DB_TREND_DAY), T0 - DAY);
    CHECK_INT_EQ(trend_bucket_start(T0 + DAY - 1, DB_TREND_DAY), T0);
    CHECK_INT_EQ(trend_bucket_start(T0 + 23 * HOUR + 59 * 60, DB_TREND_DAY), T0);
    CHECK_INT_EQ(trend_bucket_start(-1, DB_TREND_HOUR), -HOUR);
    CHECK_INT_EQ(trend_bucket_start(-DAY, DB_TREND_DAY), -DAY);
    CHECK_INT_EQ(trend_granularity_parse("day"), DB_TREND_DAY);
    CHECK_INT_EQ(trend_granularity_parse("hour"), DB_TREND_HOUR);
    CHECK_INT_EQ(trend_granularity_parse("week"), -1);
}

static void test_topic_names_and_parse(void)
{
    int t;
    CHECK_STR_EQ(trends_topic_name(-1), "all");
    CHECK_STR_EQ(trends_topic_name(1), "Fed | Central Banks");
    CHECK_STR_EQ(trends_topic_name(19), "Stock Movement");
    CHECK(trends_topic_parse("5", &t) == 0 && t == 5);
    CHECK(trends_topic_parse("fed | central banks", &t) == 0 && t == 1);
    CHECK(trends_topic_parse("EARNINGS", &t) == 0 && t == 5);
    CHECK(trends_topic_parse("All", &t) == 0 && t == -1);
    CHECK(trends_topic_parse("20", &t) < 0);
    CHECK(trends_topic_parse("Sports", &t) < 0);
    CHECK(trends_topic_parse("", &t) < 0);
}

static void test_config_reads_trends_section(void)
{
    struct config *cfg;
    struct fs_error err;
    CHECK(config_parse(&cfg, "f.conf", "[trends]\nalpha = 0.25\nz_threshold = 4\nmin_docs = 9\n",
                       &err) == 0);
    struct spike_params p;
    CHECK_MSG(trends_config_load(cfg, &p, &err) == 0, "%s", err.msg);
    CHECK_NEAR(p.alpha, 0.25, 1e-12);
    CHECK_NEAR(p.z_threshold, 4, 1e-12);
    CHECK_INT_EQ(p.min_docs, 9);
    CHECK_NEAR(p.min_negative_share, 0.3, 1e-12);
    config_free(cfg);
    CHECK(config_parse(&cfg, "f.conf", "[trends]\n\nalpha = 2\n", &err) == 0);
    CHECK(trends_config_load(cfg, &p, &err) < 0);
    CHECK_MSG(strstr(err.msg, "f.conf:3") != NULL, "error should name file:line: %s", err.msg);
    config_free(cfg);
    CHECK(trends_config_load(NULL, &p, &err) == 0);
    CHECK_NEAR(p.alpha, 0.1, 1e-12);
}

static void test_steady_series_never_spikes(void)
{
    struct spike_params p = test_params();
    struct spike_state st;
    spike_state_init(&st);
    struct spike_eval ev;
    for (int i = 0; i < 500; i++) {
        spike_step(&st, &p, 10, 4, &ev);
        CHECK_MSG(!ev.spike, "steady bucket %d spiked (z %g)", i, ev.z);
    }
    CHECK(ev.has_z);
    CHECK_NEAR(ev.z, 0, 1e-9);
    /* a steady but very small topic: 1 negative of 1 every bucket */
    spike_state_init(&st);
    for (int i = 0; i < 200; i++) {
        spike_step(&st, &p, 1, i % 3 == 0, &ev);
        CHECK(!ev.spike);
    }
}

/* A tiny deterministic generator, so that the noisy series is the same each run. */
static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_noisy_series_gives_no_spike(void)
{
    struct spike_params p = test_params();
    struct spike_state st;
    spike_state_init(&st);
    struct spike_eval ev;
    uint32_t seed = 12345;
    for (int i = 0; i < 2000; i++) {
        int n = 20 + (int)(lcg(&seed) % 21); /* 20..40 documents */
        int neg = 0;
        for (int k = 0; k < n; k++)
            neg += lcg(&seed) % 100 < 30; /* each negative with p = 0.3 */
        spike_step(&st, &p, n, neg, &ev);
        CHECK_MSG(!ev.spike, "noisy bucket %d spiked: n %d neg %d z %g", i, n, neg, ev.z);
    }
}

/* A bucket whose z equals the threshold exactly is a spike (z >= threshold);
 * one a hair below it is not. */
static void test_z_at_threshold_spikes(void)
{
    struct spike_params p = test_params();
    struct spike_state st;
    spike_state_init(&st);
    struct spike_eval ev;
    for (int i = 0; i < 12; i++)
        spike_step(&st, &p, 10 + i % 3, 3, &ev);
    struct spike_state at = st, above = st;
    spike_step(&st, &p, 20, 14, &ev);
    CHECK_MSG(ev.has_z && ev.z > 1, "z %g", ev.z);
    struct spike_params exact = p, higher = p;
    exact.z_threshold = ev.z;
    higher.z_threshold = nextafter(ev.z, INFINITY);
    struct spike_eval e1, e2;
    spike_step(&at, &exact, 20, 14, &e1);
    spike_step(&above, &higher, 20, 14, &e2);
    CHECK_MSG(e1.z == ev.z && e1.spike, "z %.17g at threshold %.17g: no spike", e1.z,
              exact.z_threshold);
    CHECK_MSG(!e2.spike, "z %.17g below threshold %.17g: spike", e2.z, higher.z_threshold);
}

static void test_planted_jump_spikes_then_recovers(void)
{
    struct spike_params p = test_params();
    struct spike_state st;
    spike_state_init(&st);
    struct spike_eval ev;
    for (int i = 0; i < 50; i++)
        spike_step(&st, &p, 20, 4, &ev);
    spike_step(&st, &p, 24, 18, &ev);
    CHECK_MSG(ev.spike, "planted jump not found (z %g, z_count %g, z_share %g)", ev.z, ev.z_count,
              ev.z_share);
    CHECK(ev.z > 3);
    /* winsorised: the spike hardly moves the baseline, the next normal bucket is calm */
    spike_step(&st, &p, 20, 4, &ev);
    CHECK(!ev.spike);
    CHECK(ev.count_mean < 6);
    /* a second jump right after is still found */
    spike_step(&st, &p, 24, 18, &ev);
    CHECK(ev.spike);
}

/* A quiet topic (3-5 documents an hour, shares swinging between 0 and 67 %) is
 * judged on a 30-document burst with the burst's own binomial noise. */
static void test_burst_in_a_quiet_topic_spikes(void)
{
    struct spike_params p = test_params();
    struct spike_state st;
    spike_state_init(&st);
    struct spike_eval ev;
    uint32_t seed = 77;
    for (int i = 0; i < 300; i++) {
        int n = 3 + (int)(lcg(&seed) % 3), neg = 0;
        for (int k = 0; k < n; k++)
            neg += lcg(&seed) % 100 < 20;
        spike_step(&st, &p, n, neg, &ev);
        CHECK(!ev.spike);
    }
    spike_step(&st, &p, 30, 24, &ev);
    CHECK_MSG(ev.spike, "burst missed: z_count %g z_share %g (share std %g)", ev.z_count,
              ev.z_share, ev.share_std);
    CHECK(ev.share_std < 0.1);
}

static void test_volume_surge_with_same_tone_is_not_a_spike(void)
{
    struct spike_params p = test_params();
    struct spike_state st;
    spike_state_init(&st);
    struct spike_eval ev;
    for (int i = 0; i < 50; i++)
        spike_step(&st, &p, 20, 8, &ev);
    spike_step(&st, &p, 100, 40, &ev); /* 5x the news, same 40 % negative */
    CHECK(ev.z_count > 3);
    CHECK(!ev.spike);
}

static void test_warmup_and_min_docs(void)
{
    struct spike_params p = test_params();
    struct spike_state st;
    spike_state_init(&st);
    struct spike_eval ev;
    spike_step(&st, &p, 10, 1, &ev);
    CHECK(!ev.has_baseline && !ev.has_z && !ev.spike);
    spike_step(&st, &p, 30, 29, &ev); /* huge, but only one bucket of history */
    CHECK(!ev.spike);
    spike_state_init(&st);
    for (int i = 0; i < 30; i++)
        spike_step(&st, &p, 4, 0, &ev);
    spike_step(&st, &p, 4, 4, &ev); /* 4 documents < min_docs 5 */
    CHECK(!ev.spike);
}

static void test_empty_buckets_fold_as_zeros(void)
{
    struct spike_params p = test_params();
    struct spike_state a, b;
    spike_state_init(&a);
    spike_state_init(&b);
    struct spike_eval ev;
    for (int i = 0; i < 10; i++) {
        spike_step(&a, &p, 10, 3, &ev);
        spike_step(&b, &p, 10, 3, &ev);
    }
    spike_state_skip(&a, &p, 7);
    for (int i = 0; i < 7; i++)
        spike_step(&b, &p, 0, 0, &ev);
    CHECK_INT_EQ(a.history, b.history);
    CHECK_NEAR(a.count_mean, b.count_mean, 1e-12);
    CHECK_NEAR(a.count_var, b.count_var, 1e-12);
    CHECK_NEAR(a.share_mean, b.share_mean, 1e-12);
    /* a year of empty hours is cheap and decays to zero */
    spike_state_skip(&a, &p, 365 * 24);
    CHECK(a.count_mean == 0);
    CHECK_INT_EQ(a.history, 10 + 7 + 365 * 24);
}

/* ---- through the database ---- */

static void test_empty_database_and_single_bucket(void)
{
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    struct fs_error err;
    struct trends_stats stats;
    struct spike_params p = test_params();
    CHECK_MSG(trends_update_params(db, &p, T0, &stats, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(stats.n_docs, 0);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM buckets"), 0);
    struct doc_inserter in;
    CHECK(ins_open(&in, db) == 0);
    CHECK(ins_doc(&in, T0 + 10, 3, 0) == 0);
    ins_close(&in);
    CHECK_MSG(trends_update_params(db, &p, T0 + 100, &stats, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(stats.n_docs, 1);
    /* hour and day, topic 3 and all */
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM buckets"), 4);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM buckets WHERE z_score IS NULL AND "
                                "spike = 0 AND final = 0 AND n_docs = 1 AND n_negative = 1"),
                 4);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM buckets WHERE negative_share = 1.0 "
                                "AND abs(mean_score + 0.8) < 1e-9"),
                 4);
    /* the hour ends: one more update makes those rows final, and nothing else */
    CHECK(trends_update_params(db, &p, T0 + HOUR, &stats, &err) == 0);
    CHECK_INT_EQ(stats.n_docs, 0);
    CHECK_INT_EQ(stats.n_rows, 0);
    CHECK_INT_EQ(stats.n_final, 2);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM buckets WHERE final = 1"), 2);
    db_close(db);
}

static void test_hour_and_day_buckets_split_at_utc_midnight(void)
{
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    struct doc_inserter in;
    CHECK(ins_open(&in, db) == 0);
    CHECK(ins_doc(&in, T0 - 1, 2, 0) == 0);        /* 2026-02-28T23:59:59Z */
    CHECK(ins_doc(&in, T0, 2, 2) == 0);            /* 2026-03-01T00:00:00Z */
    CHECK(ins_doc(&in, T0 + HOUR - 1, 2, 1) == 0); /* 00:59:59 */
    CHECK(ins_doc(&in, T0 + DAY - 1, 2, 0) == 0);  /* 23:59:59 */
    ins_close(&in);
    struct fs_error err;
    struct spike_params p = test_params();
    CHECK(trends_update_params(db, &p, T0 + 2 * DAY, NULL, &err) == 0);
    struct trend_filter f = {.granularity = DB_TREND_DAY,
                             .topic_set = 1,
                             .topic = 2,
                             .since = INT64_MIN,
                             .until = INT64_MAX};
    struct trend_row *rows;
    size_t n;
    CHECK(db_trends_query(db, &f, &rows, &n, &err) == 0);
    CHECK_INT_EQ(n, 2);
    CHECK_INT_EQ(rows[0].bucket_start, T0 - DAY);
    CHECK_INT_EQ(rows[0].n_docs, 1);
    CHECK_INT_EQ(rows[1].bucket_start, T0);
    CHECK_INT_EQ(rows[1].n_docs, 3);
    CHECK_INT_EQ(rows[1].history, 1);
    free(rows);
    f.granularity = DB_TREND_HOUR;
    CHECK(db_trends_query(db, &f, &rows, &n, &err) == 0);
    CHECK_INT_EQ(n, 3);
    CHECK_INT_EQ(rows[0].bucket_start, T0 - HOUR);
    CHECK_INT_EQ(rows[1].bucket_start, T0);
    CHECK_INT_EQ(rows[1].n_docs, 2);
    CHECK_INT_EQ(rows[1].n_positive, 1);
    CHECK_INT_EQ(rows[1].n_neutral, 1);
    CHECK_INT_EQ(rows[2].bucket_start, T0 + 23 * HOUR);
    CHECK_INT_EQ(rows[2].history, 24); /* 22 empty hours in between count */
    free(rows);
    db_close(db);
}

static void test_published_at_null_uses_fetched_at(void)
{
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    struct doc_inserter in;
    CHECK(ins_open(&in, db) == 0);
    /* published late on Feb 28, fetched on Mar 1: counted on Feb 28 */
    CHECK(ins_doc_full(&in, T0 - 10, T0 + 5 * HOUR, 1, 1, 0, NULL, NULL) == 0);
    /* no published time: counted when fetched */
    CHECK(ins_doc_full(&in, -1, T0 + 5 * HOUR + 30, 1, 1, 0, NULL, NULL) == 0);
    ins_close(&in);
    struct fs_error err;
    struct spike_params p = test_params();
    CHECK_MSG(trends_update_params(db, &p, T0 + DAY, NULL, &err) == 0, "%s", err.msg);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT n_docs FROM buckets WHERE granularity = 'hour' AND topic = 1 "
             "AND bucket_start = %d",
             T0 + 5 * HOUR);
    CHECK_INT_EQ(count_rows(db, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT n_docs FROM buckets WHERE granularity = 'hour' AND topic = 1 "
             "AND bucket_start = %d",
             T0 - HOUR);
    CHECK_INT_EQ(count_rows(db, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT n_docs FROM buckets WHERE granularity = 'day' AND topic = -1 "
             "AND bucket_start = %d",
             T0 - DAY);
    CHECK_INT_EQ(count_rows(db, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT n_docs FROM buckets WHERE granularity = 'day' AND topic = -1 "
             "AND bucket_start = %d",
             T0);
    CHECK_INT_EQ(count_rows(db, sql), 1);
    db_close(db);
}

/* Fills 5 steady topics for 72 hours, with one planted jump in topic 5 at hour
 * 50 and a planted day jump in topic 7 on day 20 of a 30-day daily series. */
static int fill_planted(sqlite3 *db)
{
    struct doc_inserter in;
    if (ins_open(&in, db) < 0)
        return -1;
    int rc = 0;
    int topics[] = {0, 2, 5, 9, 14};
    for (int h = 0; h < 72 && rc == 0; h++) {
        for (size_t k = 0; k < FS_ARRAY_LEN(topics) && rc == 0; k++) {
            int t = topics[k];
            if (t == 5 && h == 50)
                rc = ins_bucket(&in, T0 + h * HOUR, t, 22, 18);
            else
                rc = ins_bucket(&in, T0 + h * HOUR, t, 10 + (h + t) % 3, 2 + (h % 2));
        }
    }
    /* topic 7: 12 posts a day at noon for 30 days, 3 negative; on day 20 all 12 are */
    for (int d = 0; d < 30 && rc == 0; d++) {
        int neg = d == 20 ? 12 : 3;
        for (int i = 0; i < 12 && rc == 0; i++)
            rc = ins_doc(&in, T0 - 40 * DAY + d * DAY + 12 * HOUR, 7, i < neg ? 0 : 1);
    }
    ins_close(&in);
    return rc;
}

static void test_planted_spikes_found_exactly(void)
{
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    CHECK(fill_planted(db) == 0);
    struct fs_error err;
    struct spike_params p = test_params();
    struct trends_stats stats;
    CHECK_MSG(trends_update_params(db, &p, T0 + 80 * HOUR, &stats, &err) == 0, "%s", err.msg);
    CHECK(stats.n_new_spikes >= 2);
    /* hour: topic 5 at hour 50, and topic 7's noon of day 20 (its hourly series is
     * sparse — 23 empty hours a day — but the tone jump shows there too) */
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM buckets WHERE spike = 1 AND "
                                "granularity = 'hour' AND topic >= 0"),
                 2);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM buckets WHERE spike = 1 AND granularity = 'hour' "
             "AND topic = 5 AND bucket_start = %d AND z_score > 3 AND final = 1",
             T0 + 50 * HOUR);
    CHECK_INT_EQ(count_rows(db, sql), 1);
    /* day: topic 7 on day 20 (its own history is daily; the hourly one is sparse) */
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM buckets WHERE spike = 1 AND "
                                "granularity = 'day' AND topic >= 0"),
                 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM buckets WHERE spike = 1 AND granularity = 'day' "
             "AND topic = 7 AND bucket_start = %d",
             T0 - 20 * DAY);
    CHECK_INT_EQ(count_rows(db, sql), 1);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM buckets WHERE spike = 1 AND granularity = 'hour' "
             "AND topic = 7 AND bucket_start = %d",
             T0 - 20 * DAY + 12 * HOUR);
    CHECK_INT_EQ(count_rows(db, sql), 1);
    /* the hourly series of topic 7 has 23 empty hours between its buckets, counted
     * in its history */
    snprintf(sql, sizeof sql,
             "SELECT history FROM buckets WHERE granularity = 'hour' AND topic = 7 "
             "AND bucket_start = %d",
             T0 - 39 * DAY + 12 * HOUR);
    CHECK_INT_EQ(count_rows(db, sql), 24);
    db_close(db);
}

/* ---- per-entity series ---- */

/* The rows of a SELECT (a constant) as text. */
static char *dump_rows(sqlite3 *db, const char *sql)
{
    struct strbuf sb = STRBUF_INIT;
    sqlite3_stmt *st;
    struct fs_error err;
    if (db_prepare(db, &st, sql, &err) < 0)
        return sb_detach(&sb);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++)
            sb_appendf(&sb, "%s|", (const char *)sqlite3_column_text(st, c) ?: "NULL");
        sb_append_char(&sb, '\n');
    }
    sqlite3_finalize(st);
    return sb_detach(&sb);
}

/* The whole entity_buckets table as text. */
static char *dump_entity_buckets(sqlite3 *db)
{
    return dump_rows(db, "SELECT * FROM entity_buckets ORDER BY granularity, entity_id, "
                         "bucket_start");
}

/* Hours [h0, h1) of a world where every document is neutral (topic 0) but its
 * entity sentiments are not: entity 1 and 2 get 2 negatives in 10 an hour,
 * entity 1 gets 9 in 10 at hour 50. */
static int fill_entities(sqlite3 *db, struct doc_inserter *in, int h0, int h1)
{
    sqlite3_stmt *st;
    struct fs_error err;
    if (db_prepare(db, &st,
                   "INSERT INTO entity_sentiments(document_id, entity_id, sentiment, "
                   "sentiment_probs, score, basis) VALUES (?1, ?2, ?3, '[]', ?4, 'sentences')",
                   &err) < 0)
        return -1;
    int rc = 0;
    for (int h = h0; h < h1 && rc == 0; h++) {
        for (int i = 0; i < 10 && rc == 0; i++) {
            int64_t id = in->next_id;
            rc = ins_doc(in, T0 + h * HOUR + i * 60, 0, 1);
            for (int e = 1; e <= 2 && rc == 0; e++) {
                int neg = i < (e == 1 && h == 50 ? 9 : 2);
                sqlite3_reset(st);
                sqlite3_bind_int64(st, 1, id);
                sqlite3_bind_int(st, 2, e);
                sqlite3_bind_int(st, 3, neg ? 0 : 1);
                sqlite3_bind_double(st, 4, neg ? -0.8 : 0.05);
                rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
            }
        }
    }
    sqlite3_finalize(st);
    return rc;
}

static void test_entity_series_spike_on_their_own(void)
{
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    struct fs_error err;
    CHECK(db_exec(db, "INSERT INTO entities(id, key, name) VALUES (1, 'sec:1', 'Acme'),"
                      " (2, 'sec:2', 'Bolt')", &err) == 0);
    struct doc_inserter in;
    CHECK(ins_open(&in, db) == 0);
    struct spike_params p = test_params();
    struct trends_stats stats;
    /* incremental: 40 hours, an update, the rest, an update (one clock: updated_at
     * is part of the rows compared) */
    CHECK(fill_entities(db, &in, 0, 40) == 0);
    CHECK_MSG(trends_update_params(db, &p, T0 + 80 * HOUR, &stats, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(stats.entity_docs, 800);
    CHECK(fill_entities(db, &in, 40, 72) == 0);
    CHECK_MSG(trends_update_params(db, &p, T0 + 80 * HOUR, &stats, &err) == 0, "%s", err.msg);
    CHECK(stats.entity_new_spikes >= 1);
    ins_close(&in);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM entity_buckets WHERE spike = 1 AND granularity = 'hour' "
             "AND entity_id = 1 AND bucket_start = %d AND n_docs = 10 AND n_negative = 9",
             T0 + 50 * HOUR);
    CHECK_INT_EQ(count_rows(db, sql), 1);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM entity_buckets WHERE spike = 1 AND "
                                "granularity = 'hour'"),
                 1);
    /* the documents themselves are neutral: no topic spikes */
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM buckets WHERE spike = 1"), 0);
    /* no "all" series for entities: 72 hours x 2 entities */
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM entity_buckets WHERE granularity = 'hour'"),
                 144);
    /* incremental equals a recomputation; deleting a counted row rebuilds */
    char *incremental = dump_entity_buckets(db);
    CHECK(trends_rebuild(db, &p, T0 + 80 * HOUR, &stats, &err) == 0);
    char *full = dump_entity_buckets(db);
    CHECK_MSG(strcmp(incremental, full) == 0, "incremental and rebuilt entity buckets differ");
    free(incremental), free(full);
    CHECK(db_exec(db, "DELETE FROM entity_sentiments WHERE entity_id = 2", &err) == 0);
    CHECK(trends_update_params(db, &p, T0 + 80 * HOUR, &stats, &err) == 0);
    CHECK(stats.entity_rebuilt);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM entity_buckets WHERE entity_id = 2"), 0);
    db_close(db);
}

/* Issue 13 item 6: a rebuild after a small change writes only the rows that
 * change (the rest keep evaluated = 1, as alerts left them), deletes a bucket
 * left empty, and gives the rows a rebuild into an empty table gives. */
static void test_entity_rebuild_writes_only_what_changed(void)
{
    static const char stable[] =
        "SELECT granularity, entity_id, bucket_start, n_docs, n_negative, n_neutral, n_positive, "
        "score_sum_micro, history, baseline_mean, baseline_std, share_baseline, share_std, "
        "z_count, z_share, z_score, spike, ewma_count_mean, ewma_count_var, ewma_share_mean, "
        "ewma_share_excess, ewma_share_n, final FROM entity_buckets "
        "ORDER BY granularity, entity_id, bucket_start";
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    struct fs_error err;
    CHECK(db_exec(db,
                  "INSERT INTO entities(id, key, name) VALUES (1, 'sec:1', 'Acme'),"
                  " (2, 'sec:2', 'Bolt')",
                  &err) == 0);
    struct doc_inserter in;
    CHECK(ins_open(&in, db) == 0);
    CHECK(fill_entities(db, &in, 0, 72) == 0);
    ins_close(&in);
    struct spike_params p = test_params();
    struct trends_stats stats;
    CHECK(trends_update_params(db, &p, T0 + 80 * HOUR, &stats, &err) == 0);
    CHECK(db_exec(db, "UPDATE entity_buckets SET evaluated = 1", &err) == 0);
    /* entity 2 loses its sentiments in hour 71 (its last hour) and one in hour 60 */
    char sql[256];
    snprintf(sql, sizeof sql,
             "DELETE FROM entity_sentiments WHERE entity_id = 2 AND document_id IN (SELECT id "
             "FROM documents WHERE published_at >= %d OR published_at = %d)",
             T0 + 71 * HOUR, T0 + 60 * HOUR);
    CHECK(db_exec(db, sql, &err) == 0);
    CHECK(trends_update_params(db, &p, T0 + 80 * HOUR, &stats, &err) == 0);
    CHECK(stats.entity_rebuilt);
    /* entity 2's hours 60..70 rewritten, hour 71 deleted, its day 2 rewritten */
    CHECK_INT_EQ(stats.entity_rows, 13);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM entity_buckets WHERE evaluated = 0 "
                                "AND entity_id = 1"),
                 0);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM entity_buckets WHERE granularity = 'hour' "
                                "AND entity_id = 2"),
                 71);
    char *selective = dump_rows(db, stable);
    CHECK(db_exec(db, "DELETE FROM entity_buckets", &err) == 0);
    CHECK(trends_rebuild(db, &p, T0 + 80 * HOUR, &stats, &err) == 0);
    CHECK_INT_EQ(stats.entity_rows, 72 + 71 + 3 + 3);
    char *scratch = dump_rows(db, stable);
    CHECK_MSG(strcmp(selective, scratch) == 0, "a selective rebuild differs from one from scratch");
    free(selective), free(scratch);
    db_close(db);
}

/* Random documents over 10 days, inserted in batches with an update after each;
 * times are shuffled so that later batches hold late documents. */
static int fill_random_batch(struct doc_inserter *in, uint32_t *seed, int n)
{
    for (int i = 0; i < n; i++) {
        int64_t t = T0 + (int64_t)(lcg(seed) % (10 * DAY));
        int topic = (int)(lcg(seed) % 6);
        int s = (int)(lcg(seed) % 3);
        double score = ((int)(lcg(seed) % 2001) - 1000) / 1000.0;
        int64_t published = lcg(seed) % 5 == 0 ? -1 : t;
        if (ins_doc_full(in, published, t, topic, s, score, NULL, NULL) < 0)
            return -1;
    }
    return 0;
}

static void test_incremental_equals_full_recompute(void)
{
    sqlite3 *inc = temp_db(), *full = temp_db();
    CHECK(inc && full);
    struct doc_inserter a, b;
    CHECK(ins_open(&a, inc) == 0 && ins_open(&b, full) == 0);
    struct fs_error err;
    struct spike_params p = test_params();
    p.min_docs = 2;
    p.warmup = 2;
    uint32_t sa = 99, sb = 99;
    int64_t now = T0 + 11 * DAY;
    for (int batch = 0; batch < 6; batch++) {
        CHECK(fill_random_batch(&a, &sa, 700) == 0);
        CHECK(fill_random_batch(&b, &sb, 700) == 0);
        CHECK_MSG(trends_update_params(inc, &p, now, NULL, &err) == 0, "%s", err.msg);
    }
    ins_close(&a);
    ins_close(&b);
    struct trends_stats st;
    CHECK_MSG(trends_update_params(full, &p, now, &st, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(st.n_docs, 6 * 700);
    char *x = dump_buckets(inc), *y = dump_buckets(full);
    CHECK(strlen(x) > 1000);
    CHECK_MSG(strcmp(x, y) == 0, "incremental and full buckets differ");
    free(y);
    /* an explicit rebuild gives the same rows again */
    CHECK(trends_rebuild(inc, &p, now, &st, &err) == 0);
    CHECK(st.rebuilt);
    y = dump_buckets(inc);
    CHECK_MSG(strcmp(x, y) == 0, "rebuild differs");
    free(y);
    /* idempotent: nothing new, nothing written */
    CHECK(trends_update_params(inc, &p, now, &st, &err) == 0);
    CHECK_INT_EQ(st.n_rows, 0);
    CHECK_INT_EQ(st.n_docs, 0);
    free(x);
    /* totals match the documents */
    CHECK_INT_EQ(count_rows(inc, "SELECT sum(n_docs) FROM buckets WHERE granularity = 'day' "
                                 "AND topic = -1"),
                 6 * 700);
    CHECK_INT_EQ(count_rows(inc, "SELECT sum(n_docs) FROM buckets WHERE granularity = 'hour' "
                                 "AND topic >= 0"),
                 6 * 700);
    db_close(inc);
    db_close(full);
}

static void test_reclassification_triggers_rebuild(void)
{
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    struct doc_inserter in;
    CHECK(ins_open(&in, db) == 0);
    uint32_t seed = 7;
    CHECK(fill_random_batch(&in, &seed, 300) == 0);
    ins_close(&in);
    struct fs_error err;
    struct spike_params p = test_params();
    struct trends_stats st;
    CHECK(trends_update_params(db, &p, T0, &st, &err) == 0);
    CHECK(!st.rebuilt);
    /* a new model replaces one classification and another document is deleted */
    CHECK(db_exec(db,
                  "INSERT OR REPLACE INTO classifications(document_id, model_id, topic, "
                  "topic_probs, sentiment, sentiment_probs, score, classified_at) "
                  "SELECT document_id, 'v2', (topic + 1) % 6, '[]', 0, '[]', -1, 1 "
                  "FROM classifications WHERE document_id = 5;"
                  "DELETE FROM documents WHERE id = 9;",
                  &err) == 0);
    CHECK_MSG(trends_update_params(db, &p, T0, &st, &err) == 0, "%s", err.msg);
    CHECK(st.rebuilt);
    char *x = dump_buckets(db);
    CHECK(trends_rebuild(db, &p, T0, &st, &err) == 0);
    char *y = dump_buckets(db);
    CHECK(strcmp(x, y) == 0);
    free(x);
    free(y);
    CHECK_INT_EQ(count_rows(db, "SELECT sum(n_docs) FROM buckets WHERE granularity = 'day' "
                                "AND topic = -1"),
                 299);
    CHECK_INT_EQ(count_rows(db, "SELECT value FROM meta WHERE key = 'trends.stale'"), 0);
    /* replacing a classification not counted yet is no reason to rebuild */
    CHECK(db_exec(db,
                  "INSERT INTO documents(id, dedupe_hash, text, kind, fetched_at) "
                  "VALUES (1000, 'x1000', 't', 'article', 1772323200);"
                  "INSERT INTO classifications(document_id, model_id, topic, topic_probs, "
                  "sentiment, sentiment_probs, score, classified_at) "
                  "VALUES (1000, 'v1', 1, '[]', 1, '[]', 0, 1);"
                  "INSERT OR REPLACE INTO classifications(document_id, model_id, topic, "
                  "topic_probs, sentiment, sentiment_probs, score, classified_at) "
                  "VALUES (1000, 'v2', 7, '[]', 0, '[]', -0.5, 2);",
                  &err) == 0);
    CHECK(trends_update_params(db, &p, T0, &st, &err) == 0);
    CHECK(!st.rebuilt);
    CHECK_INT_EQ(st.n_docs, 1);
    CHECK_INT_EQ(count_rows(db, "SELECT n_negative FROM buckets WHERE granularity = 'day' "
                                "AND topic = 7 AND bucket_start = 1772323200"),
                 1);
    CHECK_INT_EQ(count_rows(db, "SELECT sum(n_docs) FROM buckets WHERE granularity = 'day' "
                                "AND topic = -1"),
                 300); /* counted once, as its replacement */
    /* an in-place change is caught too */
    CHECK(db_exec(db, "UPDATE classifications SET sentiment = 2 WHERE document_id = 3", &err) == 0);
    CHECK(trends_update_params(db, &p, T0, &st, &err) == 0);
    CHECK(st.rebuilt);
    db_close(db);
}

static void test_parameter_change_rescores(void)
{
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    CHECK(fill_planted(db) == 0);
    struct fs_error err;
    struct spike_params p = test_params();
    struct trends_stats st;
    CHECK(trends_update_params(db, &p, T0 + 80 * HOUR, &st, &err) == 0);
    int64_t spikes = count_rows(db, "SELECT count(*) FROM buckets WHERE spike = 1");
    CHECK(spikes >= 2);
    p.z_threshold = 1000;
    CHECK(trends_update_params(db, &p, T0 + 80 * HOUR, &st, &err) == 0);
    CHECK(st.rescored);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM buckets WHERE spike = 1"), 0);
    p.z_threshold = 3;
    CHECK(trends_update_params(db, &p, T0 + 80 * HOUR, &st, &err) == 0);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM buckets WHERE spike = 1"), spikes);
    db_close(db);
}

static void test_rolled_back_update_loses_nothing(void)
{
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    struct doc_inserter in;
    CHECK(ins_open(&in, db) == 0);
    uint32_t seed = 3;
    CHECK(fill_random_batch(&in, &seed, 50) == 0);
    ins_close(&in);
    struct fs_error err;
    struct spike_params p = test_params();
    /* a transaction already open makes the update fail at BEGIN: nothing marked */
    CHECK(db_exec(db, "BEGIN", &err) == 0);
    CHECK(trends_update_params(db, &p, T0, NULL, &err) < 0);
    CHECK(db_exec(db, "ROLLBACK", &err) == 0);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM trends_pending"), 50);
    CHECK(trends_update_params(db, &p, T0, NULL, &err) == 0);
    CHECK_INT_EQ(count_rows(db, "SELECT count(*) FROM trends_pending"), 0);
    db_close(db);
}

static const char *const nasty_titles[] = {
    "Fed cuts, markets slide",
    "He said \"sell\", then \"buy\"",
    "Line one\nline two\r\nline three",
    "<script>alert('x')</script> & co",
    "",
};

static void test_documents_csv_round_trips_titles(void)
{
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    struct doc_inserter in;
    CHECK(ins_open(&in, db) == 0);
    for (size_t i = 0; i < FS_ARRAY_LEN(nasty_titles); i++)
        CHECK(ins_doc_full(&in, i == 2 ? -1 : T0 + (int64_t)i * HOUR, T0 + 50 * HOUR, (int)i,
                           (int)i % 3, -0.25, nasty_titles[i], "https://example.com/a,b") == 0);
    ins_close(&in);
    struct trend_filter f = {.granularity = DB_TREND_DAY, .since = INT64_MIN, .until = INT64_MAX};
    struct strbuf sb = STRBUF_INIT;
    struct fs_error err;
    CHECK_MSG(export_documents_csv(db, &f, NULL, &sb, &err) == 0, "%s", err.msg);
    struct csv_reader r;
    struct csv_record rec = {0};
    csv_reader_init(&r, sb.buf, sb.len);
    CHECK(csv_read_record(&r, &rec, &err) == 1);
    CHECK_INT_EQ(rec.n_fields, 12);
    CHECK_STR_EQ(rec.fields[0], "id");
    CHECK_STR_EQ(rec.fields[11], "text");
    int seen = 0;
    while (csv_read_record(&r, &rec, &err) == 1) {
        CHECK_INT_EQ(rec.n_fields, 12);
        int id = atoi(rec.fields[0]);
        CHECK(id >= 1 && id <= (int)FS_ARRAY_LEN(nasty_titles));
        CHECK_STR_EQ(rec.fields[6], nasty_titles[id - 1]);
        CHECK_STR_EQ(rec.fields[5], "https://example.com/a,b");
        CHECK_STR_EQ(rec.fields[9], "-0.2500");
        if (id == 3) {
            CHECK_STR_EQ(rec.fields[1], ""); /* no published date */
            CHECK_STR_EQ(rec.fields[2], "2026-03-03T02:00:00Z");
        }
        if (id == 2) {
            CHECK_STR_EQ(rec.fields[7], "Fed | Central Banks");
            CHECK_STR_EQ(rec.fields[8], "neutral");
        }
        seen++;
    }
    CHECK_INT_EQ(seen, FS_ARRAY_LEN(nasty_titles));
    csv_record_free(&rec);
    /* filtered by topic and time: only document 2 */
    sb_reset(&sb);
    f.topic_set = 1;
    f.topic = 1;
    CHECK(export_documents_csv(db, &f, NULL, &sb, &err) == 0);
    CHECK(strstr(sb.buf, "\r\n2,") != NULL);
    CHECK(strstr(sb.buf, "\r\n1,") == NULL);
    sb_free(&sb);
    db_close(db);
}

static void test_trends_csv_header_and_rows(void)
{
    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    CHECK(fill_planted(db) == 0);
    struct fs_error err;
    struct spike_params p = test_params();
    CHECK(trends_update_params(db, &p, T0 + 80 * HOUR, NULL, &err) == 0);
    struct trend_filter f = {.granularity = DB_TREND_HOUR,
                             .topic_set = 1,
                             .topic = 5,
                             .since = T0 + 49 * HOUR,
                             .until = T0 + 51 * HOUR};
    struct strbuf sb = STRBUF_INIT;
    CHECK(export_trends_csv(db, &f, &sb, &err) == 0);
    CHECK_STR_EQ(sb.buf, "topic,bucket_start,n_docs,n_negative,n_neutral,n_positive,mean_score,"
                         "negative_share,z_score,spike\r\n"
                         "Earnings,2026-03-03T01:00:00Z,10,3,4,3,-0.0100,0.3000,0.284,0\r\n"
                         "Earnings,2026-03-03T02:00:00Z,22,18,2,2,-0.5864,0.8182,6.516,1\r\n");
    /* a series' first bucket has an empty z_score; "all" is named */
    f.topic = 0;
    f.since = T0;
    f.until = T0 + HOUR;
    sb_reset(&sb);
    CHECK(export_trends_csv(db, &f, &sb, &err) == 0);
    CHECK_MSG(strstr(sb.buf, "\r\nAnalyst Update,2026-03-01T00:00:00Z,10,2,4,4,") != NULL, "%s",
              sb.buf);
    CHECK(strstr(sb.buf, ",,0\r\n") != NULL);
    f.topic = -1;
    sb_reset(&sb);
    CHECK(export_trends_csv(db, &f, &sb, &err) == 0);
    CHECK(strstr(sb.buf, "\r\nall,2026-03-01T00:00:00Z,") != NULL);
    sb_free(&sb);
    db_close(db);
}

static void test_report_escapes_and_links_safely(void)
{
    struct strbuf sb = STRBUF_INIT;
    report_escape(&sb, "<a href=\"x\">'&'</a>");
    CHECK_STR_EQ(sb.buf, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    sb_free(&sb);
    CHECK(report_url_is_safe("https://example.com/"));
    CHECK(report_url_is_safe("HTTP://example.com/"));
    CHECK(!report_url_is_safe("javascript:alert(1)"));
    CHECK(!report_url_is_safe("data:text/html,x"));
    CHECK(!report_url_is_safe(NULL));

    sqlite3 *db = temp_db();
    CHECK(db != NULL);
    struct doc_inserter in;
    CHECK(ins_open(&in, db) == 0);
    for (int h = 0; h < 20; h++)
        CHECK(ins_bucket(&in, T0 + h * HOUR, 1, 12, 2) == 0);
    for (int i = 0; i < 20; i++)
        CHECK(ins_doc_full(&in, T0 + 20 * HOUR + i, T0 + 20 * HOUR + i, 1, 0, -0.99,
                           i ? "<img src=x onerror=alert(1)>" : "Bad \"news\" & more",
                           i % 2 ? "javascript:alert(1)" : "https://example.com/?a=1&b=2") == 0);
    ins_close(&in);
    struct fs_error err;
    struct spike_params p = test_params();
    CHECK(trends_update_params(db, &p, T0 + 30 * HOUR, NULL, &err) == 0);
    struct report_opts o = {
        .filter = {.granularity = DB_TREND_HOUR, .since = T0, .until = T0 + 24 * HOUR},
        .now = T0 + 30 * HOUR,
        .headlines = 3,
    };
    CHECK_MSG(report_html(db, &o, &sb, &err) == 0, "%s", err.msg);
    CHECK(strstr(sb.buf, "<img") == NULL);
    CHECK(strstr(sb.buf, "javascript:") == NULL);
    CHECK(strstr(sb.buf, "&lt;img src=x onerror=alert(1)&gt;") != NULL);
    CHECK(strstr(sb.buf, "href=\"https://example.com/?a=1&amp;b=2\"") != NULL);
    CHECK(strstr(sb.buf, "Bad &quot;news&quot; &amp; more") != NULL);
    /* all + topic 1: three charts each, and the planted hour is marked in both */
    int svgs = 0, markers = 0, titles = 0;
    for (const char *q = sb.buf; (q = strstr(q, "<svg")); q++)
        svgs++;
    for (const char *q = sb.buf; (q = strstr(q, "class=\"spike-marker\"")); q++)
        markers++;
    for (const char *q = sb.buf; (q = strstr(q, "<g class=\"bar\"><title>")); q++)
        titles++;
    CHECK_INT_EQ(svgs, 6);
    CHECK_INT_EQ(markers, 2);
    CHECK_INT_EQ(titles, 2 * 21); /* one bar per bucket with documents, per series */
    sb_free(&sb);
    db_close(db);
}

/* A series of n one-day buckets from T0, each with docs documents, neg of
 * them negative; spike on bucket spike_at (-1: none). */
static void risk_series(struct trend_row *rows, int n, int64_t docs, int64_t neg, int spike_at,
                        struct trend_series *s)
{
    for (int i = 0; i < n; i++)
        rows[i] = (struct trend_row){.bucket_start = T0 + i * DAY,
                                     .n_docs = docs,
                                     .n_negative = neg,
                                     .spike = i == spike_at};
    *s = (struct trend_series){0, rows, (size_t)n};
}

static void test_report_risk_order(void)
{
    struct trend_row r[4][10];
    struct trend_series s[4];
    struct report_risk k[4];
    int64_t recent = T0 + 7 * DAY;           /* the last 3 of 10 days */
    risk_series(r[0], 10, 10, 9, 2, &s[0]);  /* old spike, 90 % negative */
    risk_series(r[1], 10, 10, 1, 8, &s[1]);  /* recent spike, 10 % */
    risk_series(r[2], 10, 10, 5, -1, &s[2]); /* no spike, 50 % */
    risk_series(r[3], 10, 1, 1, -1, &s[3]);  /* 3 documents in the window, all negative */
    for (int i = 0; i < 4; i++)
        report_risk_of(&s[i], recent, 5, &k[i]);
    CHECK(k[1].recent_spike && !k[0].recent_spike && k[0].has_spike);
    CHECK(k[3].sparse && !k[2].sparse);
    CHECK_INT_EQ(k[2].recent_docs, 30);
    CHECK(report_risk_cmp(&k[1], &k[0]) < 0); /* a recent spike beats any share */
    CHECK(report_risk_cmp(&k[0], &k[2]) < 0); /* then the window's negative share */
    CHECK(report_risk_cmp(&k[2], &k[3]) < 0); /* few documents last, whatever their share */
    CHECK(report_risk_cmp(&k[3], &k[1]) > 0);
    CHECK_INT_EQ(report_risk_cmp(&k[2], &k[2]), 0);
    CHECK(!k[3].has_usual);
}

static void test_sparkline_and_table(void)
{
    struct strbuf sb = STRBUF_INIT;
    double v[] = {0, 0.5, 1, NAN, 2, -1};
    sparkline_append(&sb, v, NULL, 6, 0, 0);
    CHECK_STR_EQ(sb.buf, "_=@ @_");
    sb_reset(&sb);
    sparkline_append(&sb, v, NULL, 3, 1, 0);
    CHECK_STR_EQ(sb.buf, "\u2581\u2584\u2588");
    sb_reset(&sb);

    struct trend_row rows[3] = {0};
    for (int i = 0; i < 3; i++) {
        rows[i].granularity = DB_TREND_DAY;
        rows[i].topic = 5;
        rows[i].bucket_start = T0 + (i == 2 ? 4 : i) * DAY;
        rows[i].n_docs = 10;
        rows[i].n_negative = i == 2 ? 10 : 0;
    }
    rows[2].spike = 1;
    rows[2].z_score = 7.25;
    struct table_opts o = {.granularity = DB_TREND_DAY, .since = T0, .until = T0 + 6 * DAY};
    trends_table_append(&sb, rows, 3, &o);
    CHECK_MSG(strstr(sb.buf, "Earnings") != NULL, "%s", sb.buf);
    CHECK_MSG(strstr(sb.buf, "__  @   ") != NULL, "gap and spike: %s", sb.buf);
    CHECK_MSG(strstr(sb.buf, "last 2026-03-05 (z 7.2)") != NULL, "%s", sb.buf);
    CHECK_MSG(strstr(sb.buf, "    ^\n") != NULL, "spike marker: %s", sb.buf);
    /* a topic asked for by name but without documents still gets its line */
    sb_reset(&sb);
    o.only_topic_set = 1;
    o.only_topic = 11;
    trends_table_append(&sb, rows, 3, &o);
    CHECK_MSG(strstr(sb.buf, "IPO") != NULL, "%s", sb.buf);
    sb_free(&sb);
}

int main(void)
{
    RUN(test_bucket_start_utc_boundaries);
    RUN(test_topic_names_and_parse);
    RUN(test_config_reads_trends_section);
    RUN(test_steady_series_never_spikes);
    RUN(test_noisy_series_gives_no_spike);
    RUN(test_planted_jump_spikes_then_recovers);
    RUN(test_z_at_threshold_spikes);
    RUN(test_burst_in_a_quiet_topic_spikes);
    RUN(test_volume_surge_with_same_tone_is_not_a_spike);
    RUN(test_warmup_and_min_docs);
    RUN(test_empty_buckets_fold_as_zeros);
    RUN(test_empty_database_and_single_bucket);
    RUN(test_hour_and_day_buckets_split_at_utc_midnight);
    RUN(test_published_at_null_uses_fetched_at);
    RUN(test_planted_spikes_found_exactly);
    RUN(test_incremental_equals_full_recompute);
    RUN(test_entity_series_spike_on_their_own);
    RUN(test_entity_rebuild_writes_only_what_changed);
    RUN(test_reclassification_triggers_rebuild);
    RUN(test_parameter_change_rescores);
    RUN(test_rolled_back_update_loses_nothing);
    RUN(test_documents_csv_round_trips_titles);
    RUN(test_trends_csv_header_and_rows);
    RUN(test_report_escapes_and_links_safely);
    RUN(test_report_risk_order);
    RUN(test_sparkline_and_table);
    remove_test_dir();
    return check_summary();
}
