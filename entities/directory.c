/* directory.c — the company directory and its patterns (see directory.h). */
#include "entities/directory.h"

#include "common/strbuf.h"
#include "common/util.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const entity_config_keys[] = {"aliases", "tickers", NULL};

/* ---- names ---- */

static const char *const legal_suffixes[] = {
    "inc",  "incorporated", "corp", "corporation", "co",   "company", "ltd", "limited",
    "plc",  "llc",          "lp",   "l.p",         "n.v",  "nv",      "s.a", "sa",
    "ag",   "se",           "com",  "holdings",    "holding", "&",    "the", "de",
};

static int is_suffix(const char *w, size_t n)
{
    while (n > 0 && (w[n - 1] == '.' || w[n - 1] == ','))
        n--;
    for (size_t i = 0; i < FS_ARRAY_LEN(legal_suffixes); i++)
        if (strlen(legal_suffixes[i]) == n && strncasecmp(w, legal_suffixes[i], n) == 0)
            return 1;
    return 0;
}

/* Word spans of s (split on blanks). Returns the count (at most max). */
static size_t split_blank(const char *s, size_t len, size_t at[], size_t wl[], size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n < max;) {
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        size_t b = i;
        while (i < len && !isspace((unsigned char)s[i]))
            i++;
        if (i > b)
            at[n] = b, wl[n++] = i - b;
    }
    return n;
}

static int all_caps(const char *w, size_t n)
{
    int letters = 0;
    for (size_t i = 0; i < n; i++) {
        if (islower((unsigned char)w[i]))
            return 0;
        letters += isupper((unsigned char)w[i]) != 0;
    }
    return letters > 0;
}

static int has_byte_class(const char *w, size_t n, int (*is)(int))
{
    for (size_t i = 0; i < n; i++)
        if (is((unsigned char)w[i]))
            return 1;
    return 0;
}

static int is_amp(int c)
{
    return c == '&';
}

static int is_vowel(int c)
{
    return c && strchr("AEIOUY", c) != NULL;
}

/* Appends word w of a name. An all-capitals word is capitalised ("AMAZON" ->
 * "Amazon", "AIR" -> "Air") unless it has at most 3 letters and no vowel
 * ("CVS"), a digit or an '&' ("AT&T"); "OF", "AND", "THE", "FOR" inside a name
 * go lower case. */
static void append_word(struct strbuf *sb, const char *w, size_t n)
{
    static const char *const small[] = {"of", "and", "the", "for"};
    int inner = sb->len > 0;
    if (inner)
        sb_append_char(sb, ' ');
    int caps = all_caps(w, n) && !has_byte_class(w, n, isdigit) && !has_byte_class(w, n, is_amp);
    int lower_all = 0;
    for (size_t i = 0; caps && inner && i < FS_ARRAY_LEN(small); i++)
        lower_all |= strlen(small[i]) == n && strncasecmp(w, small[i], n) == 0;
    int cap = caps && (n > 3 || has_byte_class(w, n, is_vowel));
    for (size_t i = 0; i < n; i++) {
        char c = w[i];
        int low = lower_all || (cap && i > 0);
        sb_append_char(sb, low ? (char)tolower((unsigned char)c) : c);
    }
}

static int is_generic(const char *w, size_t n)
{
    return (n == 8 && strncasecmp(w, "holdings", 8) == 0) ||
           (n == 7 && strncasecmp(w, "holding", 7) == 0);
}

/* entity_name_derive(); keep_generic keeps "Holdings" (the long form). */
static size_t derive(const char *registered, char *out, size_t size, int keep_generic)
{
    size_t len = strcspn(registered, ",");
    const char *slash = memchr(registered, '/', len); /* "/DE/", "/NEW/" */
    if (slash)
        len = (size_t)(slash - registered);
    size_t at[32], wl[32];
    size_t n = split_blank(registered, len, at, wl, 32), first = 0;
    while (n > 1) {
        const char *w = registered + at[n - 1];
        if (keep_generic && is_generic(w, wl[n - 1]))
            break;
        if (!is_suffix(w, wl[n - 1]) && !(n > 2 && wl[n - 1] == 1)) /* "NOVO NORDISK A S" */
            break;
        n--;
    }
    if (n > 1 && wl[0] == 3 && strncasecmp(registered, "the", 3) == 0)
        first = 1;
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = first; i < n; i++) {
        size_t l = wl[i];
        if (i + 1 == n)
            while (l > 1 && registered[at[i] + l - 1] == ',')
                l--;
        append_word(&sb, registered + at[i], l);
    }
    size_t r = str_copy(out, size, sb.buf ? sb.buf : "");
    sb_free(&sb);
    return r < size ? r : size - 1;
}

