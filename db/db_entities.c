/* db_entities.c — entities, mentions and the recogniser's queue. */
#include "db/db_entities.h"
#include "db/db.h"

#include <stdlib.h>
#include <string.h>

static void entity_doc_read(sqlite3_stmt *st, void *row)
{
    struct entity_doc *d = row;
    d->id = sqlite3_column_int64(st, 0);
    d->title = db_column_strdup(st, 1);
    d->text = db_column_strdup(st, 2);
    d->tickers = db_column_strdup(st, 3);
    d->classified = sqlite3_column_int(st, 4);
    if (!d->text)
        d->text = xstrdup("");
}

static void entity_doc_clear(void *row)
{
    struct entity_doc *d = row;
    free(d->title);
    free(d->text);
    free(d->tickers);
}

int db_entities_pending(sqlite3 *db, int64_t after_id, int limit, struct entity_doc **out,
                        size_t *n, struct fs_error *err)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT id, title, text, tickers, EXISTS (SELECT 1 FROM classifications c"
                   " WHERE c.document_id = documents.id) FROM documents"
                   " WHERE entities_at IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int(st, 2, limit);
    int cap = limit > 0 ? limit : 1;
    struct entity_doc *docs = xcalloc((size_t)cap, sizeof *docs);
    int got = db_fill_rows(db, st, docs, sizeof *docs, cap, entity_doc_read, entity_doc_clear,
                           "database: documents to recognise", err);
    if (got < 0) {
        free(docs);
        return -1;
    }
    *out = docs;
    *n = (size_t)got;
    return 0;
}

void db_entity_docs_free(struct entity_doc *docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        entity_doc_clear(&docs[i]);
    free(docs);
}

int db_entity_id(sqlite3 *db, const char *key, const char *name, const char *ticker, int64_t *id,
                 struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "INSERT INTO entities(key, name, ticker) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT(key) DO UPDATE SET name = excluded.name, ticker = excluded.ticker"
                   " WHERE name IS NOT excluded.name OR ticker IS NOT excluded.ticker",
                   err) < 0)
        return -1;
    db_bind_text(st, 1, key);
    db_bind_text(st, 2, name);
    db_bind_text(st, 3, ticker);
    if (db_step_done(db, st, "database: storing an entity", err) < 0)
        return -1;
    int found = db_entity_find(db, key, id, err);
    if (found == 0)
        return fs_error_set(err, "database: entity %s vanished", key);
    return found < 0 ? -1 : 0;
}

int db_entity_find(sqlite3 *db, const char *key, int64_t *id, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, "SELECT id FROM entities WHERE key = ?1", err) < 0)
        return -1;
    db_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : db_error(db, err, "database: reading an entity");
}

int db_mention_insert(sqlite3 *db, const struct mention_row *m, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "INSERT INTO mentions(document_id, entity_id, field, start, len, how)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, m->document_id);
    sqlite3_bind_int64(st, 2, m->entity_id);
    db_bind_text(st, 3, m->field);
    sqlite3_bind_int64(st, 4, m->start);
    sqlite3_bind_int64(st, 5, m->len);
    db_bind_text(st, 6, m->how);
    return db_step_done(db, st, "database: storing a mention", err);
}

int db_entities_mark(sqlite3 *db, int64_t document_id, int64_t at, struct fs_error *err)
{
    int rc = db_update_id_at(db, "UPDATE documents SET entities_at = ?2 WHERE id = ?1", document_id,
                             at, "database: marking a document read", err);
    return rc < 0 ? -1 : 0;
}

int db_entities_reset(sqlite3 *db, struct fs_error *err)
{
    return db_exec(db, "UPDATE documents SET entities_at = NULL WHERE entities_at IS NOT NULL",
                   err);
}

/* Runs sql with ?1 = document_id and ?2 = entity_id (when entity_id >= 0). */
static int exec_document(sqlite3 *db, const char *sql, int64_t document_id, int64_t entity_id,
                         const char *what, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, sql, err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, document_id);
    if (entity_id >= 0)
        sqlite3_bind_int64(st, 2, entity_id);
    return db_step_done(db, st, what, err);
}

int db_mentions_delete(sqlite3 *db, int64_t document_id, struct fs_error *err)
{
    return exec_document(db, "DELETE FROM mentions WHERE document_id = ?1", document_id, -1,
                         "database: deleting mentions", err);
}

int db_entity_sentiment_forget(sqlite3 *db, int64_t document_id, int64_t entity_id,
                               struct fs_error *err)
{
    if (exec_document(db, "DELETE FROM entity_sentiments WHERE document_id = ?1 AND entity_id = ?2",
                      document_id, entity_id, "database: forgetting an entity's sentiment",
                      err) < 0)
        return -1;
    return exec_document(db,
                         "DELETE FROM entity_sentiments_pending"
                         " WHERE document_id = ?1 AND entity_id = ?2",
                         document_id, entity_id, "database: forgetting an entity's sentiment", err);
}

int db_entity_reread_queue(sqlite3 *db, int64_t document_id, int64_t entity_id,
                           struct fs_error *err)
{
    return exec_document(db,
                         "INSERT OR IGNORE INTO entity_sentiments_pending(document_id, entity_id)"
                         " VALUES (?1, ?2)",
                         document_id, entity_id, "database: queueing an entity's reading", err);
}

