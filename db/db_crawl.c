/* db_crawl.c — the crawler's SQL, every statement prepared once and reused. */
#include "db/db_crawl.h"

#include "db/db.h"

#include <stdlib.h>
#include <string.h>

enum stmt_id {
    ST_SOURCE_UPSERT,
    ST_SOURCE_STATE,
    ST_SOURCE_UPDATE,
    ST_SOURCE_UPDATE_KEEP,
    ST_KEY_LOOKUP,
    ST_DOC_INSERT,
    ST_KEY_INSERT,
    ST_LOG_INSERT,
    ST_ROBOTS_GET,
    ST_ROBOTS_PUT,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_SOURCE_UPSERT] =
        "INSERT INTO sources (name, url, kind, selectors, follow_links) VALUES (?1, ?2, ?3, ?4, ?5)"
        " ON CONFLICT (name) DO UPDATE SET"
        "  kind = excluded.kind, selectors = excluded.selectors,"
        "  follow_links = excluded.follow_links,"
        "  etag = CASE WHEN url = excluded.url THEN etag END,"
        "  last_modified = CASE WHEN url = excluded.url THEN last_modified END,"
        "  next_fetch_at = CASE WHEN url = excluded.url THEN next_fetch_at ELSE 0 END,"
        "  consecutive_errors = CASE WHEN url = excluded.url THEN consecutive_errors ELSE 0 END,"
        "  url = excluded.url"
        " RETURNING id",
    [ST_SOURCE_STATE] = "SELECT etag, last_modified, consecutive_errors, last_fetch_at,"
                        " next_fetch_at, ttl_seconds FROM sources WHERE id = ?1",
    [ST_SOURCE_UPDATE] =
        "UPDATE sources SET etag = ?2, last_modified = ?3, last_status = ?4, last_error = ?5,"
        " consecutive_errors = ?6, ttl_seconds = ?7, last_fetch_at = ?8, next_fetch_at = ?9"
        " WHERE id = ?1",
    [ST_SOURCE_UPDATE_KEEP] =
        "UPDATE sources SET last_status = ?4, last_error = ?5, consecutive_errors = ?6,"
        " ttl_seconds = coalesce(?7, ttl_seconds), last_fetch_at = ?8, next_fetch_at = ?9"
        " WHERE id = ?1", /* ?2, ?3 (validators) unused: kept as they are */
    [ST_KEY_LOOKUP] = "SELECT document_id FROM dedupe_keys WHERE key = ?1",
    [ST_DOC_INSERT] = "INSERT INTO documents (source_id, url, guid, dedupe_hash, title, text,"
                      " author, kind, parent_id, published_at, fetched_at, tickers)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [ST_KEY_INSERT] = "INSERT OR IGNORE INTO dedupe_keys (key, document_id) VALUES (?1, ?2)",
    [ST_LOG_INSERT] = "INSERT INTO crawl_log (source_id, url, started_at, duration_ms, outcome,"
                      " http_status, bytes, n_items, n_new, error)"
                      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [ST_ROBOTS_GET] = "SELECT body FROM robots WHERE origin = ?1 AND expires_at > ?2",
    [ST_ROBOTS_PUT] = "INSERT OR REPLACE INTO robots (origin, body, fetched_at, expires_at)"
                      " VALUES (?1, ?2, ?3, ?4)",
};

struct db_crawl {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
};

struct db_crawl *db_crawl_open(sqlite3 *db)
{
    struct db_crawl *dc = xcalloc(1, sizeof *dc);
    dc->db = db;
    return dc;
}

void db_crawl_close(struct db_crawl *dc)
{
    if (!dc)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(dc->st[i]);
    free(dc);
}

sqlite3 *db_crawl_handle(struct db_crawl *dc)
{
    return dc->db;
}

