/*
 * bench_entity_trends.c — entity trends at scale, and what entities cost on disk.
 *
 * Generates N classified documents (default 1,000,000; argv[1] overrides) over
 * 90 days into a temporary database (argv[2]: into that file, kept, and reused
 * without generating when it exists), each mentioning 0 to 3 of 2,000 entities
 * (1.5 on average, a few entities far more often than the rest), with one
 * mentions row per mention and one entity_sentiments row per entity. Then:
 *   1. database growth per document from the entity rows (mentions,
 *      entity_sentiments and their indexes), from the file's pages;
 *   2. the first trends_update() (topics and entities) and the growth the
 *      buckets add;
 *   3. the entity trends rebuilt from all entity sentiments (meta
 *      'entity_trends.stale', as after `finsent entities rescan`), target < 5 s:
 *      with nothing changed, with 1% of the sentiments changed, and into an
 *      empty entity_buckets table (every row written).
 * Prints figures; asserts nothing.
 */
#include "bench/bench_util.h"
#include "common/util.h"
#include "db/db.h"
#include "trends/trends.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define T0 1772323200 /* 2026-03-01T00:00:00Z */
#define SPAN (90 * 86400)
#define N_ENTITIES 2000

static int64_t db_bytes(sqlite3 *db)
{
    struct fs_error err;
    db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", &err);
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT page_count * page_size - freelist_count * page_size FROM "
                   "pragma_page_count(), pragma_page_size(), pragma_freelist_count()",
                   &err) < 0)
        return -1;
    int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

/* An entity id, skewed: a few entities get most mentions. */
static int pick_entity(uint32_t *seed)
{
    uint32_t r = bench_lcg(seed) % 1000;
    return r < 500 ? 1 + (int)(bench_lcg(seed) % 20) : 1 + (int)(bench_lcg(seed) % N_ENTITIES);
}

static int generate_documents(sqlite3 *db, int n, uint32_t *seed, struct fs_error *err)
{
    sqlite3_stmt *d, *c;
    if (db_begin(db, err) < 0 ||
        db_prepare(db, &d,
                   "INSERT INTO documents(id, dedupe_hash, title, text, kind, published_at, "
                   "fetched_at, entities_at) VALUES (?1, ?1, 'A headline', 'Shares fell after "
                   "the company cut its outlook.', 'article', ?2, ?2, ?2)",
                   err) < 0 ||
        db_prepare(db, &c,
                   "INSERT INTO classifications(document_id, model_id, topic, topic_probs, "
                   "sentiment, sentiment_probs, score, attended, classified_at) VALUES "
                   "(?1, 'bench', ?2, '[]', ?3, '[0.2,0.5,0.3]', ?4, '[\"shares\"]', ?5)",
                   err) < 0)
        return -1;
    int rc = 0;
    for (int64_t id = 1; id <= n && rc == 0; id++) {
        int64_t t = T0 + (int64_t)(bench_lcg(seed) % SPAN);
        sqlite3_reset(d);
        sqlite3_bind_int64(d, 1, id);
        sqlite3_bind_int64(d, 2, t);
        sqlite3_reset(c);
        sqlite3_bind_int64(c, 1, id);
        sqlite3_bind_int(c, 2, (int)(bench_lcg(seed) % 20));
        sqlite3_bind_int(c, 3, (int)(bench_lcg(seed) % 3));
        sqlite3_bind_double(c, 4, ((int)(bench_lcg(seed) % 2001) - 1000) / 1000.0);
        sqlite3_bind_int64(c, 5, t + 60);
        if (sqlite3_step(d) != SQLITE_DONE || sqlite3_step(c) != SQLITE_DONE)
            rc = db_error(db, err, "insert");
    }
    sqlite3_finalize(d);
    sqlite3_finalize(c);
    return rc == 0 ? db_commit(db, err) : -1;
}

static int generate_entities(sqlite3 *db, int n, uint32_t *seed, int64_t *n_rows,
                             struct fs_error *err)
{
    sqlite3_stmt *e, *m, *s;
    if (db_begin(db, err) < 0 ||
        db_prepare(db, &e,
                   "INSERT INTO entities(id, key, name, ticker) VALUES (?1, 'sec:' || ?1,"
                   " 'Company ' || ?1, 'T' || ?1)",
                   err) < 0 ||
        db_prepare(db, &m,
                   "INSERT INTO mentions(document_id, entity_id, field, start, len, how) "
                   "VALUES (?1, ?2, 'text', ?3, 9, 'name')",
                   err) < 0 ||
        db_prepare(db, &s,
                   "INSERT INTO entity_sentiments(document_id, entity_id, sentiment, "
                   "sentiment_probs, score, attended, basis, at) VALUES (?1, ?2, ?3, "
                   "'[0.2,0.5,0.3]', ?4, '[\"shares\",\"cut\"]', 'sentences', (SELECT "
                   "coalesce(published_at, fetched_at) FROM documents WHERE id = ?1))",
                   err) < 0)
        return -1;
    for (int i = 1; i <= N_ENTITIES; i++) {
        sqlite3_reset(e);
        sqlite3_bind_int(e, 1, i);
        sqlite3_step(e);
    }
    int rc = 0;
    for (int64_t id = 1; id <= n && rc == 0; id++) {
        int k = (int)(bench_lcg(seed) % 4), chosen[3] = {0, 0, 0}; /* 0..3 distinct entities */
        for (int j = 0; j < k && rc == 0; j++) {
            int ent = pick_entity(seed);
            if (ent == chosen[0] || ent == chosen[1] || ent == chosen[2])
                continue;
            chosen[j] = ent;
            sqlite3_reset(m);
            sqlite3_bind_int64(m, 1, id);
            sqlite3_bind_int(m, 2, ent);
            sqlite3_bind_int(m, 3, j * 40);
            sqlite3_reset(s);
            sqlite3_bind_int64(s, 1, id);
            sqlite3_bind_int(s, 2, ent);
            sqlite3_bind_int(s, 3, (int)(bench_lcg(seed) % 3));
            sqlite3_bind_double(s, 4, ((int)(bench_lcg(seed) % 2001) - 1000) / 1000.0);
            if (sqlite3_step(m) != SQLITE_DONE || sqlite3_step(s) != SQLITE_DONE)
                rc = db_error(db, err, "insert");
            (*n_rows)++;
        }
    }
    sqlite3_finalize(e), sqlite3_finalize(m), sqlite3_finalize(s);
    return rc == 0 ? db_commit(db, err) : -1;
}

