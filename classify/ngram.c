/*
 * ngram.c — hashed word and character n-gram features with TF-IDF weights, and
 * the linear softmax layer on them (see ngram.h for the exact feature rules).
 */
#include "classify/ngram.h"
#include "classify/ops_math.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ngram_model *ngram_create(int bits, const struct model_config *cfg)
{
    struct ngram_model *m = xcalloc(1, sizeof *m);
    m->bits = bits;
    m->n_out = cfg->n_out;
    for (int h = 0; h < cfg->n_out; h++) {
        m->out_sizes[h] = cfg->out_sizes[h];
        m->K += cfg->out_sizes[h];
    }
    m->mix = NGRAM_DEFAULT_MIX;
    size_t rows = ngram_rows(m);
    m->idf = xcalloc(rows, sizeof(float));
    m->weight = xcalloc(rows * (size_t)m->K, sizeof(float));
    m->bias = xcalloc((size_t)m->K, sizeof(float));
    return m;
}

void ngram_free(struct ngram_model *m)
{
    if (!m)
        return;
    free(m->idf);
    free(m->weight);
    free(m->bias);
    free(m);
}

size_t ngram_rows(const struct ngram_model *m)
{
    return (size_t)2 << m->bits;
}

/* ---- hashing -------------------------------------------------------------------- */

static uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

static uint32_t murmur_mix_k(uint32_t k)
{
    k *= 0xcc9e2d51u;
    k = rotl32(k, 15);
    return k * 0x1b873593u;
}

