/*
 * fetch.c — the libcurl multi engine behind the crawler: a FIFO of pending
 * requests, started when the global and per-host limits and the per-host delay
 * allow, run concurrently, reported to their callbacks when done.
 */
#include "crawler/fetch.h"

#include "common/strbuf.h"
#include "common/util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#ifndef FINSENT_VERSION
#define FINSENT_VERSION "dev"
#endif

struct host {
    char *name; /* lowercased host name: http and https, any port, count as one host */
    int active;
    double next_start; /* monotonic seconds: earliest start of the next request */
    double delay;      /* seconds between starts; < 0: the engine's delay_ms */
    unsigned scan;     /* start_ready() pass in which the host was found blocked */
};

struct transfer {
    struct transfer *next; /* pending FIFO */
    char *url, *etag, *last_modified;
    size_t max_body;
    int truncate; /* keep the first max_body bytes instead of failing */
    int manual_redirects;
    fetch_done_fn done;
    void *user;
    int host;
    CURL *easy;
    struct curl_slist *headers;
    struct strbuf body;
    int too_large;
    double started;
    char errbuf[CURL_ERROR_SIZE];
};

struct fetch_engine {
    struct fetch_options opts;
    char *user_agent;
    CURLM *multi;
    struct transfer *pending_head, *pending_tail;
    struct transfer *active; /* in flight, linked through next */
    int n_active;
    struct host *hosts;
    int n_hosts, cap_hosts;
    unsigned scan; /* start_ready() pass counter */
};

void fetch_options_default(struct fetch_options *o)
{
    memset(o, 0, sizeof *o);
    o->concurrency = 8;
    o->per_host = 2;
    o->delay_ms = 500;
    o->connect_timeout_ms = 10000;
    o->timeout_ms = 30000;
    o->max_body = FETCH_DEFAULT_MAX_BODY;
    o->max_redirects = 5;
}

/* ---- URL helpers ------------------------------------------------------- */

static CURLU *url_handle(const char *url, char **scheme)
{
    CURLU *h = curl_url();
    if (!h)
        return NULL;
    char *s = NULL;
    if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(h, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
        (strcasecmp(s, "http") != 0 && strcasecmp(s, "https") != 0)) {
        curl_free(s);
        curl_url_cleanup(h);
        return NULL;
    }
    *scheme = s;
    return h;
}

char *fetch_url_origin(const char *url)
{
    char *scheme = NULL, *host = NULL, *port = NULL;
    CURLU *h = url_handle(url, &scheme);
    if (!h)
        return NULL;
    char *out = NULL;
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host) {
        struct strbuf sb = STRBUF_INIT;
        for (char *p = scheme; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        for (char *p = host; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        sb_appendf(&sb, "%s://%s", scheme, host);
        if (curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK && port) {
            int is_default = (!strcmp(scheme, "http") && !strcmp(port, "80")) ||
                             (!strcmp(scheme, "https") && !strcmp(port, "443"));
            if (!is_default)
                sb_appendf(&sb, ":%s", port);
        }
        out = sb_detach(&sb);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(h);
    return out;
}

char *fetch_url_host(const char *url)
{
    char *scheme = NULL, *host = NULL;
    CURLU *h = url_handle(url, &scheme);
    if (!h)
        return NULL;
    char *out = NULL;
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK && host && *host) {
        out = xstrdup(host);
        for (char *p = out; *p; p++)
            *p = (char)tolower((unsigned char)*p);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(h);
    return out;
}

char *fetch_url_path(const char *url)
{
    char *scheme = NULL, *path = NULL, *query = NULL;
    CURLU *h = url_handle(url, &scheme);
    if (!h)
        return NULL;
    struct strbuf sb = STRBUF_INIT;
    if (curl_url_get(h, CURLUPART_PATH, &path, 0) == CURLUE_OK && path && *path)
        sb_append(&sb, path);
    else
        sb_append(&sb, "/");
    if (curl_url_get(h, CURLUPART_QUERY, &query, 0) == CURLUE_OK && query)
        sb_appendf(&sb, "?%s", query);
    curl_free(scheme);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(h);
    return sb_detach(&sb);
}

char *fetch_content_type_charset(const char *content_type)
{
    if (!content_type)
        return NULL;
    const char *p = strchr(content_type, ';');
    while (p) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (str_starts_with_ci(p, "charset=")) {
            p += 8;
            if (*p == '"' || *p == '\'')
                p++;
            size_t n = strcspn(p, "\"'; \t");
            return n ? xstrndup(p, n) : NULL;
        }
        p = strchr(p, ';');
    }
    return NULL;
}

int fetch_parse_retry_after(const char *value, int64_t now, int64_t *at)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        int64_t secs = 0;
        const char *p = value;
        for (; isdigit((unsigned char)*p); p++) {
            if (secs > 100LL * 365 * 86400) /* absurd: clamp instead of overflowing */
                break;
            secs = secs * 10 + (*p - '0');
        }
        while (isdigit((unsigned char)*p))
            p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '\0')
            return -1;
        *at = now + secs;
        return 0;
    }
    int64_t t;
    if (time_parse_rfc822(value, &t) < 0)
        return -1;
    *at = t > now ? t : now;
    return 0;
}

