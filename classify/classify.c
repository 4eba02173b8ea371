/* classify.c — the classification stage over the database (see classify.h). */
#include "classify/classify.h"
#include "classify/windows.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "db/db.h"
#include "db/db_classify.h"

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

static int store_batch(sqlite3 *db, struct classifier *c, const struct pending_doc *docs,
                       const struct prediction *pred, size_t n, int64_t now, struct fs_error *err)
{
    if (db_begin(db, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const struct prediction *p = &pred[i];
        char *tp = classify_json_probs(p->topic_probs, N_TOPICS);
        char *sp = classify_json_probs(p->sentiment_probs, N_SENTIMENTS);
        char *aw = classify_json_words(p->attended, p->n_attended);
        struct classification_row row = {docs[i].id, c->model_id, p->topic, tp, p->sentiment,
                                         sp,         p->score,    aw,       now};
        int rc = db_classification_store(db, &row, err);
        free(tp), free(sp), free(aw);
        if (rc < 0) {
            db_rollback(db);
            return -1;
        }
    }
    return db_commit(db, err);
}

static int classify_batch(sqlite3 *db, struct classifier *c, const struct pending_doc *docs,
                          size_t n, int64_t now, struct fs_error *err)
{
    const char **titles = xcalloc(n, sizeof *titles), **bodies = xcalloc(n, sizeof *bodies);
    struct prediction *pred = xcalloc(n, sizeof *pred);
    for (size_t i = 0; i < n; i++)
        titles[i] = docs[i].title, bodies[i] = docs[i].text;
    struct infer_options opt = {0, 3};
    int rc = classifier_predict_documents(c, titles, bodies, n, &opt, pred, err);
    if (rc == 0)
        rc = store_batch(db, c, docs, pred, n, now, err);
    for (size_t i = 0; i < n; i++)
        prediction_free(&pred[i]);
    free(titles), free(bodies), free(pred);
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