int32_t ngram_murmur3(const void *key, size_t len, uint32_t seed)
{
    const unsigned char *p = key;
    uint32_t h = seed;
    size_t blocks = len / 4;
    for (size_t i = 0; i < blocks; i++) {
        const unsigned char *b = p + 4 * i;
        uint32_t k =
            (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        h ^= murmur_mix_k(k);
        h = rotl32(h, 13) * 5u + 0xe6546b64u;
    }
    const unsigned char *tail = p + 4 * blocks;
    uint32_t k = 0;
    switch (len & 3) {
    case 3:
        k ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        k ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        k ^= tail[0];
        h ^= murmur_mix_k(k);
        break;
    default:
        break;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return (int32_t)h;
}

/* Bucket of an n-gram within a block of 2^bits (|h| mod 2^bits, as scikit-learn). */
static uint32_t bucket_of(const char *s, size_t len, int bits)
{
    int64_t h = ngram_murmur3(s, len, 0);
    return (uint32_t)((h < 0 ? -h : h) & (((int64_t)1 << bits) - 1));
}

/* ---- text to n-grams ------------------------------------------------------------------ */

/* The code point at s[i] (n bytes in all) into *cp; returns its length. A byte
 * that starts no valid sequence is taken alone as U+FFFD. */
static size_t utf8_at(const char *s, size_t n, size_t i, uint32_t *cp)
{
    unsigned char c = (unsigned char)s[i];
    size_t len = c < 0x80             ? 1
                 : (c & 0xE0) == 0xC0 ? 2
                 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4
                                      : 0;
    if (len == 0 || i + len > n) {
        *cp = 0xFFFD;
        return 1;
    }
    uint32_t v = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
        unsigned char b = (unsigned char)s[i + k];
        if ((b & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = v << 6 | (b & 0x3F);
    }
    *cp = v;
    return len;
}

/* Python's str.isspace() (what str.split() splits on). */
static int is_space_cp(uint32_t c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F) || c == 0x85 ||
           c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* \w: ASCII letters, digits and '_', and code points outside the blocks of
 * punctuation, symbols, marks and emoji (an approximation of Unicode letters
 * and digits that is exact for the texts finsent sees). */
static int is_word_cp(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    static const uint32_t non_word[][2] = {
        {0x80, 0xBF},     {0xD7, 0xD7},     {0xF7, 0xF7},       {0x300, 0x36F},
        {0x2000, 0x2BFF}, {0x2E00, 0x2E7F}, {0x3000, 0x303F},   {0xFE00, 0xFE0F},
        {0xFE30, 0xFE4F}, {0xFF00, 0xFF0F}, {0xFF1A, 0xFF20},   {0xFF3B, 0xFF40},
        {0xFF5B, 0xFF65}, {0xFFF0, 0xFFFF}, {0x1F000, 0x1FAFF}, {0xE0000, 0xE007F},
    };
    if (c == 0xAA || c == 0xB2 || c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA ||
        (c >= 0xBC && c <= 0xBE))
        return 1; /* Latin-1 letters and digits among the symbols: ª ² ³ µ ¹ º ¼ ½ ¾ */
    for (size_t i = 0; i < FS_ARRAY_LEN(non_word); i++)
        if (c >= non_word[i][0] && c <= non_word[i][1])
            return 0;
    return 1;
}

static int is_symbol_token(uint32_t c)
{
    return c == '<' || c == '>' || c == '$' || c == '%' || c == '+' || c == '-';
}

/* Length of the URL prefix at s[0..n) when a non-space character follows it, or 0. */
static size_t url_prefix(const char *s, size_t n)
{
    size_t k = str_url_prefix(s, n);
    if (!k || k >= n)
        return 0;
    uint32_t next; /* the URL needs one more, non-space character */
    utf8_at(s, n, k, &next);
    return is_space_cp(next) ? 0 : k;
}

/* The text with URLs replaced by one space and ASCII letters lowercased. */
static void normalize(const char *text, size_t len, struct strbuf *out)
{
    sb_reset(out);
    int prev_word = 0;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        size_t k = utf8_at(text, len, i, &c);
        if (!prev_word && url_prefix(text + i, len - i)) {
            while (i < len && (k = utf8_at(text, len, i, &c), !is_space_cp(c)))
                i += k;
            sb_append_char(out, ' ');
            prev_word = 0;
            continue;
        }
        if (k == 1)
            sb_append_char(out, c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : text[i]);
        else
            sb_append_n(out, text + i, k);
        prev_word = is_word_cp(c);
        i += k;
    }
}

struct hits {
    uint32_t *a;
    size_t n, cap;
    int bits;
    struct strbuf key;
};

static void hit(struct hits *h, const char *s, size_t len, uint32_t block)
{
    h->a = xgrow(h->a, h->n, &h->cap, sizeof *h->a, 512);
    h->a[h->n++] = block + bucket_of(s, len, h->bits);
}

/* Word unigrams and bigrams of the normalised text s. */
static void word_hits(struct hits *h, const char *s, size_t n)
{
    size_t prev_at = 0, prev_len = 0;
    int have_prev = 0;
    for (size_t i = 0; i < n;) {
        size_t at = i;
        uint32_t c;
        size_t k = utf8_at(s, n, i, &c);
        if (is_word_cp(c)) {
            while (i < n && (k = utf8_at(s, n, i, &c), is_word_cp(c)))
                i += k;
        } else {
            i += k;
            if (!is_symbol_token(c))
                continue;
        }
        hit(h, s + at, i - at, 0);
        if (have_prev) {
            sb_reset(&h->key);
            sb_append_n(&h->key, s + prev_at, prev_len);
            sb_append_char(&h->key, ' ');
            sb_append_n(&h->key, s + at, i - at);
            hit(h, h->key.buf, h->key.len, 0);
        }
        prev_at = at, prev_len = i - at, have_prev = 1;
    }
}

/* Character 2..5-grams of one word w[0..n), padded with a space each side. */
static void char_hits_word(struct hits *h, const char *w, size_t n, uint32_t block)
{
    sb_reset(&h->key);
    sb_append_char(&h->key, ' ');
    sb_append_n(&h->key, w, n);
    sb_append_char(&h->key, ' ');
    const char *p = h->key.buf;
    size_t plen = h->key.len;
    /* code point starts, plus the end */
    size_t small[128], m = 0;
    size_t *cp = plen < FS_ARRAY_LEN(small) ? small : xmalloc((plen + 1) * sizeof *cp);
    for (size_t i = 0; i < plen; i++)
        if (((unsigned char)p[i] & 0xC0) != 0x80)
            cp[m++] = i;
    cp[m] = plen;
    for (size_t g = 2; g <= 5; g++) {
        if (m <= g) {
            hit(h, p, plen, block);
            break;
        }
        for (size_t i = 0; i + g <= m; i++)
            hit(h, p + cp[i], cp[i + g] - cp[i], block);
    }
    if (cp != small)
        free(cp);
}

static void char_hits(struct hits *h, const char *s, size_t n)
{
    uint32_t block = (uint32_t)1 << h->bits, c;
    for (size_t i = 0, k; i < n;) {
        while (i < n && (k = utf8_at(s, n, i, &c), is_space_cp(c)))
            i += k;
        size_t at = i;
        while (i < n && (k = utf8_at(s, n, i, &c), !is_space_cp(c)))
            i += k;
        if (i > at)
            char_hits_word(h, s + at, i - at, block);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static void vec_push(struct ngram_vec *v, uint32_t index, float value)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 256;
        v->index = xrealloc(v->index, (size_t)v->cap * sizeof *v->index);
        v->value = xrealloc(v->value, (size_t)v->cap * sizeof *v->value);
    }
    v->index[v->n] = index;
    v->value[v->n++] = value;
}

/* Distinct buckets of the text, increasing, each with its count. */
static void count_buckets(const struct ngram_model *m, const char *text, size_t len,
                          struct ngram_vec *v)
{
    struct strbuf norm = STRBUF_INIT;
    normalize(text, len, &norm);
    struct hits h = {NULL, 0, 0, m->bits, STRBUF_INIT};
    word_hits(&h, norm.buf ? norm.buf : "", norm.len);
    char_hits(&h, norm.buf ? norm.buf : "", norm.len);
    if (h.n > 1)
        qsort(h.a, h.n, sizeof *h.a, cmp_u32);
    v->n = 0;
    for (size_t i = 0; i < h.n;) {
        size_t j = i;
        while (j < h.n && h.a[j] == h.a[i])
            j++;
        vec_push(v, h.a[i], (float)(j - i));
        i = j;
    }
    free(h.a);
    sb_free(&h.key);
    sb_free(&norm);
}

/* Scales v[from..to) to unit L2 norm (unless all zero). */
static void normalize_block(struct ngram_vec *v, int from, int to)
{
    double ss = 0.0;
    for (int i = from; i < to; i++)
        ss += (double)v->value[i] * v->value[i];
    if (ss <= 0.0)
        return;
    float inv = (float)(1.0 / sqrt(ss));
    for (int i = from; i < to; i++)
        v->value[i] *= inv;
}

void ngram_featurize(const struct ngram_model *m, const char *text, size_t len, struct ngram_vec *v)
{
    count_buckets(m, text, len, v);
    int kept = 0, word_end = 0;
    uint32_t block = (uint32_t)1 << m->bits;
    for (int i = 0; i < v->n; i++) {
        float w = (1.0f + logf(v->value[i])) * m->idf[v->index[i]];
        if (w == 0.0f)
            continue;
        v->index[kept] = v->index[i];
        v->value[kept++] = w;
        if (v->index[i] < block)
            word_end = kept;
    }
    v->n = kept;
    normalize_block(v, 0, word_end);
    normalize_block(v, word_end, kept);
}

void ngram_vec_free(struct ngram_vec *v)
{
    free(v->index);
    free(v->value);
    memset(v, 0, sizeof *v);
}

void ngram_fit_idf(struct ngram_model *m, const char *const *texts, size_t n)
{
    size_t rows = ngram_rows(m), block = rows / 2;
    uint32_t *df = xcalloc(rows, sizeof *df);
    struct ngram_vec v = {0};
    for (size_t i = 0; i < n; i++) {
        count_buckets(m, texts[i], strlen(texts[i]), &v);
        for (int j = 0; j < v.n; j++)
            df[v.index[j]]++;
    }
    for (size_t r = 0; r < rows; r++) {
        int rare = df[r] < (r >= block ? NGRAM_CHAR_MIN_DF : 1);
        m->idf[r] = rare ? 0.0f : (float)(log((1.0 + (double)n) / (1.0 + df[r])) + 1.0);
    }
    ngram_vec_free(&v);
    free(df);
}

/* ---- the linear layer ---------------------------------------------------------------------- */

void ngram_logits(const struct ngram_model *m, const struct ngram_vec *v, float *logits)
{
    int K = m->K;
    memcpy(logits, m->bias, (size_t)K * sizeof(float));
    for (int i = 0; i < v->n; i++) {
        const float *row = m->weight + (size_t)v->index[i] * K;
        float x = v->value[i];
        for (int k = 0; k < K; k++)
            logits[k] += x * row[k];
    }
}

void ngram_predict_logits(const struct ngram_model *m, const char *text, size_t len,
                          struct ngram_vec *v, float *logits)
{
    ngram_featurize(m, text, len, v);
    ngram_logits(m, v, logits);
}

/* In place: z[0..n) becomes its log-softmax. */
static void log_softmax(float *z, int n)
{
    float mx = z[0];
    for (int j = 1; j < n; j++)
        mx = z[j] > mx ? z[j] : mx;
    double s = 0.0;
    for (int j = 0; j < n; j++)
        s += exp((double)(z[j] - mx));
    /* s >= 1: the largest element adds exp(0) */
    float lse = mx + (float)log(s); // cppcheck-suppress invalidFunctionArg
    for (int j = 0; j < n; j++)
        z[j] -= lse;
}

static void softmax(float *z, int n)
{
    log_softmax(z, n);
    for (int j = 0; j < n; j++)
        z[j] = expf(z[j]);
}

void ngram_mix_probs(const int *out_sizes, int n_out, float mix, const float *enc, const float *ng,
                     float *probs)
{
    float a[64], b[64];
    for (int h = 0, off = 0; h < n_out; off += out_sizes[h++]) {
        int n = out_sizes[h] < 64 ? out_sizes[h] : 64;
        memcpy(a, enc + off, (size_t)n * sizeof(float));
        log_softmax(a, n);
        if (mix > 0.0f && ng) {
            memcpy(b, ng + off, (size_t)n * sizeof(float));
            log_softmax(b, n);
            for (int j = 0; j < n; j++)
                a[j] = (1.0f - mix) * a[j] + mix * b[j];
        }
        softmax(a, n);
        memcpy(probs + off, a, (size_t)n * sizeof(float));
    }
}

/* ---- training ----------------------------------------------------------------------------------
 */

void ngram_train_options_default(struct ngram_train_options *o)
{
    o->epochs = 20;
    o->alpha = 5e-6;
    o->seed = 1;
}

/* Every example's feature vector, back to back (CSR). */
struct csr {
    size_t *start; /* [n + 1] */
    uint32_t *index;
    float *value;
};

static void featurize_all(const struct ngram_model *m, const struct dataset *ds, struct csr *c)
{
    size_t cap = 0, n = 0, vcap = 0;
    c->start = xmalloc((ds->n + 1) * sizeof *c->start);
    c->index = NULL, c->value = NULL;
    struct ngram_vec v = {0};
    for (size_t i = 0; i < ds->n; i++) {
        c->start[i] = n;
        ngram_featurize(m, ds->ex[i].text, strlen(ds->ex[i].text), &v);
        c->index = xgrow(c->index, n + (size_t)v.n, &cap, sizeof *c->index, 4096);
        c->value = xgrow(c->value, n + (size_t)v.n, &vcap, sizeof *c->value, 4096);
        memcpy(c->index + n, v.index, (size_t)v.n * sizeof *c->index);
        memcpy(c->value + n, v.value, (size_t)v.n * sizeof *c->value);
        n += (size_t)v.n;
    }
    c->start[ds->n] = n;
    ngram_vec_free(&v);
}

/* Plain SGD on the L2-regularised cross-entropy, step 1 / (alpha (t0 + t)) with
 * t0 as in Bottou's "optimal" schedule. Each head's weights are kept as
 * scale * v, so the weight decay of a step costs one multiplication. */
struct sgd {
    double alpha, t0;
    long t[MODEL_MAX_HEADS_OUT]; /* steps taken per head */
    double scale[MODEL_MAX_HEADS_OUT];
};

static void sgd_init(struct sgd *s, double alpha)
{
    memset(s, 0, sizeof *s);
    s->alpha = alpha;
    double typw = sqrt(1.0 / sqrt(alpha)); /* typical weight */
    s->t0 = 1.0 / (typw * alpha);
    for (int h = 0; h < MODEL_MAX_HEADS_OUT; h++)
        s->scale[h] = 1.0;
}

/* Folds head h's scale into its columns of the weight matrix. */
static void sgd_fold(struct ngram_model *m, struct sgd *s, int h, int off)
{
    size_t rows = ngram_rows(m);
    float sc = (float)s->scale[h];
    for (size_t r = 0; r < rows; r++)
        for (int j = 0; j < m->out_sizes[h]; j++)
            m->weight[r * m->K + off + j] *= sc;
    s->scale[h] = 1.0;
}

/* One example of head h (columns off..off+nh): softmax, then the step. */
static void train_example(struct ngram_model *m, struct sgd *s, int h, int off, const uint32_t *idx,
                          const float *val, size_t nf, int label)
{
    int nh = m->out_sizes[h];
    float z[64];
    for (int j = 0; j < nh; j++)
        z[j] = 0.0f;
    for (size_t i = 0; i < nf; i++) {
        const float *row = m->weight + (size_t)idx[i] * m->K + off;
        for (int j = 0; j < nh; j++)
            z[j] += val[i] * row[j];
    }
    for (int j = 0; j < nh; j++)
        z[j] = z[j] * (float)s->scale[h] + m->bias[off + j];
    softmax(z, nh);
    z[label] -= 1.0f; /* d loss / d z */
    double eta = 1.0 / (s->alpha * (s->t0 + (double)s->t[h]++));
    s->scale[h] *= 1.0 - eta * s->alpha;
    if (s->scale[h] < 1e-6)
        sgd_fold(m, s, h, off);
    float step = (float)(eta / s->scale[h]);
    for (size_t i = 0; i < nf; i++) {
        float *row = m->weight + (size_t)idx[i] * m->K + off;
        for (int j = 0; j < nh; j++)
            row[j] -= step * val[i] * z[j];
    }
    for (int j = 0; j < nh; j++) /* the bias moves slower, as for sparse data */
        m->bias[off + j] -= (float)(0.01 * eta) * z[j];
}

int ngram_train(struct ngram_model *m, const struct dataset *ds,
                const struct ngram_train_options *o, struct fs_error *err)
{
    if (ds->n == 0)
        return fs_error_set(err, "no training examples");
    const char **texts = xmalloc(ds->n * sizeof *texts);
    for (size_t i = 0; i < ds->n; i++)
        texts[i] = ds->ex[i].text;
    ngram_fit_idf(m, texts, ds->n);
    free(texts);
    struct csr c;
    featurize_all(m, ds, &c);
    memset(m->weight, 0, ngram_rows(m) * (size_t)m->K * sizeof(float));
    memset(m->bias, 0, (size_t)m->K * sizeof(float));
    struct sgd sgd;
    sgd_init(&sgd, o->alpha);
    int offs[MODEL_MAX_HEADS_OUT + 1] = {0};
    for (int h = 0; h < m->n_out; h++)
        offs[h + 1] = offs[h] + m->out_sizes[h];
    size_t *order = xmalloc(ds->n * sizeof *order);
    for (size_t i = 0; i < ds->n; i++)
        order[i] = i;
    uint64_t rng = o->seed;
    for (int ep = 0; ep < o->epochs; ep++) {
        fs_shuffle(order, ds->n, &rng);
        for (size_t k = 0; k < ds->n; k++) {
            size_t r = order[k];
            int h = (int)ds->ex[r].task;
            if (h < 0 || h >= m->n_out || ds->ex[r].label < 0 ||
                ds->ex[r].label >= m->out_sizes[h] || m->out_sizes[h] > 64)
                continue;
            train_example(m, &sgd, h, offs[h], c.index + c.start[r], c.value + c.start[r],
                          c.start[r + 1] - c.start[r], ds->ex[r].label);
        }
    }
    for (int h = 0; h < m->n_out; h++)
        sgd_fold(m, &sgd, h, offs[h]);
    free(order);
    free(c.start), free(c.index), free(c.value);
    return 0;
}
