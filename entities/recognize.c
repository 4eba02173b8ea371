/* recognize.c — mentions of companies in a text (see recognize.h). */
#include "entities/recognize.h"

#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Words that make a sentence about a business: an ambiguous name ("Apple",
 * "Target") counts only in a sentence holding one of them. */
static const char *const business_words[] = {
    "acquire",   "acquired",  "acquires",   "acquisition", "agreed",     "analyst",
    "analysts",  "antitrust", "bid",        "board",       "buyback",    "ceo",
    "cfo",       "chief",     "co",         "company",     "corp",       "corporation",
    "customers", "cut",       "cuts",       "deal",        "dividend",   "downgrade",
    "downgraded", "earnings", "estimates",  "executive",   "expects",    "forecast",
    "guidance",  "inc",       "investors",  "ipo",         "iphone",     "iphones",
    "lawsuit",   "layoffs",   "merger",     "nasdaq",      "nyse",       "outlook",
    "posted",    "profit",    "profits",    "quarter",     "quarterly",  "raised",
    "rating",    "recalled",  "regulators", "reported",    "results",    "retailer",
    "revenue",   "revenues",  "said",       "sales",       "says",       "share",
    "shareholders", "shares", "stake",      "stock",       "stocks",     "store",
    "stores",    "supplier",  "takeover",   "unit",        "upgrade",    "upgraded",
    "valuation", "workers",
};

static const char *const exchanges[] = {
    "nasdaq", "nyse",  "amex", "nysearca", "nyseamerican", "otc",  "otcqx", "otcqb", "otcmkts",
    "tsx",    "tsxv",  "lse",  "asx",      "hkex",         "sehk", "cboe",  "bats",  "xetra",
};

const char *mention_how_name(int how)
{
    static const char *const names[] = {"cashtag", "exchange", "ticker", "feed", "name", "alias"};
    return how >= 0 && how < (int)FS_ARRAY_LEN(names) ? names[how] : "?";
}

const char *mention_field_name(int field)
{
    static const char *const names[] = {"title", "text", "feed"};
    return field >= 0 && field < (int)FS_ARRAY_LEN(names) ? names[field] : "?";
}

void mention_entity_name(const struct entity_dir *d, const struct mention *m, char *out,
                         size_t size)
{
    if (m->entity >= 0)
        str_copy(out, size, d->ents[m->entity].name);
    else
        snprintf(out, size, "$%s", m->symbol);
}

void mention_list_free(struct mention_list *l)
{
    free(l->v);
    *l = (struct mention_list){0};
}

static void push(struct mention_list *l, const struct mention *m)
{
    l->v = xgrow(l->v, l->n, &l->cap, sizeof *l->v, 16);
    l->v[l->n++] = *m;
}

static int word_char(char c)
{
    return isalnum((unsigned char)c) || (unsigned char)c >= 0x80;
}

static int in_list(const char *const *list, size_t n, const char *w, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]) == len && strncasecmp(list[i], w, len) == 0)
            return 1;
    return 0;
}

/* A candidate: a mention plus the pattern flags that decide whether it stays. */
struct cand {
    struct mention m;
    uint8_t flags;
};

struct field_scan {
    const struct entity_dir *d;
    const char *s;
    size_t len;
    int field;
    struct cand *c;
    size_t n, cap;
};

static void add_cand(struct field_scan *f, int32_t entity, const char *sym, size_t sym_len,
                     int how, size_t start, size_t len, uint8_t flags)
{
    f->c = xgrow(f->c, f->n, &f->cap, sizeof *f->c, 16);
    struct cand *c = &f->c[f->n++];
    memset(c, 0, sizeof *c);
    c->m.entity = entity;
    if (entity < 0) {
        size_t k = sym_len < sizeof c->m.symbol - 1 ? sym_len : sizeof c->m.symbol - 1;
        for (size_t i = 0; i < k; i++)
            c->m.symbol[i] = sym[i] == '-' ? '.' : (char)toupper((unsigned char)sym[i]);
    }
    c->m.field = (uint8_t)f->field;
    c->m.how = (uint8_t)how;
    c->m.start = (uint32_t)start;
    c->m.len = (uint32_t)len;
    c->flags = flags;
}

