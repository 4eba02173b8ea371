/*
 * tokenizer.c — finsent's subword tokenizer.
 *
 * Three layers, in this order:
 *   1. normalisation: HTML entities decoded, a lowercase (ASCII) copy made;
 *   2. the word scanner: splits the text into words of a kind (text, punctuation,
 *      symbol, URL, @user, $ticker, number) over the decoded text, so the words
 *      keep their surface form for explanations;
 *   3. subwords: each text-like word is cut into pieces of the vocabulary by
 *      greedy longest match (WordPiece style, "##" marks a piece that continues
 *      a word). The vocabulary is learned by BPE merges over the training words.
 * Serialisation is a line-based text with a checksum (see tokenizer_serialize).
 */
#include "classify/tokenizer.h"

#include "classify/vocab_text.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOK_MAX_PIECE 32 /* longest piece in bytes (BPE stops growing pieces there) */
#define TOK_MAX_VOCAB 1000000
#define TOK_MIN_PAIR_COUNT 2 /* a merge must be seen at least this often */
#define TOK_FORMAT "finsent-tokenizer 1"

static const char *const special_names[TOK_N_SPECIAL] = {"[PAD]", "[UNK]",  "[CLS]",    "[SEP]",
                                                         "<url>", "<user>", "<ticker>", "<num>"};

struct tokenizer {
    int n_pieces;
    char **bytes;   /* the piece's bytes (NUL-terminated), without any "##" */
    uint16_t *len;  /* bytes length */
    uint8_t *cont;  /* 1: continues a word ("##" piece) */
    char **display; /* "##ing" for continuations, the bytes otherwise */
    int cap;
    int32_t *slots; /* open-addressing table of piece ids, -1 = empty */
    size_t n_slots; /* power of two */
    int max_piece_len;
    struct tokenizer_options opt;
};

/* ---- the piece table ----------------------------------------------------------- */

static uint64_t piece_hash(const char *s, size_t n, int cont)
{
    return hash64(s, n, cont ? 0x9e3779b97f4a7c15ULL : 0);
}

static int32_t piece_find(const struct tokenizer *tok, const char *s, size_t n, int cont)
{
    if (!tok->n_slots)
        return -1;
    size_t mask = tok->n_slots - 1;
    for (size_t i = piece_hash(s, n, cont) & mask;; i = (i + 1) & mask) {
        int32_t id = tok->slots[i];
        if (id < 0)
            return -1;
        if (tok->len[id] == n && tok->cont[id] == cont && memcmp(tok->bytes[id], s, n) == 0)
            return id;
    }
}

static void slots_insert(struct tokenizer *tok, int32_t id)
{
    size_t mask = tok->n_slots - 1;
    size_t i = piece_hash(tok->bytes[id], tok->len[id], tok->cont[id]) & mask;
    while (tok->slots[i] >= 0)
        i = (i + 1) & mask;
    tok->slots[i] = id;
}

static void slots_rehash(struct tokenizer *tok, size_t n_slots)
{
    free(tok->slots);
    tok->n_slots = n_slots;
    tok->slots = xmalloc(n_slots * sizeof *tok->slots);
    memset(tok->slots, 0xff, n_slots * sizeof *tok->slots);
    for (int32_t id = TOK_N_SPECIAL; id < tok->n_pieces; id++)
        slots_insert(tok, id);
}

/* Appends a piece (specials are stored but never looked up). Returns its id. */
static int32_t piece_add(struct tokenizer *tok, const char *s, size_t n, int cont)
{
    if (tok->n_pieces == tok->cap) {
        tok->cap = tok->cap ? tok->cap * 2 : 512;
        tok->bytes = xrealloc(tok->bytes, (size_t)tok->cap * sizeof *tok->bytes);
        tok->len = xrealloc(tok->len, (size_t)tok->cap * sizeof *tok->len);
        tok->cont = xrealloc(tok->cont, (size_t)tok->cap * sizeof *tok->cont);
        tok->display = xrealloc(tok->display, (size_t)tok->cap * sizeof *tok->display);
    }
    int32_t id = tok->n_pieces++;
    tok->bytes[id] = xstrndup(s, n);
    tok->len[id] = (uint16_t)n;
    tok->cont[id] = (uint8_t)(cont != 0);
    if (cont) {
        char *d = xmalloc(n + 3);
        d[0] = d[1] = '#';
        memcpy(d + 2, s, n);
        d[n + 2] = '\0';
        tok->display[id] = d;
    } else {
        tok->display[id] = xstrndup(s, n);
    }
    if (id < TOK_N_SPECIAL)
        return id;
    if ((int)n > tok->max_piece_len)
        tok->max_piece_len = (int)n;
    if ((size_t)tok->n_pieces * 2 > tok->n_slots)
        slots_rehash(tok, tok->n_slots ? tok->n_slots * 2 : 1024);
    else
        slots_insert(tok, id);
    return id;
}

