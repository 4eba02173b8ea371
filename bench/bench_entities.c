/*
 * bench_entities.c — how fast entity recognition is, alone and as a stage.
 *
 * On the bundled texts (data/twitter_financial_news_*, data/news_train,
 * data/news_check: about 33,000 tweets and sentences, cashtags included):
 *   1. loading the directory (SEC list + word lists; builds the matcher);
 *   2. entities_recognize() over every text, best of 3 passes: documents/s, MB/s;
 *   3. a naive scan (every name pattern searched separately, strcasestr) over
 *      the first 300 texts, for what the one-pass matcher is worth;
 *   4. the recognition stage (entities_scan_pending) storing the mentions of
 *      every text in a temporary SQLite database: documents/s with the writes.
 * Prints figures; asserts nothing. Run from the repository root.
 */
#include "common/csv.h"
#include "common/util.h"
#include "db/db.h"
#include "entities/recognize.h"
#include "entities/scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const files[] = {
    "data/twitter_financial_news_sentiment/train.csv",
    "data/twitter_financial_news_sentiment/validation.csv",
    "data/twitter_financial_news_topic/train.csv",
    "data/twitter_financial_news_topic/validation.csv",
    "data/news_train/all.csv",
    "data/news_check/all.csv",
};

struct texts {
    char **v;
    size_t n, cap, bytes;
};

static void load_texts(struct texts *t)
{
    for (size_t f = 0; f < FS_ARRAY_LEN(files); f++) {
        char *buf;
        size_t len;
        struct fs_error err;
        if (file_read_all(files[f], 1u << 28, &buf, &len, &err) < 0)
            continue;
        struct csv_reader r;
        struct csv_record rec = {0};
        csv_reader_init(&r, buf, len);
        for (int first = 1; csv_read_record(&r, &rec, &err) > 0; first = 0) {
            if (first || rec.n_fields < 1)
                continue;
            t->v = xgrow(t->v, t->n, &t->cap, sizeof *t->v, 4096);
            t->v[t->n++] = xstrdup(rec.fields[0]);
            t->bytes += strlen(rec.fields[0]);
        }
        csv_record_free(&rec);
        free(buf);
    }
}

static double recognise_all(const struct entity_dir *d, const struct texts *t, size_t *mentions)
{
    double t0 = time_monotonic();
    *mentions = 0;
    for (size_t i = 0; i < t->n; i++) {
        struct mention_list l = {0};
        entities_recognize(d, NULL, t->v[i], NULL, &l);
        *mentions += l.n;
        mention_list_free(&l);
    }
    return time_monotonic() - t0;
}

/* Every derived name and alias searched on its own, as a loop of strcasestr. */
static double naive_scan(const struct entity_dir *d, const struct texts *t, size_t n_texts)
{
    double t0 = time_monotonic();
    size_t hits = 0;
    for (size_t i = 0; i < n_texts && i < t->n; i++)
        for (size_t e = 0; e < d->n_ents; e++)
            hits += strcasestr(t->v[i], d->ents[e].name) != NULL;
    double s = time_monotonic() - t0;
    if (hits == (size_t)-1)
        puts("");
    return s;
}

static int stage(const struct entity_dir *d, const struct texts *t)
{
    char path[] = "/tmp/finsent-bench-entities-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(path);
    sqlite3 *db;
    struct fs_error err;
    if (db_open(&db, path, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    db_exec(db, "BEGIN", &err);
    sqlite3_stmt *st;
    db_prepare(db, &st,
               "INSERT INTO documents(dedupe_hash, text, kind, fetched_at) VALUES (?1, ?2, "
               "'article', 0)",
               &err);
    for (size_t i = 0; i < t->n; i++) {
        char h[32];
        snprintf(h, sizeof h, "%zu", i);
        sqlite3_bind_text(st, 1, h, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, t->v[i], -1, SQLITE_STATIC);
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    db_exec(db, "COMMIT", &err);
    struct entity_scan_stats s;
    int rc = entities_scan_pending(db, d, 1, 0, &s, &err);
    if (rc == 0)
        printf("stage (recognise + store mentions in SQLite): %lld documents in %.2f s = %.0f "
               "documents/s, %lld mentions\n",
               (long long)s.documents, s.seconds, (double)s.documents / s.seconds,
               (long long)s.mentions);
    else
        fprintf(stderr, "%s\n", err.msg);
    db_close(db);
    unlink(path);
    char wal[64];
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", path);
    unlink(wal);
    return rc;
}

int main(void)
{
    struct fs_error err;
    struct entity_dir *d;
    double t0 = time_monotonic();
    if (entity_dir_load("data", NULL, &d, &err) < 0) {
        fprintf(stderr, "bench_entities: %s\n", err.msg);
        return 1;
    }
    printf("directory: %zu entities, %zu name patterns, %zu tickers, %zu matcher states, "
           "loaded in %.0f ms\n",
           d->n_ents, d->n_pats, d->n_tickers, matcher_states(d->names),
           (time_monotonic() - t0) * 1e3);
    struct texts t = {0};
    load_texts(&t);
    double best = 1e9;
    size_t mentions = 0;
    for (int pass = 0; pass < 3; pass++) {
        double s = recognise_all(d, &t, &mentions);
        best = s < best ? s : best;
    }
    printf("recognition: %zu texts (%.1f MB) in %.3f s = %.0f documents/s, %.1f MB/s, "
           "%zu mentions\n",
           t.n, (double)t.bytes / 1e6, best, (double)t.n / best, (double)t.bytes / 1e6 / best,
           mentions);
    size_t n_naive = 300;
    double naive = naive_scan(d, &t, n_naive);
    printf("naive (strcasestr per name) on %zu texts: %.0f documents/s (%.0fx slower)\n",
           n_naive, (double)n_naive / naive, ((double)n_naive / naive) > 0
               ? ((double)t.n / best) / ((double)n_naive / naive) : 0.0);
    int rc = stage(d, &t);
    for (size_t i = 0; i < t.n; i++)
        free(t.v[i]);
    free(t.v);
    entity_dir_free(d);
    return rc < 0;
}
