/*
 * sentence.c — mean-pooled, L2-normalised sentence embeddings over the
 * encoder's last hidden states, in length-sorted batches.
 */
#include "classify/sentence.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { SENT_BATCH_TOKENS = 8192, SENT_BATCH_ROWS = 64 };

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

struct encoded {
    int32_t *ids; /* [n * max_len] */
    int32_t *len; /* [n] */
    size_t *order; /* indexes sorted by length */
};

static const struct encoded *sort_ctx;
static int cmp_len(const void *a, const void *b)
{
    int32_t x = sort_ctx->len[*(const size_t *)a], y = sort_ctx->len[*(const size_t *)b];
    return x < y ? -1 : x > y;
}

static void encode_all(const struct wordpiece *wp, const char *const *texts, const size_t *lens,
                       size_t n, int max_len, struct encoded *e)
{
    e->ids = xcalloc(n * (size_t)max_len, sizeof *e->ids);
    e->len = xcalloc(n ? n : 1, sizeof *e->len);
    e->order = xcalloc(n ? n : 1, sizeof *e->order);
    for (size_t i = 0; i < n; i++) {
        size_t l = lens ? lens[i] : strlen(texts[i]);
        e->len[i] = wordpiece_encode(wp, texts[i], l, e->ids + i * max_len, NULL, max_len);
        e->order[i] = i;
    }
    sort_ctx = e; /* qsort has no context argument; encode_all is not re-entrant */
    qsort(e->order, n, sizeof *e->order, cmp_len);
}

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

/* Runs rows order[from, to) as one batch and pools each into out. */
static int embed_batch(struct model *m, const struct encoded *e, size_t from, size_t to,
                       int max_len, float *out, struct fs_error *err)
{
    int B = (int)(to - from), T = e->len[e->order[to - 1]], C = m->cfg.width;
    int32_t *ids = xcalloc((size_t)B * T, sizeof *ids), *len = xmalloc((size_t)B * sizeof *len);
    for (int b = 0; b < B; b++) {
        size_t i = e->order[from + b];
        len[b] = e->len[i];
        memcpy(ids + (size_t)b * T, e->ids + i * max_len, (size_t)len[b] * sizeof *ids);
    }
    struct model_batch mb = {B, T, ids, len, NULL, NULL};
    float *h = NULL;
    int rc = model_forward(m, &mb, 0, 0, NULL, err);
    if (rc == 0) {
        h = xmalloc((size_t)B * T * C * sizeof *h);
        model_get_hidden(m, h);
        for (int b = 0; b < B; b++)
            pool_one(h + (size_t)b * T * C, len[b], C, out + e->order[from + b] * C);
    }
    free(h), free(ids), free(len);
    return rc;
}

int sentence_embed(struct model *m, const struct wordpiece *wp, const char *const *texts,
                   const size_t *lens, size_t n, int max_len, float *out, struct fs_error *err)
{
    struct encoded e;
    if (max_len > m->cfg.max_len)
        max_len = m->cfg.max_len;
    encode_all(wp, texts, lens, n, max_len, &e);
    int rc = 0;
    for (size_t from = 0; from < n && rc == 0;) {
        size_t to = from + 1;
        while (to < n && to - from < SENT_BATCH_ROWS &&
               (to - from + 1) * (size_t)e.len[e.order[to]] <= SENT_BATCH_TOKENS)
            to++;
        rc = embed_batch(m, &e, from, to, max_len, out, err);
        from = to;
    }
    free(e.ids), free(e.len), free(e.order);
    return rc;
}

int sentence_token_states(struct model *m, const struct wordpiece *wp, const char *text,
                          size_t len, int max_len, int32_t *ids, float *states,
                          struct fs_error *err)
{
    if (max_len > m->cfg.max_len)
        max_len = m->cfg.max_len;
    int32_t n = wordpiece_encode(wp, text, len, ids, NULL, max_len);
    struct model_batch mb = {1, n, ids, &n, NULL, NULL};
    if (model_forward(m, &mb, 0, 0, NULL, err) < 0)
        return -1;
    model_get_hidden(m, states);
    return n;
}
