/*
 * wordpiece.c — BERT's WordPiece tokenizer, stage by stage as in wordpiece.h:
 * vocabulary (hash table), Unicode predicates (unicode_tables.h), normalisation of
 * a chunk of text, words, greedy longest-match pieces, then encode / words /
 * serialisation on top.
 */
#include "classify/wordpiece.h"
#include "classify/unicode_tables.h"
#include "classify/vocab_text.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WP_FORMAT "finsent-wordpiece 1"

static const char *const special_names[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
enum { SP_PAD, SP_UNK, SP_CLS, SP_SEP, SP_MASK, SP_N };

struct wordpiece {
    struct wordpiece_options opt;
    int32_t n;           /* vocabulary size */
    char *pool;          /* every token, NUL-terminated, in id order */
    size_t *off;         /* token i at pool + off[i], length off[i+1] - off[i] - 1 */
    int32_t *slots;      /* open addressing: id or -1 */
    size_t mask;         /* slots has mask + 1 entries (a power of two) */
    int max_piece_chars; /* the longest token, in characters */
    int32_t special[SP_N];
};

/* ---- vocabulary: tokens and their hash table ------------------------------------- */

static uint64_t fnv_step(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

#define FNV_INIT 0xcbf29ce484222325ULL

static size_t piece_len(const struct wordpiece *wp, int32_t id)
{
    return wp->off[id + 1] - wp->off[id] - 1;
}

/* The id of "##"-prefixed (cont) or bare s[0..n), -1 when absent. */
static int32_t vocab_find(const struct wordpiece *wp, int cont, const char *s, size_t n)
{
    uint64_t h = fnv_step(fnv_step(FNV_INIT, "##", cont ? 2 : 0), s, n);
    size_t want = n + (cont ? 2 : 0);
    for (size_t i = (size_t)h & wp->mask;; i = (i + 1) & wp->mask) {
        int32_t id = wp->slots[i];
        if (id < 0)
            return -1;
        const char *p = wp->pool + wp->off[id];
        if (piece_len(wp, id) == want && (!cont || memcmp(p, "##", 2) == 0) &&
            memcmp(p + (cont ? 2 : 0), s, n) == 0)
            return id;
    }
}

/* Inserts token id; a duplicate takes over its slot (the later id wins). */
static void vocab_insert(struct wordpiece *wp, int32_t id)
{
    const char *p = wp->pool + wp->off[id];
    size_t n = piece_len(wp, id);
    for (size_t i = (size_t)fnv_step(FNV_INIT, p, n) & wp->mask;; i = (i + 1) & wp->mask) {
        int32_t o = wp->slots[i];
        if (o < 0 || (piece_len(wp, o) == n && memcmp(wp->pool + wp->off[o], p, n) == 0)) {
            wp->slots[i] = id;
            return;
        }
    }
}

/* Length of the valid UTF-8 sequence at s[0..n), 0 when invalid (see wordpiece.h). */
static int utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    int len = 0;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    if (len == 0 || (size_t)len > n)
        return 0;
    unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range */
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F; /* no surrogates */
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F; /* nothing above U+10FFFF */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (int i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/* Decodes the character at text[*i] (advancing *i); invalid bytes read as U+FFFD,
 * one byte at a time. */
static uint32_t utf8_next(const char *text, size_t len, size_t *i)
{
    const unsigned char *s = (const unsigned char *)text + *i;
    int n = utf8_len(s, len - *i);
    if (n == 0) {
        (*i)++;
        return 0xFFFD;
    }
    *i += (size_t)n;
    if (n == 1)
        return s[0];
    uint32_t cp = s[0] & (0x7F >> n);
    for (int k = 1; k < n; k++)
        cp = cp << 6 | (s[k] & 0x3F);
    return cp;
}

static int utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Checks a token: valid UTF-8, no NUL, at most WP_MAX_PIECE bytes. Returns its
 * length in characters, or -1 with the reason in err. */
static int token_check(const char *s, size_t n, struct fs_error *err)
{
    if (n > WP_MAX_PIECE)
        return fs_error_set(err, "token longer than %d bytes", WP_MAX_PIECE);
    int chars = 0;
    for (size_t i = 0; i < n; chars++) {
        int l = utf8_len((const unsigned char *)s + i, n - i);
        if (l == 0)
            return fs_error_set(err, "token is not valid UTF-8");
        if (s[i] == '\0')
            return fs_error_set(err, "token holds a NUL byte");
        i += (size_t)l;
    }
    return chars;
}

/* Builds the hash table and finds the special tokens once every token is in. */
static int vocab_finish(struct wordpiece *wp, struct fs_error *err)
{
    size_t cap = 16;
    while (cap < (size_t)wp->n * 2)
        cap *= 2;
    wp->mask = cap - 1;
    wp->slots = xmalloc(cap * sizeof *wp->slots);
    memset(wp->slots, 0xFF, cap * sizeof *wp->slots); /* -1 */
    for (int32_t id = 0; id < wp->n; id++)
        vocab_insert(wp, id);
    for (int k = 0; k < SP_N; k++) {
        wp->special[k] = vocab_find(wp, 0, special_names[k], strlen(special_names[k]));
        if (wp->special[k] < 0)
            return fs_error_set(err, "the vocabulary lacks %s", special_names[k]);
    }
    return 0;
}

/* Accumulates tokens while a vocabulary is read. */
struct vocab_builder {
    struct wordpiece *wp;
    struct strbuf pool;
    size_t cap;
};

static void builder_init(struct vocab_builder *b, const struct wordpiece_options *opt)
{
    b->wp = xcalloc(1, sizeof *b->wp);
    b->wp->opt = *opt;
    b->pool = (struct strbuf)STRBUF_INIT;
    b->cap = 0;
}

static int builder_add(struct vocab_builder *b, const char *s, size_t n, struct fs_error *err)
{
    struct wordpiece *wp = b->wp;
    if (wp->n >= WP_MAX_VOCAB)
        return fs_error_set(err, "more than %d tokens", WP_MAX_VOCAB);
    int chars = token_check(s, n, err);
    if (chars < 0)
        return -1;
    wp->off = xgrow(wp->off, (size_t)wp->n + 1, &b->cap, sizeof *wp->off, 1024);
    wp->off[wp->n++] = b->pool.len;
    sb_append_n(&b->pool, s, n);
    sb_append_char(&b->pool, '\0');
    if (chars > wp->max_piece_chars)
        wp->max_piece_chars = chars;
    return 0;
}

/* Completes the tokenizer (*out) or frees everything. */
static int builder_done(struct vocab_builder *b, int ok, struct wordpiece **out,
                        struct fs_error *err)
{
    struct wordpiece *wp = b->wp;
    wp->off = xgrow(wp->off, (size_t)wp->n + 1, &b->cap, sizeof *wp->off, 1024);
    wp->off[wp->n] = b->pool.len;
    wp->pool = sb_detach(&b->pool);
    if (ok == 0 && vocab_finish(wp, err) == 0) {
        *out = wp;
        return 0;
    }
    wordpiece_free(wp);
    return -1;
}

int wordpiece_from_vocab(const char *vocab, size_t len, const struct wordpiece_options *opt,
                         struct wordpiece **out, struct fs_error *err)
{
    *out = NULL;
    struct vocab_builder b;
    builder_init(&b, opt);
    int rc = 0, line = 0;
    for (size_t i = 0; i < len && rc == 0;) {
        const char *s = vocab + i;
        const char *nl = memchr(s, '\n', len - i);
        size_t n = nl ? (size_t)(nl - s) : len - i;
        i += n + (nl ? 1 : 0);
        line++;
        if (n > 0 && s[n - 1] == '\r')
            n--;
        if (builder_add(&b, s, n, err) < 0)
            rc = fs_error_prefix(err, "line %d", line);
    }
    return builder_done(&b, rc, out, err);
}

/* ---- tokenizer_config.json --------------------------------------------------------- */

static int config_bool(json_t *root, const char *key, int *out, int null_ok, struct fs_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!v || (null_ok && json_is_null(v)))
        return 0;
    if (!json_is_boolean(v))
        return fs_error_set(err, "\"%s\" is not a boolean", key);
    *out = json_is_true(v);
    return 0;
}

static int config_parse(const char *text, size_t len, struct wordpiece_options *opt,
                        struct fs_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root)
        return fs_error_set(err, "line %d: %s", je.line, je.text);
    int strip = -1, rc = 0;
    if (!json_is_object(root))
        rc = fs_error_set(err, "not a JSON object");
    if (rc == 0)
        rc = config_bool(root, "do_lower_case", &opt->lowercase, 0, err);
    if (rc == 0)
        rc = config_bool(root, "strip_accents", &strip, 1, err);
    if (rc == 0)
        rc = config_bool(root, "tokenize_chinese_chars", &opt->chinese_chars, 0, err);
    opt->strip_accents = strip >= 0 ? strip : opt->lowercase;
    json_decref(root);
    return rc;
}

int wordpiece_load_dir(const char *dir, struct wordpiece **out, struct fs_error *err)
{
    *out = NULL;
    struct wordpiece_options opt = {1, 1, 1};
    char *path = path_join(dir, "tokenizer_config.json"), *data = NULL;
    size_t len = 0;
    int rc = 0;
    FILE *probe = fopen(path, "rb");
    if (probe) {
        fclose(probe);
        rc = file_read_all(path, WP_MAX_FILE, &data, &len, err);
        if (rc == 0 && config_parse(data, len, &opt, err) < 0)
            rc = fs_error_prefix(err, "%s", path);
        free(data);
        data = NULL;
    }
    free(path);
    if (rc < 0)
        return -1;
    path = path_join(dir, "vocab.txt");
    rc = file_read_all(path, WP_MAX_FILE, &data, &len, err);
    if (rc == 0 && wordpiece_from_vocab(data, len, &opt, out, err) < 0)
        rc = fs_error_prefix(err, "%s", path);
    free(data);
    free(path);
    return rc;
}

/* ---- Unicode predicates (tables: unicode_tables.h) --------------------------------- */

static int in_ranges(const struct uc_range *r, size_t n, uint32_t cp)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid].first)
            hi = mid;
        else if (cp > r[mid].last)
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

