/*
 * vocab_text.h — the line format both tokenizers (classify/tokenizer.h,
 * classify/wordpiece.h) serialise their vocabulary in, for a model file's
 * metadata: one piece per line, bytes <= 0x20, >= 0x7F and '%' written as %XX
 * (upper-case hex; only these, so each piece has exactly one form), counts as
 * "name N" lines, a final checksum line.
 */
#ifndef FINSENT_VOCAB_TEXT_H
#define FINSENT_VOCAB_TEXT_H

#include "common/strbuf.h"

#include <stddef.h>

/* Appends the escaped form of s[0..n). */
void vocab_text_escape(struct strbuf *sb, const char *s, size_t n);

/* Unescapes s[0..n) into out (room for max bytes): only the canonical escapes.
 * Returns the length, or -1 for a bad or non-canonical escape, a raw byte that
 * should have been escaped, or more than max bytes. */
int vocab_text_unescape(const char *s, size_t n, char *out, size_t max);

/* "prefix N" with N decimal, no leading zero, at most max. Returns 0 or -1. */
int vocab_text_count(const char *s, size_t n, const char *prefix, long max, long *out);

/* Lines of an untrusted text, one at a time. */
struct vocab_lines {
    const char *p, *end;
    int line; /* lines read so far */
};

/* The next line (without its LF), or -1 when no complete line is left. */
int vocab_lines_next(struct vocab_lines *r, const char **s, size_t *n);

#endif
