/*
 * infer.c — batched inference: texts sorted by token length, cut into batches
 * of similar length within a token budget (no padding to a fixed length), the
 * probabilities of both heads and the words the pooling attended to most.
 */
#include "classify/infer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- encoded sets ------------------------------------------------------------ */

void encoded_set_build(const struct tokenizer *tok, const struct dataset *ds, int max_len,
                       struct encoded_set *out)
{
    memset(out, 0, sizeof *out);
    out->n = ds->n;
    out->max_len = max_len;
    out->ids = xcalloc(ds->n * (size_t)max_len + 1, sizeof(int32_t));
    out->length = xcalloc(ds->n + 1, sizeof(int32_t));
    out->task = xcalloc(ds->n + 1, sizeof(int32_t));
    out->label = xcalloc(ds->n + 1, sizeof(int32_t));
    out->texts = xcalloc(ds->n + 1, sizeof *out->texts);
    for (size_t i = 0; i < ds->n; i++) {
        const char *t = ds->ex[i].text;
        out->texts[i] = t;
        out->length[i] = tokenizer_encode(tok, t, strlen(t), out->ids + i * max_len, NULL, max_len);
        out->task[i] = ds->ex[i].task;
        out->label[i] = ds->ex[i].label;
    }
}

void encoded_set_free(struct encoded_set *s)
{
    free(s->ids);
    free(s->length);
    free(s->task);
    free(s->label);
    free(s->texts);
    memset(s, 0, sizeof *s);
}

/* ---- length buckets -------------------------------------------------------------- */

struct by_len {
    int32_t len;
    size_t idx;
};

