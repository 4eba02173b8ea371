/* common.c — error reports and checked allocation. */
#include "common/common.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keeps a message one line: it may quote untrusted input (a JSON parser's
 * error quotes the bytes near the fault, newline included), so ASCII control
 * characters become spaces. */
static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F)
            *s = ' ';
}

int fs_error_set(struct fs_error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    one_line(err->msg);
    return -1;
}

int fs_error_prefix(struct fs_error *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[FS_ERROR_MAX], old[FS_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t n = str_copy(err->msg, sizeof err->msg, prefix);
    if (n + 2 < sizeof err->msg) {
        memcpy(err->msg + n, ": ", 3);
        str_copy(err->msg + n + 2, sizeof err->msg - n - 2, old);
    }
    one_line(err->msg); /* a path may hold a newline too */
    return -1;
}

static _Noreturn void oom(size_t n)
{
    fprintf(stderr, "finsent: out of memory (%zu bytes)\n", n);
    exit(70);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *xgrow(void *array, size_t count, size_t *cap, size_t elem_size, size_t initial)
{
    if (count < *cap)
        return array;
    while (*cap <= count)
        *cap = *cap ? *cap * 2 : initial;
    return xrealloc(array, *cap * elem_size);
}

char *xstrndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}
