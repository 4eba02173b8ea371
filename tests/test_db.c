/* test_db.c — opening, migrating, meta, the statement helpers, and refusing what
 * is not a database. */
#include "common/util.h"
#include "db/db.h"
#include "db/schema.h"
#include "tests/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *temp_path(const char *name)
{
    struct strbuf sb = STRBUF_INIT;
    char dir[] = "/tmp/finsent-db-XXXXXX";
    if (!mkdtemp(dir))
        return NULL;
    sb_appendf(&sb, "%s/sub/%s", dir, name);
    return sb_detach(&sb);
}

static void test_open_creates_and_migrates(void)
{
    char *path = temp_path("a.db");
    sqlite3 *db;
    struct fs_error err;
    CHECK_MSG(db_open(&db, path, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(db_schema_version(db), db_schema_latest());
    CHECK(db_check_integrity(db, &err) == 0);
    sqlite3_stmt *st;
    CHECK(db_prepare(db, &st, "PRAGMA journal_mode", &err) == 0);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR_EQ((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    db_close(db);
    /* reopening is a no-op migration */
    CHECK(db_open(&db, path, &err) == 0);
    CHECK_INT_EQ(db_schema_version(db), db_schema_latest());
    db_close(db);
    free(path);
}

static void test_meta_round_trip(void)
{
    char *path = temp_path("m.db");
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    int64_t v;
    CHECK(db_meta_get_int(db, "x", 7, &v, &err) == 0 && v == 7);
    CHECK(db_meta_set_int(db, "x", 42, &err) == 0);
    CHECK(db_meta_set_int(db, "x", 43, &err) == 0);
    CHECK(db_meta_get_int(db, "x", 7, &v, &err) == 0 && v == 43);
    db_close(db);
    free(path);
}

/* 1 when every statement prepared on db has been finalized. */
static int all_finalized(sqlite3 *db)
{
    return sqlite3_next_stmt(db, NULL) == NULL;
}

/* Prepares sql on db into *st, CHECKing it (err: the test's struct fs_error). */
#define PREPARE(db, st, sql) CHECK(db_prepare((db), (st), (sql), &err) == 0)

static void test_step_done(void)
{
    char *path = temp_path("s.db");
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    sqlite3_stmt *st;
    PREPARE(db, &st, "INSERT INTO meta(key, value) VALUES ('k', 1)");
    CHECK_INT_EQ(db_step_done(db, st, "meta", &err), 0);
    CHECK(all_finalized(db));
    PREPARE(db, &st, "INSERT INTO meta(key, value) VALUES ('k', 2)");
    CHECK_INT_EQ(db_step_done(db, st, "meta", &err), -1);
    CHECK_STR_EQ(err.msg, "meta: UNIQUE constraint failed: meta.key");
    CHECK(all_finalized(db));
    /* a statement that returns a row did not run to completion */
    PREPARE(db, &st, "SELECT 1");
    CHECK_INT_EQ(db_step_done(db, st, "select", &err), -1);
    CHECK(all_finalized(db));
    db_close(db);
    free(path);
}

static void test_step_changed(void)
{
    char *path = temp_path("c.db");
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    CHECK(db_meta_set_int(db, "k", 1, &err) == 0);
    sqlite3_stmt *st;
    PREPARE(db, &st, "UPDATE meta SET value = 2 WHERE key = 'k'");
    CHECK_INT_EQ(db_step_changed(db, st, "meta", &err), 1);
    PREPARE(db, &st, "UPDATE meta SET value = 2 WHERE key = 'none'");
    CHECK_INT_EQ(db_step_changed(db, st, "meta", &err), 0);
    PREPARE(db, &st, "UPDATE meta SET value = abs(-9223372036854775808) WHERE key = 'k'");
    CHECK_INT_EQ(db_step_changed(db, st, "meta", &err), -1);
    CHECK_STR_EQ(err.msg, "meta: integer overflow");
    CHECK(all_finalized(db));
    db_close(db);
    free(path);
}

static void test_update_id_at(void)
{
    char *path = temp_path("u.db");
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    CHECK(db_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, at INTEGER); "
                      "INSERT INTO t VALUES (7, 0), (8, 0)",
                  &err) == 0);
    const char *sql = "UPDATE t SET at = ?2 WHERE id = ?1";
    CHECK_INT_EQ(db_update_id_at(db, sql, 7, 42, "t", &err), 1);
    CHECK_INT_EQ(db_update_id_at(db, sql, 9, 43, "t", &err), 0);
    sqlite3_stmt *st;
    PREPARE(db, &st, "SELECT group_concat(id || '=' || at, ' ') FROM t");
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK_STR_EQ((const char *)sqlite3_column_text(st, 0), "7=42 8=0");
    sqlite3_finalize(st);
    CHECK_INT_EQ(db_update_id_at(db, "UPDATE nowhere SET at = ?2 WHERE id = ?1", 7, 1, "t", &err),
                 -1);
    CHECK(strstr(err.msg, "no such table: nowhere") != NULL);
    CHECK(all_finalized(db));
    db_close(db);
    free(path);
}

static void int_read(sqlite3_stmt *st, void *row)
{
    *(int *)row = sqlite3_column_int(st, 0);
}

static size_t ints_freed = (size_t)-1;

static void ints_free(void *rows, size_t n)
{
    ints_freed = n;
    free(rows);
}

/* 1, 2, 3, then (fail_at_3) a step that fails: abs() of the smallest int64. */
#define ONE_TWO_THREE(fail_at_3)                                                                  \
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 3) "               \
    "SELECT CASE WHEN i = 3 AND " #fail_at_3 " THEN abs(-9223372036854775808) ELSE i END FROM c"

static void test_collect_all(void)
{
    char *path = temp_path("r.db");
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    sqlite3_stmt *st;
    void *rows;
    size_t n;
    PREPARE(db, &st, ONE_TWO_THREE(0));
    CHECK_INT_EQ(db_collect_all(db, st, sizeof(int), int_read, ints_free, &rows, &n, "ints", &err),
                 0);
    CHECK(n == 3 && ((int *)rows)[0] == 1 && ((int *)rows)[2] == 3);
    CHECK(ints_freed == (size_t)-1);
    free(rows);
    /* a failing step frees the two rows read before it */
    PREPARE(db, &st, ONE_TWO_THREE(1));
    CHECK_INT_EQ(db_collect_all(db, st, sizeof(int), int_read, ints_free, &rows, &n, "ints", &err),
                 -1);
    CHECK(rows == NULL && n == 0);
    CHECK_INT_EQ(ints_freed, 2);
    CHECK_STR_EQ(err.msg, "ints: integer overflow");
    /* and with free() when no free_rows is given */
    PREPARE(db, &st, ONE_TWO_THREE(1));
    CHECK_INT_EQ(db_collect_all(db, st, sizeof(int), int_read, NULL, &rows, &n, "ints", &err), -1);
    CHECK(rows == NULL && n == 0);
    /* the int-counted form: the same rows, the count as an int */
    int count = -1;
    PREPARE(db, &st, ONE_TWO_THREE(0));
    CHECK_INT_EQ(db_collect_counted(db, st, sizeof(int), int_read, NULL, &rows, &count, "ints",
                                    &err),
                 0);
    CHECK(count == 3 && ((int *)rows)[1] == 2);
    free(rows);
    PREPARE(db, &st, ONE_TWO_THREE(1));
    CHECK_INT_EQ(db_collect_counted(db, st, sizeof(int), int_read, NULL, &rows, &count, "ints",
                                    &err),
                 -1);
    CHECK(rows == NULL && count == 0);
    CHECK(all_finalized(db));
    db_close(db);
    free(path);
}

static int ints_cleared;

static void int_clear(void *row)
{
    ints_cleared++;
    *(int *)row = 0;
}

static void test_fill_rows(void)
{
    char *path = temp_path("l.db");
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    sqlite3_stmt *st;
    int v[3] = {0};
    /* rows beyond max are left unread */
    PREPARE(db, &st, ONE_TWO_THREE(0));
    CHECK_INT_EQ(db_fill_rows(db, st, v, sizeof *v, 2, int_read, int_clear, "ints", &err), 2);
    CHECK(v[0] == 1 && v[1] == 2 && v[2] == 0);
    CHECK(all_finalized(db));
    /* a failing step clears the two rows read before it */
    PREPARE(db, &st, ONE_TWO_THREE(1));
    CHECK_INT_EQ(db_fill_rows(db, st, v, sizeof *v, 3, int_read, int_clear, "ints", &err), -1);
    CHECK_INT_EQ(ints_cleared, 2);
    CHECK_STR_EQ(err.msg, "ints: integer overflow");
    CHECK(all_finalized(db));
    db_close(db);
    free(path);
}

static void test_foreign_keys_enforced(void)
{
    char *path = temp_path("f.db");
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    int rc = db_exec(db,
                     "INSERT INTO classifications(document_id, model_id, topic, topic_probs, "
                     "sentiment, sentiment_probs, score, classified_at) "
                     "VALUES (999, 'm', 0, '[]', 0, '[]', 0, 0)",
                     &err);
    CHECK_MSG(rc < 0, "a classification of a missing document must be refused");
    db_close(db);
    free(path);
}

static void test_rejects_non_database(void)
{
    char *path = temp_path("junk.db");
    struct fs_error err;
    CHECK(path_mkdir_parent(path, &err) == 0);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    for (int i = 0; i < 200; i++)
        fputs("this is not an sqlite database file at all\n", f);
    fclose(f);
    sqlite3 *db;
    CHECK(db_open(&db, path, &err) < 0);
    CHECK_MSG(strstr(err.msg, path) != NULL, "error names the file: %s", err.msg);
    free(path);
}

static void test_rejects_newer_schema(void)
{
    char *path = temp_path("new.db");
    sqlite3 *db;
    struct fs_error err;
    CHECK(db_open(&db, path, &err) == 0);
    CHECK(db_exec(db, "PRAGMA user_version = 999", &err) == 0);
    db_close(db);
    CHECK(db_open(&db, path, &err) < 0);
    CHECK_MSG(strstr(err.msg, "newer") != NULL, "got: %s", err.msg);
    free(path);
}

/* A new database file at path left at schema version `version` (the first
 * `version` migrations, as an older finsent would have left it), open with
 * plain SQLite in *out (NULL on failure); the caller adds rows and closes it. */
static void db_at_version(const char *path, int version, sqlite3 **out)
{
    sqlite3 *db;
    struct fs_error err;
    *out = NULL;
    CHECK(db_open(&db, path, &err) == 0); /* creates the directory */
    db_close(db);
    unlink(path);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    for (int v = 0; v < version; v++)
        CHECK(db_exec(db, db_migrations[v], &err) == 0);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", version);
    CHECK(db_exec(db, pragma, &err) == 0);
    *out = db;
}

/* A database left at version 1 by an older finsent gets the later migrations on
 * open; the time index then serves time-range queries of documents. */
static void test_upgrades_v1_database(void)
{
    char *path = temp_path("v1.db");
    struct fs_error err;
    sqlite3 *db;
    db_at_version(path, 1, &db);
    CHECK(db);
    sqlite3_close(db);
    CHECK_MSG(db_open(&db, path, &err) == 0, "%s", err.msg);
    CHECK_INT_EQ(db_schema_version(db), db_schema_latest());
    CHECK(db_schema_latest() >= 2);
    sqlite3_stmt *st;
    CHECK(db_prepare(db, &st,
                     "EXPLAIN QUERY PLAN SELECT d.id FROM documents d WHERE "
                     "coalesce(d.published_at, d.fetched_at) >= 0 AND "
                     "coalesce(d.published_at, d.fetched_at) < 3600",
                     &err) == 0);
    int uses_index = 0;
    while (sqlite3_step(st) == SQLITE_ROW)
        uses_index |= strstr((const char *)sqlite3_column_text(st, 3), "documents_time") != NULL;
    sqlite3_finalize(st);
    CHECK(uses_index);
    db_close(db);
    free(path);
}

/* Issue 14 item 1: a v2 database's GUID keys were global; v7 scopes those that
 * are not URLs by their document's source, and keeps permalinks, URLs, content
 * hashes and the keys of documents without a source. */
static void test_scoped_guid_keys_migration(void)
{
    char *path = temp_path("v2.db");
    struct fs_error err;
    sqlite3 *db;
    db_at_version(path, 2, &db);
    CHECK(db);
    CHECK(db_exec(db,
                  "INSERT INTO sources(id, name, url, kind) VALUES (7, 'a', 'http://a/', 'feed');"
                  "INSERT INTO documents(id, source_id, dedupe_hash, text, kind, fetched_at)"
                  " VALUES (1, 7, 'x', 't', 'article', 0), (2, NULL, 'y', 't', 'article', 0);"
                  "INSERT INTO dedupe_keys(key, document_id) VALUES ('g:1', 1),"
                  " ('g:https://a/p/1', 1), ('u:http://a/1', 1), ('h:abc', 1), ('g:2', 2);",
                  &err) == 0);
    sqlite3_close(db);
    CHECK_MSG(db_open(&db, path, &err) == 0, "%s", err.msg);
    sqlite3_stmt *st;
    CHECK(db_prepare(db, &st, "SELECT group_concat(key, ' ') FROM"
                              " (SELECT key FROM dedupe_keys ORDER BY key)", &err) == 0);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    char *keys = db_column_strdup(st, 0);
    sqlite3_finalize(st);
    db_close(db);
    CHECK_STR_EQ(keys, "g:2 g:7:1 g:https://a/p/1 h:abc u:http://a/1");
    free(keys);
    free(path);
}

/* Issue 13 item 6: a database whose entity sentiments predate entity_sentiments.at
 * gets each one's document time (published_at, else fetched_at) on open; a row
 * inserted later without `at` gets it from the trigger. */
static void test_entity_time_migration(void)
{
    char *path = temp_path("v7.db");
    struct fs_error err;
    sqlite3 *db;
    db_at_version(path, 7, &db);
    CHECK(db);
    CHECK(
        db_exec(db,
                "INSERT INTO documents(id, dedupe_hash, text, kind, published_at, fetched_at)"
                " VALUES (1, 'x', 't', 'article', 100, 900), (2, 'y', 't', 'article', NULL, 700),"
                " (3, 'z', 't', 'article', 300, 999);"
                "INSERT INTO entities(id, key, name) VALUES (5, 'sec:5', 'Acme');"
                "INSERT INTO entity_sentiments(document_id, entity_id, sentiment, sentiment_probs,"
                " score, basis) VALUES (1, 5, 0, '[]', -0.5, 'sentences'),"
                " (2, 5, 1, '[]', 0, 'document');",
                &err) == 0);
    sqlite3_close(db);
    CHECK_MSG(db_open(&db, path, &err) == 0, "%s", err.msg);
    CHECK(db_exec(db,
                  "INSERT INTO entity_sentiments(document_id, entity_id, sentiment,"
                  " sentiment_probs, score, basis) VALUES (3, 5, 2, '[]', 0.5, 'document')",
                  &err) == 0);
    sqlite3_stmt *st;
    CHECK(db_prepare(db, &st,
                     "SELECT group_concat(document_id || ':' || at, ' ') FROM"
                     " (SELECT * FROM entity_sentiments ORDER BY document_id)",
                     &err) == 0);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    char *got = db_column_strdup(st, 0);
    sqlite3_finalize(st);
    db_close(db);
    CHECK_STR_EQ(got, "1:100 2:700 3:300");
    free(got);
    free(path);
}

/* Child of test_concurrent_first_open: waits on the pipe, then opens. Exits 0
 * when db_open succeeded with the latest schema, 1 otherwise (and says why).
 * It frees its copy of path, so that a leak checker following children (valgrind
 * --trace-children) sees none. */
static void concurrent_open_child(char *path, int gate)
{
    char c;
    int ok = 0;
    sqlite3 *db;
    struct fs_error err;
    if (read(gate, &c, 1) < 0) {
        printf("  child: gate: %s\n", strerror(errno));
    } else if (db_open(&db, path, &err) < 0) {
        printf("  child: %s\n", err.msg);
    } else {
        ok = db_schema_version(db) == db_schema_latest();
        db_close(db);
    }
    fflush(stdout);
    free(path);
    _exit(ok ? 0 : 1);
}

/* Issue 14: processes opening a new file at once each ran the migration
 * ("table meta already exists"). One migrates, the others wait and see it. */
static void test_concurrent_first_open(void)
{
    enum { ROUNDS = 8, PROCS = 6 };
    int failed = 0;
    for (int r = 0; r < ROUNDS; r++) {
        char *path = temp_path("race.db");
        struct fs_error err;
        CHECK(path_mkdir_parent(path, &err) == 0);
        int gate[2];
        CHECK(pipe(gate) == 0);
        for (int k = 0; k < PROCS; k++)
            if (fork() == 0) {
                close(gate[1]);
                concurrent_open_child(path, gate[0]);
            }
        close(gate[0]);
        close(gate[1]); /* EOF releases every child at once */
        for (int k = 0; k < PROCS; k++) {
            int status;
            if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                failed++;
        }
        free(path);
    }
    CHECK_MSG(failed == 0, "%d of %d concurrent first opens failed", failed, ROUNDS * PROCS);
}

int main(void)
{
    RUN(test_open_creates_and_migrates);
    RUN(test_entity_time_migration);
    RUN(test_meta_round_trip);
    RUN(test_step_done);
    RUN(test_step_changed);
    RUN(test_update_id_at);
    RUN(test_collect_all);
    RUN(test_fill_rows);
    RUN(test_foreign_keys_enforced);
    RUN(test_rejects_non_database);
    RUN(test_rejects_newer_schema);
    RUN(test_upgrades_v1_database);
    RUN(test_concurrent_first_open);
    RUN(test_scoped_guid_keys_migration);
    return check_summary();
}
