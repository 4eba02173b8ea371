/* strbuf.c — growable strings. */
#include "common/strbuf.h"

#include "common/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_init(struct strbuf *sb)
{
    sb->buf = (char *)"";
    sb->len = 0;
    sb->cap = 0;
}

void sb_grow(struct strbuf *sb, size_t extra)
{
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap)
        return;
    size_t cap = sb->cap ? sb->cap : 64;
    while (cap < need)
        cap *= 2;
    char *p = sb->cap ? xrealloc(sb->buf, cap) : xmalloc(cap);
    if (!sb->cap)
        memcpy(p, sb->buf, sb->len + 1);
    sb->buf = p;
    sb->cap = cap;
}

void sb_append_n(struct strbuf *sb, const char *s, size_t n)
{
    sb_grow(sb, n);
    memcpy(sb->buf + sb->len, s, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
}

void sb_append(struct strbuf *sb, const char *s)
{
    sb_append_n(sb, s, strlen(s));
}

void sb_append_char(struct strbuf *sb, char c)
{
    sb_append_n(sb, &c, 1);
}

void sb_vappendf(struct strbuf *sb, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n <= 0)
        return;
    sb_grow(sb, (size_t)n);
    vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
    sb->len += (size_t)n;
}

void sb_appendf(struct strbuf *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_vappendf(sb, fmt, ap);
    va_end(ap);
}

void sb_reset(struct strbuf *sb)
{
    sb_truncate(sb, 0);
}

void sb_truncate(struct strbuf *sb, size_t len)
{
    if (len >= sb->len)
        return;
    sb->len = len;
    if (sb->cap)
        sb->buf[len] = '\0';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void sb_trim(struct strbuf *sb)
{
    size_t start = 0, end = sb->len;
    while (start < end && is_space(sb->buf[start]))
        start++;
    while (end > start && is_space(sb->buf[end - 1]))
        end--;
    if (start == 0 && end == sb->len)
        return;
    if (!sb->cap) /* static "" never needs trimming */
        return;
    memmove(sb->buf, sb->buf + start, end - start);
    sb->len = end - start;
    sb->buf[sb->len] = '\0';
}

char *sb_detach(struct strbuf *sb)
{
    char *s = sb->cap ? sb->buf : xstrdup("");
    sb_init(sb);
    return s;
}

void sb_free(struct strbuf *sb)
{
    if (sb->cap)
        free(sb->buf);
    sb_init(sb);
}
