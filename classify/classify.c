/* classify.c — the classification stage over the database (see classify.h). */
#include "classify/classify.h"
#include "classify/entity_sentiment.h"
#include "classify/windows.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "db/db.h"
#include "db/db_classify.h"
#include "db/db_entities.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

char *classify_json_probs(const float *p, int n)
{
    struct strbuf sb = STRBUF_INIT;
    sb_append_char(&sb, '[');
    for (int i = 0; i < n; i++)
        sb_appendf(&sb, "%s%.4f", i ? "," : "", (double)p[i]);
    sb_append_char(&sb, ']');
    return sb_detach(&sb);
}

char *classify_json_words(char *const *words, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        json_t *s = json_string(words[i]);
        if (!s) /* not UTF-8: keep the word's bytes out rather than fail */
            continue;
        json_array_append_new(a, s);
    }
    char *out = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return out;
}

const char *const classify_config_keys[] = {"entity_sentiment", NULL};

int classify_config_load(const struct config *cfg, struct classify_settings *s,
                         struct fs_error *err)
{
    *s = (struct classify_settings){.batch = 256, .entity_sentences = 1};
    const char *v = cfg ? config_get(cfg, "classify", "entity_sentiment") : NULL;
    if (!v || !strcmp(v, "sentences"))
        return 0;
    if (!strcmp(v, "document")) {
        s->entity_sentences = 0;
        return 0;
    }
    return config_error(cfg, "classify", "entity_sentiment", err,
                        "'%s' is not sentences or document", v);
}

/* A batch of documents, their predictions, and their entities' parts. */
struct batch {
    const struct pending_doc *docs;
    size_t n;
    struct prediction *pred;   /* [n]; NULL when reading queued entities only */
    struct entity_part *parts; /* every entity of every document */
    size_t n_parts, cap_parts;
    struct prediction *read; /* the distinct contexts' predictions */
    size_t n_read;
    size_t *part_read; /* [n_parts]: index into read for parts with a context */
};

/* An entity's sentiment: its context's reading, else its document's (none
 * when only queued entities are read: those keep the document's already). */
static int store_entity(sqlite3 *db, const struct batch *b, size_t i, struct fs_error *err)
{
    const struct entity_part *part = &b->parts[i];
    if (!part->context && !b->pred)
        return 0;
    const struct prediction *p = part->context ? &b->read[b->part_read[i]] : &b->pred[part->doc];
    char *sp = classify_json_probs(p->sentiment_probs, N_SENTIMENTS);
    char *aw = classify_json_words(p->attended, p->n_attended);
    struct entity_sentiment_row row = {b->docs[part->doc].id, part->entity_id, p->sentiment, sp,
                                       p->score, aw, part->context ? "sentences" : "document"};
    int rc = db_entity_sentiment_store(db, &row, err);
    free(sp), free(aw);
    return rc;
}

static int store_document(sqlite3 *db, struct classifier *c, const struct batch *b, size_t i,
                          int64_t now, struct fs_error *err)
{
    if (!b->pred) /* its queued entities are read: the queue is done */
        return db_entity_reread_done(db, b->docs[i].id, err);
    const struct prediction *p = &b->pred[i];
    char *tp = classify_json_probs(p->topic_probs, N_TOPICS);
    char *sp = classify_json_probs(p->sentiment_probs, N_SENTIMENTS);
    char *aw = classify_json_words(p->attended, p->n_attended);
    struct classification_row row = {b->docs[i].id, c->model_id, p->topic, tp, p->sentiment,
                                     sp,            p->score,    aw,       now};
    int rc = db_classification_store(db, &row, err);
    free(tp), free(sp), free(aw);
    return rc;
}

