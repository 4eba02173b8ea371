/*
 * mime.h — building an email: RFC 5322 headers and a MIME body, nothing else (no
 * network, no configuration), so that it can be tested and fuzzed on its own.
 *
 * The message is pure ASCII with CRLF line ends: the subject is RFC 2047
 * encoded-words (UTF-8, base64) folded to lines of at most 78 characters, both
 * body parts are UTF-8 in base64 (lines of 76). Header values are cleaned to one
 * line first (text.h), so no data can add a header line.
 */
#ifndef FINSENT_ALERTS_MIME_H
#define FINSENT_ALERTS_MIME_H

#include "common/strbuf.h"

#include <stddef.h>
#include <stdint.h>

struct mime_msg {
    const char *from;      /* header form, e.g. "finsent <a@b>" (ASCII) */
    const char *const *to; /* header forms */
    int n_to;
    const char *subject;    /* any UTF-8 (cleaned and encoded) */
    const char *text;       /* text/plain body, LF or CRLF line ends */
    const char *html;       /* text/html body; NULL = text/plain only */
    const char *message_id; /* "<...@...>" */
    int64_t date;           /* Date: header, seconds since the epoch */
};

/* Appends the complete message (headers, blank line, body) to out. */
void mime_build(const struct mime_msg *m, struct strbuf *out);

/* Appends "Subject: " + s as RFC 2047 encoded-words, folded so no line exceeds 78
 * characters and no UTF-8 character is split, ended by CRLF. */
void mime_encode_subject(struct strbuf *out, const char *subject);

/* Formats t as an RFC 5322 date ("Mon, 02 Mar 2026 14:05:09 +0000"); a time outside
 * years 1..9999 (only a damaged row holds one) gives the epoch. */
void mime_format_date(int64_t t, char *buf, size_t size);

#endif
