/* scan.c — the recognition stage over the database (see scan.h). */
#include "entities/scan.h"

#include "common/util.h"
#include "db/db.h"
#include "db/db_entities.h"
#include "entities/recognize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct scan_ctx {
    sqlite3 *db;
    const struct entity_dir *d;
    int64_t *ids; /* database id of each directory entity, 0 = not looked up */
    struct entity_scan_stats *stats;
};

/* The database id of a mention's entity (created on first use). */
static int entity_row(struct scan_ctx *s, const struct mention *m, int64_t *id,
                      struct fs_error *err)
{
    if (m->entity >= 0 && s->ids[m->entity]) {
        *id = s->ids[m->entity];
        return 0;
    }
    char key[64], name[64];
    const char *ticker = m->symbol;
    if (m->entity >= 0) {
        const struct entity *e = &s->d->ents[m->entity];
        if (db_entity_id(s->db, e->key, e->name, e->ticker, id, err) < 0)
            return -1;
        s->ids[m->entity] = *id;
        return 0;
    }
    snprintf(key, sizeof key, "sym:%s", m->symbol);
    snprintf(name, sizeof name, "$%s", m->symbol);
    return db_entity_id(s->db, key, name, ticker, id, err);
}

static int mention_cmp(const void *pa, const void *pb)
{
    const struct doc_mention *a = pa, *b = pb;
    if (a->entity_id != b->entity_id)
        return a->entity_id < b->entity_id ? -1 : 1;
    if (a->field != b->field)
        return a->field < b->field ? -1 : 1;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->len < b->len ? -1 : a->len > b->len;
}

/* Length of the run of entity m[0].entity_id's mentions in m[0..n) (sorted). */
static size_t entity_run(const struct doc_mention *m, size_t n)
{
    size_t k = 0;
    while (k < n && m[k].entity_id == m[0].entity_id)
        k++;
    return k;
}

/* The entities whose mentions differ between old[0..n_old) and cur[0..n_cur)
 * (both sorted by mention_cmp), in *ids (new array; *n_ids of them). */
static void entities_changed(const struct doc_mention *old, size_t n_old,
                             const struct doc_mention *cur, size_t n_cur, int64_t **ids,
                             size_t *n_ids)
{
    *ids = xmalloc((n_old + n_cur + 1) * sizeof **ids);
    *n_ids = 0;
    size_t i = 0, j = 0;
    while (i < n_old || j < n_cur) {
        int64_t a = i < n_old ? old[i].entity_id : INT64_MAX;
        int64_t b = j < n_cur ? cur[j].entity_id : INT64_MAX;
        int64_t id = a < b ? a : b;
        size_t ka = a == id ? entity_run(old + i, n_old - i) : 0;
        size_t kb = b == id ? entity_run(cur + j, n_cur - j) : 0;
        int same = ka == kb;
        for (size_t k = 0; same && k < ka; k++)
            same = mention_cmp(&old[i + k], &cur[j + k]) == 0;
        if (!same)
            (*ids)[(*n_ids)++] = id;
        i += ka;
        j += kb;
    }
}

/* After a document was read (again): each entity whose mentions came out the
 * same keeps its sentiment, whatever gave it (the sentences that mention it
 * stay the same sentences). The others lose theirs; in a classified document
 * those still mentioned take the document's sentiment and are queued for the
 * classify stage to read their sentences. */
