/* url.c — RFC 3986 reference resolution and dedupe normalisation. */
#include "crawler/url.h"

#include "common/common.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct url_parts {
    const char *scheme, *auth, *path, *query, *frag;
    size_t scheme_len, auth_len, path_len, query_len, frag_len;
    int has_scheme, has_auth, has_query, has_frag;
};

static void url_split(const char *s, size_t len, struct url_parts *u)
{
    memset(u, 0, sizeof *u);
    size_t i = 0;
    if (len && isalpha((unsigned char)s[0])) {
        while (i < len &&
               (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
            i++;
        if (i < len && s[i] == ':') {
            u->has_scheme = 1, u->scheme = s, u->scheme_len = i;
            i++;
        } else {
            i = 0;
        }
    }
    if (len - i >= 2 && s[i] == '/' && s[i + 1] == '/') {
        i += 2;
        u->has_auth = 1, u->auth = s + i;
        while (i < len && s[i] != '/' && s[i] != '?' && s[i] != '#')
            i++;
        u->auth_len = (size_t)(s + i - u->auth);
    }
    u->path = s + i;
    while (i < len && s[i] != '?' && s[i] != '#')
        i++;
    u->path_len = (size_t)(s + i - u->path);
    if (i < len && s[i] == '?') {
        u->has_query = 1, u->query = s + ++i;
        while (i < len && s[i] != '#')
            i++;
        u->query_len = (size_t)(s + i - u->query);
    }
    if (i < len && s[i] == '#') {
        u->has_frag = 1, u->frag = s + i + 1;
        u->frag_len = len - i - 1;
    }
}

static void pop_segment(struct strbuf *out)
{
    char *slash = out->len ? memrchr(out->buf, '/', out->len) : NULL;
    sb_truncate(out, slash ? (size_t)(slash - out->buf) : 0);
}

/* RFC 3986 5.2.4, appending the result to out. */
static void remove_dots(struct strbuf *out, const char *path, size_t len)
{
    char *in = xstrndup(path, len);
    size_t i = 0;
    struct strbuf res = STRBUF_INIT;
    while (i < len) {
        const char *p = in + i;
        size_t left = len - i;
        if (left >= 3 && strncmp(p, "../", 3) == 0) {
            i += 3;
        } else if (left >= 2 && strncmp(p, "./", 2) == 0) {
            i += 2;
        } else if (left >= 3 && strncmp(p, "/./", 3) == 0) {
            i += 2;
        } else if (left == 2 && strncmp(p, "/.", 2) == 0) {
            i += 1, in[i] = '/';
        } else if (left >= 4 && strncmp(p, "/../", 4) == 0) {
            i += 3;
            pop_segment(&res);
        } else if (left == 3 && strncmp(p, "/..", 3) == 0) {
            i += 2, in[i] = '/';
            pop_segment(&res);
        } else if ((left == 1 && p[0] == '.') || (left == 2 && strncmp(p, "..", 2) == 0)) {
            i = len;
        } else {
            size_t j = 1;
            while (j < left && p[j] != '/')
                j++;
            if (p[0] != '/')
                for (j = 0; j < left && p[j] != '/'; j++)
                    ;
            sb_append_n(&res, p, j);
            i += j;
        }
    }
    sb_append_n(out, res.buf, res.len);
    sb_free(&res);
    free(in);
}

static void trim_span(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s))
        (*s)++, (*len)--;
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

static void append_merged_path(struct strbuf *out, const struct url_parts *b,
                               const struct url_parts *r)
{
    struct strbuf merged = STRBUF_INIT;
    if (b->has_auth && b->path_len == 0) {
        sb_append_char(&merged, '/');
    } else {
        const char *slash = b->path_len ? memrchr(b->path, '/', b->path_len) : NULL;
        if (slash)
            sb_append_n(&merged, b->path, (size_t)(slash - b->path) + 1);
    }
    sb_append_n(&merged, r->path, r->path_len);
    remove_dots(out, merged.buf, merged.len);
    sb_free(&merged);
}

char *url_resolve(const char *base, const char *ref)
{
    if (!ref)
        return NULL;
    size_t rlen = strlen(ref);
    trim_span(&ref, &rlen);
    struct url_parts r, b;
    url_split(ref, rlen, &r);
    if (r.has_scheme)
        return xstrndup(ref, rlen);
    if (!base)
        return NULL;
    url_split(base, strlen(base), &b);
    if (!b.has_scheme)
        return NULL;
    struct strbuf out = STRBUF_INIT;
    sb_append_n(&out, b.scheme, b.scheme_len);
    sb_append_char(&out, ':');
    const struct url_parts *q = &r;
    if (r.has_auth) {
        sb_append(&out, "//");
        sb_append_n(&out, r.auth, r.auth_len);
        remove_dots(&out, r.path, r.path_len);
    } else {
        if (b.has_auth) {
            sb_append(&out, "//");
            sb_append_n(&out, b.auth, b.auth_len);
        }
        if (r.path_len == 0) {
            sb_append_n(&out, b.path, b.path_len);
            if (!r.has_query)
                q = &b;
        } else if (r.path[0] == '/') {
            remove_dots(&out, r.path, r.path_len);
        } else {
            append_merged_path(&out, &b, &r);
        }
    }
    if (q->has_query) {
        sb_append_char(&out, '?');
        sb_append_n(&out, q->query, q->query_len);
    }
    if (r.has_frag) {
        sb_append_char(&out, '#');
        sb_append_n(&out, r.frag, r.frag_len);
    }
    return sb_detach(&out);
}

static void append_lower(struct strbuf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_append_char(out, (char)tolower((unsigned char)s[i]));
}

/* Appends the authority with the host lowercased and a default port dropped. */
static void append_norm_auth(struct strbuf *out, const struct url_parts *u)
{
    const char *a = u->auth, *end = u->auth + u->auth_len;
    const char *at = memrchr(a, '@', u->auth_len);
    if (at) {
        sb_append_n(out, a, (size_t)(at - a) + 1);
        a = at + 1;
    }
    const char *colon = memrchr(a, ':', (size_t)(end - a));
    if (colon && memchr(colon, ']', (size_t)(end - colon)))
        colon = NULL; /* inside an IPv6 literal */
    const char *host_end = colon ? colon : end;
    append_lower(out, a, (size_t)(host_end - a));
    if (!colon)
        return;
    size_t plen = (size_t)(end - colon - 1);
    int is_default = plen == 0 ||
                     (u->scheme_len == 4 && plen == 2 && strncmp(colon + 1, "80", 2) == 0) ||
                     (u->scheme_len == 5 && plen == 3 && strncmp(colon + 1, "443", 3) == 0);
    if (!is_default)
        sb_append_n(out, colon, (size_t)(end - colon));
}

static void append_norm_query(struct strbuf *out, const char *q, size_t len)
{
    size_t i = 0, kept = 0;
    while (i <= len) {
        const char *amp = memchr(q + i, '&', len - i);
        size_t j = amp ? (size_t)(amp - q) : len;
        size_t n = j - i;
        if (n && !(n >= 4 && strncasecmp(q + i, "utm_", 4) == 0)) {
            sb_append_char(out, kept++ ? '&' : '?');
            sb_append_n(out, q + i, n);
        }
        i = j + 1;
    }
}

char *url_normalize(const char *url)
{
    if (!url)
        return NULL;
    size_t len = strlen(url);
    trim_span(&url, &len);
    struct url_parts u;
    url_split(url, len, &u);
    if (!u.has_scheme || !u.has_auth || u.auth_len == 0)
        return NULL;
    struct strbuf out = STRBUF_INIT;
    append_lower(&out, u.scheme, u.scheme_len);
    sb_append(&out, "://");
    append_norm_auth(&out, &u);
    if (u.path_len == 0)
        sb_append_char(&out, '/');
    else
        remove_dots(&out, u.path, u.path_len);
    if (u.has_query)
        append_norm_query(&out, u.query, u.query_len);
    return sb_detach(&out);
}

int url_is_http_or_https(const char *url)
{
    if (!url)
        return 0;
    const char *rest;
    if (str_starts_with_ci(url, "http://"))
        rest = url + 7;
    else if (str_starts_with_ci(url, "https://"))
        rest = url + 8;
    else
        return 0;
    return *rest && *rest != '/' && *rest != '?' && *rest != '#' && !isspace((unsigned char)*rest);
}
