/*
 * db_crawl.h — the crawler's queries: sources and their fetch state, documents
 * with dedupe keys, crawl_log rows, the robots.txt cache.
 *
 * A struct db_crawl holds the prepared statements (prepared on first use,
 * finalised by db_crawl_close). It does not open transactions itself: the
 * crawler wraps each batch in db_begin() / db_commit().
 *
 *   struct db_crawl *dc = db_crawl_open(db);
 *   db_begin(db, &err);
 *   db_crawl_document_insert(dc, &doc, keys, n_keys, &id, &err);
 *   ...
 *   db_commit(db, &err);
 *   db_crawl_close(dc);
 */
#ifndef FINSENT_DB_CRAWL_H
#define FINSENT_DB_CRAWL_H

#include "common/common.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct db_crawl;

struct db_crawl *db_crawl_open(sqlite3 *db);
void db_crawl_close(struct db_crawl *dc);
sqlite3 *db_crawl_handle(struct db_crawl *dc);

/* A source's definition, as synced from the configuration. */
struct db_source_def {
    const char *name;
    const char *url;
    const char *kind;      /* 'feed', 'article', 'comments' */
    const char *selectors; /* XPath or NULL */
    int follow_links;
};

/* A source's fetch state (strings owned by the struct; db_source_state_free). */
struct db_source_state {
    int64_t id;
    char *etag;
    char *last_modified;
    int consecutive_errors;
    int64_t last_fetch_at; /* 0 = never */
    int64_t next_fetch_at;
    int ttl_seconds; /* 0 = none */
};
void db_source_state_free(struct db_source_state *s);

/* Inserts the source or updates its definition; a changed url forgets the
 * validators (etag, last_modified) and makes the source due at once. Sets *id. */
int db_crawl_source_upsert(struct db_crawl *dc, const struct db_source_def *def, int64_t *id,
                           struct fs_error *err);

/* Reads the state of source id. Returns 0, or -1 (err; also when missing). */
int db_crawl_source_state(struct db_crawl *dc, int64_t id, struct db_source_state *out,
                          struct fs_error *err);

/* The state written after one fetch of a source. */
struct db_source_update {
    int64_t id;
    const char *etag; /* new validators (NULL = clear) */
    const char *last_modified;
    int keep_validators;    /* 1: leave etag/last_modified as they are */
    long last_status;       /* HTTP status, 0 = transport error */
    const char *last_error; /* NULL on success */
    int consecutive_errors;
    int ttl_seconds; /* 0 = NULL */
    int64_t last_fetch_at;
    int64_t next_fetch_at;
};
int db_crawl_source_update(struct db_crawl *dc, const struct db_source_update *u,
                           struct fs_error *err);

/* A document to store. Text must be valid UTF-8 (the parsers guarantee it). */
struct db_document {
    int64_t source_id; /* 0 = NULL */
    const char *url;
    const char *guid;
    const char *dedupe_hash;
    const char *title;
    const char *text;
    const char *author;
    const char *tickers;  /* the feed's tickers, comma-separated; NULL = none */
    const char *kind;     /* 'article' or 'comment' */
    int64_t parent_id;    /* 0 = NULL */
    int64_t published_at; /* 0 = NULL */
    int64_t fetched_at;
};

/* Looks the keys up in dedupe_keys. Returns 1 and sets *doc_id (may be NULL) when
 * any is known, 0 when none is, -1 on error. */
int db_crawl_seen(struct db_crawl *dc, const char *const *keys, size_t n_keys, int64_t *doc_id,
                  struct fs_error *err);

/* Stores doc unless one of keys is already known. Returns 1 (inserted, *id = new
 * id), 0 (duplicate, *id = the existing document) or -1. Every key is recorded
 * for the new document. Call inside a transaction. */
int db_crawl_document_insert(struct db_crawl *dc, const struct db_document *doc,
                             const char *const *keys, size_t n_keys, int64_t *id,
                             struct fs_error *err);

/* One crawl_log row. outcome: 'new', 'unchanged', 'failed' or 'skipped'. */
struct db_crawl_log_row {
    int64_t source_id; /* 0 = NULL */
    const char *url;
    int64_t started_at;
    int64_t duration_ms;
    const char *outcome;
    long http_status; /* 0 = NULL */
    int64_t bytes;
    int n_items;
    int n_new;
    const char *error;
};
int db_crawl_log_add(struct db_crawl *dc, const struct db_crawl_log_row *row, struct fs_error *err);

/* Cached robots.txt of origin, valid at now. Returns 1 (found; *body is the text
 * or NULL for "allow all"; caller frees), 0 (no valid entry) or -1. */
int db_crawl_robots_get(struct db_crawl *dc, const char *origin, int64_t now, char **body,
                        struct fs_error *err);
int db_crawl_robots_put(struct db_crawl *dc, const char *origin, const char *body,
                        int64_t fetched_at, int64_t expires_at, struct fs_error *err);

#endif