#define IN_TABLE(t, cp) in_ranges(t, FS_ARRAY_LEN(t), cp)

/* Dropped by clean_text: NUL, U+FFFD and control characters. */
static int is_dropped(uint32_t cp)
{
    if (cp < 0x80)
        return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0x7F;
    return cp == 0xFFFD || IN_TABLE(uc_control, cp);
}

static int is_space(uint32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r';
    return IN_TABLE(uc_space, cp);
}

static int is_punct(uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
               (cp >= 123 && cp <= 126);
    return IN_TABLE(uc_punct, cp);
}

static int is_mn(uint32_t cp)
{
    return cp >= 0x300 && IN_TABLE(uc_mn, cp);
}

/* tokenizers' is_chinese_char (note U+2B920, where the Python tokenizer has U+2B820). */
static int is_cjk(uint32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B81F) ||
           (cp >= 0x2B920 && cp <= 0x2CEAF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0x2F800 && cp <= 0x2FA1F);
}

static uint32_t ccc_of(uint32_t cp)
{
    if (cp < 0x300)
        return 0;
    size_t lo = 0, hi = FS_ARRAY_LEN(uc_ccc);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < uc_ccc[mid].first)
            hi = mid;
        else if (cp > uc_ccc[mid].last)
            lo = mid + 1;
        else
            return uc_ccc[mid].ccc;
    }
    return 0;
}