/* ---- names (the matcher) ---- */

/* s[start, end) is an exchange's name followed by a colon. */
static int exchange_prefix(const struct field_scan *f, size_t start, size_t end)
{
    size_t i = end;
    while (i < f->len && f->s[i] == ' ')
        i++;
    return i < f->len && f->s[i] == ':' &&
           in_list(exchanges, FS_ARRAY_LEN(exchanges), f->s + start, end - start);
}

static int on_name(void *ctx, size_t start, size_t end, int32_t value)
{
    struct field_scan *f = ctx;
    const char *s = f->s;
    if ((start > 0 && (word_char(s[start - 1]) || s[start - 1] == '$')) ||
        (end < f->len && word_char(s[end])))
        return 0;
    unsigned char first = (unsigned char)s[start];
    if (!(isupper(first) || isdigit(first) || first >= 0x80))
        return 0;
    if (exchange_prefix(f, start, end))
        return 0; /* "NASDAQ: NOW" names the market, not Nasdaq Inc. */
    const struct entity_pattern *p = &f->d->pats[value];
    add_cand(f, p->entity, NULL, 0, p->flags & PAT_ALIAS ? HOW_ALIAS : HOW_NAME, start,
             end - start, p->flags);
    return 0;
}

/* ---- cashtags, exchange prefixes, bare tickers ---- */

static size_t letters_at(const char *s, size_t i, size_t len, size_t max)
{
    size_t n = 0;
    while (i + n < len && n <= max && isalpha((unsigned char)s[i + n]))
        n++;
    return n;
}

/* "$TSLA", "$BRK.B" at s[i] == '$'. Returns the bytes consumed (0: none). */
static size_t cashtag_at(struct field_scan *f, size_t i)
{
    const char *s = f->s;
    if (i > 0 && word_char(s[i - 1]))
        return 0;
    size_t n = letters_at(s, i + 1, f->len, 6);
    if (n == 0 || n > 6)
        return 0;
    size_t sym = n;
    if (i + 1 + n + 1 < f->len && (s[i + 1 + n] == '.' || s[i + 1 + n] == '-')) {
        size_t k = letters_at(s, i + 2 + n, f->len, 2);
        if (k >= 1 && k <= 2 && !(i + 2 + n + k < f->len && word_char(s[i + 2 + n + k])))
            sym = n + 1 + k;
    }
    if (i + 1 + sym < f->len && word_char(s[i + 1 + sym]))
        return 0;
    int32_t e = entity_dir_ticker(f->d, s + i + 1, sym, NULL);
    if (e < 0 && sym != n) /* "$BRK.B" unknown: try "BRK" */
        e = entity_dir_ticker(f->d, s + i + 1, n, NULL);
    add_cand(f, e, s + i + 1, sym, HOW_CASHTAG, i, sym + 1, 0);
    return sym + 1;
}

/* "NASDAQ: NOW" around s[i] == ':'. */
static void exchange_at(struct field_scan *f, size_t i)
{
    const char *s = f->s;
    size_t e = i;
    while (e > 0 && s[e - 1] == ' ')
        e--;
    size_t b = e;
    while (b > 0 && isalpha((unsigned char)s[b - 1]))
        b--;
    if (b == e || (b > 0 && word_char(s[b - 1])) ||
        !in_list(exchanges, FS_ARRAY_LEN(exchanges), s + b, e - b))
        return;
    size_t t = i + 1;
    while (t < f->len && s[t] == ' ')
        t++;
    size_t n = 0;
    while (t + n < f->len && n < 12 &&
           (isalnum((unsigned char)s[t + n]) || s[t + n] == '.' || s[t + n] == '-'))
        n++;
    while (n > 0 && (s[t + n - 1] == '.' || s[t + n - 1] == '-'))
        n--;
    if (n == 0 || n > 10)
        return;
    int32_t ent = entity_dir_ticker(f->d, s + t, n, NULL);
    add_cand(f, ent, s + t, n, HOW_EXCHANGE, t, n, 0);
}