size_t entity_name_derive(const char *registered, char *out, size_t size)
{
    return derive(registered, out, size, 0);
}

/* ---- ordinary words ---- */

static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_words(struct entity_dir *d, const char *text)
{
    size_t cap = 0;
    if (!text)
        return;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\r\n");
        size_t b = 0;
        while (b < n && isspace((unsigned char)p[b]))
            b++;
        size_t e = n;
        while (e > b && isspace((unsigned char)p[e - 1]))
            e--;
        if (e > b && p[b] != '#') {
            d->words = xgrow(d->words, d->n_words, &cap, sizeof *d->words, 1024);
            char *w = xstrndup(p + b, e - b);
            for (char *c = w; *c; c++)
                *c = (char)tolower((unsigned char)*c);
            d->words[d->n_words++] = w;
        }
        p += n;
        while (*p == '\r' || *p == '\n')
            p++;
    }
    if (d->n_words > 1)
        qsort(d->words, d->n_words, sizeof *d->words, str_ptr_cmp);
}

int entity_dir_is_word(const struct entity_dir *d, const char *w, size_t n)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf || d->n_words == 0) /* no words: d->words may be NULL */
        return 0;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)tolower((unsigned char)w[i]);
    buf[n] = '\0';
    const char *key = buf;
    return bsearch(&key, d->words, d->n_words, sizeof *d->words, str_ptr_cmp) != NULL;
}

/* ---- entities, tickers, patterns ---- */

static int32_t add_entity(struct entity_dir *d, size_t *cap, const char *key, const char *name,
                          const char *ticker, int origin)
{
    d->ents = xgrow(d->ents, d->n_ents, cap, sizeof *d->ents, 1024);
    d->ents[d->n_ents] = (struct entity){xstrdup(key), xstrdup(name),
                                         ticker ? xstrdup(ticker) : NULL, origin};
    return (int32_t)d->n_ents++;
}

struct builder {
    struct entity_dir *d;
    size_t ent_cap, tick_cap, pat_cap;
};

static void add_ticker(struct builder *b, const char *sym, size_t n, int32_t entity)
{
    struct entity_dir *d = b->d;
    if (n == 0 || n > 15)
        return;
    char *s = xstrndup(sym, n);
    for (char *c = s; *c; c++)
        *c = *c == '.' ? '-' : (char)toupper((unsigned char)*c);
    int letters_only = 1;
    for (const char *c = s; *c; c++)
        letters_only &= isalpha((unsigned char)*c) != 0;
    d->tickers = xgrow(d->tickers, d->n_tickers, &b->tick_cap, sizeof *d->tickers, 1024);
    int ordinary = n == 1 || (letters_only && entity_dir_is_word(d, s, n));
    d->tickers[d->n_tickers++] = (struct entity_ticker){s, entity, ordinary};
}

static void add_pattern(struct builder *b, const char *p, int32_t entity, uint8_t flags)
{
    struct entity_dir *d = b->d;
    size_t n = strlen(p);
    if (n < 2)
        return;
    if (matcher_add(d->names, p, n, (int32_t)d->n_pats) != 0)
        return; /* an earlier (config, or bigger company) pattern wins */
    d->pats = xgrow(d->pats, d->n_pats, &b->pat_cap, sizeof *d->pats, 1024);
    d->pats[d->n_pats++] = (struct entity_pattern){entity, flags};
}