/* The simple lowercase of cp (U+0130 is handled by the caller). */
static uint32_t lower_of(uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    size_t lo = 0, hi = FS_ARRAY_LEN(uc_lower);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const struct uc_lower_range *r = &uc_lower[mid];
        if (cp < r->first)
            hi = mid;
        else if (cp > r->last)
            lo = mid + 1;
        else
            return (cp - r->first) % r->stride == 0 ? (uint32_t)((int32_t)cp + r->delta) : cp;
    }
    return cp;
}

/* The canonical decomposition of cp from the table, or NULL (n = 0). */
static const uint32_t *decomp_of(uint32_t cp, int *n)
{
    *n = 0;
    if (cp < 0xC0)
        return NULL;
    size_t lo = 0, hi = FS_ARRAY_LEN(uc_decomp);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < uc_decomp[mid].cp)
            hi = mid;
        else if (cp > uc_decomp[mid].cp)
            lo = mid + 1;
        else {
            *n = uc_decomp[mid].len;
            return uc_decomp_pool + uc_decomp[mid].offset;
        }
    }
    return NULL;
}

/* ---- normalisation of one chunk (steps 1-5) ---------------------------------------- */

/* A normalised character and the source bytes it comes from. */
struct wp_char {
    uint32_t cp;
    size_t src, end;
};