/* ---- engine ------------------------------------------------------------ */

int fetch_engine_new(struct fetch_engine **out, const struct fetch_options *opts,
                     struct fs_error *err)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return fs_error_set(err, "fetch: libcurl initialisation failed");
    struct fetch_engine *e = xcalloc(1, sizeof *e);
    e->opts = *opts;
    if (e->opts.concurrency < 1)
        e->opts.concurrency = 1;
    if (e->opts.per_host < 1)
        e->opts.per_host = 1;
    if (e->opts.max_body == 0)
        e->opts.max_body = FETCH_DEFAULT_MAX_BODY;
    e->user_agent = xstrdup(opts->user_agent ? opts->user_agent : "finsent/" FINSENT_VERSION);
    str_strip_controls(e->user_agent);
    e->opts.user_agent = e->user_agent;
    e->multi = curl_multi_init();
    if (!e->multi) {
        free(e->user_agent);
        free(e);
        curl_global_cleanup();
        return fs_error_set(err, "fetch: cannot create a libcurl multi handle");
    }
    curl_multi_setopt(e->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)e->opts.concurrency);
    *out = e;
    return 0;
}

static int host_index(struct fetch_engine *e, const char *name)
{
    for (int i = 0; i < e->n_hosts; i++)
        if (!strcmp(e->hosts[i].name, name))
            return i;
    if (e->n_hosts == e->cap_hosts) {
        e->cap_hosts = e->cap_hosts ? 2 * e->cap_hosts : 16;
        e->hosts = xrealloc(e->hosts, (size_t)e->cap_hosts * sizeof *e->hosts);
    }
    e->hosts[e->n_hosts] = (struct host){xstrdup(name), 0, 0.0, -1.0, 0};
    return e->n_hosts++;
}

void fetch_engine_set_host_delay(struct fetch_engine *e, const char *url, int delay_ms)
{
    char *name = fetch_url_host(url);
    if (!name)
        return;
    e->hosts[host_index(e, name)].delay = delay_ms < 0 ? -1.0 : delay_ms / 1000.0;
    free(name);
}

static void transfer_free(struct transfer *t)
{
    if (!t)
        return;
    if (t->easy)
        curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    sb_free(&t->body);
    free(t->url);
    free(t->etag);
    free(t->last_modified);
    free(t);
}

static char *header_copy(const char *s)
{
    if (!s || !*s)
        return NULL;
    char *c = xstrdup(s);
    str_strip_controls(c);
    return c;
}

int fetch_engine_add(struct fetch_engine *e, const struct fetch_request *req, struct fs_error *err)
{
    char *host = fetch_url_host(req->url);
    if (!host)
        return fs_error_set(err, "fetch: refusing '%s': not an http(s) URL with a host", req->url);
    struct transfer *t = xcalloc(1, sizeof *t);
    t->url = xstrdup(req->url);
    t->etag = header_copy(req->etag);
    t->last_modified = header_copy(req->last_modified);
    t->max_body = req->max_body ? req->max_body : e->opts.max_body;
    t->truncate = req->truncate;
    t->manual_redirects = req->manual_redirects;
    t->done = req->done;
    t->user = req->user;
    t->host = host_index(e, host);
    sb_init(&t->body);
    free(host);
    if (e->pending_tail)
        e->pending_tail->next = t;
    else
        e->pending_head = t;
    e->pending_tail = t;
    return 0;
}

static size_t on_write(char *data, size_t size, size_t n, void *user)
{
    struct transfer *t = user;
    size_t len = size * n;
    if (t->body.len + len > t->max_body) {
        t->too_large = 1;
        if (t->truncate)
            sb_append_n(&t->body, data, t->max_body - t->body.len);
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    sb_append_n(&t->body, data, len);
    return len;
}

static int transfer_setup(struct fetch_engine *e, struct transfer *t)
{
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    t->easy = c;
    curl_easy_setopt(c, CURLOPT_URL, t->url);
    curl_easy_setopt(c, CURLOPT_PRIVATE, t);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, t->manual_redirects ? 0L : 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, e->opts.max_redirects);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, e->opts.connect_timeout_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, e->opts.timeout_ms);
    if (!t->truncate)
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
    curl_easy_setopt(c, CURLOPT_USERAGENT, e->user_agent);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
    t->headers = curl_slist_append(t->headers, "Accept: application/rss+xml, application/atom+xml, "
                                               "application/feed+json, application/xml;q=0.9, "
                                               "text/html;q=0.8, */*;q=0.5");
    struct strbuf h = STRBUF_INIT;
    if (t->etag) {
        sb_appendf(&h, "If-None-Match: %s", t->etag);
        t->headers = curl_slist_append(t->headers, h.buf);
        sb_reset(&h);
    }
    if (t->last_modified) {
        sb_appendf(&h, "If-Modified-Since: %s", t->last_modified);
        t->headers = curl_slist_append(t->headers, h.buf);
    }
    sb_free(&h);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers);
    return 0;
}