/* Mostly capitals: more than 60% of at least 12 letters. */
static int shouting(const char *s, size_t len)
{
    size_t letters = 0, upper = 0;
    for (size_t i = 0; i < len; i++) {
        letters += isalpha((unsigned char)s[i]) != 0;
        upper += isupper((unsigned char)s[i]) != 0;
    }
    return letters >= 12 && upper * 10 > letters * 6;
}

/* A bare ticker at s[i] (a run of capitals). Returns the bytes consumed. */
static size_t ticker_at(struct field_scan *f, size_t i)
{
    const char *s = f->s;
    size_t n = 0;
    while (i + n < f->len && isupper((unsigned char)s[i + n]))
        n++;
    if ((i > 0 && (word_char(s[i - 1]) || s[i - 1] == '$')) ||
        (i + n < f->len && word_char(s[i + n])))
        return n ? n : 1;
    if (n < 2 || n > 5)
        return n;
    int ordinary = 1;
    int32_t e = entity_dir_ticker(f->d, s + i, n, &ordinary);
    if (e >= 0 && !ordinary)
        add_cand(f, e, NULL, 0, HOW_TICKER, i, n, 0);
    return n;
}

static void scan_symbols(struct field_scan *f, int loud)
{
    int bare = !loud;
    for (size_t i = 0; i < f->len;) {
        char c = f->s[i];
        size_t used = 1;
        if (c == '$')
            used = cashtag_at(f, i);
        else if (c == ':')
            exchange_at(f, i);
        else if (bare && isupper((unsigned char)c) && (i == 0 || !word_char(f->s[i - 1])))
            used = ticker_at(f, i);
        i += used ? used : 1;
    }
}

/* ---- resolving ---- */

static int rank(const struct cand *c)
{
    if (c->m.how == HOW_ALIAS)
        return 0;
    return c->m.how == HOW_NAME ? 1 : 2;
}

static int cand_cmp(const void *pa, const void *pb)
{
    const struct cand *a = pa, *b = pb;
    if (a->m.start != b->m.start)
        return a->m.start < b->m.start ? -1 : 1;
    if (a->m.len != b->m.len)
        return a->m.len > b->m.len ? -1 : 1;
    /* same span: the user's alias, then a name, then a ticker ("HP" in "HP
     * Inc" is HP Inc., whose name it is, not Helmerich & Payne, whose ticker
     * it is) */
    return (int)rank(a) - (int)rank(b);
}

/* Keeps the longest of overlapping candidates (sorted: leftmost, longest). */
static void drop_overlaps(struct field_scan *f)
{
    if (f->n > 1)
        qsort(f->c, f->n, sizeof *f->c, cand_cmp);
    size_t k = 0;
    uint32_t end = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (k > 0 && f->c[i].m.start < end) {
            /* a longer candidate starting later inside the kept one replaces nothing */
            continue;
        }
        f->c[k++] = f->c[i];
        end = f->c[i].m.start + f->c[i].m.len;
    }
    f->n = k;
}

static int sentence_end(const char *s, size_t i, size_t len)
{
    if (s[i] == '\n')
        return 1;
    return (s[i] == '.' || s[i] == '!' || s[i] == '?' || s[i] == ';') &&
           (i + 1 == len || isspace((unsigned char)s[i + 1]));
}

static void sentence_of(const char *s, size_t len, size_t at, size_t *b, size_t *e)
{
    size_t i = at;
    while (i > 0 && !sentence_end(s, i - 1, len))
        i--;
    *b = i;
    i = at;
    while (i < len && !sentence_end(s, i, len))
        i++;
    *e = i;
}

