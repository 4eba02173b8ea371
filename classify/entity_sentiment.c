/* entity_sentiment.c — the parts of a document that speak of each entity
 * (see entity_sentiment.h). */
#include "classify/entity_sentiment.h"

#include "common/strbuf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int sentence_end(const char *s, size_t i, size_t len)
{
    if (s[i] == '\n')
        return 1;
    return (s[i] == '.' || s[i] == '!' || s[i] == '?' || s[i] == ';') &&
           (i + 1 == len || isspace((unsigned char)s[i + 1]));
}

void entity_sentence_bounds(const char *s, size_t len, size_t at, size_t *b, size_t *e)
{
    size_t i = at < len ? at : len;
    while (i > 0 && !sentence_end(s, i - 1, len))
        i--;
    while (i < len && isspace((unsigned char)s[i]))
        i++;
    *b = i;
    i = at < len ? at : len;
    while (i < len && !sentence_end(s, i, len))
        i++;
    *e = i < len ? i + 1 : len;
}

/* Number of sentences of s that hold a non-blank byte. */
static size_t count_sentences(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t b, e;
        entity_sentence_bounds(s, len, i, &b, &e);
        int text = 0;
        for (size_t k = b; k < e; k++)
            text |= !isspace((unsigned char)s[k]);
        n += text;
        i = e > i ? e : i + 1;
    }
    return n;
}

/* Distinct entities of m, most mentioned first (ties: first mentioned). */
struct entity_count {
    int64_t id;
    size_t count, first;
};

static int count_cmp(const void *pa, const void *pb)
{
    const struct entity_count *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return a->first < b->first ? -1 : a->first > b->first;
}

static size_t distinct_entities(const struct doc_mention *m, size_t n, struct entity_count *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < k && out[j].id != m[i].entity_id)
            j++;
        if (j == k)
            out[k++] = (struct entity_count){m[i].entity_id, 0, i};
        out[j].count++;
    }
    qsort(out, k, sizeof *out, count_cmp);
    return k;
}

/* The context of entity id: the title when it is mentioned there, then each
 * body sentence that mentions it, once. NULL when that is the whole document
 * or the entity has no mention in the text. */
static char *context_of(int64_t id, const char *title, const char *text,
                        const struct doc_mention *m, size_t n)
{
    size_t tlen = strlen(text), used = 0, last_end = 0;
    int in_title = 0, in_text = 0;
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < n; i++)
        in_title |= m[i].entity_id == id && m[i].field == 0;
    if (in_title && title)
        sb_append(&sb, title);
    for (size_t i = 0; i < n; i++) {
        if (m[i].entity_id != id || m[i].field != 1 || (size_t)m[i].start >= tlen)
            continue;
        size_t b, e;
        entity_sentence_bounds(text, tlen, (size_t)m[i].start, &b, &e);
        if (in_text && b < last_end)
            continue; /* the same sentence again */
        in_text = 1;
        used++;
        last_end = e;
        if (sb.len)
            sb_append_char(&sb, '\n');
        sb_append_n(&sb, text + b, e - b);
    }
    size_t all = count_sentences(text, tlen) + (title && *title ? 1 : 0);
    size_t mine = used + (in_title && title && *title ? 1 : 0);
    if (!in_text || mine >= all) {
        sb_free(&sb);
        return NULL;
    }
    if (sb.len > ENTITY_CONTEXT_BYTES) {
        size_t cut = ENTITY_CONTEXT_BYTES;
        while (cut > 0 && ((unsigned char)sb.buf[cut] & 0xC0) == 0x80)
            cut--; /* not inside a UTF-8 sequence */
        sb.buf[cut] = '\0';
        sb.len = cut;
    }
    return sb_detach(&sb);
}

void entity_parts_of(size_t doc, const char *title, const char *text, const struct doc_mention *m,
                     size_t n, struct entity_part **parts, size_t *n_parts, size_t *cap)
{
    if (n == 0)
        return;
    struct entity_count *ents = xmalloc(n * sizeof *ents);
    size_t k = distinct_entities(m, n, ents);
    for (size_t i = 0; i < k; i++) {
        *parts = xgrow(*parts, *n_parts, cap, sizeof **parts, 64);
        char *ctx = i < ENTITY_PARTS_MAX ? context_of(ents[i].id, title, text, m, n) : NULL;
        (*parts)[(*n_parts)++] = (struct entity_part){doc, ents[i].id, ctx};
    }
    free(ents);
}

void entity_parts_free(struct entity_part *parts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(parts[i].context);
    free(parts);
}

/* The reading of the earlier part of the same document whose context equals
 * part i's (the parts of a document are adjacent), or SIZE_MAX. */
static size_t shared_reading(const struct entity_part *parts, const size_t *reading, size_t i)
{
    for (size_t j = i; j-- > 0 && parts[j].doc == parts[i].doc;)
        if (parts[j].context && !strcmp(parts[j].context, parts[i].context))
            return reading[j];
    return SIZE_MAX;
}

size_t entity_parts_readings(const struct entity_part *parts, size_t n, size_t *reading,
                             size_t *first)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        reading[i] = SIZE_MAX;
        if (!parts[i].context)
            continue;
        reading[i] = shared_reading(parts, reading, i);
        if (reading[i] == SIZE_MAX) {
            first[k] = i;
            reading[i] = k++;
        }
    }
    return k;
}
