/* dedupe.c — guid, URL and content keys for duplicate detection. */
#include "crawler/dedupe.h"

#include "common/strbuf.h"
#include "common/util.h"
#include "crawler/text.h"
#include "crawler/url.h"

#include <stdlib.h>
#include <string.h>

static void append_normalized(struct strbuf *sb, const char *s)
{
    if (!s)
        return;
    size_t start = sb->len;
    sb_append(sb, s);
    text_casefold(sb->buf + start);
    struct strbuf part = STRBUF_INIT;
    sb_append(&part, sb->buf + start);
    text_normalize_ws(&part);
    sb_truncate(sb, start);
    sb_append_n(sb, part.buf, part.len);
    sb_free(&part);
}

void dedupe_content_hash(const char *title, const char *text, char out[33])
{
    struct strbuf sb = STRBUF_INIT;
    append_normalized(&sb, title);
    sb_append_char(&sb, '\n');
    append_normalized(&sb, text);
    hash128_hex(sb.buf, sb.len, out);
    sb_free(&sb);
}

static char *prefixed(const char *prefix, const char *value)
{
    struct strbuf sb = STRBUF_INIT;
    sb_append(&sb, prefix);
    sb_append(&sb, value);
    return sb_detach(&sb);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int has_text(const char *s)
{
    if (!s)
        return 0;
    for (; *s; s++)
        if (!is_space(*s))
            return 1;
    return 0;
}

/* At least min words (runs of non-space) in s. */
static int has_words(const char *s, int min)
{
    int n = 0;
    for (int in_word = 0; s && *s && n < min; s++) {
        if (!is_space(*s) && !in_word)
            n++;
        in_word = !is_space(*s);
    }
    return n >= min;
}

static char *guid_key(const char *guid, int64_t source_id)
{
    if (url_is_http_or_https(guid))
        return prefixed("g:", guid);
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "g:%lld:%s", (long long)source_id, guid);
    return sb_detach(&sb);
}

size_t dedupe_keys(const struct feed_item *item, int64_t source_id, char *keys[DEDUPE_MAX_KEYS])
{
    size_t n = 0;
    if (has_text(item->guid))
        keys[n++] = guid_key(item->guid, source_id);
    char *norm = url_normalize(item->url);
    if (norm) {
        keys[n++] = prefixed("u:", norm);
        free(norm);
    }
    /* without guid or URL, the content is an item's only identity */
    if (has_words(item->text, DEDUPE_MIN_CONTENT_WORDS) ||
        (n == 0 && (has_text(item->title) || has_text(item->text)))) {
        char hex[33];
        dedupe_content_hash(item->title, item->text, hex);
        keys[n++] = prefixed("h:", hex);
    }
    return n;
}

void dedupe_keys_free(char *keys[], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(keys[i]);
        keys[i] = NULL;
    }
}