static int cmp_len(const void *a, const void *b)
{
    const struct by_len *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Order of rows by increasing length. Caller frees. */
static struct by_len *sort_by_length(const int32_t *len, size_t n)
{
    struct by_len *o = xmalloc((n + 1) * sizeof *o);
    for (size_t i = 0; i < n; i++)
        o[i] = (struct by_len){len[i], i};
    qsort(o, n, sizeof *o, cmp_len);
    return o;
}

/* Number of rows from order[start] that fit a batch of `budget` tokens. */
static size_t batch_rows(const struct by_len *order, size_t start, size_t n, int budget)
{
    size_t k = 0;
    while (start + k < n && k < 512) {
        size_t T = (size_t)order[start + k].len;
        if ((k + 1) * T > (size_t)budget && k > 0)
            break;
        k++;
    }
    return k;
}

/* Runs rows order[start..start+k) through the model; ids gathered into a batch
 * padded to the longest. */
static int run_batch(struct model *m, const int32_t *ids, int stride, const int32_t *len,
                     const struct by_len *order, size_t k, struct fs_error *err)
{
    int T = order[k - 1].len;
    int32_t *b_ids = xcalloc(k * (size_t)T, sizeof(int32_t));
    int32_t *b_len = xmalloc(k * sizeof(int32_t));
    for (size_t i = 0; i < k; i++) {
        size_t r = order[i].idx;
        b_len[i] = len[r];
        memcpy(b_ids + i * T, ids + r * (size_t)stride, (size_t)len[r] * sizeof(int32_t));
    }
    struct model_batch b = {(int)k, T, b_ids, b_len, NULL, NULL};
    int rc = model_forward(m, &b, 0, 0, NULL, err);
    free(b_ids);
    free(b_len);
    return rc;
}

/* Probabilities [K] of one text from the encoder's logits: the encoder alone,
 * or mixed with the n-gram path (scratch v and ng[K] reused by the caller). */
static void text_probs(const struct classifier *c, const float *enc, const char *text, size_t len,
                       struct ngram_vec *v, float *ng, float *probs)
{
    const struct model_config *cfg = &c->model->cfg;
    float mix = 0.0f;
    if (c->ngram && text && c->parts != PARTS_ENCODER) {
        mix = c->parts == PARTS_NGRAM ? 1.0f : c->ngram->mix;
        ngram_predict_logits(c->ngram, text, len, v, ng);
    }
    ngram_mix_probs(cfg->out_sizes, cfg->n_out, mix, enc, mix > 0.0f ? ng : NULL, probs);
}

int classifier_predict_encoded(struct classifier *c, const struct encoded_set *s, int *pred,
                               struct fs_error *err)
{
    if (s->n == 0)
        return 0;
    struct by_len *order = sort_by_length(s->length, s->n);
    int K = model_config_logits(&c->model->cfg);
    float *logits = xmalloc(512 * (size_t)K * sizeof(float));
    float *ng = xmalloc((size_t)K * sizeof(float)), *probs = xmalloc((size_t)K * sizeof(float));
    struct ngram_vec v = {0};
    int rc = 0;
    for (size_t at = 0; at < s->n && rc == 0;) {
        size_t k = batch_rows(order, at, s->n, 4096);
        rc = run_batch(c->model, s->ids, s->max_len, s->length, order + at, k, err);
        if (rc < 0)
            break;
        model_get_logits(c->model, logits);
        for (size_t i = 0; i < k; i++) {
            size_t r = order[at + i].idx;
            const struct model_config *cfg = &c->model->cfg;
            const char *text = s->texts ? s->texts[r] : NULL;
            text_probs(c, logits + i * K, text, text ? strlen(text) : 0, &v, ng, probs);
            int t = s->task[r] >= 0 && s->task[r] < cfg->n_out ? s->task[r] : 0;
            int off = 0, n = cfg->out_sizes[t];
            for (int h = 0; h < t; h++)
                off += cfg->out_sizes[h];
            const float *p = probs + off;
            int best = 0;
            for (int j = 1; j < n; j++)
                if (p[j] > p[best])
                    best = j;
            pred[r] = best;
        }
        at += k;
    }
    free(logits), free(ng), free(probs);
    ngram_vec_free(&v);
    free(order);
    return rc;
}

/* ---- predictions for raw texts ------------------------------------------------------ */

void prediction_free(struct prediction *p)
{
    for (int i = 0; i < p->n_attended; i++)
        free(p->attended[i]);
    p->n_attended = 0;
}

static int argmax(const float *p, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (p[j] > p[best])
            best = j;
    return best;
}

/* The n_att words with the most attention (summed over their tokens). */
static void pick_attended(const struct tokenizer *tok, const char *text, size_t len,
                          const float *att, const int32_t *word_of, int T, int n_att,
                          struct prediction *p)
{
    char **words;
    int nw = tokenizer_words(tok, text, len, &words);
    if (nw <= 0) {
        tokenizer_words_free(words, nw > 0 ? nw : 0);
        return;
    }
    float *w = xcalloc((size_t)nw, sizeof *w);
    for (int t = 0; t < T; t++)
        if (word_of[t] >= 0 && word_of[t] < nw)
            w[word_of[t]] += att[t];
    while (p->n_attended < n_att) {
        int best = -1;
        for (int i = 0; i < nw; i++)
            if (w[i] > 0.0f && (best < 0 || w[i] > w[best]))
                best = i;
        if (best < 0)
            break;
        w[best] = 0.0f;
        int dup = 0;
        for (int j = 0; j < p->n_attended; j++)
            dup |= !strcmp(p->attended[j], words[best]);
        if (!dup)
            p->attended[p->n_attended++] = xstrdup(words[best]);
    }
    free(w);
    tokenizer_words_free(words, nw);
}

static void fill_prediction(struct prediction *p, const float *probs)
{
    memcpy(p->topic_probs, probs, N_TOPICS * sizeof(float));
    memcpy(p->sentiment_probs, probs + N_TOPICS, N_SENTIMENTS * sizeof(float));
    p->topic = argmax(p->topic_probs, N_TOPICS);
    p->sentiment = argmax(p->sentiment_probs, N_SENTIMENTS);
    p->score = p->sentiment_probs[SENT_POSITIVE] - p->sentiment_probs[SENT_NEGATIVE];
}

/* The work of classifier_predict(): texts encoded and ordered by length, cut
 * into batches; each worker runs every n_workers-th batch on its own model view. */
struct predict_work {
    struct classifier *c;
    const char *const *texts;
    const size_t *lens;
    int32_t *ids, *word_of, *len; /* [n * L], [n * L], [n] */
    struct by_len *order;
    size_t *starts; /* batch i is order[starts[i] .. starts[i + 1]) */
    size_t n_batches;
    int n_att, n_workers;
    struct prediction *out;
};

struct predict_worker {
    struct predict_work *w;
    struct model *model;
    int index, rc;
    struct fs_error err;
};

static void *predict_worker_run(void *arg)
{
    struct predict_worker *pw = arg;
    struct predict_work *w = pw->w;
    struct classifier *c = w->c;
    int L = c->model->cfg.max_len, K = model_config_logits(&c->model->cfg);
    float *logits = xmalloc(512 * (size_t)K * sizeof(float));
    float *ng = xmalloc((size_t)K * sizeof(float)), *probs = xmalloc((size_t)K * sizeof(float));
    float *att = xmalloc(512 * (size_t)L * sizeof(float));
    struct ngram_vec v = {0};
    for (size_t b = (size_t)pw->index; b < w->n_batches && pw->rc == 0; b += w->n_workers) {
        size_t at = w->starts[b], k = w->starts[b + 1] - at;
        int T = w->order[at + k - 1].len;
        pw->rc = run_batch(pw->model, w->ids, L, w->len, w->order + at, k, &pw->err);
        if (pw->rc < 0)
            break;
        model_get_logits(pw->model, logits);
        if (w->n_att)
            model_get_attention(pw->model, att);
        for (size_t i = 0; i < k; i++) {
            size_t r = w->order[at + i].idx;
            text_probs(c, logits + i * K, w->texts[r], w->lens[r], &v, ng, probs);
            fill_prediction(&w->out[r], probs);
            if (w->n_att)
                pick_attended(c->tok, w->texts[r], w->lens[r], att + i * T,
                              w->word_of + r * (size_t)L, w->len[r], w->n_att, &w->out[r]);
        }
    }
    free(logits), free(ng), free(probs), free(att);
    ngram_vec_free(&v);
    return NULL;
}

/* Workers for n_batches: one per core (at most 4) when the backend can run
 * passes side by side, else one. */
static int predict_workers(const struct backend *be, size_t n_batches)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long n = be->set_threads ? (cores < 4 ? cores : 4) : 1;
    if (n > (long)n_batches)
        n = (long)n_batches;
    return n < 1 ? 1 : (int)n;
}