static int capitals_only(const char *s, size_t n)
{
    if (n < 2 || n > 5)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

/* Calls fn on each trimmed, non-empty item of a comma-separated list. */
static void each_item(const char *list, void (*fn)(struct builder *, const char *, size_t, int32_t),
                      struct builder *b, int32_t entity)
{
    for (const char *p = list; p && *p;) {
        size_t n = strcspn(p, ",");
        size_t s = 0, e = n;
        while (s < e && isspace((unsigned char)p[s]))
            s++;
        while (e > s && isspace((unsigned char)p[e - 1]))
            e--;
        if (e > s)
            fn(b, p + s, e - s, entity);
        p += n + (p[n] == ',');
    }
}

static void alias_item(struct builder *b, const char *a, size_t n, int32_t entity)
{
    if (capitals_only(a, n)) {
        add_ticker(b, a, n, entity);
        b->d->tickers[b->d->n_tickers - 1].ordinary = 0; /* the user means it */
        return;
    }
    char *s = xstrndup(a, n);
    add_pattern(b, s, entity, PAT_ALIAS);
    free(s);
}

static void ticker_item(struct builder *b, const char *t, size_t n, int32_t entity)
{
    add_ticker(b, t, n, entity);
    b->d->tickers[b->d->n_tickers - 1].ordinary = 0;
}

static int load_config_entities(struct builder *b, const struct config *cfg,
                                struct fs_error *err)
{
    int n = cfg ? config_section_count(cfg, "entity ") : 0;
    for (int i = 0; i < n; i++) {
        const char *sec = config_section_at(cfg, "entity ", i);
        const char *name = sec + strlen("entity ");
        const char *key, *value;
        for (int k = 0; config_entry_at(cfg, sec, k, &key, &value) == 0; k++)
            if (strcmp(key, "aliases") != 0 && strcmp(key, "tickers") != 0)
                return config_error(cfg, sec, key, err, "unknown key (aliases, tickers)");
        struct strbuf k = STRBUF_INIT;
        sb_appendf(&k, "cfg:%s", name);
        const char *tickers = config_get(cfg, sec, "tickers");
        int32_t e = add_entity(b->d, &b->ent_cap, k.buf, name, NULL, ENTITY_CONFIG);
        sb_free(&k);
        alias_item(b, name, strlen(name), e);
        each_item(config_get(cfg, sec, "aliases"), alias_item, b, e);
        each_item(tickers, ticker_item, b, e);
    }
    return 0;
}

/* ---- the SEC list ---- */

struct sec_row {
    int64_t cik;
    const char *name, *ticker;
};

static int sec_rows(json_t *root, struct sec_row **out, size_t *n, struct fs_error *err)
{
    json_t *data = json_object_get(root, "data");
    if (!json_is_array(data))
        return fs_error_set(err, "no \"data\" array");
    *n = 0;
    *out = xcalloc(json_array_size(data) + 1, sizeof **out);
    for (size_t i = 0; i < json_array_size(data); i++) {
        json_t *r = json_array_get(data, i);
        json_t *cik = json_array_get(r, 0), *name = json_array_get(r, 1),
               *ticker = json_array_get(r, 2);
        if (!json_is_integer(cik) || !json_is_string(name) || !json_is_string(ticker))
            continue; /* a row without a ticker names no listed company */
        (*out)[(*n)++] = (struct sec_row){json_integer_value(cik), json_string_value(name),
                                          json_string_value(ticker)};
    }
    return 0;
}

/* Index of the first row with each CIK, through a small open-addressing map. */
static int32_t cik_slot(int64_t *keys, int32_t *vals, size_t cap, int64_t cik, int32_t v)
{
    size_t i = (size_t)((uint64_t)cik * 0x9e3779b97f4a7c15ULL >> 7) & (cap - 1);
    for (;; i = (i + 1) & (cap - 1)) {
        if (keys[i] == cik)
            return vals[i];
        if (keys[i] == -1) {
            keys[i] = cik, vals[i] = v;
            return v;
        }
    }
}

static size_t first_word_len(const char *name)
{
    return strcspn(name, " ");
}

/* The companies (in the SEC's order, largest first) that get the shorter
 * aliases below: further down the list a first word is more often a place or
 * a person than the company ("Ohio Valley Banc", "Brazil Potash"). */
enum { SEC_ALIAS_TOP = 1000 };

static int alias_word(const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalpha((unsigned char)w[i]) && w[i] != '-')
            return 0;
    return 1;
}

/* Adds alias w[0, n) of entity and, when it came from capitals ending in S
 * ("MOODYS"), its possessive spelling ("Moody's"). */