static char *last_header(CURL *c, const char *name)
{
    struct curl_header *h = NULL;
    if (curl_easy_header(c, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h || !h->value)
        return NULL;
    return header_copy(h->value);
}

static void describe_error(const struct fetch_engine *e, const struct transfer *t, CURLcode rc,
                           char *out, size_t size)
{
    const char *detail = t->errbuf[0] ? t->errbuf : curl_easy_strerror(rc);
    if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
        if (t->max_body % (1u << 20) == 0)
            snprintf(out, size, "response body exceeds the %zu MiB limit (transfer aborted)",
                     t->max_body >> 20);
        else
            snprintf(out, size, "response body exceeds the %zu byte limit (transfer aborted)",
                     t->max_body);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(out, size, "timed out: %s", detail);
    } else if (rc == CURLE_TOO_MANY_REDIRECTS) {
        snprintf(out, size, "too many redirects (more than %ld)", e->opts.max_redirects);
    } else if (rc == CURLE_UNSUPPORTED_PROTOCOL) {
        snprintf(out, size, "refused: only http and https are fetched (%s)", detail);
    } else {
        snprintf(out, size, "%s", detail);
    }
    /* error buffers may end with a newline */
    str_strip_controls(out);
    size_t n = strlen(out);
    while (n && out[n - 1] == ' ')
        out[--n] = '\0';
}

static void transfer_finish(struct fetch_engine *e, struct transfer *t, CURLcode rc)
{
    struct fetch_response r;
    memset(&r, 0, sizeof r);
    char *ctype = NULL, *etag = NULL, *lm = NULL, *ra = NULL, *eff = NULL, *redir = NULL;
    r.url = t->url;
    r.duration_ms = (int64_t)((time_monotonic() - t->started) * 1000.0);
    if (t->easy) {
        char *u = NULL, *ct = NULL;
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        if (curl_easy_getinfo(t->easy, CURLINFO_EFFECTIVE_URL, &u) == CURLE_OK && u)
            eff = xstrdup(u);
        if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
            ctype = header_copy(ct);
        etag = last_header(t->easy, "ETag");
        lm = last_header(t->easy, "Last-Modified");
        ra = last_header(t->easy, "Retry-After");
        r.status = status;
        if (t->manual_redirects && status >= 300 && status < 400 &&
            curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &u) == CURLE_OK && u)
            redir = xstrdup(u);
    }
    r.redirect_url = redir;
    r.effective_url = eff ? eff : t->url;
    r.content_type = ctype;
    r.etag = etag;
    r.last_modified = lm;
    r.retry_after = ra;
    if (rc == CURLE_WRITE_ERROR && t->too_large && t->truncate)
        rc = CURLE_OK; /* cut on purpose */
    if (rc == CURLE_OK) {
        r.ok = 1;
        r.truncated = t->too_large;
        r.body = t->body.buf;
        r.len = t->body.len;
    } else {
        r.ok = 0;
        r.body = "";
        describe_error(e, t, rc, r.error, sizeof r.error);
    }
    if (t->done)
        t->done(e, &r, t->user);
    free(ctype);
    free(etag);
    free(lm);
    free(ra);
    free(eff);
    free(redir);
}

long fetch_engine_max_redirects(const struct fetch_engine *e)
{
    return e->opts.max_redirects;
}

/* Starts every pending request the limits allow; *wait_ms gets how long until
 * the next delayed one may start (-1: none waiting on a delay). */
