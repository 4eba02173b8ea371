/* text.c — charsets, UTF-8 repair, entities, tag stripping, whitespace. */
#include "crawler/text.h"

#include "common/common.h"

#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <libxml/HTMLparser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- UTF-8 ------------------------------------------------------------------ */

void text_append_utf8(struct strbuf *out, unsigned cp)
{
    char b[4];
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        sb_append_char(out, (char)cp);
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        sb_append_n(out, b, 2);
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        sb_append_n(out, b, 3);
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        sb_append_n(out, b, 4);
    }
}

/* Decodes one UTF-8 sequence at s (n > 0 bytes available). Returns its length
 * and sets *cp, or 0 when the sequence is invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t len;
    unsigned min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, min = 0x80, c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, min = 0x800, c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, min = 0x10000, c &= 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

int text_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    unsigned cp;
    while (i < len) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

static int is_bad_control(unsigned char c)
{
    return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
}

void text_utf8_repair(struct strbuf *out, const char *in, size_t len)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t i = 0, run = 0; /* run: start of the pending run of good bytes */
    unsigned cp;
    sb_grow(out, len);
    while (i < len) {
        if (p[i] >= 0x20 && p[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = 0;
        if (p[i] >= 0x80)
            n = utf8_decode(p + i, len - i, &cp);
        else if (!is_bad_control(p[i]))
            n = 1;
        if (n) {
            i += n;
            continue;
        }
        sb_append_n(out, in + run, i - run);
        if (p[i] < 0x80)
            sb_append_char(out, ' ');
        else
            sb_append(out, "\xEF\xBF\xBD");
        i++;
        run = i;
    }
    sb_append_n(out, in + run, i - run);
}

/* ---- charsets --------------------------------------------------------------- */

static char *charset_dup(const char *s, size_t n)
{
    char *r = xstrndup(s, n);
    for (char *q = r; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    return r;
}

static int is_charset_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == ':';
}

/* Reads `name = "value"` style charset value starting at p (just after the
 * word "charset" or "encoding"). Returns a new string or NULL. */
static char *read_charset_value(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p >= end || *p != '=')
        return NULL;
    p++;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    if (p < end && (*p == '"' || *p == '\''))
        p++;
    const char *v = p;
    while (p < end && is_charset_char(*p))
        p++;
    if (p == v || p - v > 40)
        return NULL;
    return charset_dup(v, (size_t)(p - v));
}

static const char *find_ci(const char *hay, const char *end, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; p + n <= end; p++)
        if (strncasecmp(p, needle, n) == 0)
            return p;
    return NULL;
}

static char *sniff_xml_decl(const char *body, size_t len)
{
    const char *p = body, *end = body + (len < 512 ? len : 512);
    while (p < end && isspace((unsigned char)*p))
        p++;
    if (end - p < 5 || strncmp(p, "<?xml", 5) != 0)
        return NULL;
    const char *close = find_ci(p, end, "?>");
    if (!close)
        return NULL;
    const char *enc = find_ci(p, close, "encoding");
    return enc ? read_charset_value(enc + 8, close) : NULL;
}

static char *sniff_html_meta(const char *body, size_t len)
{
    const char *p = body, *end = body + (len < 16384 ? len : 16384);
    while ((p = find_ci(p, end, "<meta")) != NULL) {
        const char *close = memchr(p, '>', (size_t)(end - p));
        if (!close)
            return NULL;
        const char *cs = find_ci(p, close, "charset");
        if (cs) {
            char *v = read_charset_value(cs + 7, close);
            if (v)
                return v;
        }
        p = close;
    }
    return NULL;
}

static const char *bom_charset(const char *body, size_t len)
{
    const unsigned char *u = (const unsigned char *)body;
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
        return "utf-8";
    if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE)
        return "utf-16le";
    if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF)
        return "utf-16be";
    return NULL;
}

char *text_sniff_charset(const char *body, size_t len, int html)
{
    const char *bom = bom_charset(body, len);
    if (bom)
        return xstrdup(bom);
    char *cs = sniff_xml_decl(body, len);
    if (!cs && html)
        cs = sniff_html_meta(body, len);
    return cs;
}

