/*
 * infer.c — batched inference: texts sorted by token length, cut into batches
 * of similar length within a token budget (no padding to a fixed length), the
 * probabilities of both heads and the words the pooling attended to most.
 */
#include "classify/infer.h"
#include "classify/parallel.h"

#include <stdlib.h>
#include <string.h>

/* ---- encoded sets ------------------------------------------------------------ */

void encoded_set_build(const struct text_tok *tok, const struct dataset *ds, int max_len,
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
        out->length[i] = text_tok_encode(tok, t, strlen(t), out->ids + i * max_len, NULL, max_len);
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
    struct len_batches plan;
    len_batches_make(s->length, s->n, PARALLEL_BATCH_TOKENS, &plan);
    const struct by_len *order = plan.order;
    int K = model_config_logits(&c->model->cfg);
    float *logits = xmalloc(512 * (size_t)K * sizeof(float));
    float *ng = xmalloc((size_t)K * sizeof(float)), *probs = xmalloc((size_t)K * sizeof(float));
    struct ngram_vec v = {0};
    int rc = 0;
    for (size_t b = 0; b < plan.n_batches && rc == 0; b++) {
        size_t at = plan.starts[b], k = plan.starts[b + 1] - at;
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
    }
    free(logits), free(ng), free(probs);
    ngram_vec_free(&v);
    len_batches_free(&plan);
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
static void pick_attended(const struct text_tok *tok, const char *text, size_t len,
                          const float *att, const int32_t *word_of, int T, int n_att,
                          struct prediction *p)
{
    char **words;
    int nw = text_tok_words(tok, text, len, &words);
    if (nw <= 0) {
        text_tok_words_free(tok, words, nw > 0 ? nw : 0);
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
    text_tok_words_free(tok, words, nw);
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
 * into batches, run by parallel_batches() (classify/parallel.h). */
struct predict_work {
    struct classifier *c;
    const char *const *texts;
    const size_t *lens;
    int32_t *ids, *word_of, *len; /* [n * L], [n * L], [n] */
    struct len_batches plan;
    int n_att;
    struct prediction *out;
};

static int predict_batch(struct model *view, size_t b, void *arg, struct fs_error *err)
{
    struct predict_work *w = arg;
    struct classifier *c = w->c;
    int L = c->model->cfg.max_len, K = model_config_logits(&c->model->cfg);
    const struct by_len *order = w->plan.order;
    size_t at = w->plan.starts[b], k = w->plan.starts[b + 1] - at;
    int T = order[at + k - 1].len;
    if (run_batch(view, w->ids, L, w->len, order + at, k, err) < 0)
        return -1;
    float *logits = xmalloc(k * (size_t)K * sizeof(float));
    float *ng = xmalloc((size_t)K * sizeof(float)), *probs = xmalloc((size_t)K * sizeof(float));
    float *att = w->n_att ? xmalloc(k * (size_t)T * sizeof(float)) : NULL;
    struct ngram_vec v = {0};
    model_get_logits(view, logits);
    if (att)
        model_get_attention(view, att);
    for (size_t i = 0; i < k; i++) {
        size_t r = order[at + i].idx;
        text_probs(c, logits + i * K, w->texts[r], w->lens[r], &v, ng, probs);
        fill_prediction(&w->out[r], probs);
        if (att)
            pick_attended(c->tok, w->texts[r], w->lens[r], att + i * T,
                          w->word_of + r * (size_t)L, w->len[r], w->n_att, &w->out[r]);
    }
    free(logits), free(ng), free(probs), free(att);
    ngram_vec_free(&v);
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
    int budget = opt && opt->max_tokens > 0 ? opt->max_tokens : PARALLEL_BATCH_TOKENS;
    struct predict_work w = {c,
                             texts,
                             lens,
                             xcalloc(n * (size_t)L + 1, sizeof(int32_t)),
                             xcalloc(n * (size_t)L + 1, sizeof(int32_t)),
                             xcalloc(n + 1, sizeof(int32_t)),
                             {NULL, NULL, 0},
                             0,
                             out};
    w.n_att = opt ? opt->n_attended : 0;
    if (w.n_att > INFER_MAX_ATTENDED)
        w.n_att = INFER_MAX_ATTENDED;
    for (size_t i = 0; i < n; i++)
        w.len[i] = text_tok_encode(c->tok, texts[i], lens[i], w.ids + i * L, w.word_of + i * L, L);
    len_batches_make(w.len, n, budget, &w.plan);
    int rc = parallel_batches(c->model, c->views, w.plan.n_batches, predict_batch, &w, err);
    free(w.ids), free(w.word_of), free(w.len);
    len_batches_free(&w.plan);
    return rc;
}
