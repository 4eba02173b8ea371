/*
 * mime.h — the header section of an alert email: RFC 5322 headers, nothing else
 * (no network, no configuration), so that it can be tested and fuzzed on its own.
 *
 * The body is not built here: libcurl builds it (curl_mime_*: a multipart/
 * alternative of text/plain and text/html, each UTF-8 in quoted-printable, with
 * its own boundary; alerts/email.c). What libcurl lacks is header encoding: it
 * sends header values as given, and a subject is any UTF-8 headline from a crawled
 * page. So the subject is made RFC 2047 encoded-words (UTF-8, base64) here, folded
 * to lines of at most 78 characters, and every other value is cleaned to one line
 * of ASCII (text.h), so no data can add a header line. (libcurl writes the body's
 * Content-Type header with its boundary on one line of about 85 characters: over
 * the recommended 78, well within the 998 RFC 5322 allows.)
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
    const char *message_id; /* "<...@...>" */
    int64_t date;           /* Date: header, seconds since the epoch */
};

/* Appends the header section (Date, From, To, Subject, Message-ID, MIME-Version,
 * Auto-Submitted, X-Mailer), each header ended by CRLF, a folded one continued on
 * lines that start with a space; no blank line after it. Pure ASCII. */
void mime_build_headers(const struct mime_msg *m, struct strbuf *out);

/* Appends "Subject: " + s as RFC 2047 encoded-words, folded so no line exceeds 78
 * characters and no UTF-8 character is split, ended by CRLF. */
void mime_encode_subject(struct strbuf *out, const char *subject);

/* Formats t as an RFC 5322 date ("Mon, 02 Mar 2026 14:05:09 +0000"); a time outside
 * years 1..9999 (only a damaged row holds one) gives the epoch. */
void mime_format_date(int64_t t, char *buf, size_t size);

#endif