static void add_alias(struct builder *b, const char *w, size_t n, int32_t entity, uint8_t flags,
                      int from_caps)
{
    char *p = xstrndup(w, n);
    add_pattern(b, p, entity, flags);
    free(p);
    if (from_caps && n >= 5 && (w[n - 1] == 's' || w[n - 1] == 'S') && isalpha((unsigned char)w[n - 2])) {
        struct strbuf sb = STRBUF_INIT;
        sb_append_n(&sb, w, n - 1);
        sb_appendf(&sb, "'%c", w[n - 1]);
        add_pattern(b, sb.buf, entity, flags);
        sb_free(&sb);
    }
}

/* "Goldman Sachs" of "Goldman Sachs Group": the first two words of a name of
 * three or more, the second a word of at least 3 letters and no ordinary word.
 * Companies come largest first, so the largest keeps a prefix that several
 * share (matcher_add keeps the first). */
static void add_two_words(struct builder *b, const char *nm, size_t fl, int32_t entity)
{
    const char *w2 = nm + fl + 1;
    size_t l2 = first_word_len(w2);
    if (w2[l2] == '\0' || l2 < 3 || entity_dir_is_word(b->d, w2, l2) || !alias_word(w2, l2))
        return;
    add_alias(b, nm, fl + 1 + l2, entity, 0, 0);
}

