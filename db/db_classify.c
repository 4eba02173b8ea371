/* db_classify.c — pending documents and stored classifications. */
#include "db/db_classify.h"
#include "db/db.h"

#include <stdlib.h>

/* Reads a row of columns id, title, text. */
static void doc_read(sqlite3_stmt *st, void *row)
{
    struct pending_doc *d = row;
    d->id = sqlite3_column_int64(st, 0);
    d->title = db_column_strdup(st, 1);
    d->text = db_column_strdup(st, 2);
    if (!d->text)
        d->text = xstrdup("");
}

static void doc_clear(void *row)
{
    struct pending_doc *d = row;
    free(d->title);
    free(d->text);
}

/* Steps st (columns id, title, text) into a new array of at most limit
 * documents, and finalizes it. */
static int docs_collect(sqlite3 *db, sqlite3_stmt *st, int limit, struct pending_doc **out,
                        size_t *n, struct fs_error *err)
{
    *out = NULL;
    *n = 0;
    int cap = limit > 0 ? limit : 1;
    struct pending_doc *docs = xcalloc((size_t)cap, sizeof *docs);
    int got = db_fill_rows(db, st, docs, sizeof *docs, cap, doc_read, doc_clear,
                           "database: pending documents", err);
    if (got < 0) {
        free(docs);
        return -1;
    }
    *out = docs;
    *n = (size_t)got;
    return 0;
}

/* The documents sql (?1: after this id, ?2: at most this many) selects. */
static int docs_query(sqlite3 *db, const char *sql, int64_t after_id, int limit,
                      struct pending_doc **out, size_t *n, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st, sql, err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, after_id);
    sqlite3_bind_int(st, 2, limit);
    return docs_collect(db, st, limit, out, n, err);
}

int db_classify_pending(sqlite3 *db, int64_t after_id, int limit, struct pending_doc **out,
                        size_t *n, struct fs_error *err)
{
    return docs_query(db,
                      "SELECT d.id, d.title, d.text FROM documents d"
                      " WHERE d.id > ?1 AND NOT EXISTS"
                      " (SELECT 1 FROM classifications c WHERE c.document_id = d.id)"
                      " ORDER BY d.id LIMIT ?2",
                      after_id, limit, out, n, err);
}

int db_entity_reread_pending(sqlite3 *db, int64_t after_id, int limit, struct pending_doc **out,
                             size_t *n, struct fs_error *err)
{
    return docs_query(db,
                      "SELECT d.id, d.title, d.text FROM documents d WHERE d.id IN"
                      " (SELECT DISTINCT document_id FROM entity_sentiments_pending"
                      "  WHERE document_id > ?1 ORDER BY document_id LIMIT ?2) ORDER BY d.id",
                      after_id, limit, out, n, err);
}

void db_pending_docs_free(struct pending_doc *docs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        doc_clear(&docs[i]);
    free(docs);
}

int db_classify_count_pending(sqlite3 *db, int64_t *n, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "SELECT count(*) FROM documents d WHERE NOT EXISTS"
                   " (SELECT 1 FROM classifications c WHERE c.document_id = d.id)",
                   err) < 0)
        return -1;
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : db_error(db, err, "database: count pending");
}

int db_classification_store(sqlite3 *db, const struct classification_row *r, struct fs_error *err)
{
    sqlite3_stmt *st;
    if (db_prepare(db, &st,
                   "INSERT OR REPLACE INTO classifications (document_id, model_id, topic,"
                   " topic_probs, sentiment, sentiment_probs, score, attended, classified_at)"
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                   err) < 0)
        return -1;
    sqlite3_bind_int64(st, 1, r->document_id);
    db_bind_text(st, 2, r->model_id);
    sqlite3_bind_int(st, 3, r->topic);
    db_bind_text(st, 4, r->topic_probs);
    sqlite3_bind_int(st, 5, r->sentiment);
    db_bind_text(st, 6, r->sentiment_probs);
    sqlite3_bind_double(st, 7, r->score);
    db_bind_text(st, 8, r->attended);
    sqlite3_bind_int64(st, 9, r->classified_at);
    return db_step_done(db, st, "database: store classification", err);
}
