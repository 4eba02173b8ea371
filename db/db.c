/* db.c — opening, migrating and small helpers around SQLite. */
#include "db/db.h"

#include "common/strbuf.h"
#include "common/util.h"
#include "db/schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* How long a statement waits for another connection's lock. */
#define DB_BUSY_TIMEOUT_MS 10000

int db_error(sqlite3 *db, struct fs_error *err, const char *what)
{
    return fs_error_set(err, "%s: %s", what, db ? sqlite3_errmsg(db) : "no database");
}

int db_collect_rows(sqlite3 *db, sqlite3_stmt *st, size_t elem, db_row_reader read, void **rows,
                    size_t *n, const char *what, struct fs_error *err)
{
    size_t cap = 0;
    *rows = NULL;
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        *rows = xgrow(*rows, *n, &cap, elem, 16);
        memset((char *)*rows + *n * elem, 0, elem);
        read(st, (char *)*rows + (*n)++ * elem);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_error(db, err, what);
}

int db_collect_all(sqlite3 *db, sqlite3_stmt *st, size_t elem, db_row_reader read,
                   db_rows_free free_rows, void **rows, size_t *n, const char *what,
                   struct fs_error *err)
{
    if (db_collect_rows(db, st, elem, read, rows, n, what, err) == 0)
        return 0;
    if (free_rows)
        free_rows(*rows, *n);
    else
        free(*rows);
    *rows = NULL;
    *n = 0;
    return -1;
}

int db_collect_counted(sqlite3 *db, sqlite3_stmt *st, size_t elem, db_row_reader read,
                       db_rows_free free_rows, void **rows, int *n, const char *what,
                       struct fs_error *err)
{
    size_t count;
    int rc = db_collect_all(db, st, elem, read, free_rows, rows, &count, what, err);
    *n = (int)count;
    return rc;
}

int db_fill_rows(sqlite3 *db, sqlite3_stmt *st, void *rows, size_t elem, int max,
                 db_row_reader read, db_row_clear clear, const char *what, struct fs_error *err)
{
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && n < max) {
        void *row = (char *)rows + (size_t)n++ * elem;
        memset(row, 0, elem);
        read(st, row);
    }
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_finalize(st);
        return n;
    }
    db_error(db, err, what);
    sqlite3_finalize(st);
    for (int i = 0; clear && i < n; i++)
        clear((char *)rows + (size_t)i * elem);
    return -1;
}

int db_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, struct fs_error *err)
{
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        db_error(db, err, what);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int db_step_changed(sqlite3 *db, sqlite3_stmt *st, const char *what, struct fs_error *err)
{
    if (db_step_done(db, st, what, err) < 0)
        return -1;
    return sqlite3_changes(db) > 0 ? 1 : 0;
}

int db_update_id_at(sqlite3 *db, const char *sql, int64_t id, int64_t at, const char *what,
                    struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, sql, err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, at);
    return db_step_changed(db, st, what, err);
}

int db_exec(sqlite3 *db, const char *sql, struct fs_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fs_error_set(err, "database: %s", msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int db_prepare(sqlite3 *db, sqlite3_stmt **stmt, const char *sql, struct fs_error *err)
{
    if (sqlite3_prepare_v2(db, sql, -1, stmt, NULL) != SQLITE_OK)
        return db_error(db, err, "database: prepare");
    return 0;
}

int db_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    return s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, idx);
}

char *db_column_strdup(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? xstrdup((const char *)t) : NULL;
}

int db_begin(sqlite3 *db, struct fs_error *err)
{
    return db_exec(db, "BEGIN IMMEDIATE", err);
}

int db_commit(sqlite3 *db, struct fs_error *err)
{
    return db_exec(db, "COMMIT", err);
}

void db_rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db))
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

int db_schema_latest(void)
{
    return db_migration_count;
}

int db_schema_version(sqlite3 *db)
{
    sqlite3_stmt *st;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int schema_too_new(int v, const char *path, struct fs_error *err)
{
    return fs_error_set(err, "%s: schema version %d is newer than this finsent (%d)", path, v,
                        db_migration_count);
}

/* Runs the migrations from the version found under the write lock, all in one
 * transaction. Several processes may open a new file at once: the version is
 * read again after BEGIN IMMEDIATE, so the first writer migrates and the others,
 * waiting on the lock (busy timeout), then find the schema current. */
static int migrate(sqlite3 *db, const char *path, struct fs_error *err)
{
    int v = db_schema_version(db);
    if (v < 0)
        return db_error(db, err, path);
    if (v > db_migration_count)
        return schema_too_new(v, path, err);
    if (v == db_migration_count)
        return 0; /* the common case takes no write lock */
    if (db_begin(db, err) < 0)
        return fs_error_prefix(err, "%s: migrating the schema", path);
    v = db_schema_version(db);
    if (v < 0 || v > db_migration_count) {
        if (v < 0)
            db_error(db, err, path);
        else
            schema_too_new(v, path, err);
        db_rollback(db);
        return -1;
    }
    for (; v < db_migration_count; v++) {
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (db_exec(db, db_migrations[v], err) < 0 || db_exec(db, pragma, err) < 0) {
            db_rollback(db);
            return fs_error_prefix(err, "%s: migration to schema %d", path, v + 1);
        }
    }
    if (db_commit(db, err) < 0) {
        db_rollback(db);
        return fs_error_prefix(err, "%s: migrating the schema", path);
    }
    return 0;
}

int db_check_integrity(sqlite3 *db, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, "PRAGMA quick_check", err) < 0)
        return -1;
    int rc = sqlite3_step(st);
    int ok = rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    if (!ok)
        fs_error_set(err, "integrity check failed: %s",
                     rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0)
                                      : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return ok ? 0 : -1;
}