int db_entity_reread_done(sqlite3 *db, int64_t document_id, struct fs_error *err)
{
    return exec_document(db, "DELETE FROM entity_sentiments_pending WHERE document_id = ?1",
                         document_id, -1, "database: entity readings done", err);
}

static void id_read(sqlite3_stmt *st, void *row)
{
    *(int64_t *)row = sqlite3_column_int64(st, 0);
}

int db_entity_reread_entities(sqlite3 *db, int64_t document_id, int64_t **ids, size_t *n,
                              struct fs_error *err)
{
    sqlite3_stmt *st;
    *ids = NULL;
    *n = 0;
    if (db_prepare(db, &st,
                   "SELECT entity_id FROM entity_sentiments_pending WHERE document_id = ?1"
                   " ORDER BY entity_id",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, document_id);
    void *rows;
    int rc = db_collect_all(db, st, sizeof **ids, id_read, NULL, &rows, n,
                            "database: entities to read", err);
    *ids = rows;
    return rc;
}

static void mention_read(sqlite3_stmt *st, void *row)
{
    struct doc_mention *m = row;
    m->entity_id = sqlite3_column_int64(st, 0);
    const char *f = (const char *)sqlite3_column_text(st, 1);
    m->field = f && strcmp(f, "title") == 0 ? 0 : f && strcmp(f, "text") == 0 ? 1 : 2;
    m->start = sqlite3_column_int64(st, 2);
    m->len = sqlite3_column_int64(st, 3);
}

int db_document_mentions(sqlite3 *db, int64_t document_id, struct doc_mention **out, size_t *n,
                         struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT entity_id, field, start, len FROM mentions WHERE document_id = ?1"
                   " ORDER BY field DESC, start",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, document_id);
    void *rows;
    int rc = db_collect_all(db, st, sizeof **out, mention_read, NULL, &rows, n,
                            "database: reading mentions", err);
    *out = rows;
    return rc;
}

static void volume_read(sqlite3_stmt *st, void *row)
{
    struct entity_volume *v = row;
    v->id = sqlite3_column_int64(st, 0);
    v->name = db_column_strdup(st, 1);
    v->ticker = db_column_strdup(st, 2);
    v->documents = sqlite3_column_int64(st, 3);
    v->mentions = sqlite3_column_int64(st, 4);
    v->key = db_column_strdup(st, 5);
}

static int volume_collect(sqlite3 *db, sqlite3_stmt *st, struct entity_volume **out, size_t *n,
                          struct fs_error *err);

int db_entities_volume(sqlite3 *db, struct entity_volume **out, size_t *n, struct fs_error *err)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (db_prepare(db, &st,
                   "SELECT e.id, e.name, e.ticker, count(DISTINCT m.document_id), count(*), e.key"
                   " FROM mentions m JOIN entities e ON e.id = m.entity_id"
                   " GROUP BY e.id ORDER BY 4 DESC, e.name",
                   err) < 0)
        return -1;
    return volume_collect(db, st, out, n, err);
}

int db_entities_all(sqlite3 *db, struct entity_volume **out, size_t *n, struct fs_error *err)
{
    sqlite3_stmt *st;
    *out = NULL;
    *n = 0;
    if (db_prepare(db, &st, "SELECT id, name, ticker, 0, 0, key FROM entities ORDER BY id", err) < 0)
        return -1;
    return volume_collect(db, st, out, n, err);
}

/* db_entity_volume_free() as a db_rows_free. */
static void volumes_free(void *rows, size_t n)
{
    db_entity_volume_free(rows, n);
}

static int volume_collect(sqlite3 *db, sqlite3_stmt *st, struct entity_volume **out, size_t *n,
                          struct fs_error *err)
{
    void *rows;
    int rc = db_collect_all(db, st, sizeof **out, volume_read, volumes_free, &rows, n,
                            "database: entity volume", err);
    *out = rows;
    return rc;
}

void db_entity_volume_free(struct entity_volume *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].name), free(v[i].ticker), free(v[i].key);
    free(v);
}

int db_entity_sentiment_store(sqlite3 *db, const struct entity_sentiment_row *r,
                              struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "INSERT OR REPLACE INTO entity_sentiments(document_id, entity_id, sentiment,"
                   " sentiment_probs, score, attended, basis, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                   " ?7, (SELECT " DB_DOC_TIME " FROM documents d WHERE d.id = ?1))",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, r->document_id);
    sqlite3_bind_int64(st, 2, r->entity_id);
    sqlite3_bind_int(st, 3, r->sentiment);
    db_bind_text(st, 4, r->sentiment_probs);
    sqlite3_bind_double(st, 5, r->score);
    db_bind_text(st, 6, r->attended);
    db_bind_text(st, 7, r->basis);
    return db_step_done(db, st, "database: storing an entity's sentiment", err);
}

int db_entity_sentiments_from_document(sqlite3 *db, int64_t document_id, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "INSERT OR IGNORE INTO entity_sentiments(document_id, entity_id, sentiment,"
                   " sentiment_probs, score, attended, basis, at)"
                   " SELECT c.document_id, m.entity_id, c.sentiment, c.sentiment_probs, c.score,"
                   " c.attended, 'document', " DB_DOC_TIME " FROM classifications c"
                   " JOIN documents d ON d.id = c.document_id"
                   " JOIN (SELECT DISTINCT entity_id FROM mentions WHERE document_id = ?1) m"
                   " WHERE c.document_id = ?1",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, document_id);
    return db_step_done(db, st, "database: entity sentiments", err);
}