static void start_ready(struct fetch_engine *e, long *wait_ms)
{
    double now = time_monotonic();
    double soonest = -1.0;
    struct transfer *prev = NULL, *t = e->pending_head;
    int n_blocked = 0; /* hosts found blocked in this pass: when all are, stop early */
    e->scan++;
    while (t && e->n_active < e->opts.concurrency && n_blocked < e->n_hosts) {
        struct host *h = &e->hosts[t->host];
        int startable = h->active < e->opts.per_host && now >= h->next_start;
        if (!startable) {
            if (h->active < e->opts.per_host && (soonest < 0 || h->next_start < soonest))
                soonest = h->next_start;
            if (h->scan != e->scan) {
                h->scan = e->scan;
                n_blocked++;
            }
            prev = t;
            t = t->next;
            continue;
        }
        struct transfer *next = t->next;
        if (prev)
            prev->next = next;
        else
            e->pending_head = next;
        if (e->pending_tail == t)
            e->pending_tail = prev;
        t->next = NULL;
        t->started = now;
        h->next_start = now + (h->delay >= 0 ? h->delay : e->opts.delay_ms / 1000.0);
        if (transfer_setup(e, t) < 0 || curl_multi_add_handle(e->multi, t->easy) != CURLM_OK) {
            str_copy(t->errbuf, sizeof t->errbuf, "cannot start the transfer");
            transfer_finish(e, t, CURLE_FAILED_INIT);
            transfer_free(t);
        } else {
            h->active++;
            e->n_active++;
            t->next = e->active;
            e->active = t;
        }
        t = next;
    }
    *wait_ms = soonest < 0 ? -1 : (long)((soonest - now) * 1000.0) + 1;
}

static void collect_done(struct fetch_engine *e)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(e->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        struct transfer *t = NULL;
        CURLcode rc = msg->data.result;
        CURL *easy = msg->easy_handle;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(e->multi, easy);
        for (struct transfer **pp = &e->active; *pp; pp = &(*pp)->next)
            if (*pp == t) {
                *pp = t->next;
                break;
            }
        e->n_active--;
        e->hosts[t->host].active--;
        transfer_finish(e, t, rc);
        transfer_free(t);
    }
}

int fetch_engine_run_until(struct fetch_engine *e, double deadline, struct fs_error *err)
{
    for (;;) {
        long wait_ms;
        start_ready(e, &wait_ms);
        if (e->n_active == 0 && !e->pending_head)
            return 0;
        int running = 0;
        CURLMcode mc = curl_multi_perform(e->multi, &running);
        if (mc != CURLM_OK)
            return fs_error_set(err, "fetch: %s", curl_multi_strerror(mc));
        collect_done(e);
        start_ready(e, &wait_ms);
        if (e->n_active == 0 && !e->pending_head)
            return 0;
        double left = deadline > 0 ? deadline - time_monotonic() : 1.0;
        if (left <= 0)
            return 1;
        long timeout = left < 1.0 ? (long)(left * 1000.0) + 1 : 1000;
        if (wait_ms >= 0 && wait_ms < timeout)
            timeout = wait_ms;
        if (e->n_active > 0 || timeout > 0) {
            mc = curl_multi_poll(e->multi, NULL, 0, (int)timeout, NULL);
            if (mc != CURLM_OK)
                return fs_error_set(err, "fetch: %s", curl_multi_strerror(mc));
        }
    }
}

int fetch_engine_run(struct fetch_engine *e, struct fs_error *err)
{
    return fetch_engine_run_until(e, 0, err);
}

/* Answers t as failed with why, without a transfer. */
static void transfer_cancel(struct fetch_engine *e, struct transfer *t, const char *why)
{
    struct fetch_response r;
    memset(&r, 0, sizeof r);
    r.url = r.effective_url = t->url;
    r.body = "";
    r.duration_ms = t->started > 0 ? (int64_t)((time_monotonic() - t->started) * 1000.0) : 0;
    str_copy(r.error, sizeof r.error, why);
    t->done(e, &r, t->user);
}

void fetch_engine_cancel(struct fetch_engine *e, const char *why)
{
    for (;;) {
        struct transfer *t = e->active;
        if (t) {
            e->active = t->next;
            curl_multi_remove_handle(e->multi, t->easy);
            e->n_active--;
            e->hosts[t->host].active--;
        } else if ((t = e->pending_head)) {
            e->pending_head = t->next;
            if (!e->pending_head)
                e->pending_tail = NULL;
        } else {
            return;
        }
        t->next = NULL;
        transfer_cancel(e, t, why);
        transfer_free(t);
    }
}

void fetch_engine_free(struct fetch_engine *e)
{
    if (!e)
        return;
    struct transfer *lists[2] = {e->pending_head, e->active};
    for (int k = 0; k < 2; k++) {
        struct transfer *t = lists[k];
        while (t) {
            struct transfer *next = t->next;
            if (t->easy)
                curl_multi_remove_handle(e->multi, t->easy);
            transfer_free(t);
            t = next;
        }
    }
    for (int i = 0; i < e->n_hosts; i++)
        free(e->hosts[i].name);
    free(e->hosts);
    curl_multi_cleanup(e->multi);
    free(e->user_agent);
    free(e);
    curl_global_cleanup();
}