static int charset_is_utf8(const char *cs)
{
    return !cs || !*cs || strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
           strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

/* Browsers read ISO-8859-1 labels as windows-1252 (its superset); so do we, so
 * that curly quotes in "latin-1" pages survive. */
static const char *charset_alias(const char *cs)
{
    if (strcasecmp(cs, "iso-8859-1") == 0 || strcasecmp(cs, "latin1") == 0 ||
        strcasecmp(cs, "iso8859-1") == 0 || strcasecmp(cs, "l1") == 0 ||
        strcasecmp(cs, "iso_8859-1") == 0)
        return "WINDOWS-1252";
    return cs;
}

static void iconv_all(iconv_t cd, struct strbuf *tmp, const char *in, size_t len)
{
    char *ip = (char *)in;
    size_t ileft = len;
    while (ileft > 0) {
        sb_grow(tmp, ileft * 2 + 16);
        char *op = tmp->buf + tmp->len;
        size_t oleft = tmp->cap - tmp->len - 1, before = oleft;
        size_t r = iconv(cd, &ip, &ileft, &op, &oleft);
        tmp->len += before - oleft;
        tmp->buf[tmp->len] = '\0';
        if (r != (size_t)-1 || errno == E2BIG)
            continue;
        sb_append(tmp, "\xEF\xBF\xBD");
        if (errno == EINVAL) /* truncated multibyte sequence at the end */
            break;
        ip++, ileft--; /* EILSEQ: skip one byte */
        iconv(cd, NULL, NULL, NULL, NULL);
    }
}

int text_to_utf8(struct strbuf *out, const char *in, size_t len, const char *charset)
{
    const unsigned char *u = (const unsigned char *)in;
    int unknown = 0;
    if (!charset_is_utf8(charset)) {
        iconv_t cd = iconv_open("UTF-8", charset_alias(charset));
        if (cd != (iconv_t)-1) {
            struct strbuf tmp = STRBUF_INIT;
            iconv_all(cd, &tmp, in, len);
            iconv_close(cd);
            size_t skip = tmp.len >= 3 && memcmp(tmp.buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
            text_utf8_repair(out, tmp.buf + skip, tmp.len - skip);
            sb_free(&tmp);
            return 0;
        }
        unknown = 1;
    }
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
        in += 3, len -= 3;
    text_utf8_repair(out, in, len);
    return unknown;
}

void text_decode_document(struct strbuf *out, const char *body, size_t len,
                          const char *http_charset, int html)
{
    const char *bom = bom_charset(body, len);
    if (bom) {
        text_to_utf8(out, body, len, bom);
        return;
    }
    size_t start = out->len;
    if (http_charset && *http_charset && text_to_utf8(out, body, len, http_charset) == 0)
        return;
    sb_truncate(out, start);
    char *declared = text_sniff_charset(body, len, html);
    text_to_utf8(out, body, len, declared);
    free(declared);
}

/* ---- entities --------------------------------------------------------------- */

/* HTML5 reads numeric references 128..159 as windows-1252. */
static unsigned cp1252_fix(unsigned cp)
{
    static const unsigned short map[32] = {
        0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD, 0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178};
    if (cp >= 0x80 && cp <= 0x9F)
        return map[cp - 0x80];
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0xFFFD;
    return cp;
}

static size_t decode_numeric(const char *s, size_t len, struct strbuf *out)
{
    size_t i = 2; /* past "&#" */
    int hex = i < len && (s[i] == 'x' || s[i] == 'X');
    if (hex)
        i++;
    size_t start = i;
    unsigned long cp = 0;
    while (i < len && (hex ? isxdigit((unsigned char)s[i]) : isdigit((unsigned char)s[i]))) {
        int d =
            isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10);
        if (cp <= 0x10FFFF)
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
        i++;
    }
    if (i == start || i - start > 12)
        return 0;
    if (i < len && s[i] == ';')
        i++;
    unsigned c = cp > 0x10FFFF ? 0xFFFD : cp1252_fix((unsigned)cp);
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
        c = ' ';
    text_append_utf8(out, c);
    return i;
}

/* Decodes the reference at s[0] == '&'. Returns the bytes consumed, 0 when
 * it is not a known reference. */
static size_t decode_entity_at(const char *s, size_t len, struct strbuf *out)
{
    if (len >= 3 && s[1] == '#')
        return decode_numeric(s, len, out);
    char name[16];
    size_t i = 1;
    while (i < len && i - 1 < sizeof name - 1 && isalnum((unsigned char)s[i]))
        i++;
    if (i == 1 || i >= len || s[i] != ';')
        return 0;
    memcpy(name, s + 1, i - 1);
    name[i - 1] = '\0';
    if (strcmp(name, "apos") == 0) {
        sb_append_char(out, '\'');
        return i + 1;
    }
    const htmlEntityDesc *e = htmlEntityLookup((const xmlChar *)name);
    if (!e)
        return 0;
    text_append_utf8(out, e->value);
    return i + 1;
}

void text_decode_entities(struct strbuf *out, const char *s, size_t len)
{
    size_t run = 0, i = 0;
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        if (!amp)
            break;
        i = (size_t)(amp - s);
        sb_append_n(out, s + run, i - run);
        size_t n = decode_entity_at(s + i, len - i, out);
        if (n) {
            i += n;
        } else {
            sb_append_char(out, '&');
            i++;
        }
        run = i;
    }
    sb_append_n(out, s + run, len - run);
}