/* Lower-cased first words of entities [from, n_ents), sorted. */
static char **first_words(struct entity_dir *d, size_t from, size_t *n)
{
    *n = d->n_ents - from;
    char **firsts = xmalloc((*n + 1) * sizeof *firsts);
    for (size_t i = 0; i < *n; i++) {
        const char *nm = d->ents[from + i].name;
        firsts[i] = xstrndup(nm, first_word_len(nm));
        for (char *c = firsts[i]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    }
    qsort(firsts, *n, sizeof *firsts, str_ptr_cmp);
    return firsts;
}

static int shared_first(char **firsts, size_t n, const char *nm, size_t fl)
{
    char *lw = xstrndup(nm, fl);
    for (char *c = lw; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    char **lo = bsearch(&lw, firsts, n, sizeof *firsts, str_ptr_cmp);
    int shared = lo && ((lo > firsts && strcmp(lo[-1], lw) == 0) ||
                        (lo + 1 < firsts + n && strcmp(lo[1], lw) == 0));
    free(lw);
    return shared;
}

/* The name itself (ambiguous when one ordinary word or at most 3 letters),
 * then for the largest companies the first word alone (the largest company
 * that starts with it keeps it) and, when other names start with that word
 * too, the first two words. */
static void add_sec_names(struct builder *b, size_t from, const uint8_t *from_caps)
{
    struct entity_dir *d = b->d;
    size_t n;
    char **firsts = first_words(d, from, &n);
    for (size_t i = from; i < d->n_ents; i++) {
        const char *nm = d->ents[i].name;
        size_t fl = first_word_len(nm), len = strlen(nm);
        int one_word = fl == len, caps = from_caps[i - from];
        int ordinary = one_word && entity_dir_is_word(d, nm, len);
        add_alias(b, nm, len, (int32_t)i, one_word && (len <= 3 || ordinary) ? PAT_AMBIGUOUS : 0,
                  caps && one_word);
        if (one_word || i - from >= SEC_ALIAS_TOP || !alias_word(nm, fl))
            continue;
        if (shared_first(firsts, n, nm, fl))
            add_two_words(b, nm, fl, (int32_t)i);
        if (fl >= 4 && !entity_dir_is_word(d, nm, fl))
            add_alias(b, nm, fl, (int32_t)i, 0, caps); /* shared: the largest keeps it */
    }
    for (size_t i = 0; i < n; i++)
        free(firsts[i]);
    free(firsts);
}

/* Funds and notes are no companies: a registered name with one of these words. */
static int is_fund(const char *name)
{
    static const char *const words[] = {"etf", "etn", "etns", "fund", "funds", "index"};
    size_t at[32], wl[32], n = split_blank(name, strlen(name), at, wl, 32);
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < FS_ARRAY_LEN(words); k++)
            if (wl[i] == strlen(words[k]) && strncasecmp(name + at[i], words[k], wl[i]) == 0)
                return 1;
    return 0;
}

/* A map from a key (CIK, or the hash of a lower-cased name) to an entity. */
struct id_map {
    int64_t *keys;
    int32_t *vals;
    size_t cap;
};

static void id_map_init(struct id_map *m, size_t n)
{
    m->cap = 16;
    while (m->cap < 2 * n + 2)
        m->cap *= 2;
    m->keys = xmalloc(m->cap * sizeof *m->keys);
    m->vals = xmalloc(m->cap * sizeof *m->vals);
    memset(m->keys, 0xff, m->cap * sizeof *m->keys); /* -1 = empty */
}

static void id_map_free(struct id_map *m)
{
    free(m->keys), free(m->vals);
}

/* The entity of key, or v (stored) when key is new. */
static int32_t id_map_get(struct id_map *m, int64_t key, int32_t v)
{
    return cik_slot(m->keys, m->vals, m->cap, key, v);
}

/* Points key (already in the map) at v. */
static void id_map_set(struct id_map *m, int64_t key, int32_t v)
{
    size_t i = (size_t)((uint64_t)key * 0x9e3779b97f4a7c15ULL >> 7) & (m->cap - 1);
    for (; m->keys[i] != key; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == -1)
            return;
    m->vals[i] = v;
}

static int64_t name_key(const char *name)
{
    char buf[256];
    size_t n = str_copy(buf, sizeof buf, name);
    for (size_t i = 0; i < n && i < sizeof buf; i++)
        buf[i] = (char)tolower((unsigned char)buf[i]);
    return (int64_t)(hash64(buf, strlen(buf), 7) >> 2);
}

/* The entity of one SEC row: its CIK's, else that of a company with the same
 * derived name ("UBS AG" and "UBS Group AG" are one "UBS"), else a new one. */
static int32_t sec_entity(struct builder *b, struct id_map *ciks, struct id_map *names,
                          const struct sec_row *r, uint8_t *from_caps, size_t from)
{
    int32_t next = (int32_t)b->d->n_ents;
    int32_t e = id_map_get(ciks, r->cik, next);
    if (e != next)
        return e;
    char name[256], key[32];
    /* a name that is its ticker keeps the ticker's capitals ("ASML") */
    if (entity_name_derive(r->name, name, sizeof name) == 0 || strcasecmp(name, r->ticker) == 0)
        str_copy(name, sizeof name, r->ticker);
    e = id_map_get(names, name_key(name), next);
    if (e != next) {
        id_map_set(ciks, r->cik, e);
        return e;
    }
    snprintf(key, sizeof key, "sec:%lld", (long long)r->cik);
    add_entity(b->d, &b->ent_cap, key, name, r->ticker, ENTITY_SEC);
    from_caps[next - (int32_t)from] = (uint8_t)all_caps(r->name, strlen(r->name));
    return e;
}

/* "Booking Holdings" beside "Booking": the name with only legal suffixes
 * dropped, when it differs. */
static void add_long_name(struct builder *b, const char *registered, int32_t e)
{
    char name[256];
    if (derive(registered, name, sizeof name, 1) > 0 &&
        strcasecmp(name, b->d->ents[e].name) != 0 && strchr(name, ' '))
        add_pattern(b, name, e, 0);
}

static int load_sec(struct builder *b, const char *text, struct fs_error *err)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root)
        return fs_error_set(err, "line %d: %s", je.line, je.text);
    struct sec_row *rows = NULL;
    size_t n = 0;
    if (sec_rows(root, &rows, &n, err) < 0) {
        json_decref(root);
        return -1;
    }
    struct id_map ciks, names;
    id_map_init(&ciks, n), id_map_init(&names, n);
    size_t from = b->d->n_ents;
    uint8_t *from_caps = xcalloc(n + 1, 1);
    int32_t *ent_of = xmalloc((n + 1) * sizeof *ent_of);
    for (size_t i = 0; i < n; i++) {
        ent_of[i] = is_fund(rows[i].name) ? -1 : sec_entity(b, &ciks, &names, &rows[i], from_caps, from);
        if (ent_of[i] >= 0)
            add_ticker(b, rows[i].ticker, strlen(rows[i].ticker), ent_of[i]);
    }
    add_sec_names(b, from, from_caps);
    for (size_t i = 0; i < n; i++)
        if (ent_of[i] >= 0)
            add_long_name(b, rows[i].name, ent_of[i]);
    id_map_free(&ciks), id_map_free(&names);
    free(from_caps), free(ent_of), free(rows);
    json_decref(root);
    return 0;
}

