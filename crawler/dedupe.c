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

static int has_text(const char *s)
{
    if (!s)
        return 0;
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return 1;
    return 0;
}

size_t dedupe_keys(const struct feed_item *item, char *keys[DEDUPE_MAX_KEYS])
{
    size_t n = 0;
    if (has_text(item->guid))
        keys[n++] = prefixed("g:", item->guid);
    char *norm = url_normalize(item->url);
    if (norm) {
        keys[n++] = prefixed("u:", norm);
        free(norm);
    }
    if (has_text(item->title) || has_text(item->text)) {
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