/* Runs the workers (the calling thread is worker 0); the first error wins. */
static int predict_run(struct predict_work *w, struct fs_error *err)
{
    struct backend *be = w->c->be;
    struct predict_worker pw[4] = {0};
    pthread_t tid[4];
    int started[4] = {0};
    int blas_threads = w->n_workers > 1 ? be->set_threads(be, 1) : 0;
    for (int i = 0; i < w->n_workers; i++) {
        struct model **view = i ? &w->c->views[i - 1] : NULL;
        if (view && !*view)
            *view = model_share(w->c->model);
        pw[i] = (struct predict_worker){w, view ? *view : w->c->model, i, 0, {""}};
        if (i > 0)
            started[i] = pthread_create(&tid[i], NULL, predict_worker_run, &pw[i]) == 0;
    }
    predict_worker_run(&pw[0]);
    for (int i = 1; i < w->n_workers; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            predict_worker_run(&pw[i]); /* no thread: do its share here */
    }
    if (w->n_workers > 1)
        be->set_threads(be, blas_threads);
    for (int i = 0; i < w->n_workers; i++)
        if (pw[i].rc < 0) {
            *err = pw[i].err;
            return -1;
        }
    return 0;
}

int classifier_predict(struct classifier *c, const char *const *texts, const size_t *lens, size_t n,
                       const struct infer_options *opt, struct prediction *out,
                       struct fs_error *err)
{
    memset(out, 0, n * sizeof *out);
    if (n == 0)
        return 0;
    int L = c->model->cfg.max_len;
    int budget = opt && opt->max_tokens > 0 ? opt->max_tokens : 4096;
    struct predict_work w = {c,
                             texts,
                             lens,
                             xcalloc(n * (size_t)L + 1, sizeof(int32_t)),
                             xcalloc(n * (size_t)L + 1, sizeof(int32_t)),
                             xcalloc(n + 1, sizeof(int32_t)),
                             NULL,
                             NULL,
                             0,
                             0,
                             1,
                             out};
    w.n_att = opt ? opt->n_attended : 0;
    if (w.n_att > INFER_MAX_ATTENDED)
        w.n_att = INFER_MAX_ATTENDED;
    for (size_t i = 0; i < n; i++)
        w.len[i] = tokenizer_encode(c->tok, texts[i], lens[i], w.ids + i * L, w.word_of + i * L, L);
    w.order = sort_by_length(w.len, n);
    w.starts = xmalloc((n + 1) * sizeof *w.starts);
    for (size_t at = 0; at < n; at += batch_rows(w.order, at, n, budget))
        w.starts[w.n_batches++] = at;
    w.starts[w.n_batches] = n;
    w.n_workers = predict_workers(c->be, w.n_batches);
    int rc = predict_run(&w, err);
    free(w.ids), free(w.word_of), free(w.len), free(w.order), free(w.starts);
    return rc;
}