struct wp_chars {
    struct wp_char *c;
    size_t n, cap;
};

static void chars_push(struct wp_chars *v, uint32_t cp, size_t src, size_t end)
{
    v->c = xgrow(v->c, v->n, &v->cap, sizeof *v->c, 64);
    v->c[v->n++] = (struct wp_char){cp, src, end};
}

/* Appends the canonical decomposition of cp (Hangul syllables algorithmically). */
static void push_nfd(struct wp_chars *v, uint32_t cp, size_t src, size_t end)
{
    if (cp >= 0xAC00 && cp <= 0xD7A3) {
        uint32_t s = cp - 0xAC00;
        chars_push(v, 0x1100 + s / 588, src, end);
        chars_push(v, 0x1161 + s % 588 / 28, src, end);
        if (s % 28)
            chars_push(v, 0x11A7 + s % 28, src, end);
        return;
    }
    int n;
    const uint32_t *d = decomp_of(cp, &n);
    if (!d) {
        chars_push(v, cp, src, end);
        return;
    }
    for (int k = 0; k < n; k++)
        chars_push(v, d[k], src, end);
}

/* NFD's canonical ordering: a stable sort by combining class of each run of
 * characters whose class is not 0. */
static void canonical_order(struct wp_chars *v)
{
    for (size_t i = 1; i < v->n; i++) {
        uint32_t k = ccc_of(v->c[i].cp);
        if (k == 0)
            continue;
        struct wp_char x = v->c[i];
        size_t j = i;
        while (j > 0 && ccc_of(v->c[j - 1].cp) > k) {
            v->c[j] = v->c[j - 1];
            j--;
        }
        v->c[j] = x;
    }
}

/* Steps 1-3 (and 4's decomposition) of text[a..b) into raw. */
static void normalize_first(const struct wordpiece *wp, const char *text, size_t a, size_t b,
                            struct wp_chars *raw)
{
    raw->n = 0;
    for (size_t i = a; i < b;) {
        size_t src = i;
        uint32_t cp = utf8_next(text, b, &i);
        if (is_dropped(cp))
            continue;
        if (is_space(cp))
            cp = ' ';
        int cjk = wp->opt.chinese_chars && is_cjk(cp);
        if (cjk)
            chars_push(raw, ' ', src, i);
        if (wp->opt.strip_accents)
            push_nfd(raw, cp, src, i);
        else
            chars_push(raw, cp, src, i);
        if (cjk)
            chars_push(raw, ' ', src, i);
    }
    if (wp->opt.strip_accents)
        canonical_order(raw);
}

/* Steps 4 (marks dropped) and 5 from raw into out. */
static void normalize_second(const struct wordpiece *wp, const struct wp_chars *raw,
                             struct wp_chars *out)
{
    out->n = 0;
    for (size_t i = 0; i < raw->n; i++) {
        const struct wp_char *c = &raw->c[i];
        if (wp->opt.strip_accents && is_mn(c->cp))
            continue;
        if (wp->opt.lowercase && c->cp == 0x130) {
            chars_push(out, 'i', c->src, c->end);
            chars_push(out, 0x307, c->src, c->end);
        } else {
            chars_push(out, wp->opt.lowercase ? lower_of(c->cp) : c->cp, c->src, c->end);
        }
    }
}

/* ---- words (step 0 and 6) ----------------------------------------------------------- */

/* A word: normalised characters, or a special token (special >= 0, n = 0). */
struct wp_word {
    const struct wp_char *c;
    size_t n;
    int32_t special;
    size_t src, end; /* the source bytes */
};

/* Called for each word in order; returns nonzero to stop the scan. */
typedef int (*wp_word_fn)(void *ctx, const struct wp_word *w);

