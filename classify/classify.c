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

/* A batch of documents, their predictions, and their entities' parts. */
struct batch {
    const struct pending_doc *docs;
    size_t n;
    struct prediction *pred;   /* [n] */
    struct entity_part *parts; /* every entity of every document */
    size_t n_parts, cap_parts;
    struct prediction *part_pred; /* [n_parts]: set for parts with a context */
};

static int store_entity(sqlite3 *db, const struct batch *b, size_t i, struct fs_error *err)
{
    const struct entity_part *part = &b->parts[i];
    const struct prediction *p = part->context ? &b->part_pred[i] : &b->pred[part->doc];
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

/* Reads each document's mentions and cuts its entities' parts. */
static int collect_parts(sqlite3 *db, struct batch *b, struct fs_error *err)
{
    for (size_t i = 0; i < b->n; i++) {
        struct doc_mention *m;
        size_t n_m;
        if (db_document_mentions(db, b->docs[i].id, &m, &n_m, err) < 0)
            return -1;
        entity_parts_of(i, b->docs[i].title, b->docs[i].text, m, n_m, &b->parts, &b->n_parts,
                        &b->cap_parts);
        free(m);
    }
    return 0;
}

/* Classifies the parts that have a context of their own (short texts, read
 * whole: no windows). */
static int predict_parts(struct classifier *c, struct batch *b, const struct infer_options *opt,
                         struct fs_error *err)
{
    b->part_pred = xcalloc(b->n_parts + 1, sizeof *b->part_pred);
    const char **texts = xmalloc((b->n_parts + 1) * sizeof *texts);
    size_t *lens = xmalloc((b->n_parts + 1) * sizeof *lens), *at = xmalloc((b->n_parts + 1) * sizeof *at);
    size_t k = 0;
    for (size_t i = 0; i < b->n_parts; i++)
        if (b->parts[i].context)
            texts[k] = b->parts[i].context, lens[k] = strlen(texts[k]), at[k++] = i;
    struct prediction *p = xcalloc(k + 1, sizeof *p);
    int rc = k ? classifier_predict(c, texts, lens, k, opt, p, err) : 0;
    for (size_t j = 0; j < k; j++)
        b->part_pred[at[j]] = p[j]; /* moved: freed with part_pred */
    free(p), free(texts), free(lens), free(at);
    return rc;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++)
        prediction_free(&b->pred[i]);
    for (size_t i = 0; b->part_pred && i < b->n_parts; i++)
        prediction_free(&b->part_pred[i]);
    free(b->pred), free(b->part_pred);
    entity_parts_free(b->parts, b->n_parts);
}

static int classify_batch(sqlite3 *db, struct classifier *c, const struct pending_doc *docs,
                          size_t n, int64_t now, struct fs_error *err)
{
    const char **titles = xcalloc(n, sizeof *titles), **bodies = xcalloc(n, sizeof *bodies);
    struct batch b = {.docs = docs, .n = n, .pred = xcalloc(n, sizeof *b.pred)};
    for (size_t i = 0; i < n; i++)
        titles[i] = docs[i].title, bodies[i] = docs[i].text;
    struct infer_options opt = {0, 3};
    int rc = classifier_predict_documents(c, titles, bodies, n, &opt, b.pred, err);
    if (rc == 0)
        rc = collect_parts(db, &b, err);
    if (rc == 0)
        rc = predict_parts(c, &b, &opt, err);
    if (rc == 0)
        rc = store_batch(db, c, &b, now, err);
    batch_free(&b);
    free(titles), free(bodies);
    return rc;
}

int classify_pending(sqlite3 *db, struct classifier *c, int64_t now, int batch,
                     struct classify_stats *stats, struct fs_error *err)
{
    memset(stats, 0, sizeof *stats);
    double t0 = time_monotonic();
    int64_t after = 0;
    if (batch <= 0)
        batch = 256;
    for (;;) {
        struct pending_doc *docs;
        size_t n;
        if (db_classify_pending(db, after, batch, &docs, &n, err) < 0)
            return -1;
        if (n == 0) {
            free(docs);
            break;
        }
        int rc = classify_batch(db, c, docs, n, now, err);
        after = docs[n - 1].id;
        db_pending_docs_free(docs, n);
        if (rc < 0)
            return -1;
        stats->classified += (int64_t)n;
    }
    stats->seconds = time_monotonic() - t0;
    return 0;
}
