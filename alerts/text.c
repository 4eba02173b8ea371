/* text.c — untrusted text made safe for a notification: valid UTF-8, one line
 * when it goes into a header or a title, HTML-escaped when it goes into HTML. */
#include "alerts/text.h"

#include <ctype.h>
#include <jansson.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static int utf8_seq_len(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    int n;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Calls emit(sb, bytes, len) for each cleaned character of s. Returns 1 when cut. */
typedef void (*emit_fn)(struct strbuf *sb, const char *p, size_t n);

static void emit_plain(struct strbuf *sb, const char *p, size_t n)
{
    sb_append_n(sb, p, n);
}

static void emit_html(struct strbuf *sb, const char *p, size_t n)
{
    if (n == 1) {
        switch (*p) {
        case '&':
            sb_append(sb, "&amp;");
            return;
        case '<':
            sb_append(sb, "&lt;");
            return;
        case '>':
            sb_append(sb, "&gt;");
            return;
        case '"':
            sb_append(sb, "&quot;");
            return;
        case '\'':
            sb_append(sb, "&#39;");
            return;
        }
    }
    sb_append_n(sb, p, n);
}

static void append_clean(struct strbuf *sb, const char *s, int one_line, size_t max_bytes,
                         emit_fn emit)
{
    static const char replacement[] = "\xEF\xBF\xBD", ellipsis[] = "\xE2\x80\xA6";
    if (!s)
        return;
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    int last_space = one_line; /* also trims leading spaces of one-line text */
    while (*p) {
        int n = utf8_seq_len(p);
        const char *ch = (const char *)p;
        size_t chlen = (size_t)n;
        if (n == 0) {
            ch = replacement;
            chlen = 3;
            n = 1;
        } else if (n == 1 && (*p < 0x20 || *p == 0x7F)) {
            int keep = !one_line && (*p == '\n' || *p == '\t');
            ch = keep ? (const char *)p : " ";
        } else if (n == 2 && p[0] == 0xC2 && p[1] < 0xA0) {
            ch = " "; /* C1 controls */
            chlen = 1;
        }
        if (one_line && ch[0] == ' ' && chlen == 1) {
            if (last_space) {
                p += n;
                continue;
            }
            last_space = 1;
        } else {
            last_space = 0;
        }
        if (max_bytes && used + chlen + 3 > max_bytes && p[n] != '\0') {
            emit(sb, ellipsis, 3);
            return;
        }
        emit(sb, ch, chlen);
        used += chlen;
        p += n;
    }
}

void text_append_clean(struct strbuf *sb, const char *s, int one_line, size_t max_bytes)
{
    size_t start = sb->len;
    append_clean(sb, s, one_line, max_bytes, emit_plain);
    while (one_line && sb->len > start && sb->buf[sb->len - 1] == ' ')
        sb_truncate(sb, sb->len - 1);
}

void text_append_html(struct strbuf *sb, const char *s, int one_line, size_t max_bytes)
{
    append_clean(sb, s, one_line, max_bytes, emit_html);
}

void text_append_attended(struct strbuf *sb, const char *json)
{
    if (!json)
        return;
    json_error_t jerr;
    json_t *arr = json_loads(json, 0, &jerr);
    if (!json_is_array(arr)) {
        json_decref(arr);
        return;
    }
    size_t i, k = 0;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        const char *w = json_is_string(v)   ? json_string_value(v)
                        : json_is_object(v) ? json_string_value(json_object_get(v, "word"))
                                            : NULL;
        if (!w || k >= 10)
            continue;
        if (k++)
            sb_append(sb, ", ");
        text_append_clean(sb, w, 1, 40);
    }
    json_decref(arr);
}

static int shell_safe(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_./-+=:,@%", *s))
            return 0;
    return 1;
}

void text_append_shell_word(struct strbuf *sb, const char *s)
{
    struct strbuf clean = STRBUF_INIT;
    text_append_clean(&clean, s, 1, 0);
    if (shell_safe(clean.buf)) {
        sb_append(sb, clean.buf);
    } else {
        sb_append_char(sb, '\'');
        for (const char *p = clean.buf; *p; p++) {
            if (*p == '\'')
                sb_append(sb, "'\\''");
            else
                sb_append_char(sb, *p);
        }
        sb_append_char(sb, '\'');
    }
    sb_free(&clean);
}
