/*
 * db_entities.h — the SQL of entity recognition: documents not yet read by the
 * recogniser, entity rows, mentions, and the queries behind `finsent entities`.
 *
 * Tables (db/schema.c, v3): entities (id, key, name, ticker), mentions
 * (document_id, entity_id, field, start, len, how), documents.tickers and
 * documents.entities_at. Functions return 0 or -1 with err set; none opens a
 * transaction (the caller's stage does).
 */
#ifndef FINSENT_DB_ENTITIES_H
#define FINSENT_DB_ENTITIES_H

#include "common/common.h"

#include <sqlite3.h>
#include <stdint.h>

/* A document the recogniser has not read yet. */
struct entity_doc {
    int64_t id;
    char *title;   /* may be NULL */
    char *text;    /* never NULL */
    char *tickers; /* the feed's, may be NULL */
    int classified; /* the document has a classification */
};

/* Up to limit documents with entities_at NULL and id > after_id, by id. */
int db_entities_pending(sqlite3 *db, int64_t after_id, int limit, struct entity_doc **out,
                        size_t *n, struct fs_error *err);
void db_entity_docs_free(struct entity_doc *docs, size_t n);

/* The id of the entity with key, created (with name, ticker) when new; its name
 * and ticker are refreshed when they changed (a renamed [entity] section). */
int db_entity_id(sqlite3 *db, const char *key, const char *name, const char *ticker, int64_t *id,
                 struct fs_error *err);

/* The id of the entity stored under key: returns 1 with *id, 0 when no
 * document has mentioned it yet (no row), -1 on error. */
int db_entity_find(sqlite3 *db, const char *key, int64_t *id, struct fs_error *err);

/* One mention (field and how as stored: "title", "name", ...). */
struct mention_row {
    int64_t document_id, entity_id;
    const char *field, *how;
    int64_t start, len;
};
int db_mention_insert(sqlite3 *db, const struct mention_row *m, struct fs_error *err);

/* Stamps document id as read by the recogniser at `at`. */
int db_entities_mark(sqlite3 *db, int64_t document_id, int64_t at, struct fs_error *err);

/* Marks every document unread (after the directory or the [entity] sections
 * changed: `finsent entities rescan`). Mentions and entity sentiments stay
 * until the recogniser reads each document again (entities/scan.h says what
 * it keeps). */
int db_entities_reset(sqlite3 *db, struct fs_error *err);

/* Deletes the mentions of one document (before it is read again). */
int db_mentions_delete(sqlite3 *db, int64_t document_id, struct fs_error *err);

/* Forgets the sentiment of one entity in one document, and its place in the
 * queue below. */
int db_entity_sentiment_forget(sqlite3 *db, int64_t document_id, int64_t entity_id,
                               struct fs_error *err);

/* The queue of entity readings to redo (table entity_sentiments_pending): an
 * entity of a classified document whose mentions changed when it was read
 * again waits there for the classify stage to read the sentences that mention
 * it (classify/classify.h). queue adds one; entities lists a document's (new
 * array, caller frees); done empties a document's. */
int db_entity_reread_queue(sqlite3 *db, int64_t document_id, int64_t entity_id,
                           struct fs_error *err);
int db_entity_reread_entities(sqlite3 *db, int64_t document_id, int64_t **ids, size_t *n,
                              struct fs_error *err);
int db_entity_reread_done(sqlite3 *db, int64_t document_id, struct fs_error *err);

/* The mentions of one document, by field then start. */
struct doc_mention {
    int64_t entity_id;
    int field; /* 0 title, 1 text, 2 feed */
    int64_t start, len;
};
int db_document_mentions(sqlite3 *db, int64_t document_id, struct doc_mention **out, size_t *n,
                         struct fs_error *err);

/* One row of entity_sentiments (JSON texts as in classifications). */
struct entity_sentiment_row {
    int64_t document_id, entity_id;
    int sentiment;
    const char *sentiment_probs;
    double score;
    const char *attended;
    const char *basis; /* "document" or "sentences" */
};
int db_entity_sentiment_store(sqlite3 *db, const struct entity_sentiment_row *r,
                              struct fs_error *err);

/* For a document already classified when its mentions are stored: every
 * entity it mentions gets the document's sentiment (basis 'document'). */
int db_entity_sentiments_from_document(sqlite3 *db, int64_t document_id, struct fs_error *err);

/* Every entity with its number of documents and mentions, most documents
 * first. New array (free with db_entity_volume_free). */
struct entity_volume {
    int64_t id;
    char *key, *name, *ticker;
    int64_t documents, mentions;
};
int db_entities_volume(sqlite3 *db, struct entity_volume **out, size_t *n, struct fs_error *err);

/* Every entity row (documents and mentions 0), by id. */
int db_entities_all(sqlite3 *db, struct entity_volume **out, size_t *n, struct fs_error *err);
void db_entity_volume_free(struct entity_volume *v, size_t n);

#endif
