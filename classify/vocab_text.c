/* vocab_text.c — the escaped line format of serialised vocabularies. */
#include "classify/vocab_text.h"

#include <string.h>

void vocab_text_escape(struct strbuf *sb, const char *s, size_t n)
{
    static const char hexd[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F || c == '%') {
            char e[3] = {'%', hexd[c >> 4], hexd[c & 15]};
            sb_append_n(sb, e, 3);
        } else {
            sb_append_char(sb, (char)c);
        }
    }
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int vocab_text_unescape(const char *s, size_t n, char *out, size_t max)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F)
            return -1;
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (unsigned char)(h * 16 + l);
            if (!(c <= 0x20 || c >= 0x7F || c == '%'))
                return -1; /* not canonical: would not round-trip */
            i += 2;
        }
        if (o >= max)
            return -1;
        out[o++] = (char)c;
    }
    return (int)o;
}

int vocab_text_count(const char *s, size_t n, const char *prefix, long max, long *out)
{
    size_t k = strlen(prefix);
    if (n <= k || n - k > 9 || memcmp(s, prefix, k) != 0 || (s[k] == '0' && n - k > 1))
        return -1;
    long v = 0;
    for (size_t i = k; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int vocab_lines_next(struct vocab_lines *r, const char **s, size_t *n)
{
    const char *nl = r->p < r->end ? memchr(r->p, '\n', (size_t)(r->end - r->p)) : NULL;
    if (!nl)
        return -1;
    *s = r->p;
    *n = (size_t)(nl - r->p);
    r->p = nl + 1;
    r->line++;
    return 0;
}
