/* fuzz_alerts_mime.c — libFuzzer target: untrusted text through the alert email
 * builder. The input is split at NUL bytes into subject, text and HTML. Checked:
 * one-line cleaning leaves valid UTF-8 without control characters and is
 * idempotent; HTML escaping leaves no < > " ' and no bare &; the header section
 * (libcurl builds the body) is ASCII with CRLF line ends, lines of at most 78
 * characters, exactly one Subject header, and its encoded-words decode back to
 * the cleaned subject. */
/* scripts/fuzz.sh links every target against the crawler and common sources only,
 * so the alert text and MIME code is compiled into this target directly.
 *
 * Inputs are read up to INPUT_MAX bytes (scripts/fuzz.sh gives -max_len=4096
 * too): every step is linear, a subject is cut at 400 bytes, and the 64 KiB
 * inputs the fixtures seeded held the target near 290 executions/s. */
#include "alerts/mime.c"
#include "alerts/text.c"
#include "fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

static void check_utf8_one_line(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = utf8_seq_len(p);
        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7F)))
            abort();
        p += n;
    }
}

static void check_html(const char *s)
{
    static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;"};
    for (const char *p = s; *p; p++) {
        if (*p == '<' || *p == '>' || *p == '"' || *p == '\'')
            abort();
        if (*p != '&')
            continue;
        int ok = 0;
        for (size_t i = 0; i < sizeof entities / sizeof *entities; i++)
            ok |= strncmp(p, entities[i], strlen(entities[i])) == 0;
        if (!ok)
            abort();
    }
}

static int b64_value(char c)
{
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(a, c) : NULL;
    return p ? (int)(p - a) : -1;
}

static void b64_decode(struct strbuf *out, const char *s, size_t n)
{
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64_value(s[i]);
        if (v < 0)
            abort();
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sb_append_char(out, (char)((acc >> bits) & 0xFF));
        }
    }
}

/* Checks the header section and returns the decoded subject (caller frees). */
static char *check_message(const char *msg)
{
    for (const char *p = msg; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\r' && c != '\n') || c >= 0x7F)
            abort();
        if (c == '\n' && (p == msg || p[-1] != '\r'))
            abort();
    }
    const char *end = strstr(msg, "\r\n\r\n");
    if (!end)
        abort();
    struct strbuf subject = STRBUF_INIT;
    int n_subject = 0, in_subject = 0;
    for (const char *line = msg; line < end + 2;) {
        const char *eol = strstr(line, "\r\n");
        if (eol - line > 78)
            abort();
        if (strncmp(line, "Subject: ", 9) == 0) {
            n_subject++;
            in_subject = 1;
        } else if (line[0] != ' ') {
            in_subject = 0;
        }
        if (in_subject) {
            const char *w = strstr(line, "=?UTF-8?B?");
            if (!w || w > eol)
                abort();
            w += 10;
            const char *q = strstr(w, "?=");
            if (!q || q > eol)
                abort();
            b64_decode(&subject, w, (size_t)(q - w));
        }
        line = eol + 2;
    }
    if (n_subject != 1)
        abort();
    return sb_detach(&subject);
}

#define INPUT_MAX 4096

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    size = fuzz_cut(size, INPUT_MAX);
    char *buf = malloc(size + 3);
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = buf[size + 2] = '\0';
    const char *subject = buf;
    const char *text = subject + strlen(subject) + (strlen(subject) < size ? 1 : 0);
    const char *html = text + strlen(text) + (text + strlen(text) < buf + size ? 1 : 0);

    struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    text_append_clean(&a, subject, 1, 0);
    check_utf8_one_line(a.buf);
    text_append_clean(&b, a.buf, 1, 0);
    if (strcmp(a.buf, b.buf) != 0)
        abort();
    sb_reset(&b);
    text_append_html(&b, text, 0, 0);
    check_html(b.buf);
    sb_reset(&b);
    text_append_html(&b, html, 1, 0);
    check_html(b.buf);

    const char *to[] = {"ops@example.com", "Risk <risk@example.com>"};
    struct mime_msg m = {"finsent <f@example.com>", to, 2, subject, "<id@example.com>",
                         1772366405};
    struct strbuf msg = STRBUF_INIT;
    mime_build_headers(&m, &msg);
    sb_append(&msg, "\r\n"); /* the blank line that ends the header section */
    char *decoded = check_message(msg.buf);
    sb_reset(&a);
    text_append_clean(&a, subject, 1, 400);
    if (strcmp(decoded, a.len ? a.buf : "(no subject)") != 0)
        abort();
    free(decoded);
    sb_free(&a);
    sb_free(&b);
    sb_free(&msg);
    free(buf);
    return 0;
}
