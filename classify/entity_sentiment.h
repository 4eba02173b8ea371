/*
 * entity_sentiment.h — the sentiment of each entity a document mentions.
 *
 * A document's mentions (table mentions, written by entities/scan.h) say where
 * each entity stands. For each entity the parts of the document that mention it
 * are its context: the title when the title mentions it, and every sentence of
 * the body that does (sentences end at '.', '!', '?' or ';' before a blank, or
 * at a line end). When that context is the whole document (a tweet, a headline,
 * an article that names the company everywhere), or the entity was only tagged
 * by the feed, the entity gets the document's sentiment (basis 'document').
 * Otherwise the context alone is classified and gives the entity its sentiment
 * and attended words (basis 'sentences'): an article negative about one company
 * and neutral about another says so. At most ENTITY_PARTS_MAX entities per
 * document (the most mentioned) get their own context; the others keep the
 * document's. A context is cut at ENTITY_CONTEXT_BYTES.
 */
#ifndef FINSENT_ENTITY_SENTIMENT_H
#define FINSENT_ENTITY_SENTIMENT_H

#include "common/common.h"
#include "db/db_entities.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

enum { ENTITY_PARTS_MAX = 8, ENTITY_CONTEXT_BYTES = 1500 };

/* One entity of one document and what gives it its sentiment. */
struct entity_part {
    size_t doc;        /* index of the document in the batch */
    int64_t entity_id; /* entities.id */
    char *context;     /* the sentences that mention it; NULL: the document's sentiment */
};

/* The parts of one document (title may be NULL) from its mentions m[0..n)
 * (as db_document_mentions() returns them), appended to *parts (*n_parts
 * entries, *cap allocated). */
void entity_parts_of(size_t doc, const char *title, const char *text, const struct doc_mention *m,
                     size_t n, struct entity_part **parts, size_t *n_parts, size_t *cap);

void entity_parts_free(struct entity_part *parts, size_t n);

/* The readings parts[0..n) need: reading[i] is the index of part i's among the
 * distinct contexts (parts of one document with the same context share one;
 * SIZE_MAX for a part without a context); first[r] (n entries allocated) is
 * the first part of reading r. Returns the number of readings. */
size_t entity_parts_readings(const struct entity_part *parts, size_t n, size_t *reading,
                             size_t *first);

/* The sentence of s (len bytes) holding byte `at`: [*b, *e). */
void entity_sentence_bounds(const char *s, size_t len, size_t at, size_t *b, size_t *e);

#endif