/* The statement id, reset and with its bindings cleared, or NULL (err). */
static sqlite3_stmt *stmt(struct db_crawl *dc, enum stmt_id id, struct fs_error *err)
{
    if (!dc->st[id]) {
        if (db_prepare(dc->db, &dc->st[id], stmt_sql[id], err) < 0)
            return NULL;
    } else {
        sqlite3_reset(dc->st[id]);
        sqlite3_clear_bindings(dc->st[id]);
    }
    return dc->st[id];
}

static void bind_opt_int(sqlite3_stmt *st, int idx, int64_t v)
{
    if (v)
        sqlite3_bind_int64(st, idx, v);
    else
        sqlite3_bind_null(st, idx);
}

/* Steps a cached statement that returns no row and resets it for its next use
 * (db_step_done() is for a statement used once: it finalizes). */
static int step_reset(struct db_crawl *dc, sqlite3_stmt *st, struct fs_error *err, const char *what)
{
    int rc = sqlite3_step(st);
    int ok = rc == SQLITE_DONE || rc == SQLITE_ROW;
    if (!ok)
        db_error(dc->db, err, what);
    sqlite3_reset(st);
    return ok ? 0 : -1;
}

void db_source_state_free(struct db_source_state *s)
{
    free(s->etag);
    free(s->last_modified);
    s->etag = s->last_modified = NULL;
}

int db_crawl_source_upsert(struct db_crawl *dc, const struct db_source_def *def, int64_t *id,
                           struct fs_error *err)
{
    sqlite3_stmt *st = stmt(dc, ST_SOURCE_UPSERT, err);
    if (!st)
        return -1;
    db_bind_text(st, 1, def->name);
    db_bind_text(st, 2, def->url);
    db_bind_text(st, 3, def->kind);
    db_bind_text(st, 4, def->selectors);
    sqlite3_bind_int(st, 5, def->follow_links ? 1 : 0);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        db_error(dc->db, err, "database: saving source");
        sqlite3_reset(st);
        return -1;
    }
    *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

int db_crawl_source_state(struct db_crawl *dc, int64_t id, struct db_source_state *out,
                          struct fs_error *err)
{
    memset(out, 0, sizeof *out);
    sqlite3_stmt *st = stmt(dc, ST_SOURCE_STATE, err);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            fs_error_set(err, "database: source %lld not found", (long long)id);
        else
            db_error(dc->db, err, "database: reading source");
        sqlite3_reset(st);
        return -1;
    }
    out->id = id;
    out->etag = db_column_strdup(st, 0);
    out->last_modified = db_column_strdup(st, 1);
    out->consecutive_errors = sqlite3_column_int(st, 2);
    out->last_fetch_at = sqlite3_column_int64(st, 3);
    out->next_fetch_at = sqlite3_column_int64(st, 4);
    out->ttl_seconds = sqlite3_column_int(st, 5);
    sqlite3_reset(st);
    return 0;
}

int db_crawl_source_update(struct db_crawl *dc, const struct db_source_update *u,
                           struct fs_error *err)
{
    sqlite3_stmt *st = stmt(dc, u->keep_validators ? ST_SOURCE_UPDATE_KEEP : ST_SOURCE_UPDATE, err);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, u->id);
    db_bind_text(st, 2, u->etag);
    db_bind_text(st, 3, u->last_modified);
    sqlite3_bind_int64(st, 4, u->last_status);
    db_bind_text(st, 5, u->last_error);
    sqlite3_bind_int(st, 6, u->consecutive_errors);
    bind_opt_int(st, 7, u->ttl_seconds);
    bind_opt_int(st, 8, u->last_fetch_at);
    sqlite3_bind_int64(st, 9, u->next_fetch_at);
    return step_reset(dc, st, err, "database: updating source");
}

int db_crawl_seen(struct db_crawl *dc, const char *const *keys, size_t n_keys, int64_t *doc_id,
                  struct fs_error *err)
{
    for (size_t i = 0; i < n_keys; i++) {
        if (!keys[i])
            continue;
        sqlite3_stmt *st = stmt(dc, ST_KEY_LOOKUP, err);
        if (!st)
            return -1;
        db_bind_text(st, 1, keys[i]);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (doc_id)
                *doc_id = sqlite3_column_int64(st, 0);
            sqlite3_reset(st);
            return 1;
        }
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return db_error(dc->db, err, "database: dedupe lookup");
    }
    return 0;
}