static struct tokenizer *tokenizer_new(void)
{
    struct tokenizer *tok = xcalloc(1, sizeof *tok);
    tok->opt = tokenizer_default_options;
    for (int i = 0; i < TOK_N_SPECIAL; i++)
        piece_add(tok, special_names[i], strlen(special_names[i]), 0);
    return tok;
}

void tokenizer_free(struct tokenizer *tok)
{
    if (!tok)
        return;
    for (int i = 0; i < tok->n_pieces; i++) {
        free(tok->bytes[i]);
        free(tok->display[i]);
    }
    free(tok->bytes);
    free(tok->len);
    free(tok->cont);
    free(tok->display);
    free(tok->slots);
    free(tok);
}

int tokenizer_vocab_size(const struct tokenizer *tok)
{
    return tok->n_pieces;
}

const char *tokenizer_piece(const struct tokenizer *tok, int32_t id)
{
    if (id < 0 || id >= tok->n_pieces)
        return NULL;
    return tok->display[id];
}

/* ---- normalisation: HTML entities and lowercase ------------------------------- */

static size_t utf8_put(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the entity at s[0] == '&' (n bytes available). On success writes the
 * UTF-8 bytes to out (at most 4), sets *used and returns the number written;
 * returns 0 when s does not start a known entity. */
static size_t entity_decode(const char *s, size_t n, char *out, size_t *used)
{
    static const struct {
        const char *name;
        const char *text;
    } named[] = {{"&amp;", "&"},   {"&lt;", "<"},   {"&gt;", ">"},
                 {"&quot;", "\""}, {"&apos;", "'"}, {"&nbsp;", " "}};
    for (size_t i = 0; i < FS_ARRAY_LEN(named); i++) {
        size_t k = strlen(named[i].name);
        if (n >= k && strncasecmp(s, named[i].name, k) == 0) {
            *used = k;
            out[0] = named[i].text[0];
            return 1;
        }
    }
    if (n < 4 || s[1] != '#')
        return 0;
    size_t i = 2;
    int hex = (s[2] == 'x' || s[2] == 'X');
    if (hex)
        i++;
    uint32_t cp = 0;
    size_t digits = 0;
    for (; i < n && digits < 7; i++, digits++) {
        char c = s[i];
        int d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (hex && ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'))
            d = (c | 0x20) - 'a' + 10;
        else
            break;
        cp = cp * (hex ? 16 : 10) + (uint32_t)d;
    }
    if (!digits || i >= n || s[i] != ';')
        return 0;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    *used = i + 1;
    return utf8_put(cp, out);
}

/* The text with entities decoded (dec, the surface) and its ASCII-lowercase copy
 * (low, same offsets). Decoding never grows the text. */
struct norm {
    char *dec;
    char *low;
    size_t len;
};

static void norm_init(struct norm *nm, const char *text, size_t len)
{
    nm->dec = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t used;
        size_t k = text[i] == '&' ? entity_decode(text + i, len - i, nm->dec + o, &used) : 0;
        if (k) {
            o += k;
            i += used;
        } else {
            nm->dec[o++] = text[i++];
        }
    }
    nm->dec[o] = '\0';
    nm->len = o;
    nm->low = xmalloc(o + 1);
    for (size_t i = 0; i <= o; i++) {
        char c = nm->dec[i];
        nm->low[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
}

static void norm_free(struct norm *nm)
{
    free(nm->dec);
    free(nm->low);
}

/* ---- the word scanner ------------------------------------------------------------ */

enum word_kind { W_TEXT, W_PUNCT, W_SYMBOL, W_URL, W_USER, W_TICKER, W_NUM };

struct word {
    size_t start, end; /* surface span in the decoded text */
    size_t sub;        /* where the subword part starts (ticker symbol, number suffix) */
    enum word_kind kind;
};

static int is_alpha(unsigned char c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static int is_cont_byte(const unsigned char *s, size_t n, size_t i)
{
    return i < n && (s[i] & 0xC0) == 0x80;
}

/* Classifies the (possibly multi-byte) character at s[i]: returns its length and
 * sets *cls to 0 space, 1 word character, 2 ASCII punctuation, 3 symbol (emoji,
 * arrows, dashes, curly quotes: U+2010..U+2FFF and every 4-byte character). */
static size_t char_class(const unsigned char *s, size_t n, size_t i, int *cls)
{
    unsigned char c = s[i];
    if (c <= 0x20 || c == 0x7F) {
        *cls = 0;
        return 1;
    }
    if (c < 0x80) {
        *cls = is_alnum(c) ? 1 : 2;
        return 1;
    }
    if (c == 0xC2 && i + 1 < n && s[i + 1] == 0xA0) { /* no-break space */
        *cls = 0;
        return 2;
    }
    if (c == 0xE2 && is_cont_byte(s, n, i + 1) && is_cont_byte(s, n, i + 2)) {
        unsigned char c1 = s[i + 1], c2 = s[i + 2];
        /* U+2000..U+200F spaces and zero-width marks, U+2028..U+202F separators */
        int space = c1 == 0x80 && (c2 <= 0x8F || (c2 >= 0xA8 && c2 <= 0xAF));
        *cls = space ? 0 : 3;
        return 3;
    }
    if (c == 0xEF && i + 2 < n && s[i + 1] == 0xB8 && s[i + 2] == 0x8F) { /* VS16 */
        *cls = 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4 && is_cont_byte(s, n, i + 1) && is_cont_byte(s, n, i + 2) &&
        is_cont_byte(s, n, i + 3)) {
        *cls = 3;
        return 4;
    }
    *cls = 1; /* other UTF-8 (letters of other scripts) and invalid bytes */
    return 1;
}

/* A URL start followed by at least one more byte. */
static size_t url_prefix(const char *s, size_t n)
{
    size_t k = str_url_prefix(s, n);
    return k < n ? k : 0;
}

/* Length of the word-character run starting at i. */
static size_t word_run(const unsigned char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n) {
        int cls;
        size_t k = char_class(s, n, j, &cls);
        if (cls != 1)
            break;
        j += k;
    }
    return j - i;
}

/* Scans a URL from i; ends at whitespace, trailing punctuation left out. */
static size_t scan_url(const unsigned char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n) {
        int cls;
        size_t k = char_class(s, n, j, &cls);
        if (cls == 0 || cls == 3)
            break;
        j += k;
    }
    while (j > i + 1 && strchr(".,;:!?)]}\"'", s[j - 1]))
        j--;
    return j;
}

/* Scans a number: digits with inner [.,:] groups ("1,000.50", "10:30"). */
static size_t scan_number(const unsigned char *s, size_t n, size_t i)
{
    size_t j = i;
    while (j < n && is_digit(s[j]))
        j++;
    while (j + 1 < n && (s[j] == '.' || s[j] == ',' || s[j] == ':') && is_digit(s[j + 1])) {
        j++;
        while (j < n && is_digit(s[j]))
            j++;
    }
    return j;
}

/* Scans a ticker after '$': a letter, then letters/digits, and an optional class
 * suffix ".B" / "-A" of one or two letters ("$BRK.B"). Returns the end, or i when
 * s[i..] is no ticker. */
static size_t scan_ticker(const unsigned char *s, size_t n, size_t i)
{
    if (i >= n || !is_alpha(s[i]))
        return i;
    size_t j = i;
    while (j < n && is_alnum(s[j]))
        j++;
    if (j + 1 < n && (s[j] == '.' || s[j] == '-') && is_alpha(s[j + 1])) {
        size_t k = j + 1;
        while (k < n && is_alpha(s[k]) && k - j <= 2)
            k++;
        if (k - j <= 3 && (k >= n || !is_alnum(s[k])))
            j = k;
    }
    return j;
}

/* Finds the next word at or after *pos. Returns 1 and fills w, or 0 at the end. */
static int next_word(const struct tokenizer *tok, const struct norm *nm, size_t *pos,
                     struct word *w)
{
    const unsigned char *s = (const unsigned char *)nm->dec;
    size_t n = nm->len, i = *pos;
    int cls = 0;
    size_t k = 0;
    while (i < n && (k = char_class(s, n, i, &cls), cls == 0))
        i += k;
    if (i >= n) {
        *pos = n;
        return 0;
    }
    w->start = i;
    w->sub = i;
    size_t end;
    if (url_prefix(nm->low + i, n - i)) {
        w->kind = W_URL;
        end = scan_url(s, n, i);
    } else if (cls == 3) {
        w->kind = W_SYMBOL;
        end = i + k;
    } else if (s[i] == '@' && i + 1 < n && (is_alnum(s[i + 1]) || s[i + 1] == '_')) {
        w->kind = W_USER;
        end = i + 1;
        while (end < n && (is_alnum(s[end]) || s[end] == '_'))
            end++;
    } else if (s[i] == '$' && (end = scan_ticker(s, n, i + 1)) > i + 1) {
        w->kind = W_TICKER;
        w->sub = i + 1;
    } else if (is_digit(s[i]) && tok->opt.number_marker) {
        w->kind = W_NUM;
        w->sub = scan_number(s, n, i);
        end = w->sub + word_run(s, n, w->sub);
    } else if (cls == 2) {
        /* a run of one repeated punctuation character ("!!!", "..."), except '#' so
         * that no word holds "##" */
        w->kind = W_PUNCT;
        end = i + 1;
        while (s[i] != '#' && end < n && s[end] == s[i])
            end++;
    } else {
        w->kind = W_TEXT;
        end = i + word_run(s, n, i);
    }
    w->end = end;
    *pos = end;
    return 1;
}

/* The part of a word cut into subword pieces: [*from, w->end) of the lowercase
 * text, continuing a word when *cont. Returns 0 when the word has none. */
static int word_subword_part(const struct tokenizer *tok, const struct word *w, size_t *from,
                             int *cont)
{
    switch (w->kind) {
    case W_URL:
    case W_USER:
        return 0;
    case W_TICKER:
        *from = w->sub;
        *cont = 0;
        return tok->opt.ticker_symbols;
    case W_NUM:
        *from = w->sub;
        *cont = 1;
        return w->sub < w->end;
    default:
        *from = w->start;
        *cont = 0;
        return 1;
    }
}

static int32_t word_marker(enum word_kind kind)
{
    switch (kind) {
    case W_URL:
        return 4;
    case W_USER:
        return 5;
    case W_TICKER:
        return 6;
    case W_NUM:
        return 7;
    default:
        return -1;
    }
}

/* ---- encoding -------------------------------------------------------------------- */

struct emitter {
    int32_t *ids;
    int32_t *word_of;
    int n, max;
    int32_t word;      /* the word being encoded */
    int32_t last_word; /* the word of ids[n - 1] */
};

static int emit(struct emitter *e, int32_t id)
{
    if (e->n >= e->max)
        return 0;
    if (id == TOK_UNK && e->n > 0 && e->ids[e->n - 1] == TOK_UNK && e->last_word == e->word)
        return 1; /* a run of unknown bytes in one word is one TOK_UNK */
    e->ids[e->n] = id;
    e->last_word = e->word;
    if (e->word_of)
        e->word_of[e->n] = e->word;
    e->n++;
    return 1;
}

/* Greedy longest match of s[0..n) against the vocabulary. Returns 0 when full. */
static int encode_pieces(const struct tokenizer *tok, const char *s, size_t n, int cont,
                         struct emitter *e)
{
    size_t i = 0;
    while (i < n) {
        size_t maxl = n - i < (size_t)tok->max_piece_len ? n - i : (size_t)tok->max_piece_len;
        int32_t id = -1;
        size_t l = maxl;
        for (; l > 0; l--) {
            id = piece_find(tok, s + i, l, cont || i > 0);
            if (id >= 0)
                break;
        }
        if (id < 0) {
            id = TOK_UNK;
            l = 1;
        }
        if (!emit(e, id))
            return 0;
        i += l;
    }
    return 1;
}

int tokenizer_encode(const struct tokenizer *tok, const char *text, size_t len, int32_t *ids,
                     int32_t *word_of, int max_len)
{
    if (max_len <= 0)
        return 0;
    struct emitter e = {ids, word_of, 0, max_len, -1, -1};
    emit(&e, TOK_CLS);
    if (!text)
        return e.n;
    struct norm nm;
    norm_init(&nm, text, len);
    size_t pos = 0;
    struct word w;
    for (e.word = 0; e.n < e.max && next_word(tok, &nm, &pos, &w); e.word++) {
        int32_t marker = word_marker(w.kind);
        if (marker >= 0 && !emit(&e, marker))
            break;
        size_t from;
        int cont;
        if (word_subword_part(tok, &w, &from, &cont) &&
            !encode_pieces(tok, nm.low + from, w.end - from, cont, &e))
            break;
    }
    norm_free(&nm);
    return e.n;
}

int tokenizer_words(const struct tokenizer *tok, const char *text, size_t len, char ***words)
{
    (void)tok;
    *words = NULL;
    if (!text)
        return 0;
    struct norm nm;
    norm_init(&nm, text, len);
    int n = 0, cap = 0;
    size_t pos = 0;
    struct word w;
    while (next_word(tok, &nm, &pos, &w)) {
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            *words = xrealloc(*words, (size_t)cap * sizeof **words);
        }
        (*words)[n++] = xstrndup(nm.dec + w.start, w.end - w.start);
    }
    norm_free(&nm);
    return n;
}

void tokenizer_words_free(char **words, int n)
{
    for (int i = 0; i < n; i++)
        free(words[i]);
    free(words);
}

/* ---- training: BPE merges -------------------------------------------------------- */

/* A u64 -> int32 open-addressing map (keys never 0: callers add 1). */
struct u64map {
    uint64_t *keys;
    int32_t *vals;
    size_t n, cap;
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

static int32_t *u64map_slot(struct u64map *m, uint64_t key, int *found)
{
    if ((m->n + 1) * 2 > m->cap) {
        struct u64map old = *m;
        m->cap = old.cap ? old.cap * 2 : 4096;
        m->keys = xcalloc(m->cap, sizeof *m->keys);
        m->vals = xmalloc(m->cap * sizeof *m->vals);
        m->n = 0;
        for (size_t i = 0; i < old.cap; i++) {
            if (!old.keys[i])
                continue;
            int f;
            *u64map_slot(m, old.keys[i], &f) = old.vals[i];
        }
        free(old.keys);
        free(old.vals);
    }
    size_t mask = m->cap - 1;
    for (size_t i = mix64(key) & mask;; i = (i + 1) & mask) {
        if (m->keys[i] == key) {
            *found = 1;
            return &m->vals[i];
        }
        if (!m->keys[i]) {
            m->keys[i] = key;
            m->n++;
            *found = 0;
            return &m->vals[i];
        }
    }
}

static void u64map_free(struct u64map *m)
{
    free(m->keys);
    free(m->vals);
}

struct bpe_word {
    int32_t *sym;
    int len;
    int64_t count;
    int stamp; /* last merge that rewrote this word */
};

struct bpe_pair {
    int32_t a, b;
    int64_t count;
    int32_t *occ; /* words that contain (or once contained) the pair */
    int n_occ, cap_occ;
    int stamp;  /* last merge that touched the count */
    int banned; /* the merged piece would be too long */
};

struct heap_entry {
    int64_t count;
    uint64_t key;
};

struct bpe {
    struct bpe_word *words;
    size_t n_words, cap_words;
    struct u64map word_index; /* hash of (bytes, cont) -> word, for counting */
    struct bpe_pair *pairs;
    int n_pairs, cap_pairs;
    struct u64map pair_index;
    struct heap_entry *heap;
    size_t n_heap, cap_heap;
    int32_t *touched;
    int n_touched, cap_touched;
};

static int heap_before(const struct heap_entry *x, const struct heap_entry *y)
{
    return x->count > y->count || (x->count == y->count && x->key < y->key);
}

static void heap_push(struct bpe *b, int64_t count, uint64_t key)
{
    if (b->n_heap == b->cap_heap) {
        b->cap_heap = b->cap_heap ? b->cap_heap * 2 : 4096;
        b->heap = xrealloc(b->heap, b->cap_heap * sizeof *b->heap);
    }
    size_t i = b->n_heap++;
    b->heap[i] = (struct heap_entry){count, key};
    while (i > 0 && heap_before(&b->heap[i], &b->heap[(i - 1) / 2])) {
        struct heap_entry t = b->heap[i];
        b->heap[i] = b->heap[(i - 1) / 2];
        b->heap[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static void heap_pop(struct bpe *b)
{
    b->heap[0] = b->heap[--b->n_heap];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < b->n_heap && heap_before(&b->heap[l], &b->heap[m]))
            m = l;
        if (r < b->n_heap && heap_before(&b->heap[r], &b->heap[m]))
            m = r;
        if (m == i)
            return;
        struct heap_entry t = b->heap[i];
        b->heap[i] = b->heap[m];
        b->heap[m] = t;
        i = m;
    }
}

static uint64_t pair_key(int32_t a, int32_t b)
{
    return ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) + 1;
}

static int32_t pair_get(struct bpe *b, int32_t x, int32_t y)
{
    int found;
    int32_t *slot = u64map_slot(&b->pair_index, pair_key(x, y), &found);
    if (found)
        return *slot;
    if (b->n_pairs == b->cap_pairs) {
        b->cap_pairs = b->cap_pairs ? b->cap_pairs * 2 : 4096;
        b->pairs = xrealloc(b->pairs, (size_t)b->cap_pairs * sizeof *b->pairs);
    }
    *slot = b->n_pairs;
    b->pairs[b->n_pairs] = (struct bpe_pair){x, y, 0, NULL, 0, 0, -1, 0};
    return b->n_pairs++;
}

static void pair_add_occ(struct bpe_pair *p, int32_t word)
{
    if (p->n_occ && p->occ[p->n_occ - 1] == word)
        return;
    if (p->n_occ == p->cap_occ) {
        p->cap_occ = p->cap_occ ? p->cap_occ * 2 : 4;
        p->occ = xrealloc(p->occ, (size_t)p->cap_occ * sizeof *p->occ);
    }
    p->occ[p->n_occ++] = word;
}

/* Adds delta * word count to every adjacent pair of word wi; records the word in
 * the pairs' occurrence lists when with_occ, and the pairs as touched by merge. */
static void word_pairs_update(struct bpe *b, int32_t wi, int64_t delta, int with_occ, int merge)
{
    struct bpe_word *w = &b->words[wi];
    for (int i = 0; i + 1 < w->len; i++) {
        int32_t pi = pair_get(b, w->sym[i], w->sym[i + 1]);
        struct bpe_pair *p = &b->pairs[pi];
        p->count += delta * w->count;
        if (with_occ)
            pair_add_occ(p, wi);
        if (p->stamp != merge) {
            p->stamp = merge;
            if (b->n_touched == b->cap_touched) {
                b->cap_touched = b->cap_touched ? b->cap_touched * 2 : 1024;
                b->touched = xrealloc(b->touched, (size_t)b->cap_touched * sizeof *b->touched);
            }
            b->touched[b->n_touched++] = pi;
        }
    }
}

static void bpe_push_touched(struct bpe *b)
{
    for (int i = 0; i < b->n_touched; i++) {
        struct bpe_pair *p = &b->pairs[b->touched[i]];
        if (p->count >= TOK_MIN_PAIR_COUNT && !p->banned)
            heap_push(b, p->count, pair_key(p->a, p->b));
    }
    b->n_touched = 0;
}

/* Counts one training word (bytes s[0..n), continuing a word when cont). The
 * symbols are filled in later, once the alphabet is known. */
static void bpe_count_word(struct bpe *b, const char *s, size_t n, int cont)
{
    if (!n)
        return;
    uint64_t h = hash64(s, n, cont ? 0x9e3779b97f4a7c15ULL : 0) | 1;
    int found;
    /* collisions of the 64-bit hash are resolved by probing the key h+1, h+2... */
    for (;; h += 2) {
        int32_t *slot = u64map_slot(&b->word_index, h, &found);
        if (!found) {
            if (b->n_words == b->cap_words) {
                b->cap_words = b->cap_words ? b->cap_words * 2 : 4096;
                b->words = xrealloc(b->words, b->cap_words * sizeof *b->words);
            }
            struct bpe_word *w = &b->words[b->n_words];
            /* sym temporarily holds the bytes plus the cont flag in sym[0]'s sign */
            w->len = (int)n;
            w->sym = xmalloc((n + 1) * sizeof *w->sym);
            w->sym[0] = cont;
            for (size_t i = 0; i < n; i++)
                w->sym[i + 1] = (unsigned char)s[i];
            w->count = 1;
            w->stamp = -1;
            *slot = (int32_t)b->n_words++;
            return;
        }
        struct bpe_word *w = &b->words[*slot];
        if ((size_t)w->len == n && w->sym[0] == cont) {
            size_t i = 0;
            while (i < n && w->sym[i + 1] == (unsigned char)s[i])
                i++;
            if (i == n) {
                w->count++;
                return;
            }
        }
    }
}

static void bpe_free(struct bpe *b)
{
    for (size_t i = 0; i < b->n_words; i++)
        free(b->words[i].sym);
    free(b->words);
    for (int i = 0; i < b->n_pairs; i++)
        free(b->pairs[i].occ);
    free(b->pairs);
    free(b->heap);
    free(b->touched);
    u64map_free(&b->word_index);
    u64map_free(&b->pair_index);
}

/* Adds the alphabet (single-byte pieces, most frequent first) and turns the
 * words' bytes into piece ids; bytes left out of a full vocabulary become
 * TOK_UNK, which never merges. */
static void bpe_alphabet(struct bpe *b, struct tokenizer *tok, int vocab_size)
{
    int64_t freq[512] = {0};
    for (size_t i = 0; i < b->n_words; i++) {
        struct bpe_word *w = &b->words[i];
        for (int j = 0; j < w->len; j++)
            freq[(j > 0 || w->sym[0]) * 256 + w->sym[j + 1]] += w->count;
    }
    int order[512], n = 0;
    for (int i = 0; i < 512; i++)
        if (freq[i])
            order[n++] = i;
    /* printable ASCII (lowercase) in both positions even when unseen, after the
     * seen bytes: only bytes outside it can become TOK_UNK in a roomy vocabulary */
    for (int i = 0; i < 512; i++) {
        int c = i & 255;
        if (!freq[i] && c > 0x20 && c < 0x7F && !(c >= 'A' && c <= 'Z'))
            freq[i] = -1;
    }
    for (int i = 1; i < n; i++) { /* insertion sort: frequency desc, then index */
        int x = order[i], j = i;
        while (j > 0 && (freq[order[j - 1]] < freq[x] ||
                         (freq[order[j - 1]] == freq[x] && order[j - 1] > x))) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = x;
    }
    for (int i = 0; i < 512; i++)
        if (freq[i] < 0)
            order[n++] = i;
    int32_t id_of[512];
    for (int i = 0; i < 512; i++)
        id_of[i] = TOK_UNK;
    for (int i = 0; i < n && tok->n_pieces < vocab_size; i++) {
        char c = (char)(order[i] & 255);
        id_of[order[i]] = piece_add(tok, &c, 1, order[i] >= 256);
    }
    for (size_t i = 0; i < b->n_words; i++) {
        struct bpe_word *w = &b->words[i];
        int cont = w->sym[0];
        for (int j = 0; j < w->len; j++)
            w->sym[j] = id_of[(j > 0 || cont) * 256 + w->sym[j + 1]];
    }
}

/* Rewrites word wi with every (x, y) replaced by z. */
static void word_merge(struct bpe *b, int32_t wi, int32_t x, int32_t y, int32_t z, int merge)
{
    struct bpe_word *w = &b->words[wi];
    int found = 0;
    for (int i = 0; i + 1 < w->len && !found; i++)
        found = w->sym[i] == x && w->sym[i + 1] == y;
    if (!found || w->stamp == merge)
        return;
    w->stamp = merge;
    word_pairs_update(b, wi, -1, 0, merge);
    int o = 0;
    for (int i = 0; i < w->len; i++) {
        if (i + 1 < w->len && w->sym[i] == x && w->sym[i + 1] == y) {
            w->sym[o++] = z;
            i++;
        } else {
            w->sym[o++] = w->sym[i];
        }
    }
    w->len = o;
    word_pairs_update(b, wi, +1, 1, merge);
}

/* The merged piece of pair p (an existing piece when the text already is one),
 * or -1 when it would be too long. */
static int32_t merged_piece(struct tokenizer *tok, const struct bpe_pair *p)
{
    size_t la = tok->len[p->a], lb = tok->len[p->b];
    if (la + lb > TOK_MAX_PIECE)
        return -1;
    char buf[TOK_MAX_PIECE];
    memcpy(buf, tok->bytes[p->a], la);
    memcpy(buf + la, tok->bytes[p->b], lb);
    int32_t id = piece_find(tok, buf, la + lb, tok->cont[p->a]);
    return id >= 0 ? id : piece_add(tok, buf, la + lb, tok->cont[p->a]);
}

static void bpe_run(struct bpe *b, struct tokenizer *tok, int vocab_size)
{
    for (size_t i = 0; i < b->n_words; i++)
        word_pairs_update(b, (int32_t)i, +1, 1, 0);
    bpe_push_touched(b);
    for (int merge = 1; tok->n_pieces < vocab_size && b->n_heap > 0; merge++) {
        struct heap_entry top = b->heap[0];
        heap_pop(b);
        int found;
        int32_t pi = *u64map_slot(&b->pair_index, top.key, &found);
        struct bpe_pair *p = &b->pairs[pi];
        if (p->count != top.count || p->banned || p->a == TOK_UNK || p->b == TOK_UNK)
            continue;
        int32_t z = merged_piece(tok, p);
        if (z < 0) {
            p->banned = 1;
            continue;
        }
        int32_t x = p->a, y = p->b;
        /* the occurrence list may grow while we walk it: iterate over a snapshot */
        int n_occ = p->n_occ;
        int32_t *occ = xmalloc((size_t)(n_occ ? n_occ : 1) * sizeof *occ);
        memcpy(occ, p->occ, (size_t)n_occ * sizeof *occ);
        for (int i = 0; i < n_occ; i++)
            word_merge(b, occ[i], x, y, z, merge);
        free(occ);
        bpe_push_touched(b);
    }
}

/* Feeds the subword parts of text's words to the counter. */
static void bpe_count_text(struct bpe *b, const struct tokenizer *tok, const char *text)
{
    struct norm nm;
    norm_init(&nm, text, strlen(text));
    size_t pos = 0, from;
    int cont;
    struct word w;
    while (next_word(tok, &nm, &pos, &w)) {
        if (word_subword_part(tok, &w, &from, &cont))
            bpe_count_word(b, nm.low + from, w.end - from, cont);
    }
    norm_free(&nm);
}

/* Measured in tokenizer.h: the ticker marker alone did better than marker + symbol. */
const struct tokenizer_options tokenizer_default_options = {0, 1};

int tokenizer_train(const char *const *texts, size_t n, int vocab_size, struct tokenizer **out,
                    struct fs_error *err)
{
    return tokenizer_train_opts(texts, n, vocab_size, &tokenizer_default_options, out, err);
}

int tokenizer_train_opts(const char *const *texts, size_t n, int vocab_size,
                         const struct tokenizer_options *opt, struct tokenizer **out,
                         struct fs_error *err)
{
    *out = NULL;
    if (vocab_size <= TOK_N_SPECIAL || vocab_size > TOK_MAX_VOCAB)
        return fs_error_set(err, "tokenizer: vocabulary size %d out of range (%d..%d)", vocab_size,
                            TOK_N_SPECIAL + 1, TOK_MAX_VOCAB);
    struct tokenizer *tok = tokenizer_new();
    tok->opt.ticker_symbols = opt->ticker_symbols != 0;
    tok->opt.number_marker = opt->number_marker != 0;
    struct bpe b = {0};
    for (size_t i = 0; i < n; i++)
        if (texts[i])
            bpe_count_text(&b, tok, texts[i]);
    bpe_alphabet(&b, tok, vocab_size);
    bpe_run(&b, tok, vocab_size);
    bpe_free(&b);
    *out = tok;
    return 0;
}

/* ---- serialisation --------------------------------------------------------------- */

/* Format (text, one item per line, LF endings):
 *   finsent-tokenizer 1
 *   options ticker_symbols=<0|1> number_marker=<0|1>
 *   pieces <N>
 *   <kind> <escaped bytes>      N lines; kind s = special, w = word start, c = continuation
 *   checksum <16 hex digits>    hash64 of every byte before this line
 * Escaping: bytes <= 0x20, >= 0x7F and '%' are written %XX. */
char *tokenizer_serialize(const struct tokenizer *tok, size_t *len)
{
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s\noptions ticker_symbols=%d number_marker=%d\npieces %d\n", TOK_FORMAT,
               tok->opt.ticker_symbols, tok->opt.number_marker, tok->n_pieces);
    for (int i = 0; i < tok->n_pieces; i++) {
        sb_append(&sb, i < TOK_N_SPECIAL ? "s " : tok->cont[i] ? "c " : "w ");
        vocab_text_escape(&sb, tok->bytes[i], tok->len[i]);
        sb_append_char(&sb, '\n');
    }
    sb_appendf(&sb, "checksum %016llx\n", (unsigned long long)hash64(sb.buf, sb.len, 0));
    if (len)
        *len = sb.len;
    return sb_detach(&sb);
}

static int deserialize_piece(struct tokenizer *tok, const char *s, size_t n, int id,
                             struct fs_error *err)
{
    char buf[TOK_MAX_PIECE];
    int l = n >= 2 && s[1] == ' ' ? vocab_text_unescape(s + 2, n - 2, buf, TOK_MAX_PIECE) : -1;
    if (l <= 0)
        return fs_error_set(err, "bad piece %d", id);
    char kind = s[0];
    if (id < TOK_N_SPECIAL) {
        if (kind != 's' || (size_t)l != strlen(special_names[id]) ||
            memcmp(buf, special_names[id], (size_t)l) != 0)
            return fs_error_set(err, "special piece %d is not %s", id, special_names[id]);
        return 0;
    }
    if (kind != 'w' && kind != 'c')
        return fs_error_set(err, "bad kind of piece %d", id);
    if (piece_find(tok, buf, (size_t)l, kind == 'c') >= 0)
        return fs_error_set(err, "duplicate piece %d", id);
    piece_add(tok, buf, (size_t)l, kind == 'c');
    return 0;
}

static int deserialize_body(struct tokenizer *tok, struct vocab_lines *r, struct fs_error *err)
{
    const char *s;
    size_t n;
    if (vocab_lines_next(r, &s, &n) < 0 || n != strlen(TOK_FORMAT) || memcmp(s, TOK_FORMAT, n) != 0)
        return fs_error_set(err, "not a finsent tokenizer (format line)");
    /* "options ticker_symbols=D number_marker=D": fixed text, one digit 0/1 each */
    const char *opt_fmt = "options ticker_symbols=0 number_marker=0";
    size_t ol = strlen(opt_fmt), t_at = strlen("options ticker_symbols="), m_at = ol - 1;
    if (vocab_lines_next(r, &s, &n) < 0 || n != ol || memcmp(s, opt_fmt, t_at) != 0 ||
        memcmp(s + t_at + 1, opt_fmt + t_at + 1, m_at - t_at - 1) != 0 ||
        (s[t_at] != '0' && s[t_at] != '1') || (s[m_at] != '0' && s[m_at] != '1'))
        return fs_error_set(err, "line %d: bad options", r->line);
    tok->opt.ticker_symbols = s[t_at] - '0';
    tok->opt.number_marker = s[m_at] - '0';
    long n_pieces;
    if (vocab_lines_next(r, &s, &n) < 0 ||
        vocab_text_count(s, n, "pieces ", TOK_MAX_VOCAB, &n_pieces) < 0 || n_pieces < TOK_N_SPECIAL)
        return fs_error_set(err, "line %d: bad piece count", r->line);
    if (n_pieces > (r->end - r->p) / 4 + TOK_N_SPECIAL)
        return fs_error_set(err, "piece count %ld larger than the data", n_pieces);
    for (int id = 0; id < n_pieces; id++) {
        if (vocab_lines_next(r, &s, &n) < 0)
            return fs_error_set(err, "truncated after %d of %ld pieces", id, n_pieces);
        if (deserialize_piece(tok, s, n, id, err) < 0)
            return fs_error_prefix(err, "line %d", r->line);
    }
    return 0;
}

int tokenizer_deserialize(const char *data, size_t len, struct tokenizer **out,
                          struct fs_error *err)
{
    *out = NULL;
    if (!data)
        return fs_error_set(err, "tokenizer: no data");
    /* the checksum line is checked first, so that corrupt data is caught whole */
    const char *tail = "\nchecksum ";
    size_t tl = strlen(tail), cl = tl + 16 + 1;
    if (len < cl + 1 || data[len - 1] != '\n' || memcmp(data + len - cl, tail, tl) != 0)
        return fs_error_set(err, "tokenizer: truncated or corrupt (no checksum line)");
    uint64_t want = 0;
    for (size_t i = len - 17; i < len - 1; i++) {
        char c = data[i];
        int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (d < 0)
            return fs_error_set(err, "tokenizer: corrupt checksum line");
        want = want << 4 | (uint64_t)d;
    }
    size_t body = len - cl + 1;
    if (hash64(data, body, 0) != want)
        return fs_error_set(err, "tokenizer: checksum mismatch (corrupt data)");
    struct tokenizer *tok = tokenizer_new();
    struct vocab_lines r = {data, data + body, 0};
    if (deserialize_body(tok, &r, err) < 0) {
        tokenizer_free(tok);
        return fs_error_prefix(err, "tokenizer");
    }
    if (r.p != r.end) {
        tokenizer_free(tok);
        return fs_error_set(err, "tokenizer: line %d: unexpected data after the pieces",
                            r.line + 1);
    }
    *out = tok;
    return 0;
}
