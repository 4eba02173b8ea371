/*
 * db_classify.h — the classifier stage's queries: documents still without a
 * classification, and storing classifications (table classifications in
 * db/schema.c).
 */
#ifndef FINSENT_DB_CLASSIFY_H
#define FINSENT_DB_CLASSIFY_H

#include "common/common.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct pending_doc {
    int64_t id;
    char *title; /* NULL when the document has none */
    char *text;
};

/* Up to limit documents with id > after_id and no classification, by id.
 * *out (n entries) is owned by the caller: db_pending_docs_free(). */
int db_classify_pending(sqlite3 *db, int64_t after_id, int limit, struct pending_doc **out,
                        size_t *n, struct fs_error *err);
void db_pending_docs_free(struct pending_doc *docs, size_t n);

/* Up to limit classified documents with id > after_id, by id, some of whose
 * entities wait for their own reading (table entity_sentiments_pending,
 * db_entities.h db_entity_reread_queue()). Same ownership as above. */
int db_entity_reread_pending(sqlite3 *db, int64_t after_id, int limit, struct pending_doc **out,
                             size_t *n, struct fs_error *err);

/* Number of documents without a classification. */
int db_classify_count_pending(sqlite3 *db, int64_t *n, struct fs_error *err);

struct classification_row {
    int64_t document_id;
    const char *model_id;
    int topic;
    const char *topic_probs; /* JSON array */
    int sentiment;           /* 0 negative, 1 neutral, 2 positive */
    const char *sentiment_probs;
    double score;         /* p(positive) - p(negative) */
    const char *attended; /* JSON array of words, or NULL */
    int64_t classified_at;
};

/* Inserts (or replaces) one classification. Call inside db_begin/db_commit. */
int db_classification_store(sqlite3 *db, const struct classification_row *row,
                            struct fs_error *err);

#endif
