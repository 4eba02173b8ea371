/* mime.c — the RFC 5322 header section of an alert email (see mime.h). */
#include "alerts/mime.h"

#include "alerts/text.h"
#include "common/util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#ifndef FINSENT_VERSION /* set by the Makefile */
#define FINSENT_VERSION "dev"
#endif

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64_append(struct strbuf *sb, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)p[i] << 16;
        if (i + 1 < n)
            v |= (unsigned)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {b64_alphabet[(v >> 18) & 63], b64_alphabet[(v >> 12) & 63],
                     i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=',
                     i + 2 < n ? b64_alphabet[v & 63] : '='};
        sb_append_n(sb, q, 4);
    }
}

/* Length of the UTF-8 character starting with byte c (1 for stray bytes). */
static size_t utf8_char_len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

void mime_encode_subject(struct strbuf *out, const char *subject)
{
    struct strbuf clean = STRBUF_INIT;
    text_append_clean(&clean, subject, 1, 400);
    if (clean.len == 0)
        sb_append(&clean, "(no subject)");
    sb_append(out, "Subject: ");
    /* 36 bytes -> 48 base64 chars -> 60-char encoded-word: "Subject: " + 60 < 78 */
    size_t i = 0;
    int first = 1;
    while (i < clean.len) {
        size_t n = 0;
        while (i + n < clean.len) {
            size_t c = utf8_char_len((unsigned char)clean.buf[i + n]);
            if (n + c > 36)
                break;
            n += c;
        }
        if (n == 0)
            n = clean.len - i < 4 ? clean.len - i : 4;
        sb_append(out, first ? "=?UTF-8?B?" : "\r\n =?UTF-8?B?");
        base64_append(out, (const unsigned char *)clean.buf + i, n);
        sb_append(out, "?=");
        i += n;
        first = 0;
    }
    sb_append(out, "\r\n");
    sb_free(&clean);
}

void mime_format_date(int64_t t, char *buf, size_t size)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || tm.tm_year < 1 - 1900 || tm.tm_year > 9999 - 1900) {
        /* not a date a mail header can carry (only a damaged row has one) */
        tt = 0;
        gmtime_r(&tt, &tm);
    }
    snprintf(buf, size, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void mime_build_headers(const struct mime_msg *m, struct strbuf *out)
{
    char date[64];
    mime_format_date(m->date, date, sizeof date);
    sb_appendf(out, "Date: %s\r\n", date);
    sb_append(out, "From: ");
    text_append_clean(out, m->from, 1, 0);
    sb_append(out, "\r\nTo: ");
    for (int i = 0; i < m->n_to; i++) {
        sb_append(out, i ? ",\r\n " : "");
        text_append_clean(out, m->to[i], 1, 0);
    }
    sb_append(out, "\r\n");
    mime_encode_subject(out, m->subject);
    sb_append(out, "Message-ID: ");
    text_append_clean(out, m->message_id, 1, 200);
    sb_append(out, "\r\n");
    sb_append(out, "MIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n"
                   "X-Mailer: finsent " FINSENT_VERSION "\r\n");
}
