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

static int store_document(struct scan_ctx *s, const struct entity_doc *doc, int64_t now,
                          struct fs_error *err)
{
    struct mention_list l = {0};
    entities_recognize(s->d, doc->title, doc->text, doc->tickers, &l);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const struct mention *m = &l.v[i];
        struct mention_row row = {doc->id, 0, mention_field_name(m->field),
                                  mention_how_name(m->how), m->start, m->len};
        rc = entity_row(s, m, &row.entity_id, err);
        if (rc == 0)
            rc = db_mention_insert(s->db, &row, err);
    }
    s->stats->mentions += rc == 0 ? (int64_t)l.n : 0;
    if (rc == 0 && l.n > 0) /* classified before it was read: the document's sentiment */
        rc = db_entity_sentiments_from_document(s->db, doc->id, err);
    mention_list_free(&l);
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