static int has_business_word(const char *s, size_t b, size_t e)
{
    for (size_t i = b; i < e;) {
        while (i < e && !isalpha((unsigned char)s[i]))
            i++;
        size_t w = i;
        while (i < e && isalpha((unsigned char)s[i]))
            i++;
        if (i > w && in_list(business_words, FS_ARRAY_LEN(business_words), s + w, i - w))
            return 1;
    }
    return 0;
}

/* An ambiguous name stays when its sentence has a business word or another
 * mention (elsewhere in it) that is not ambiguous itself. */
static int ambiguous_keeps(const struct field_scan *f, size_t k)
{
    size_t b, e;
    const struct mention *m = &f->c[k].m;
    sentence_of(f->s, f->len, m->start, &b, &e);
    if (has_business_word(f->s, b, e))
        return 1;
    for (size_t i = 0; i < f->n; i++) {
        const struct mention *o = &f->c[i].m;
        int apart = o->start >= m->start + m->len || o->start + o->len <= m->start;
        if (apart && !(f->c[i].flags & PAT_AMBIGUOUS) && o->start >= b && o->start < e)
            return 1;
    }
    return 0;
}

/* Drops the ambiguous names that their sentence does not support; in a
 * mostly capitalised text also every short one ("ON" in "SHARES FALL ON"). */
static void drop_unsupported(struct field_scan *f, int loud)
{
    uint8_t *keep = xmalloc(f->n + 1);
    for (size_t i = 0; i < f->n; i++)
        keep[i] = !(f->c[i].flags & PAT_AMBIGUOUS) ||
                  (!(loud && f->c[i].m.len <= 3) && ambiguous_keeps(f, i));
    size_t k = 0;
    for (size_t i = 0; i < f->n; i++)
        if (keep[i])
            f->c[k++] = f->c[i];
    f->n = k;
    free(keep);
}

static void scan_field(const struct entity_dir *d, const char *s, int field,
                       struct mention_list *out)
{
    if (!s || !*s)
        return;
    struct field_scan f = {.d = d, .s = s, .len = strlen(s), .field = field};
    int loud = shouting(s, f.len);
    matcher_scan(d->names, s, f.len, on_name, &f);
    scan_symbols(&f, loud);
    drop_unsupported(&f, loud);
    drop_overlaps(&f);
    for (size_t i = 0; i < f.n; i++)
        push(out, &f.c[i].m);
    free(f.c);
}

static void scan_feed(const struct entity_dir *d, const char *tickers, struct mention_list *out)
{
    for (const char *p = tickers; p && *p;) {
        size_t n = strcspn(p, ",");
        const char *t = p;
        const char *colon = memchr(p, ':', n);
        size_t tn = n;
        if (colon)
            t = colon + 1, tn = n - (size_t)(colon + 1 - p);
        while (tn > 0 && isspace((unsigned char)*t))
            t++, tn--;
        while (tn > 0 && isspace((unsigned char)t[tn - 1]))
            tn--;
        if (tn > 0 && tn < 16) {
            struct mention m = {.entity = entity_dir_ticker(d, t, tn, NULL),
                                .field = FIELD_FEED,
                                .how = HOW_FEED};
            for (size_t i = 0; m.entity < 0 && i < tn; i++)
                m.symbol[i] = t[i] == '-' ? '.' : (char)toupper((unsigned char)t[i]);
            push(out, &m);
        }
        p += n + (p[n] == ',');
    }
}

void entities_recognize(const struct entity_dir *d, const char *title, const char *text,
                        const char *feed_tickers, struct mention_list *out)
{
    scan_field(d, title, FIELD_TITLE, out);
    scan_field(d, text, FIELD_TEXT, out);
    scan_feed(d, feed_tickers, out);
}
