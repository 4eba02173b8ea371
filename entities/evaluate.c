/* evaluate.c — precision and recall on a labelled set (see evaluate.h). */
#include "entities/evaluate.h"

#include "common/csv.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "entities/recognize.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct name_set {
    char **v;
    size_t n, cap;
};

static int set_has(const struct name_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcasecmp(s->v[i], name) == 0)
            return 1;
    return 0;
}

static void set_add(struct name_set *s, const char *name, size_t len)
{
    char *n = xstrndup(name, len);
    if (!*n || set_has(s, n)) {
        free(n);
        return;
    }
    s->v = xgrow(s->v, s->n, &s->cap, sizeof *s->v, 8);
    s->v[s->n++] = n;
}

static void set_free(struct name_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    *s = (struct name_set){0};
}

static char *set_join(const struct name_set *s)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < s->n; i++)
        sb_appendf(&sb, "%s%s", i ? ";" : "", s->v[i]);
    return sb_detach(&sb);
}

static void gold_of(const char *field, struct name_set *gold)
{
    for (const char *p = field; *p;) {
        size_t n = strcspn(p, ";");
        set_add(gold, p, n);
        p += n + (p[n] == ';');
    }
}

static void score_text(const struct entity_dir *d, const char *text, const char *labels,
                       struct entity_eval *out, entity_eval_miss_fn miss, void *ctx)
{
    struct name_set gold = {0}, pred = {0};
    gold_of(labels, &gold);
    struct mention_list l = {0};
    double t0 = time_monotonic();
    entities_recognize(d, NULL, text, NULL, &l);
    out->seconds += time_monotonic() - t0;
    for (size_t i = 0; i < l.n; i++) {
        char name[256];
        mention_entity_name(d, &l.v[i], name, sizeof name);
        set_add(&pred, name, strlen(name));
    }
    int wrong = 0;
    for (size_t i = 0; i < pred.n; i++) {
        int hit = set_has(&gold, pred.v[i]);
        out->tp += hit, out->fp += !hit, wrong |= !hit;
    }
    for (size_t i = 0; i < gold.n; i++) {
        int lost = !set_has(&pred, gold.v[i]);
        out->fn += lost, wrong |= lost;
    }
    if (wrong && miss) {
        char *p = set_join(&pred), *g = set_join(&gold);
        miss(ctx, text, p, g);
        free(p), free(g);
    }
    mention_list_free(&l);
    set_free(&gold), set_free(&pred);
}

int entities_evaluate(const struct entity_dir *d, const char *csv, size_t len,
                      struct entity_eval *out, entity_eval_miss_fn miss, void *ctx,
                      struct fs_error *err)
{
    memset(out, 0, sizeof *out);
    struct csv_reader r;
    struct csv_record rec = {0};
    csv_reader_init(&r, csv, len);
    int rc, header = 1;
    while ((rc = csv_read_record(&r, &rec, err)) > 0) {
        if (header) {
            header = 0;
            if (rec.n_fields < 2 || strcmp(rec.fields[0], "text") != 0 ||
                strcmp(rec.fields[1], "entities") != 0) {
                csv_record_free(&rec);
                return fs_error_set(err, "line 1: the header must be \"text,entities\"");
            }
            continue;
        }
        if (rec.n_fields < 2) {
            csv_record_free(&rec);
            return fs_error_set(err, "line %d: two fields expected", r.line);
        }
        score_text(d, rec.fields[0], rec.fields[1], out, miss, ctx);
        out->n_texts++;
    }
    csv_record_free(&rec);
    if (rc < 0)
        return -1;
    double tp = (double)out->tp;
    out->precision = out->tp + out->fp ? tp / (double)(out->tp + out->fp) : 1.0;
    out->recall = out->tp + out->fn ? tp / (double)(out->tp + out->fn) : 1.0;
    double s = out->precision + out->recall;
    out->f1 = s > 0 ? 2 * out->precision * out->recall / s : 0;
    return 0;
}