struct wp_scan {
    const struct wordpiece *wp;
    wp_word_fn fn;
    void *ctx;
    struct wp_chars raw, norm;
};

/* The special token at text[i..len), its index, or -1. */
static int special_at(const char *text, size_t len, size_t i)
{
    if (text[i] != '[')
        return -1;
    for (int k = 0; k < SP_N; k++) {
        size_t n = strlen(special_names[k]);
        if (len - i >= n && memcmp(text + i, special_names[k], n) == 0)
            return k;
    }
    return -1;
}

static int emit_word(struct wp_scan *s, const struct wp_char *c, size_t n)
{
    struct wp_word w = {c, n, -1, c[0].src, c[0].end};
    for (size_t k = 1; k < n; k++) {
        if (c[k].src < w.src)
            w.src = c[k].src;
        if (c[k].end > w.end)
            w.end = c[k].end;
    }
    return s->fn(s->ctx, &w);
}

/* Normalises text[a..b) and hands its words over; returns nonzero when stopped. */
static int scan_chunk(struct wp_scan *s, const char *text, size_t a, size_t b)
{
    normalize_first(s->wp, text, a, b, &s->raw);
    normalize_second(s->wp, &s->raw, &s->norm);
    const struct wp_char *c = s->norm.c;
    size_t start = 0, n = s->norm.n;
    for (size_t i = 0; i <= n; i++) {
        int sep = i == n || is_space(c[i].cp), punct = !sep && is_punct(c[i].cp);
        if (!sep && !punct)
            continue;
        if (i > start && emit_word(s, c + start, i - start))
            return 1;
        if (punct && emit_word(s, c + i, 1))
            return 1;
        start = i + 1;
    }
    return 0;
}

static int is_ascii_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Scans the whole text, in chunks that end at ASCII whitespace or before '[': no
 * word, nor NFD's reordering, crosses those, so chunks normalise independently and
 * the scan can stop early. */
static void scan_text(const struct wordpiece *wp, const char *text, size_t len, wp_word_fn fn,
                      void *ctx)
{
    struct wp_scan s = {wp, fn, ctx, {0}, {0}};
    for (size_t i = 0; i < len;) {
        int sp = special_at(text, len, i);
        if (sp >= 0) {
            size_t n = strlen(special_names[sp]);
            struct wp_word w = {NULL, 0, wp->special[sp], i, i + n};
            if (fn(ctx, &w))
                break;
            i += n;
            continue;
        }
        if (is_ascii_space(text[i])) {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < len && !is_ascii_space(text[j]) && text[j] != '[')
            j++;
        if (scan_chunk(&s, text, i, j))
            break;
        i = j;
    }
    free(s.raw.c);
    free(s.norm.c);
}

/* ---- WordPiece (step 7) -------------------------------------------------------------- */

/* Cuts a word into pieces (out: room for WP_MAX_WORD_CHARS ids). Returns the count. */
static int word_pieces(const struct wordpiece *wp, const struct wp_word *w, int32_t *out)
{
    if (w->special >= 0) {
        out[0] = w->special;
        return 1;
    }
    if (w->n > WP_MAX_WORD_CHARS) {
        out[0] = wp->special[SP_UNK];
        return 1;
    }
    char buf[WP_MAX_WORD_CHARS * 4];
    int off[WP_MAX_WORD_CHARS + 1], n = (int)w->n, k = 0;
    off[0] = 0;
    for (int i = 0; i < n; i++)
        off[i + 1] = off[i] + utf8_put(w->c[i].cp, buf + off[i]);
    for (int start = 0; start < n;) {
        int end = start + wp->max_piece_chars < n ? start + wp->max_piece_chars : n;
        int32_t id = -1;
        while (end > start) {
            id = vocab_find(wp, start > 0, buf + off[start], (size_t)(off[end] - off[start]));
            if (id >= 0)
                break;
            end--;
        }
        if (id < 0) {
            out[0] = wp->special[SP_UNK];
            return 1;
        }
        out[k++] = id;
        start = end;
    }
    return k;
}

/* ---- encode and words ---------------------------------------------------------------- */

struct encode_ctx {
    const struct wordpiece *wp;
    int32_t *ids, *word_of;
    int n, limit; /* ids so far (after [CLS]) and the last index for pieces */
    int32_t word;
};