static int keep_sentiments(struct scan_ctx *s, const struct entity_doc *doc,
                           struct doc_mention *old, size_t n_old, struct doc_mention *cur,
                           size_t n_cur, struct fs_error *err)
{
    if (n_old) /* none: old may be NULL, which qsort may not be given */
        qsort(old, n_old, sizeof *old, mention_cmp);
    if (n_cur)
        qsort(cur, n_cur, sizeof *cur, mention_cmp);
    int64_t *ids;
    size_t n_ids;
    entities_changed(old, n_old, cur, n_cur, &ids, &n_ids);
    int rc = 0;
    for (size_t i = 0; rc == 0 && n_old > 0 && i < n_ids; i++)
        rc = db_entity_sentiment_forget(s->db, doc->id, ids[i], err);
    if (rc == 0 && doc->classified && n_ids > 0)
        rc = db_entity_sentiments_from_document(s->db, doc->id, err);
    for (size_t i = 0, j = 0; rc == 0 && doc->classified && i < n_ids; i++) {
        while (j < n_cur && cur[j].entity_id < ids[i])
            j++;
        if (j < n_cur && cur[j].entity_id == ids[i])
            rc = db_entity_reread_queue(s->db, doc->id, ids[i], err);
    }
    free(ids);
    return rc;
}

/* Stores the mentions of l, and each one's entity and place in cur[]. */
static int store_mentions(struct scan_ctx *s, const struct entity_doc *doc,
                          const struct mention_list *l, struct doc_mention *cur,
                          struct fs_error *err)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l->n; i++) {
        const struct mention *m = &l->v[i];
        struct mention_row row = {doc->id, 0, mention_field_name(m->field),
                                  mention_how_name(m->how), m->start, m->len};
        rc = entity_row(s, m, &row.entity_id, err);
        if (rc == 0)
            rc = db_mention_insert(s->db, &row, err);
        cur[i] = (struct doc_mention){row.entity_id, (int)m->field, m->start, m->len};
    }
    return rc;
}

static int store_document(struct scan_ctx *s, const struct entity_doc *doc, int64_t now,
                          struct fs_error *err)
{
    struct mention_list l = {0};
    entities_recognize(s->d, doc->title, doc->text, doc->tickers, &l);
    struct doc_mention *old = NULL, *cur = xcalloc(l.n + 1, sizeof *cur);
    size_t n_old = 0;
    int rc = db_document_mentions(s->db, doc->id, &old, &n_old, err); /* read before? */
    if (rc == 0 && n_old > 0)
        rc = db_mentions_delete(s->db, doc->id, err);
    if (rc == 0)
        rc = store_mentions(s, doc, &l, cur, err);
    if (rc == 0)
        rc = keep_sentiments(s, doc, old, n_old, cur, l.n, err);
    s->stats->mentions += rc == 0 ? (int64_t)l.n : 0;
    mention_list_free(&l);
    free(old), free(cur);
    return rc == 0 ? db_entities_mark(s->db, doc->id, now, err) : -1;
}

static int store_batch(struct scan_ctx *s, const struct entity_doc *docs, size_t n, int64_t now,
                       struct fs_error *err)
{
    if (db_begin(s->db, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (store_document(s, &docs[i], now, err) < 0) {
            db_rollback(s->db);
            memset(s->ids, 0, s->d->n_ents * sizeof *s->ids); /* rolled-back rows */
            return -1;
        }
    }
    return db_commit(s->db, err);
}

int entities_scan_pending(sqlite3 *db, const struct entity_dir *d, int64_t now, int batch,
                          struct entity_scan_stats *stats, struct fs_error *err)
{
    memset(stats, 0, sizeof *stats);
    double t0 = time_monotonic();
    struct scan_ctx s = {db, d, xcalloc(d->n_ents + 1, sizeof(int64_t)), stats};
    int64_t after = 0;
    int rc = 0;
    if (batch <= 0)
        batch = 512;
    while (rc == 0) {
        struct entity_doc *docs;
        size_t n;
        if (db_entities_pending(db, after, batch, &docs, &n, err) < 0) {
            rc = -1;
            break;
        }
        if (n == 0) {
            free(docs);
            break;
        }
        rc = store_batch(&s, docs, n, now, err);
        after = docs[n - 1].id;
        if (rc == 0)
            stats->documents += (int64_t)n;
        db_entity_docs_free(docs, n);
    }
    free(s.ids);
    stats->seconds = time_monotonic() - t0;
    return rc < 0 ? fs_error_prefix(err, "entities") : 0;
}
