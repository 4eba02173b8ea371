/*
 * strbuf.h — a growable, always NUL-terminated byte string.
 *
 *   struct strbuf sb = STRBUF_INIT;
 *   sb_appendf(&sb, "%d items", n);
 *   use(sb.buf);            // valid C string, also sb.len bytes
 *   sb_free(&sb);           // or: char *s = sb_detach(&sb); ... free(s);
 *
 * Growth is checked (exits on out-of-memory, see common.h).
 */
#ifndef FINSENT_STRBUF_H
#define FINSENT_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
    char *buf; /* NUL-terminated; "" (static) until the first append */
    size_t len;
    size_t cap;
};

#define STRBUF_INIT {(char *)"", 0, 0}

void sb_init(struct strbuf *sb);
void sb_grow(struct strbuf *sb, size_t extra);
void sb_append_n(struct strbuf *sb, const char *s, size_t n);
void sb_append(struct strbuf *sb, const char *s);
void sb_append_char(struct strbuf *sb, char c);
void sb_appendf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vappendf(struct strbuf *sb, const char *fmt, va_list ap);
void sb_reset(struct strbuf *sb);            /* len = 0, keeps memory */
void sb_truncate(struct strbuf *sb, size_t len);
void sb_trim(struct strbuf *sb);             /* strips ASCII whitespace at both ends */
char *sb_detach(struct strbuf *sb);          /* caller owns the string; sb is reset */
void sb_free(struct strbuf *sb);

#endif
