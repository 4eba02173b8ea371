/*
 * windows.c — long documents cut into overlapping windows of whole words,
 * predicted together, combined by confidence-weighted means.
 */
#include "classify/windows.h"
#include "common/strbuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Byte ranges of the body's words (runs of non-blank bytes). */
struct word_span {
    size_t at, len;
};

static size_t split_words(const char *s, struct word_span **out)
{
    size_t n = 0, cap = 0;
    struct word_span *w = NULL;
    for (size_t i = 0; s[i];) {
        while (s[i] && isspace((unsigned char)s[i]))
            i++;
        size_t start = i;
        while (s[i] && !isspace((unsigned char)s[i]))
            i++;
        if (i == start)
            break;
        if (n == cap)
            w = xrealloc(w, (cap = cap ? 2 * cap : 256) * sizeof *w);
        w[n++] = (struct word_span){start, i - start};
    }
    *out = w;
    return n;
}

/* Tokens a piece of text takes, without the special tokens around it. */
static int tokens_of(const struct text_tok *tok, const char *s, size_t len, int32_t *scratch,
                     int cap, int specials)
{
    int n = text_tok_encode(tok, s, len, scratch, NULL, cap) - specials;
    return n > 0 ? n : 0;
}

static struct window make_window(const char *title, const char *body,
                                 const struct word_span *w, size_t from, size_t to)
{
    struct strbuf sb = STRBUF_INIT;
    if (title && *title) {
        sb_append(&sb, title);
        sb_append_char(&sb, '\n');
    }
    if (to > from)
        sb_append_n(&sb, body + w[from].at, w[to - 1].at + w[to - 1].len - w[from].at);
    struct window out = {NULL, sb.len};
    out.text = sb_detach(&sb);
    return out;
}

size_t windows_cut(const struct text_tok *tok, int window_tokens, const char *title,
                   const char *body, struct window **out)
{
    enum { CAP = 4096 };
    int32_t *scratch = xmalloc(CAP * sizeof *scratch);
    int specials = text_tok_encode(tok, "", 0, scratch, NULL, CAP); /* [CLS] (+ [SEP]) */
    int budget = window_tokens - specials -
                 (title ? tokens_of(tok, title, strlen(title), scratch, CAP, specials) : 0);
    if (budget < 8)
        budget = 8; /* a title that fills the window: still read the body, truncated */
    struct word_span *w;
    size_t nw = split_words(body ? body : "", &w);
    int *cost = xmalloc((nw + 1) * sizeof *cost);
    for (size_t i = 0; i < nw; i++)
        cost[i] = tokens_of(tok, body + w[i].at, w[i].len, scratch, 64, specials);
    struct window *win = xmalloc(WINDOWS_MAX * sizeof *win);
    size_t n = 0, from = 0;
    do {
        size_t to = from;
        int used = 0;
        while (to < nw && (to == from || used + cost[to] <= budget))
            used += cost[to++];
        win[n++] = make_window(title, body, w, from, to);
        if (to >= nw)
            break;
        size_t step = (to - from) * 3 / 4; /* a quarter of the words again in the next */
        from += step ? step : 1;
    } while (n < WINDOWS_MAX);
    free(cost), free(w), free(scratch);
    *out = win;
    return n;
}

void windows_free(struct window *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(w[i].text);
    free(w);
}

int windows_tokens(const struct classifier *c)
{
    int max = c->model->cfg.max_len;
    return max < WINDOWS_TOKENS ? max : WINDOWS_TOKENS;
}

static float max_of(const float *p, int n)
{
    float m = p[0];
    for (int i = 1; i < n; i++)
        m = p[i] > m ? p[i] : m;
    return m;
}

static int argmax_of(const float *p, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (p[i] > p[best])
            best = i;
    return best;
}

/* out = the confidence-weighted mean of the k window predictions in p. */
static void combine(struct prediction *p, size_t k, struct prediction *out)
{
    double t[N_TOPICS] = {0}, s[N_SENTIMENTS] = {0}, wt = 0, ws = 0;
    for (size_t i = 0; i < k; i++) {
        double a = max_of(p[i].topic_probs, N_TOPICS), b = max_of(p[i].sentiment_probs, N_SENTIMENTS);
        for (int j = 0; j < N_TOPICS; j++)
            t[j] += a * p[i].topic_probs[j];
        for (int j = 0; j < N_SENTIMENTS; j++)
            s[j] += b * p[i].sentiment_probs[j];
        wt += a, ws += b;
    }
    for (int j = 0; j < N_TOPICS; j++)
        out->topic_probs[j] = (float)(t[j] / wt);
    for (int j = 0; j < N_SENTIMENTS; j++)
        out->sentiment_probs[j] = (float)(s[j] / ws);
    out->topic = argmax_of(out->topic_probs, N_TOPICS);
    out->sentiment = argmax_of(out->sentiment_probs, N_SENTIMENTS);
    out->score = out->sentiment_probs[SENT_POSITIVE] - out->sentiment_probs[SENT_NEGATIVE];
    size_t decisive = 0;
    for (size_t i = 1; i < k; i++)
        if (p[i].sentiment_probs[out->sentiment] > p[decisive].sentiment_probs[out->sentiment])
            decisive = i;
    out->n_attended = p[decisive].n_attended;
    memcpy(out->attended, p[decisive].attended, sizeof out->attended);
    p[decisive].n_attended = 0; /* moved to out */
}

int classifier_predict_documents(struct classifier *c, const char *const *titles,
                                 const char *const *bodies, size_t n,
                                 const struct infer_options *opt, struct prediction *out,
                                 struct fs_error *err)
{
    memset(out, 0, n * sizeof *out);
    struct window **win = xcalloc(n + 1, sizeof *win);
    size_t *count = xcalloc(n + 1, sizeof *count), total = 0;
    int tokens = windows_tokens(c);
    for (size_t i = 0; i < n; i++)
        total += count[i] = windows_cut(c->tok, tokens, titles[i], bodies[i], &win[i]);
    const char **texts = xmalloc((total + 1) * sizeof *texts);
    size_t *lens = xmalloc((total + 1) * sizeof *lens), k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < count[i]; j++, k++)
            texts[k] = win[i][j].text, lens[k] = win[i][j].len;
    struct prediction *p = xcalloc(total + 1, sizeof *p);
    int rc = classifier_predict(c, texts, lens, total, opt, p, err);
    for (size_t i = 0, at = 0; i < n; at += count[i], i++) {
        if (rc == 0)
            combine(p + at, count[i], &out[i]);
        windows_free(win[i], count[i]);
    }
    for (size_t i = 0; i < total; i++)
        prediction_free(&p[i]);
    free(p), free(texts), free(lens), free(win), free(count);
    return rc;
}