/* One timed trends_update() after `prepare` (SQL, may be NULL) and meta
 * 'entity_trends.stale' set. */
static int timed_rebuild(sqlite3 *db, const char *what, const char *prepare, int64_t now,
                         struct fs_error *err)
{
    struct spike_params p;
    spike_params_default(&p);
    struct trends_stats st;
    if ((prepare && db_exec(db, prepare, err) < 0) ||
        db_meta_set_int(db, "entity_trends.stale", 1, err) < 0)
        return -1;
    double t = time_monotonic(), c0 = bench_process_cpu_seconds();
    if (trends_update_params(db, &p, now, &st, err) < 0)
        return -1;
    printf("%-44s %6.2f s wall %6.2f s cpu  %lld sentiments, %lld rows written\n", what,
           time_monotonic() - t, bench_process_cpu_seconds() - c0, (long long)st.entity_docs,
           (long long)st.entity_rows);
    return 0;
}

/* Generates n documents with their entity rows into db and prints the growth. */
static int generate(sqlite3 *db, int n, struct fs_error *err)
{
    uint32_t seed = 7;
    int64_t n_rows = 0;
    double t = time_monotonic();
    if (generate_documents(db, n, &seed, err) < 0)
        return -1;
    int64_t before = db_bytes(db);
    if (generate_entities(db, n, &seed, &n_rows, err) < 0)
        return -1;
    int64_t after = db_bytes(db);
    printf("generated %d documents, %lld entity mentions (1 mention, 1 sentiment each) in %.1f s\n",
           n, (long long)n_rows, time_monotonic() - t);
    printf("entity rows (mentions + entity_sentiments + indexes): %.1f MB, %.0f bytes per "
           "document (%.0f per mention)\n",
           (double)(after - before) / 1e6, (double)(after - before) / n,
           (double)(after - before) / (double)(n_rows ? n_rows : 1));
    struct spike_params p;
    spike_params_default(&p);
    struct trends_stats st;
    t = time_monotonic();
    double c0 = bench_process_cpu_seconds();
    if (trends_update_params(db, &p, T0 + SPAN, &st, err) < 0)
        return -1;
    printf("first update, topics and entities:           %6.2f s wall %6.2f s cpu  entity rows "
           "%lld, entity spikes %lld\n",
           time_monotonic() - t, bench_process_cpu_seconds() - c0, (long long)st.entity_rows,
           (long long)st.entity_new_spikes);
    printf("database: %.1f MB in all (entity_buckets and topic buckets %.1f MB)\n",
           (double)db_bytes(db) / 1e6, (double)(db_bytes(db) - after) / 1e6);
    return 0;
}

/* The rebuilds, each from all entity sentiments (target < 5 s): with nothing
 * changed (a rescan that found the same mentions), with 1% of the sentiments
 * changed, and into an empty entity_buckets (every row written). */
static int rebuilds(sqlite3 *db, struct fs_error *err)
{
    int64_t now = T0 + SPAN;
    return timed_rebuild(db, "entity trends rebuilt, nothing changed:", NULL, now, err) < 0 ||
                   timed_rebuild(db, "entity trends rebuilt, 1% of sentiments changed:",
                                 "UPDATE entity_sentiments SET sentiment = (sentiment + 1) % 3 "
                                 "WHERE document_id % 100 = 7",
                                 now, err) < 0 ||
                   timed_rebuild(db, "entity trends rebuilt into an empty table:",
                                 "DELETE FROM entity_buckets", now, err) < 0
               ? -1
               : 0;
}

/* bench_entity_trends [N [DB]]: DB keeps the generated database (and is
 * reused, without generating, when it exists already). */
int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1000000;
    char dir[] = "/tmp/finsent-bench-entity-trends-XXXXXX";
    char path[4096], cmd[160];
    int keep = argc > 2, reuse = keep && access(argv[2], F_OK) == 0;
    if (keep)
        snprintf(path, sizeof path, "%s", argv[2]);
    else if (!mkdtemp(dir))
        return 1;
    else
        snprintf(path, sizeof path, "%s/bench.db", dir);
    sqlite3 *db;
    struct fs_error err;
    if (db_open(&db, path, &err) < 0 || (!reuse && generate(db, n, &err) < 0) ||
        rebuilds(db, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    db_close(db);
    if (keep)
        return 0;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) != 0;
}