static int open_common(sqlite3 **out, const char *path, int flags, struct fs_error *err)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        fs_error_set(err, "%s: cannot open database: %s", path,
                     db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(db, 1);
    *out = db;
    return 0;
}

/* SQLite says "unable to open database file" or "attempt to write a readonly
 * database" for many causes (its own errno is that of its last fallback, often
 * ENOENT for the -shm file); whether the file or its directory can be written
 * (read-only file system, permission denied) is what the user can act on, so
 * that reason is appended when there is one. */
static void add_write_reason(const char *path, struct fs_error *err)
{
    if (!err)
        return;
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    int e = 0;
    if (access(path, W_OK) != 0 && errno != ENOENT)
        e = errno;
    else if (access(slash ? dir : ".", W_OK) != 0)
        e = errno;
    free(dir);
    if (e == 0 || strstr(err->msg, strerror(e)))
        return;
    char reason[128];
    str_copy(reason, sizeof reason, strerror(e));
    size_t n = strlen(err->msg);
    snprintf(err->msg + n, sizeof err->msg - n, " (%s)", reason);
}

/* Switches a new file to WAL. Converting the journal needs an exclusive lock,
 * and where two processes each hold a shared lock SQLite answers SQLITE_BUSY at
 * once rather than waiting (to avoid a deadlock), so the switch is retried for
 * as long as the busy timeout. */
static int set_wal(sqlite3 *db, struct fs_error *err)
{
    for (int waited_ms = 0;; waited_ms += 20) {
        int rc = sqlite3_exec(db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            return 0;
        if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= DB_BUSY_TIMEOUT_MS)
            return db_error(db, err, "database");
        sqlite3_sleep(20);
    }
}

int db_open(sqlite3 **out, const char *path, struct fs_error *err)
{
    if (path_mkdir_parent(path, err) < 0)
        return -1;
    sqlite3 *db;
    if (open_common(&db, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err) < 0)
        return -1;
    /* journal_mode is the first real read of the file: a non-database fails here */
    if (set_wal(db, err) < 0 ||
        db_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL", err) < 0 ||
        migrate(db, path, err) < 0) {
        add_write_reason(path, err);
        if (err && !strstr(err->msg, path))
            fs_error_prefix(err, "%s", path);
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

/* "file:" URI of path with immutable=1 (characters URIs reserve escaped). */
static char *immutable_uri(const char *path)
{
    struct strbuf sb = STRBUF_INIT;
    sb_append(&sb, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f)
            sb_appendf(&sb, "%%%02X", *p);
        else
            sb_append_char(&sb, (char)*p);
    }
    sb_append(&sb, "?immutable=1");
    return sb_detach(&sb);
}

/* A WAL database can be read only through its -shm file; where that cannot be
 * created (a read-only directory or file system) and no -wal file holds
 * unfinished writes, the database file alone is complete and is read as
 * immutable. */
static int open_readonly_without_shm(sqlite3 **db, const char *path, struct fs_error *err)
{
    struct strbuf wal = STRBUF_INIT;
    sb_appendf(&wal, "%s-wal", path);
    int has_wal = access(wal.buf, F_OK) == 0;
    sb_free(&wal);
    if (has_wal)
        return fs_error_set(err, "%s: read-only, and its -wal file holds writes that cannot be read "
                                 "without write access", path);
    char *uri = immutable_uri(path);
    int rc = open_common(db, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, err);
    free(uri);
    return rc;
}

int db_open_readonly(sqlite3 **out, const char *path, struct fs_error *err)
{
    sqlite3 *db;
    if (open_common(&db, path, SQLITE_OPEN_READONLY, err) < 0)
        return -1;
    int v = db_schema_version(db);
    if (v < 0 && (sqlite3_extended_errcode(db) & 0xff) == SQLITE_READONLY) {
        sqlite3_close(db);
        if (open_readonly_without_shm(&db, path, err) < 0)
            return -1;
        v = db_schema_version(db);
    }
    if (v < 0 || v > db_migration_count) {
        fs_error_set(err, "%s: not a finsent database (%s)", path,
                     v < 0 ? sqlite3_errmsg(db) : "schema too new");
        sqlite3_close(db);
        return -1;
    }
    db_exec(db, "PRAGMA foreign_keys = ON", NULL);
    *out = db;
    return 0;
}

void db_close(sqlite3 *db)
{
    if (db)
        sqlite3_close_v2(db);
}

int db_meta_get_int(sqlite3 *db, const char *key, int64_t def, int64_t *out, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, "SELECT value FROM meta WHERE key = ?1", err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : def;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_error(db, err, "database: meta");
    return 0;
}

int db_meta_set_int(sqlite3 *db, const char *key, int64_t value, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "INSERT INTO meta(key, value) VALUES (?1, ?2) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   err) < 0)
        return -1;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    return db_step_done(db, st, "database: meta", err);
}