static int store_batch(sqlite3 *db, struct classifier *c, const struct batch *b, int64_t now,
                       struct fs_error *err)
{
    if (db_begin(db, err) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        rc = store_document(db, c, b, i, now, err);
    for (size_t i = 0; rc == 0 && i < b->n_parts; i++)
        rc = store_entity(db, b, i, err);
    if (rc < 0) {
        db_rollback(db);
        return -1;
    }
    return db_commit(db, err);
}

static int id_in(int64_t id, const int64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}

/* Drops the contexts of parts [from, b->n_parts) whose entity is not queued
 * for reading (all of them when ids is NULL). */
static void keep_contexts(struct batch *b, size_t from, const int64_t *ids, size_t n_ids)
{
    for (size_t k = from; k < b->n_parts; k++) {
        if (ids && id_in(b->parts[k].entity_id, ids, n_ids))
            continue;
        free(b->parts[k].context);
        b->parts[k].context = NULL;
    }
}

/* Reads each document's mentions and cuts its entities' parts: a context for
 * each entity read from its sentences (with entity_sentences; when re-reading,
 * only the queued entities). */
static int collect_parts(sqlite3 *db, struct batch *b, const struct classify_settings *s,
                         struct fs_error *err)
{
    for (size_t i = 0; i < b->n; i++) {
        struct doc_mention *m;
        int64_t *ids = NULL;
        size_t n_m, n_ids = 0, from = b->n_parts;
        if (db_document_mentions(db, b->docs[i].id, &m, &n_m, err) < 0 ||
            (!b->pred && db_entity_reread_entities(db, b->docs[i].id, &ids, &n_ids, err) < 0))
            return -1;
        entity_parts_of(i, b->docs[i].title, b->docs[i].text, m, n_m, &b->parts, &b->n_parts,
                        &b->cap_parts);
        if (!s->entity_sentences || !b->pred)
            keep_contexts(b, from, s->entity_sentences ? ids : NULL, n_ids);
        free(m), free(ids);
    }
    return 0;
}

/* Classifies the parts that have a context of their own (short texts, read
 * whole: no windows), each distinct context of a document once (entities
 * named in the same sentences share their reading). */
static int predict_parts(struct classifier *c, struct batch *b, const struct infer_options *opt,
                         struct fs_error *err)
{
    size_t np = b->n_parts + 1;
    b->part_read = xcalloc(np, sizeof *b->part_read);
    size_t *first = xcalloc(np, sizeof *first);
    b->n_read = entity_parts_readings(b->parts, b->n_parts, b->part_read, first);
    const char **texts = xmalloc(np * sizeof *texts);
    size_t *lens = xmalloc(np * sizeof *lens);
    for (size_t r = 0; r < b->n_read; r++) {
        texts[r] = b->parts[first[r]].context;
        lens[r] = strlen(texts[r]);
    }
    b->read = xcalloc(b->n_read + 1, sizeof *b->read);
    int rc = b->n_read ? classifier_predict(c, texts, lens, b->n_read, opt, b->read, err) : 0;
    free(first), free(texts), free(lens);
    return rc;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; b->pred && i < b->n; i++)
        prediction_free(&b->pred[i]);
    for (size_t i = 0; b->read && i < b->n_read; i++)
        prediction_free(&b->read[i]);
    free(b->pred), free(b->read), free(b->part_read);
    entity_parts_free(b->parts, b->n_parts);
}

static int predict_documents(struct classifier *c, struct batch *b, const struct infer_options *opt,
                             struct fs_error *err)
{
    const char **titles = xcalloc(b->n, sizeof *titles), **bodies = xcalloc(b->n, sizeof *bodies);
    b->pred = xcalloc(b->n, sizeof *b->pred);
    for (size_t i = 0; i < b->n; i++)
        titles[i] = b->docs[i].title, bodies[i] = b->docs[i].text;
    int rc = classifier_predict_documents(c, titles, bodies, b->n, opt, b->pred, err);
    free(titles), free(bodies);
    return rc;
}

/* One batch: new documents (reread = 0) or documents whose queued entities
 * are read. Adds the entities read from their sentences to *reads. */
static int classify_batch(sqlite3 *db, struct classifier *c, const struct classify_settings *s,
                          const struct pending_doc *docs, size_t n, int64_t now, int reread,
                          int64_t *reads, struct fs_error *err)
{
    struct batch b = {.docs = docs, .n = n};
    struct infer_options opt = {0, 3};
    int rc = reread ? 0 : predict_documents(c, &b, &opt, err);
    if (rc == 0)
        rc = collect_parts(db, &b, s, err);
    if (rc == 0)
        rc = predict_parts(c, &b, &opt, err);
    if (rc == 0)
        rc = store_batch(db, c, &b, now, err);
    *reads += rc == 0 ? (int64_t)b.n_read : 0;
    batch_free(&b);
    return rc;
}

typedef int (*pending_fn)(sqlite3 *db, int64_t after_id, int limit, struct pending_doc **out,
                          size_t *n, struct fs_error *err);

/* Works through one queue: documents without a classification, or (reread)
 * documents with entities queued for reading. Adds the documents to *n_docs. */
static int classify_queue(sqlite3 *db, struct classifier *c, const struct classify_settings *s,
                          int64_t now, int reread, int64_t *n_docs, int64_t *reads,
                          struct fs_error *err)
{
    pending_fn next = reread ? db_entity_reread_pending : db_classify_pending;
    int batch = s->batch > 0 ? s->batch : 256;
    int64_t after = 0;
    for (;;) {
        struct pending_doc *docs;
        size_t n;
        if (next(db, after, batch, &docs, &n, err) < 0)
            return -1;
        if (n == 0) {
            free(docs);
            return 0;
        }
        int rc = classify_batch(db, c, s, docs, n, now, reread, reads, err);
        after = docs[n - 1].id;
        db_pending_docs_free(docs, n);
        if (rc < 0)
            return -1;
        *n_docs += (int64_t)n;
    }
}

int classify_pending(sqlite3 *db, struct classifier *c, int64_t now,
                     const struct classify_settings *s, struct classify_stats *stats,
                     struct fs_error *err)
{
    memset(stats, 0, sizeof *stats);
    double t0 = time_monotonic();
    int rc = classify_queue(db, c, s, now, 0, &stats->classified, &stats->entity_reads, err);
    if (rc == 0 && s->entity_sentences)
        rc = classify_queue(db, c, s, now, 1, &stats->reread, &stats->entity_reads, err);
    stats->seconds = time_monotonic() - t0;
    return rc;
}