/* ---- whitespace ------------------------------------------------------------- */

/* Length of the whitespace character at p (n bytes left), 0 when not one. */
static size_t ws_len(const unsigned char *p, size_t n)
{
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (*p < 0xC2)
        return 0;
    if (n >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
        return 2;
    if (n < 3)
        return 0;
    if (p[0] == 0xE2 && p[1] == 0x80 &&
        ((p[2] >= 0x80 && p[2] <= 0x8B) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
        return 3;
    if (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F)
        return 3;
    if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
        return 3;
    if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        return 3;
    return 0;
}

/* Collapses s[0..len) into dst (may equal s); returns the new length. */
static size_t collapse_ws(char *dst, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, o = 0;
    int pending = 0;
    while (i < len) {
        size_t w = ws_len(p + i, len - i);
        if (w) {
            pending = 1;
            i += w;
            continue;
        }
        if (pending && o > 0)
            dst[o++] = ' ';
        pending = 0;
        dst[o++] = s[i++];
    }
    return o;
}

void text_normalize_ws(struct strbuf *sb)
{
    if (!sb->cap)
        return;
    sb->len = collapse_ws(sb->buf, sb->buf, sb->len);
    sb->buf[sb->len] = '\0';
}

char *text_normalize_ws_str(char *s)
{
    size_t n = collapse_ws(s, s, strlen(s));
    s[n] = '\0';
    return s;
}

void text_ws_measure(const char *s, size_t len, struct text_ws_len *out)
{
    const unsigned char *p = (const unsigned char *)s;
    memset(out, 0, sizeof *out);
    int pending = 0;
    for (size_t i = 0; i < len;) {
        size_t w = ws_len(p + i, len - i);
        if (w) {
            out->lead |= out->bytes == 0;
            pending = 1;
            i += w;
            continue;
        }
        out->gaps += pending && out->bytes > 0;
        pending = 0;
        out->bytes++;
        i++;
    }
    out->trail = pending;
}

void text_ws_join(struct text_ws_len *a, const struct text_ws_len *b)
{
    if (b->bytes == 0) {
        a->trail |= b->lead;
        a->lead |= a->bytes == 0 && b->lead;
        return;
    }
    if (a->bytes == 0) {
        int lead = a->lead || a->trail || b->lead;
        *a = *b;
        a->lead = lead;
        return;
    }
    a->gaps += b->gaps + (a->trail || b->lead);
    a->bytes += b->bytes;
    a->trail = b->trail;
}

size_t text_ws_normalized_len(const struct text_ws_len *m)
{
    return m->bytes + m->gaps;
}

/* ---- tag stripping ---------------------------------------------------------- */

static int tag_is(const char *name, size_t n, const char *const *list)
{
    for (; *list; list++)
        if (strlen(*list) == n && strncasecmp(name, *list, n) == 0)
            return 1;
    return 0;
}

/* Skips a tag starting at s[0] == '<'. Returns the index after it and sets
 * *name / *name_len / *closing; returns 0 when s does not start a tag. */
static size_t scan_tag(const char *s, size_t len, const char **name, size_t *name_len, int *closing)
{
    size_t i = 1;
    *closing = 0;
    if (i < len && s[i] == '/')
        *closing = 1, i++;
    if (i >= len || !(isalpha((unsigned char)s[i]) || (!*closing && (s[i] == '!' || s[i] == '?'))))
        return 0;
    *name = s + i;
    while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '!' || s[i] == '?' || s[i] == ':' ||
                       s[i] == '-'))
        i++;
    *name_len = (size_t)(s + i - *name);
    char quote = 0;
    for (; i < len; i++) {
        if (quote) {
            if (s[i] == quote)
                quote = 0;
        } else if (s[i] == '"' || s[i] == '\'') {
            quote = s[i];
        } else if (s[i] == '>') {
            return i + 1;
        }
    }
    return len;
}

char *text_html_to_text(const char *html, size_t len)
{
    static const char *const blocks[] = {
        "p",          "br",  "div",     "li",         "ul",     "ol",     "h1", "h2",
        "h3",         "h4",  "h5",      "h6",         "tr",     "td",     "th", "table",
        "blockquote", "pre", "section", "article",    "header", "footer", "hr", "dd",
        "dt",         "dl",  "figure",  "figcaption", "img",    NULL};
    static const char *const raw[] = {"script", "style", "noscript", "template", NULL};
    struct strbuf out = STRBUF_INIT;
    size_t i = 0, run = 0;
    while (i < len) {
        char c = html[i];
        if (c != '<' && c != '&') {
            i++;
            continue;
        }
        sb_append_n(&out, html + run, i - run);
        if (c == '&') {
            size_t n = decode_entity_at(html + i, len - i, &out);
            if (!n)
                sb_append_char(&out, '&');
            i += n ? n : 1;
            run = i;
            continue;
        }
        if (len - i >= 4 && memcmp(html + i, "<!--", 4) == 0) {
            const char *e = find_ci(html + i + 4, html + len, "-->");
            i = e ? (size_t)(e - html) + 3 : len;
            run = i;
            continue;
        }
        const char *name;
        size_t nlen;
        int closing;
        size_t n = scan_tag(html + i, len - i, &name, &nlen, &closing);
        if (!n) {
            sb_append_char(&out, '<');
            run = ++i;
            continue;
        }
        i += n;
        if (tag_is(name, nlen, blocks))
            sb_append_char(&out, ' ');
        if (!closing && tag_is(name, nlen, raw)) {
            char endtag[16];
            snprintf(endtag, sizeof endtag, "</%.*s", (int)nlen, name);
            const char *e = find_ci(html + i, html + len, endtag);
            const char *gt = e ? memchr(e, '>', (size_t)(html + len - e)) : NULL;
            i = gt ? (size_t)(gt - html) + 1 : len;
        }
        run = i;
    }
    sb_append_n(&out, html + run, len - run);
    text_normalize_ws(&out);
    return sb_detach(&out);
}

/* ---- case folding ----------------------------------------------------------- */

static unsigned fold_cp(unsigned cp)
{
    if (cp < 0x80)
        return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7)
        return cp + 0x20;
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2)
        return cp + 0x20;
    if (cp >= 0x410 && cp <= 0x42F)
        return cp + 0x20;
    if (cp >= 0x400 && cp <= 0x40F)
        return cp + 0x50;
    return cp;
}

void text_casefold(char *s)
{
    unsigned char *p = (unsigned char *)s;
    size_t len = strlen(s), i = 0;
    while (i < len) {
        if (p[i] < 0x80) {
            if (p[i] >= 'A' && p[i] <= 'Z')
                p[i] = (unsigned char)(p[i] + 32);
            i++;
            continue;
        }
        unsigned cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (!n) {
            i++;
            continue;
        }
        unsigned f = fold_cp(cp);
        if (f != cp && n == 2) { /* every mapping above stays two bytes long */
            p[i] = (unsigned char)(0xC0 | (f >> 6));
            p[i + 1] = (unsigned char)(0x80 | (f & 0x3F));
        }
        i += n;
    }
}
