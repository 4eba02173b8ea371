/*
 * bench_trends.c — how long trends_update() takes on a large store.
 *
 * Generates N classified documents (default 1,000,000; argv[1] overrides) spread
 * over 90 days into a temporary database, then times:
 *   1. the first trends_update() (aggregates every document: hour + day buckets
 *      for 20 topics and "all", scores every series, marks every row counted);
 *   2. an incremental trends_update() after 10,000 new documents of the last day.
 * Prints figures and peak RSS; asserts nothing. Targets: 2 s and 100 ms.
 */
#include "bench/bench_util.h"
#include "common/util.h"
#include "db/db.h"
#include "trends/report.h"
#include "trends/trends.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define T0 1772323200 /* 2026-03-01T00:00:00Z */
#define SPAN (90 * 86400)

/* Inserts n documents with ids from *next_id, times in [from, from + span). */
static int generate(sqlite3 *db, int64_t *next_id, int n, int64_t from, int64_t span,
                    uint32_t *seed, struct fs_error *err)
{
    static const char probs[] = "[0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.09,0.1,0.11,"
                                "0.01,0.02,0.03,0.04,0.05,0.06,0.07,0.08,0.07]";
    sqlite3_stmt *d, *c;
    /* article text: BENCH_TEXT_BYTES long (default 1500, a short news story) */
    const char *env = getenv("BENCH_TEXT_BYTES");
    size_t text_len = env ? (size_t)atol(env) : 1500;
    char *text = xmalloc(text_len + 1);
    for (size_t i = 0; i < text_len; i++)
        text[i] = "shares fell after the company cut its outlook "[i % 47];
    text[text_len] = '\0';
    if (db_begin(db, err) < 0 ||
        db_prepare(db, &d,
                   "INSERT INTO documents(id, dedupe_hash, title, text, kind, published_at, "
                   "fetched_at) VALUES (?1, ?2, 'A headline about markets', ?5, "
                   "'article', ?3, ?4)",
                   err) < 0 ||
        db_prepare(db, &c,
                   "INSERT INTO classifications(document_id, model_id, topic, topic_probs, "
                   "sentiment, sentiment_probs, score, attended, classified_at) VALUES "
                   "(?1, 'bench', ?2, ?3, ?4, '[0.2,0.5,0.3]', ?5, '[\"shares\"]', ?6)",
                   err) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        int64_t id = (*next_id)++;
        int64_t t = from + (int64_t)(bench_lcg(seed) % (uint32_t)span);
        char hash[24];
        snprintf(hash, sizeof hash, "%lld", (long long)id);
        sqlite3_reset(d);
        sqlite3_bind_int64(d, 1, id);
        sqlite3_bind_text(d, 2, hash, -1, SQLITE_TRANSIENT);
        if (bench_lcg(seed) % 10 == 0)
            sqlite3_bind_null(d, 3);
        else
            sqlite3_bind_int64(d, 3, t);
        sqlite3_bind_int64(d, 4, t);
        sqlite3_bind_text(d, 5, text, -1, SQLITE_STATIC);
        sqlite3_reset(c);
        sqlite3_bind_int64(c, 1, id);
        sqlite3_bind_int(c, 2, (int)(bench_lcg(seed) % 20));
        sqlite3_bind_text(c, 3, probs, -1, SQLITE_STATIC);
        sqlite3_bind_int(c, 4, (int)(bench_lcg(seed) % 3));
        sqlite3_bind_double(c, 5, ((int)(bench_lcg(seed) % 2001) - 1000) / 1000.0);
        sqlite3_bind_int64(c, 6, t + 120);
        if (sqlite3_step(d) != SQLITE_DONE || sqlite3_step(c) != SQLITE_DONE) {
            db_error(db, err, "insert");
            break;
        }
    }
    sqlite3_finalize(d);
    sqlite3_finalize(c);
    free(text);
    if (db_commit(db, err) < 0)
        return -1;
    /* the generator's WAL is checkpointed here, not inside the timed update */
    return db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", err);
}

static double cpu0;

static int count_doc(void *ctx, const struct trend_doc *d)
{
    (void)d;
    ++*(int *)ctx;
    return 0;
}

static void print_stats(const char *what, double secs, const struct trends_stats *st)
{
    printf("%-36s %7.3f s wall %7.3f s cpu  docs %lld  rows written %lld  spikes %lld  peak RSS "
           "%ld MB\n",
           what, secs, bench_process_cpu_seconds() - cpu0, (long long)st->n_docs, (long long)st->n_rows,
           (long long)st->n_new_spikes, bench_peak_rss_mb());
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    char dir[] = "/tmp/finsent-bench-trends-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[128];
    snprintf(path, sizeof path, "%s/bench.db", dir);
    sqlite3 *db;
    struct fs_error err;
    if (db_open(&db, path, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    uint32_t seed = 42;
    int64_t next_id = 1;
    double t = time_monotonic();
    if (generate(db, &next_id, n, T0, SPAN, &seed, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("generated %d classified documents over 90 days in %.2f s\n", n, time_monotonic() - t);

    struct spike_params p;
    spike_params_default(&p);
    if (getenv("BENCH_Z")) /* spikes in this random data are false positives: try others */
        p.z_threshold = atof(getenv("BENCH_Z"));
    struct trends_stats st;
    int64_t now = T0 + SPAN;
    t = time_monotonic();
    cpu0 = bench_process_cpu_seconds();
    if (trends_update_params(db, &p, now, &st, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    print_stats("full aggregation (target < 2 s)", time_monotonic() - t, &st);

    if (generate(db, &next_id, 10000, now - 86400, 86400, &seed, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    t = time_monotonic();
    cpu0 = bench_process_cpu_seconds();
    if (trends_update_params(db, &p, now + 3600, &st, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    print_stats("incremental +10,000 (target < 0.1 s)", time_monotonic() - t, &st);

    t = time_monotonic();
    cpu0 = bench_process_cpu_seconds();
    trends_update_params(db, &p, now + 3600, &st, &err);
    print_stats("nothing new", time_monotonic() - t, &st);

    /* the HTML report of the whole range, day buckets, with each spike's headlines */
    struct report_opts ro = {
        .filter = {.granularity = DB_TREND_DAY, .since = T0, .until = now + 86400},
        .now = now,
        .headlines = 5,
    };
    struct strbuf html = STRBUF_INIT;
    t = time_monotonic();
    cpu0 = bench_process_cpu_seconds();
    if (report_html(db, &ro, &html, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("%-36s %7.3f s wall %7.3f s cpu  %zu bytes of HTML\n", "report, 90 days",
           time_monotonic() - t, bench_process_cpu_seconds() - cpu0, html.len);

    /* the most negative headlines of one hour of one topic (what a spike lists) */
    t = time_monotonic();
    cpu0 = bench_process_cpu_seconds();
    int n_found = 0;
    for (int i = 0; i < 10; i++)
        if (db_trends_headlines(db, i, now - (i + 1) * 3600 * 24, now - (i + 1) * 3600 * 24 + 3600,
                                5, count_doc, &n_found, &err) < 0)
            return 1;
    printf("%-36s %7.3f s wall %7.3f s cpu  %d documents\n", "10 spike headline queries",
           time_monotonic() - t, bench_process_cpu_seconds() - cpu0, n_found);
    sb_free(&html);

    t = time_monotonic();
    cpu0 = bench_process_cpu_seconds();
    if (trends_rebuild(db, &p, now + 3600, &st, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    print_stats("rebuild from scratch", time_monotonic() - t, &st);
    db_close(db);
    if (getenv("BENCH_KEEP")) {
        printf("kept %s\n", path);
        return 0;
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