static int encode_word(void *p, const struct wp_word *w)
{
    struct encode_ctx *e = p;
    int32_t pieces[WP_MAX_WORD_CHARS];
    int k = word_pieces(e->wp, w, pieces);
    for (int i = 0; i < k && e->n < e->limit; i++) {
        e->ids[e->n] = pieces[i];
        if (e->word_of)
            e->word_of[e->n] = e->word;
        e->n++;
    }
    e->word++;
    return e->n >= e->limit;
}

int wordpiece_encode(const struct wordpiece *wp, const char *text, size_t len, int32_t *ids,
                     int32_t *word_of, int max_len)
{
    if (max_len < 2)
        return 0;
    struct encode_ctx e = {wp, ids, word_of, 1, max_len - 1, 0};
    ids[0] = wp->special[SP_CLS];
    if (word_of)
        word_of[0] = -1;
    if (text && e.n < e.limit)
        scan_text(wp, text, len, encode_word, &e);
    ids[e.n] = wp->special[SP_SEP];
    if (word_of)
        word_of[e.n] = -1;
    return e.n + 1;
}

struct words_ctx {
    const char *text;
    char **words;
    int n;
    size_t cap;
};

/* The surface form of text[src..end): its characters less those clean_text drops. */
static char *surface(const char *text, size_t src, size_t end)
{
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = src; i < end;) {
        size_t at = i;
        uint32_t cp = utf8_next(text, end, &i);
        if (!is_dropped(cp))
            sb_append_n(&sb, text + at, i - at);
    }
    return sb_detach(&sb);
}

static int collect_word(void *p, const struct wp_word *w)
{
    struct words_ctx *c = p;
    c->words = xgrow(c->words, (size_t)c->n, &c->cap, sizeof *c->words, 32);
    c->words[c->n++] = surface(c->text, w->src, w->end);
    return 0;
}

int wordpiece_words(const struct wordpiece *wp, const char *text, size_t len, char ***words)
{
    struct words_ctx c = {text, NULL, 0, 0};
    if (text)
        scan_text(wp, text, len, collect_word, &c);
    *words = c.words;
    return c.n;
}

void wordpiece_words_free(char **words, int n)
{
    for (int i = 0; i < n; i++)
        free(words[i]);
    free(words);
}

/* ---- accessors ------------------------------------------------------------------------ */

int wordpiece_vocab_size(const struct wordpiece *wp)
{
    return wp->n;
}

const char *wordpiece_piece(const struct wordpiece *wp, int32_t id)
{
    return id >= 0 && id < wp->n ? wp->pool + wp->off[id] : NULL;
}

int32_t wordpiece_id(const struct wordpiece *wp, const char *piece)
{
    return vocab_find(wp, 0, piece, strlen(piece));
}

int32_t wordpiece_pad_id(const struct wordpiece *wp)
{
    return wp->special[SP_PAD];
}

int32_t wordpiece_unk_id(const struct wordpiece *wp)
{
    return wp->special[SP_UNK];
}

int32_t wordpiece_cls_id(const struct wordpiece *wp)
{
    return wp->special[SP_CLS];
}

int32_t wordpiece_sep_id(const struct wordpiece *wp)
{
    return wp->special[SP_SEP];
}

int32_t wordpiece_mask_id(const struct wordpiece *wp)
{
    return wp->special[SP_MASK];
}

void wordpiece_get_options(const struct wordpiece *wp, struct wordpiece_options *opt)
{
    *opt = wp->opt;
}

void wordpiece_free(struct wordpiece *wp)
{
    if (!wp)
        return;
    free(wp->pool);
    free(wp->off);
    free(wp->slots);
    free(wp);
}

/* ---- serialisation -------------------------------------------------------------------- */

char *wordpiece_serialize(const struct wordpiece *wp, size_t *len)
{
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s\noptions lowercase=%d strip_accents=%d chinese_chars=%d\npieces %d\n",
               WP_FORMAT, wp->opt.lowercase != 0, wp->opt.strip_accents != 0,
               wp->opt.chinese_chars != 0, wp->n);
    for (int32_t id = 0; id < wp->n; id++) {
        vocab_text_escape(&sb, wp->pool + wp->off[id], piece_len(wp, id));
        sb_append_char(&sb, '\n');
    }
    sb_appendf(&sb, "checksum %016llx\n", (unsigned long long)hash64(sb.buf, sb.len, 0));
    if (len)
        *len = sb.len;
    return sb_detach(&sb);
}

