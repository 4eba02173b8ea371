/*
 * sentence.c — mean-pooled, L2-normalised sentence embeddings over the
 * encoder's last hidden states, in length-sorted batches.
 */
#include "classify/sentence.h"
#include "classify/parallel.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


int sentence_max_len(const char *dir, const struct model *m)
{
    struct strbuf p = STRBUF_INIT;
    sb_appendf(&p, "%s/sentence_bert_config.json", dir);
    json_error_t je;
    json_t *o = json_load_file(p.buf, 0, &je);
    json_t *v = json_object_get(o, "max_seq_length");
    int n = m->cfg.max_len;
    if (json_is_integer(v) && json_integer_value(v) >= 2 && json_integer_value(v) < n)
        n = (int)json_integer_value(v);
    json_decref(o);
    sb_free(&p);
    return n;
}

/* The texts as ids, in length batches, for parallel_batches(). */
struct sentence_work {
    struct model *m;
    int32_t *ids; /* [n * max_len] */
    int32_t *len; /* [n] */
    int max_len;
    struct len_batches plan;
    float *out; /* [n, width] */
};

/* Mean over the first len rows of h [T, C], normalised, into out [C]. */
static void pool_one(const float *h, int len, int C, float *out)
{
    double norm = 0.0;
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int t = 0; t < len; t++)
            s += h[(size_t)t * C + c];
        out[c] = (float)(s / len);
        norm += (double)out[c] * out[c];
    }
    float inv = norm > 0.0 ? (float)(1.0 / fmax(sqrt(norm), 1e-12)) : 0.0f;
    for (int c = 0; c < C; c++)
        out[c] *= inv;
}

/* Runs one planned batch and pools each of its rows into out. */
static int embed_batch(struct model *view, size_t batch, void *arg, struct fs_error *err)
{
    struct sentence_work *w = arg;
    const struct by_len *order = w->plan.order + w->plan.starts[batch];
    int B = (int)(w->plan.starts[batch + 1] - w->plan.starts[batch]);
    int T = order[B - 1].len, C = view->cfg.width;
    int32_t *ids = xcalloc((size_t)B * T, sizeof *ids), *len = xmalloc((size_t)B * sizeof *len);
    for (int b = 0; b < B; b++) {
        len[b] = w->len[order[b].idx];
        memcpy(ids + (size_t)b * T, w->ids + order[b].idx * w->max_len,
               (size_t)len[b] * sizeof *ids);
    }
    struct model_batch mb = {B, T, ids, len, NULL, NULL};
    float *h = NULL;
    int rc = model_forward(view, &mb, 0, 0, NULL, err);
    if (rc == 0) {
        h = xmalloc((size_t)B * T * C * sizeof *h);
        model_get_hidden(view, h);
        for (int b = 0; b < B; b++)
            pool_one(h + (size_t)b * T * C, len[b], C, w->out + order[b].idx * C);
    }
    free(h), free(ids), free(len);
    return rc;
}

int sentence_embed(struct model *m, const struct wordpiece *wp, const char *const *texts,
                   const size_t *lens, size_t n, int max_len, float *out, struct fs_error *err)
{
    if (max_len > m->cfg.max_len)
        max_len = m->cfg.max_len;
    struct sentence_work w = {m, xcalloc(n * (size_t)max_len + 1, sizeof(int32_t)),
                              xcalloc(n + 1, sizeof(int32_t)), max_len, {NULL, NULL, 0}, out};
    for (size_t i = 0; i < n; i++)
        w.len[i] = wordpiece_encode(wp, texts[i], lens ? lens[i] : strlen(texts[i]),
                                    w.ids + i * max_len, NULL, max_len);
    len_batches_make(w.len, n, PARALLEL_BATCH_TOKENS, &w.plan);
    struct model *views[PARALLEL_MAX_WORKERS - 1] = {0};
    int rc = parallel_batches(m, views, w.plan.n_batches, embed_batch, &w, err);
    for (int i = 0; i < PARALLEL_MAX_WORKERS - 1; i++)
        model_free(views[i]);
    len_batches_free(&w.plan);
    free(w.ids), free(w.len);
    return rc;
}

int sentence_token_states(struct model *m, const struct wordpiece *wp, const char *text,
                          size_t len, int max_len, int32_t *ids, float *states, float *emb,
                          struct fs_error *err)
{
    if (max_len > m->cfg.max_len)
        max_len = m->cfg.max_len;
    int32_t n = wordpiece_encode(wp, text, len, ids, NULL, max_len);
    struct model_batch mb = {1, n, ids, &n, NULL, NULL};
    if (model_forward(m, &mb, 0, 0, NULL, err) < 0)
        return -1;
    model_get_hidden(m, states);
    if (emb)
        pool_one(states, n, m->cfg.width, emb);
    return n;
}
