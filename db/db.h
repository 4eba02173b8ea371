/*
 * db.h — opening finsent's SQLite database and the helpers every stage uses.
 *
 * db_open() creates the file (and its directory) when missing, switches on WAL
 * and foreign keys, sets a busy timeout, checks integrity cheaply and migrates
 * the schema to the current version (PRAGMA user_version). The schema itself is
 * in db/schema.c; each stage's queries live in db/db_<stage>.c with a header.
 *
 * All SQL goes through prepared statements with bound parameters. Every batch of
 * writes is wrapped in db_begin() / db_commit() (db_rollback() on error), so a
 * run killed at any point leaves either the whole batch or none of it.
 */
#ifndef FINSENT_DB_H
#define FINSENT_DB_H

#include "common/common.h"

#include <sqlite3.h>
#include <stdint.h>

/* A document's time in SQL, for a documents row aliased d: published_at, or
 * fetched_at when published_at is NULL (what trends count by; the expression
 * of index documents_time, and what entity_sentiments.at holds). */
#define DB_DOC_TIME "coalesce(d.published_at, d.fetched_at)"

/* Opens (creating and migrating) the database at path. On failure err says why in
 * one line (not a database, corrupt, read-only directory, newer schema...). */
int db_open(sqlite3 **out, const char *path, struct fs_error *err);

/* Opens an existing database read-only (no migration), for reading commands on
 * a database the process may not write. A WAL database whose -shm file cannot
 * be created (read-only directory) is read as immutable when no -wal file holds
 * unfinished writes; otherwise err says so. */
int db_open_readonly(sqlite3 **out, const char *path, struct fs_error *err);

void db_close(sqlite3 *db);

/* Current schema version this binary writes. */
int db_schema_latest(void);
/* Version recorded in the file. */
int db_schema_version(sqlite3 *db);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int db_begin(sqlite3 *db, struct fs_error *err);
int db_commit(sqlite3 *db, struct fs_error *err);
void db_rollback(sqlite3 *db);

/* Runs SQL without parameters (schema, pragmas). */
int db_exec(sqlite3 *db, const char *sql, struct fs_error *err);

/* Prepares one statement; err gets SQLite's message. */
int db_prepare(sqlite3 *db, sqlite3_stmt **stmt, const char *sql, struct fs_error *err);

/* Sets err from the connection's last error, prefixed by what. Returns -1. */
int db_error(sqlite3 *db, struct fs_error *err, const char *what);

/* Reads the current row of st into row (a caller's struct). */
typedef void (*db_row_reader)(sqlite3_stmt *st, void *row);

/* Steps st to its end, reading row i with read(st, (char *)*rows + i * elem)
 * into a growing array, and finalizes st. Returns 0, or -1 with err ("what:
 * reason") when a step fails; *rows and *n then hold the rows read before it
 * (the caller frees them either way). */
int db_collect_rows(sqlite3 *db, sqlite3_stmt *st, size_t elem, db_row_reader read, void **rows,
                    size_t *n, const char *what, struct fs_error *err);

/* Frees an array of n rows that a db_row_reader filled, with what each row owns. */
typedef void (*db_rows_free)(void *rows, size_t n);

/* db_collect_rows for a caller that keeps the rows only on success: when a step
 * fails, the rows read before it are freed with free_rows (free() when NULL),
 * *rows is NULL and *n 0, and err says why. Returns 0 or -1. */
int db_collect_all(sqlite3 *db, sqlite3_stmt *st, size_t elem, db_row_reader read,
                   db_rows_free free_rows, void **rows, size_t *n, const char *what,
                   struct fs_error *err);

/* db_collect_all for callers that count rows in an int: *n the number read. */
int db_collect_counted(sqlite3 *db, sqlite3_stmt *st, size_t elem, db_row_reader read,
                       db_rows_free free_rows, void **rows, int *n, const char *what,
                       struct fs_error *err);

/* Releases what one row read by a db_row_reader owns (not the row itself). */
typedef void (*db_row_clear)(void *row);

/* Steps st, reading at most max rows into the caller's array rows (row i zeroed,
 * then read with read(st, (char *)rows + i * elem)), and finalizes st; rows
 * beyond max are not read. Returns the number read, or -1 with err ("what:
 * reason") when a step fails, the rows read before it then released with clear
 * (when not NULL). */
int db_fill_rows(sqlite3 *db, sqlite3_stmt *st, void *rows, size_t elem, int max,
                 db_row_reader read, db_row_clear clear, const char *what, struct fs_error *err);

/* Steps st, a statement that returns no row (INSERT, UPDATE, DELETE), once and
 * finalizes it. Returns 0 when it ran to completion (SQLITE_DONE); anything else,
 * SQLITE_ROW included, is -1 with err ("what: reason", read before finalizing). */
int db_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what, struct fs_error *err);

/* db_step_done for an UPDATE or DELETE whose caller asks whether it matched:
 * returns 1 when it changed at least one row, 0 when none, -1 with err. */
int db_step_changed(sqlite3 *db, sqlite3_stmt *st, const char *what, struct fs_error *err);

/* Runs sql, an UPDATE or DELETE with two parameters, ?1 a row id and ?2 a time,
 * once: db_step_changed's result (1 matched, 0 none, -1 with err). */
int db_update_id_at(sqlite3 *db, const char *sql, int64_t id, int64_t at, const char *what,
                    struct fs_error *err);

/* Binds a text value, or NULL when s is NULL. */
int db_bind_text(sqlite3_stmt *st, int idx, const char *s);

/* Text column copied into a new string (NULL for SQL NULL). Caller frees. */
char *db_column_strdup(sqlite3_stmt *st, int col);

/* Small key/value store (table meta) for stage bookkeeping. */
int db_meta_get_int(sqlite3 *db, const char *key, int64_t def, int64_t *out, struct fs_error *err);
int db_meta_set_int(sqlite3 *db, const char *key, int64_t value, struct fs_error *err);

/* PRAGMA quick_check; 0 when "ok". */
int db_check_integrity(sqlite3 *db, struct fs_error *err);

#endif