/* "options lowercase=D strip_accents=D chinese_chars=D", each D 0 or 1. */
static int parse_options(const char *s, size_t n, struct wordpiece_options *opt)
{
    static const char fmt[] = "options lowercase=0 strip_accents=0 chinese_chars=0";
    if (n != sizeof fmt - 1)
        return -1;
    int *dst[3] = {&opt->lowercase, &opt->strip_accents, &opt->chinese_chars};
    int k = 0;
    for (size_t i = 0; i < n; i++) {
        if (fmt[i] == '0') {
            if (s[i] != '0' && s[i] != '1')
                return -1;
            *dst[k++] = s[i] - '0';
        } else if (s[i] != fmt[i]) {
            return -1;
        }
    }
    return 0;
}

static int deserialize_body(struct vocab_lines *r, struct wordpiece **out, struct fs_error *err)
{
    const char *s;
    size_t n;
    if (vocab_lines_next(r, &s, &n) < 0 || n != strlen(WP_FORMAT) || memcmp(s, WP_FORMAT, n) != 0)
        return fs_error_set(err, "not a finsent wordpiece tokenizer (format line)");
    struct wordpiece_options opt;
    if (vocab_lines_next(r, &s, &n) < 0 || parse_options(s, n, &opt) < 0)
        return fs_error_set(err, "line %d: bad options", r->line);
    long count;
    if (vocab_lines_next(r, &s, &n) < 0 ||
        vocab_text_count(s, n, "pieces ", WP_MAX_VOCAB, &count) < 0)
        return fs_error_set(err, "line %d: bad piece count", r->line);
    if (count > r->end - r->p)
        return fs_error_set(err, "piece count %ld larger than the data", count);
    struct vocab_builder b;
    builder_init(&b, &opt);
    char buf[WP_MAX_PIECE];
    int rc = 0;
    for (long id = 0; id < count && rc == 0; id++) {
        int l;
        if (vocab_lines_next(r, &s, &n) < 0)
            rc = fs_error_set(err, "truncated after %ld of %ld pieces", id, count);
        else if ((l = vocab_text_unescape(s, n, buf, WP_MAX_PIECE)) < 0)
            rc = fs_error_set(err, "line %d: bad escape", r->line);
        else if (builder_add(&b, buf, (size_t)l, err) < 0)
            rc = fs_error_prefix(err, "line %d", r->line);
    }
    return builder_done(&b, rc, out, err);
}

int wordpiece_deserialize(const char *data, size_t len, struct wordpiece **out,
                          struct fs_error *err)
{
    *out = NULL;
    if (!data)
        return fs_error_set(err, "wordpiece: no data");
    /* the checksum is checked first, so that corrupt data is caught whole */
    const char *tail = "\nchecksum ";
    size_t tl = strlen(tail), cl = tl + 16 + 1;
    if (len < cl + 1 || data[len - 1] != '\n' || memcmp(data + len - cl, tail, tl) != 0)
        return fs_error_set(err, "wordpiece: truncated or corrupt (no checksum line)");
    uint64_t want = 0;
    for (size_t i = len - 17; i < len - 1; i++) {
        char c = data[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (d < 0)
            return fs_error_set(err, "wordpiece: corrupt checksum line");
        want = want << 4 | (uint64_t)d;
    }
    size_t body = len - cl + 1;
    if (hash64(data, body, 0) != want)
        return fs_error_set(err, "wordpiece: checksum mismatch (corrupt data)");
    struct vocab_lines r = {data, data + body, 0};
    if (deserialize_body(&r, out, err) < 0)
        return fs_error_prefix(err, "wordpiece");
    if (r.p != r.end) {
        wordpiece_free(*out);
        *out = NULL;
        return fs_error_set(err, "wordpiece: line %d: unexpected data after the pieces",
                            r.line + 1);
    }
    return 0;
}