static int ticker_cmp(const void *a, const void *b)
{
    const struct entity_ticker *x = a, *y = b;
    int c = strcmp(x->symbol, y->symbol);
    if (c)
        return c;
    return x->entity < y->entity ? -1 : x->entity > y->entity; /* config (lower) first */
}

/* Sorts the tickers and keeps the first of each symbol. */
static void tickers_finish(struct entity_dir *d)
{
    if (d->n_tickers > 1)
        qsort(d->tickers, d->n_tickers, sizeof *d->tickers, ticker_cmp);
    size_t k = 0;
    for (size_t i = 0; i < d->n_tickers; i++) {
        if (k > 0 && strcmp(d->tickers[k - 1].symbol, d->tickers[i].symbol) == 0) {
            free(d->tickers[i].symbol);
            continue;
        }
        d->tickers[k++] = d->tickers[i];
    }
    d->n_tickers = k;
}

int entity_dir_build(const char *sec_json, const char *words, const struct config *cfg,
                     struct entity_dir **out, struct fs_error *err)
{
    struct entity_dir *d = xcalloc(1, sizeof *d);
    struct builder b = {.d = d};
    d->names = matcher_new();
    load_words(d, words);
    if (load_config_entities(&b, cfg, err) < 0 ||
        (sec_json && load_sec(&b, sec_json, err) < 0)) {
        entity_dir_free(d);
        return -1;
    }
    tickers_finish(d);
    matcher_build(d->names);
    *out = d;
    return 0;
}

void entity_dir_free(struct entity_dir *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_ents; i++) {
        free(d->ents[i].key);
        free(d->ents[i].name);
        free(d->ents[i].ticker);
    }
    for (size_t i = 0; i < d->n_tickers; i++)
        free(d->tickers[i].symbol);
    for (size_t i = 0; i < d->n_words; i++)
        free(d->words[i]);
    free(d->ents), free(d->tickers), free(d->words), free(d->pats);
    matcher_free(d->names);
    free(d);
}

static char *read_data(const char *dir, const char *name, struct fs_error *err)
{
    char *path = path_join(dir, name), *text = NULL;
    size_t len;
    if (file_read_all(path, 64u << 20, &text, &len, err) < 0)
        fs_error_prefix(err, "%s", path);
    free(path);
    return text;
}

int entity_dir_load(const char *data_dir, const struct config *cfg, struct entity_dir **out,
                    struct fs_error *err)
{
    char *sec = read_data(data_dir, "entities/company_tickers_exchange.json", err);
    char *w1 = sec ? read_data(data_dir, "entities/common_words.txt", err) : NULL;
    char *w2 = w1 ? read_data(data_dir, "entities/extra_words.txt", err) : NULL;
    int rc = -1;
    if (w2) {
        struct strbuf words = STRBUF_INIT;
        sb_appendf(&words, "%s\n%s", w1, w2);
        rc = entity_dir_build(sec, words.buf, cfg, out, err);
        sb_free(&words);
    }
    free(sec), free(w1), free(w2);
    return rc;
}

int32_t entity_dir_ticker(const struct entity_dir *d, const char *sym, size_t n, int *ordinary)
{
    char buf[16];
    if (n == 0 || n >= sizeof buf)
        return -1;
    for (size_t i = 0; i < n; i++)
        buf[i] = sym[i] == '.' ? '-' : (char)toupper((unsigned char)sym[i]);
    buf[n] = '\0';
    size_t lo = 0, hi = d->n_tickers;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(d->tickers[mid].symbol, buf);
        if (c == 0) {
            if (ordinary)
                *ordinary = d->tickers[mid].ordinary;
            return d->tickers[mid].entity;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int32_t entity_dir_find(const struct entity_dir *d, const char *name)
{
    if (name[0] == '$')
        return entity_dir_ticker(d, name + 1, strlen(name + 1), NULL);
    for (size_t i = 0; i < d->n_ents; i++)
        if (strcasecmp(d->ents[i].name, name) == 0)
            return (int32_t)i;
    return entity_dir_ticker(d, name, strlen(name), NULL);
}