int db_crawl_document_insert(struct db_crawl *dc, const struct db_document *doc,
                             const char *const *keys, size_t n_keys, int64_t *id,
                             struct fs_error *err)
{
    int64_t existing = 0;
    int seen = db_crawl_seen(dc, keys, n_keys, &existing, err);
    if (seen < 0)
        return -1;
    if (seen) {
        if (id)
            *id = existing;
        return 0;
    }
    sqlite3_stmt *st = stmt(dc, ST_DOC_INSERT, err);
    if (!st)
        return -1;
    bind_opt_int(st, 1, doc->source_id);
    db_bind_text(st, 2, doc->url);
    db_bind_text(st, 3, doc->guid);
    db_bind_text(st, 4, doc->dedupe_hash);
    db_bind_text(st, 5, doc->title);
    db_bind_text(st, 6, doc->text ? doc->text : "");
    db_bind_text(st, 7, doc->author);
    db_bind_text(st, 8, doc->kind);
    bind_opt_int(st, 9, doc->parent_id);
    bind_opt_int(st, 10, doc->published_at);
    sqlite3_bind_int64(st, 11, doc->fetched_at);
    db_bind_text(st, 12, doc->tickers);
    if (step_reset(dc, st, err, "database: storing document") < 0)
        return -1;
    int64_t new_id = sqlite3_last_insert_rowid(dc->db);
    for (size_t i = 0; i < n_keys; i++) {
        if (!keys[i])
            continue;
        sqlite3_stmt *ks = stmt(dc, ST_KEY_INSERT, err);
        if (!ks)
            return -1;
        db_bind_text(ks, 1, keys[i]);
        sqlite3_bind_int64(ks, 2, new_id);
        if (step_reset(dc, ks, err, "database: storing dedupe key") < 0)
            return -1;
    }
    if (id)
        *id = new_id;
    return 1;
}

int db_crawl_log_add(struct db_crawl *dc, const struct db_crawl_log_row *row, struct fs_error *err)
{
    sqlite3_stmt *st = stmt(dc, ST_LOG_INSERT, err);
    if (!st)
        return -1;
    bind_opt_int(st, 1, row->source_id);
    db_bind_text(st, 2, row->url ? row->url : "");
    sqlite3_bind_int64(st, 3, row->started_at);
    sqlite3_bind_int64(st, 4, row->duration_ms);
    db_bind_text(st, 5, row->outcome);
    bind_opt_int(st, 6, row->http_status);
    sqlite3_bind_int64(st, 7, row->bytes);
    sqlite3_bind_int(st, 8, row->n_items);
    sqlite3_bind_int(st, 9, row->n_new);
    db_bind_text(st, 10, row->error);
    return step_reset(dc, st, err, "database: writing crawl_log");
}

int db_crawl_robots_get(struct db_crawl *dc, const char *origin, int64_t now, char **body,
                        struct fs_error *err)
{
    *body = NULL;
    sqlite3_stmt *st = stmt(dc, ST_ROBOTS_GET, err);
    if (!st)
        return -1;
    db_bind_text(st, 1, origin);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *body = db_column_strdup(st, 0);
        sqlite3_reset(st);
        return 1;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return db_error(dc->db, err, "database: reading robots cache");
    return 0;
}

int db_crawl_robots_put(struct db_crawl *dc, const char *origin, const char *body,
                        int64_t fetched_at, int64_t expires_at, struct fs_error *err)
{
    sqlite3_stmt *st = stmt(dc, ST_ROBOTS_PUT, err);
    if (!st)
        return -1;
    db_bind_text(st, 1, origin);
    db_bind_text(st, 2, body);
    sqlite3_bind_int64(st, 3, fetched_at);
    sqlite3_bind_int64(st, 4, expires_at);
    return step_reset(dc, st, err, "database: writing robots cache");
}
