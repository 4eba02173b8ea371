/*
 * crawler.c — one crawl from configuration to stored documents.
 *
 * Shape: every due source becomes a job. A job's URL first waits for its
 * origin's robots.txt (from the database cache, else fetched once per origin and
 * run), then goes to the fetch engine. When the answer arrives the body is parsed
 * into pending documents; with follow_links each new feed item's page is fetched
 * too (same politeness) and its article text replaces the summary. When a job has
 * nothing left in flight it is written in one transaction: documents (deduped
 * through dedupe_keys), crawl_log rows, and the source's next state.
 *
 * Dedupe keys: feed items and pages use dedupe_keys() ('g:' guid within its
 * source or permalink, 'u:' URL, 'h:' content of a real body). Comments are only unique within their page, so their keys are built
 * here: 'g:' + page URL + '#' + comment id when there is an id, and 'h:' of the
 * page URL and the comment text (the same "+1" on two pages is two comments).
 */
#include "crawler/crawler.h"

#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "crawler/dedupe.h"
#include "crawler/feed.h"
#include "crawler/fetch.h"
#include "crawler/html.h"
#include "crawler/robots.h"
#include "crawler/source.h"
#include "crawler/url.h"
#include "db/db.h"
#include "db/db_crawl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROBOTS_TTL (24 * 3600)
#define MAX_TTL (24 * 3600)
#define MAX_RETRY_AFTER (7 * 24 * 3600)
#define MAX_CRAWL_DELAY_MS 60000

/* ---- data -------------------------------------------------------------- */

enum doc_kind { DOC_ITEM, DOC_PAGE, DOC_COMMENT };

struct doc {
    struct feed_item item; /* owned strings */
    enum doc_kind kind;
    int cut_title, cut_text; /* capped ([crawler] max_title_chars, max_text_chars) */
};

struct link_log {
    char *url;
    int64_t duration_ms;
    long status;
    int64_t bytes;
    char *error; /* NULL = fetched */
};

struct crawler;

struct job {
    struct crawler *c;
    const struct source_config *src;
    struct crawl_source_result *result;
    struct db_source_state state;
    int64_t duration_ms;
    int64_t bytes;
    char *etag, *last_modified; /* from a 200 */
    int ttl_seconds;
    int64_t retry_at;
    int deferred; /* new items not stored yet (follow_links cap) */
    struct doc *docs;
    size_t n_docs, cap_docs;
    struct link_log *links;
    size_t n_links, cap_links;
    int in_flight; /* requests not yet answered (main + links + waiting on robots) */
    int done;
    int hops; /* redirects followed by the source request so far */
};

struct waiter {
    struct waiter *next;
    struct job *job;
    char *url;
    long doc; /* -1: the source itself, else index into job->docs */
    int hops; /* redirects followed to reach url */
};

struct origin {
    char *name;
    struct robots *rules;
    char *unavailable; /* why robots.txt could not be read (nothing is fetched) */
    int state;         /* ORIGIN_* */
    struct waiter *waiters;
};

enum { ORIGIN_NEW, ORIGIN_FETCHING, ORIGIN_READY };

struct crawler {
    struct db_crawl *dc;
    struct fetch_engine *engine;
    struct crawler_settings settings;
    const struct crawl_options *opts;
    int64_t now;
    struct origin *origins;
    size_t n_origins, cap_origins;
    size_t n_done, n_total;
    double deadline; /* time_monotonic() at which the crawl stops */
    int deadline_passed;
    int db_failed;
    struct fs_error db_err;
};

struct link_ctx {
    struct job *job;
    long doc;
    int hops;
};

static void job_request(struct job *job, const char *url, long doc, int hops);
static void job_finish_if_idle(struct job *job);

/* ---- small helpers ----------------------------------------------------- */

const char *crawl_outcome_name(enum crawl_outcome outcome)
{
    switch (outcome) {
    case CRAWL_NEW:
        return "new";
    case CRAWL_UNCHANGED:
        return "unchanged";
    case CRAWL_FAILED:
        return "failed";
    case CRAWL_SKIPPED:
        return "skipped";
    case CRAWL_NOT_DONE:
        return "not done";
    }
    return "?";
}

const char *crawl_result_outcome(const struct crawl_source_result *r)
{
    switch (r->outcome) {
    case CRAWL_NEW:
        return r->n_new > 0 ? "new" : "nothing new";
    case CRAWL_SKIPPED:
        return r->skip == CRAWL_SKIP_DISALLOWED ? "disallowed" : "not due";
    default:
        return crawl_outcome_name(r->outcome);
    }
}

int64_t crawler_next_fetch(int64_t now, int ok, int64_t interval, int ttl_seconds,
                           int consecutive_errors, int64_t backoff_min, int64_t backoff_max,
                           int64_t retry_at)
{
    if (ok) {
        int64_t wait = interval > 0 ? interval : 1;
        int64_t ttl = ttl_seconds > MAX_TTL ? MAX_TTL : ttl_seconds;
        return now + (ttl > wait ? ttl : wait);
    }
    int64_t next = now + source_backoff_delay(consecutive_errors, backoff_min, backoff_max);
    if (retry_at > now + MAX_RETRY_AFTER)
        retry_at = now + MAX_RETRY_AFTER;
    return retry_at > next ? retry_at : next;
}

static void set_error(struct job *job, enum crawl_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct job *job, enum crawl_outcome outcome, const char *fmt, ...)
{
    struct strbuf sb = STRBUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    sb_vappendf(&sb, fmt, ap);
    va_end(ap);
    char *msg = sb_detach(&sb);
    log_clean(msg); /* one line, no terminal escapes: it is printed and stored */
    free(job->result->error);
    job->result->error = msg;
    job->result->outcome = outcome;
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void item_free(struct feed_item *it)
{
    free(it->guid);
    free(it->url);
    free(it->title);
    free(it->text);
    free(it->author);
    free(it->tickers);
    memset(it, 0, sizeof *it);
}

/* Cuts s after max_chars UTF-8 characters. Returns 1 when it did. */
static int cap_utf8(char *s, int64_t max_chars)
{
    int64_t n = 0;
    for (size_t i = 0; s && s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue; /* a continuation byte: the character started before */
        if (n++ == max_chars) {
            s[i] = '\0';
            return 1;
        }
    }
    return 0;
}

/* Applies the size caps to d's title, author and text. */
static void doc_cap(const struct crawler_settings *st, struct doc *d)
{
    d->cut_title |= cap_utf8(d->item.title, st->max_title_chars);
    d->cut_title |= cap_utf8(d->item.author, st->max_title_chars);
    d->cut_text |= cap_utf8(d->item.text, st->max_text_chars);
}

static struct doc *job_add_doc(struct job *job, const struct feed_item *src, enum doc_kind kind)
{
    if (job->n_docs == job->cap_docs) {
        job->cap_docs = job->cap_docs ? 2 * job->cap_docs : 16;
        job->docs = xrealloc(job->docs, job->cap_docs * sizeof *job->docs);
    }
    struct doc *d = &job->docs[job->n_docs++];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    d->item.guid = dup_or_null(src->guid);
    d->item.url = dup_or_null(src->url);
    d->item.title = dup_or_null(src->title);
    d->item.text = xstrdup(src->text ? src->text : "");
    d->item.author = dup_or_null(src->author);
    d->item.tickers = dup_or_null(src->tickers);
    d->item.published_at = src->published_at;
    doc_cap(&job->c->settings, d);
    return d;
}

static void job_add_link_log(struct job *job, const struct fetch_response *r, const char *error)
{
    if (job->n_links == job->cap_links) {
        job->cap_links = job->cap_links ? 2 * job->cap_links : 8;
        job->links = xrealloc(job->links, job->cap_links * sizeof *job->links);
    }
    struct link_log *l = &job->links[job->n_links++];
    l->url = xstrdup(r->url);
    l->duration_ms = r->duration_ms;
    l->status = r->status;
    l->bytes = (int64_t)r->len;
    l->error = dup_or_null(error);
}

static int has_text(const char *s)
{
    for (; s && *s; s++)
        if (*s != ' ' && *s != '\n' && *s != '\t' && *s != '\r')
            return 1;
    return 0;
}

/* Keys of a document (see the file comment). Returns how many; caller frees. */
static size_t doc_keys(const struct doc *d, int64_t source_id, const char *page_url,
                       char *keys[DEDUPE_MAX_KEYS])
{
    if (d->kind != DOC_COMMENT)
        return dedupe_keys(&d->item, source_id, keys);
    size_t n = 0;
    char *norm = page_url ? url_normalize(page_url) : NULL;
    const char *base = norm ? norm : page_url ? page_url : "";
    struct strbuf sb = STRBUF_INIT;
    if (has_text(d->item.guid)) {
        sb_appendf(&sb, "g:%s#%s", base, d->item.guid);
        keys[n++] = sb_detach(&sb);
    }
    char hex[33];
    dedupe_content_hash(base, d->item.text, hex);
    sb_appendf(&sb, "h:%s", hex);
    keys[n++] = sb_detach(&sb);
    free(norm);
    return n;
}

/* ---- robots.txt per origin --------------------------------------------- */

static struct origin *origin_get(struct crawler *c, const char *name)
{
    for (size_t i = 0; i < c->n_origins; i++)
        if (!strcmp(c->origins[i].name, name))
            return &c->origins[i];
    if (c->n_origins == c->cap_origins) {
        c->cap_origins = c->cap_origins ? 2 * c->cap_origins : 16;
        c->origins = xrealloc(c->origins, c->cap_origins * sizeof *c->origins);
    }
    struct origin *o = &c->origins[c->n_origins++];
    memset(o, 0, sizeof *o);
    o->name = xstrdup(name);
    return o;
}

static void origin_set_rules(struct crawler *c, struct origin *o, struct robots *rules)
{
    o->rules = rules;
    o->state = ORIGIN_READY;
    int delay = robots_crawl_delay_ms(rules);
    if (delay > MAX_CRAWL_DELAY_MS)
        delay = MAX_CRAWL_DELAY_MS;
    if (delay > c->settings.delay_ms)
        fetch_engine_set_host_delay(c->engine, o->name, delay);
}

/* Releases the waiters of a ready origin (each goes through job_request again). */
static void origin_wake(struct crawler *c, size_t index)
{
    struct waiter *w = c->origins[index].waiters;
    c->origins[index].waiters = NULL;
    while (w) {
        struct waiter *next = w->next;
        struct job *job = w->job;
        job_request(job, w->url, w->doc, w->hops);
        job->in_flight--; /* the wait itself is over */
        job_finish_if_idle(job);
        free(w->url);
        free(w);
        w = next;
    }
}

/* One --verbose line per answered request. */
static void log_fetch(const struct crawl_options *opts, const struct fetch_response *r)
{
    if (opts->quiet)
        return;
    if (r->ok)
        log_debug("GET %s: HTTP %ld, %zu bytes, %lld ms", r->url, r->status, r->len,
                  (long long)r->duration_ms);
    else
        log_debug("GET %s: %s (%lld ms)", r->url, r->error, (long long)r->duration_ms);
}

struct robots_ctx {
    struct crawler *c;
    size_t origin;
};

static void on_robots(struct fetch_engine *e, const struct fetch_response *r, void *user)
{
    (void)e;
    struct robots_ctx *rc = user;
    struct crawler *c = rc->c;
    struct origin *o = &c->origins[rc->origin];
    struct fs_error err;
    log_fetch(c->opts, r);
    if (r->ok && r->status >= 200 && r->status < 300) {
        origin_set_rules(c, o, robots_parse(r->body, r->len, ROBOTS_AGENT));
        if (db_crawl_robots_put(c->dc, o->name, r->body, c->now, c->now + ROBOTS_TTL, &err) < 0)
            log_debug("robots cache: %s", err.msg);
    } else if (r->ok && r->status >= 400 && r->status < 500) {
        /* RFC 9309: robots.txt unavailable (4xx) means no restrictions */
        origin_set_rules(c, o, NULL);
        if (db_crawl_robots_put(c->dc, o->name, NULL, c->now, c->now + ROBOTS_TTL, &err) < 0)
            log_debug("robots cache: %s", err.msg);
    } else {
        /* unreachable (5xx, network): assume complete disallow, retry next run */
        struct strbuf why = STRBUF_INIT;
        if (r->ok)
            sb_appendf(&why, "robots.txt unavailable (HTTP %ld)", r->status);
        else
            sb_appendf(&why, "robots.txt unavailable: %s", r->error);
        o->unavailable = sb_detach(&why);
        origin_set_rules(c, o, robots_disallow_all());
    }
    origin_wake(c, rc->origin);
    free(rc);
}

/* ---- fetching ---------------------------------------------------------- */

static void on_source(struct fetch_engine *e, const struct fetch_response *r, void *user);
static void on_link(struct fetch_engine *e, const struct fetch_response *r, void *user);

static void link_failed(const struct job *job, const char *url, const char *why)
{
    if (!job->c->opts->quiet && !job->c->deadline_passed) /* not done: nothing is kept */
        log_info("%s: %s: %s; keeping the feed's summary", job->src->name, url, why);
}

/* Sends url to the engine once its origin's robots.txt is known. doc -1 is the
 * source itself, else a followed link of docs[doc]; hops: redirects followed to
 * reach url (each target is checked against its own origin's robots.txt). */
static void job_request(struct job *job, const char *url, long doc, int hops)
{
    struct crawler *c = job->c;
    struct fs_error err;
    if (c->deadline_passed)
        return; /* nothing new once the crawl's time is up: the job ends not done */
    char *origin_name = fetch_url_origin(url);
    if (!origin_name) {
        if (doc < 0)
            set_error(job, CRAWL_FAILED, "not an http(s) URL: %s", url);
        else
            link_failed(job, url, "not an http(s) URL");
        return;
    }
    struct origin *o = origin_get(c, origin_name);
    size_t index = (size_t)(o - c->origins);
    free(origin_name);
    if (o->state == ORIGIN_NEW) {
        char *body = NULL;
        int cached = db_crawl_robots_get(c->dc, o->name, c->now, &body, &err);
        if (cached == 1) {
            origin_set_rules(c, o, body ? robots_parse(body, strlen(body), ROBOTS_AGENT) : NULL);
            free(body);
        } else {
            struct strbuf ru = STRBUF_INIT;
            sb_appendf(&ru, "%s/robots.txt", o->name);
            struct robots_ctx *rc = xcalloc(1, sizeof *rc);
            rc->c = c;
            rc->origin = index;
            /* RFC 9309: at least 500 KiB are parsed; the rest is ignored */
            struct fetch_request req = {.url = ru.buf,
                                        .max_body = ROBOTS_MAX_BYTES,
                                        .truncate = 1,
                                        .done = on_robots,
                                        .user = rc};
            if (fetch_engine_add(c->engine, &req, &err) < 0) {
                free(rc);
                origin_set_rules(c, o, NULL);
            } else {
                o->state = ORIGIN_FETCHING;
            }
            sb_free(&ru);
        }
    }
    if (o->state == ORIGIN_FETCHING) {
        struct waiter *w = xcalloc(1, sizeof *w);
        w->job = job;
        w->url = xstrdup(url);
        w->doc = doc;
        w->hops = hops;
        struct waiter **tail = &o->waiters; /* FIFO: requests go out in config order */
        while (*tail)
            tail = &(*tail)->next;
        *tail = w;
        job->in_flight++;
        return;
    }
    if (o->unavailable) {
        if (doc < 0)
            set_error(job, CRAWL_FAILED, "%s", o->unavailable);
        else
            link_failed(job, url, o->unavailable);
        return;
    }
    char *path = fetch_url_path(url);
    int allowed = robots_allowed(o->rules, path);
    free(path);
    if (!allowed) {
        if (doc < 0) {
            set_error(job, CRAWL_SKIPPED, "disallowed by robots.txt");
            job->result->skip = CRAWL_SKIP_DISALLOWED;
        } else {
            link_failed(job, url, "disallowed by robots.txt");
        }
        return;
    }
    struct fetch_request req = {.url = url, .manual_redirects = 1};
    if (doc < 0) {
        req.etag = job->state.etag;
        req.last_modified = job->state.last_modified;
        req.done = on_source;
        req.user = job;
        job->hops = hops;
    } else {
        struct link_ctx *lc = xcalloc(1, sizeof *lc);
        lc->job = job;
        lc->doc = doc;
        lc->hops = hops;
        req.done = on_link;
        req.user = lc;
    }
    if (fetch_engine_add(c->engine, &req, &err) < 0) {
        if (doc >= 0)
            free(req.user);
        if (doc < 0)
            set_error(job, CRAWL_FAILED, "%s", err.msg);
        else
            link_failed(job, url, err.msg);
        return;
    }
    job->in_flight++;
}

/* Is this item already stored? (Then it is neither followed nor counted new.) */
static int item_known(struct job *job, const struct feed_item *it)
{
    char *keys[DEDUPE_MAX_KEYS];
    size_t n = dedupe_keys(it, job->state.id, keys);
    struct fs_error err;
    int seen = db_crawl_seen(job->c->dc, (const char *const *)keys, n, NULL, &err);
    dedupe_keys_free(keys, n);
    return seen == 1;
}

static int parse_feed(struct job *job, const struct fetch_response *r, const char *charset)
{
    struct feed feed;
    struct fs_error err;
    if (feed_parse(r->body, r->len, charset, r->effective_url, &feed, &err) < 0) {
        set_error(job, CRAWL_FAILED, "%s", err.msg);
        return -1;
    }
    job->result->n_items = (int)feed.n_items;
    if (feed.ttl_minutes > 0)
        job->ttl_seconds = feed.ttl_minutes > MAX_TTL / 60 ? MAX_TTL : feed.ttl_minutes * 60;
    int followed = 0;
    size_t max = (size_t)job->c->settings.max_documents_per_page;
    if (feed.n_items > max)
        job->result->n_dropped = (int)(feed.n_items - max);
    for (size_t i = 0; i < feed.n_items && i < max; i++) {
        const struct feed_item *it = &feed.items[i];
        if (item_known(job, it))
            continue;
        int follow = job->src->follow_links && it->url && url_is_http_or_https(it->url);
        if (follow && followed == job->c->settings.max_follow_links) {
            /* left for the next crawl, which must then get the whole feed again */
            job->deferred++;
            continue;
        }
        job_add_doc(job, it, DOC_ITEM);
        if (follow) {
            followed++;
            job_request(job, it->url, (long)job->n_docs - 1, 0);
        }
    }
    feed_free(&feed);
    return 0;
}

static void add_page_article(struct job *job, const struct fetch_response *r, const char *charset,
                             int required)
{
    struct html_article a;
    struct fs_error err;
    if (html_extract_article(r->body, r->len, charset, r->url, &a, &err) < 0) {
        if (required)
            set_error(job, CRAWL_FAILED, "%s", err.msg);
        return;
    }
    if (has_text(a.text)) {
        struct feed_item it = {.url = (char *)r->url,
                               .title = a.title,
                               .text = a.text,
                               .author = a.author,
                               .published_at = a.published_at};
        job_add_doc(job, &it, DOC_PAGE);
    } else if (required) {
        set_error(job, CRAWL_FAILED, "no article text found in the page");
    }
    html_article_free(&a);
}

static int parse_comments(struct job *job, const struct fetch_response *r, const char *charset)
{
    struct feed_item *items = NULL;
    size_t n = 0;
    struct fs_error err;
    add_page_article(job, r, charset, 0);
    if (html_extract_comments(r->body, r->len, charset, r->url, job->src->comment_selector, &items,
                              &n, &err) < 0) {
        set_error(job, CRAWL_FAILED, "%s", err.msg);
        return -1;
    }
    /* items: the page's article (when found) and its comments */
    job->result->n_items = (int)(n + job->n_docs);
    size_t max = (size_t)job->c->settings.max_documents_per_page, kept = job->n_docs;
    for (size_t i = 0; i < n; i++) {
        if (!has_text(items[i].text))
            continue;
        if (kept++ < max)
            job_add_doc(job, &items[i], DOC_COMMENT);
        else
            job->result->n_dropped++;
    }
    html_comments_free(items, n);
    return 0;
}

/* A 3xx with a target: requests the target (through its origin's robots.txt)
 * or fails when the redirects run out or leave http(s). Returns 1 when r was
 * such a redirect (handled), 0 otherwise. */
static int follow_redirect(struct job *job, const struct fetch_response *r, long doc, int hops)
{
    if (!r->ok || !r->redirect_url)
        return 0;
    char why[FS_ERROR_MAX];
    char *origin = fetch_url_origin(r->redirect_url);
    long max = fetch_engine_max_redirects(job->c->engine);
    if (!origin)
        snprintf(why, sizeof why, "redirect refused: only http and https are fetched (%.200s)",
                 r->redirect_url);
    else if (hops >= max)
        snprintf(why, sizeof why, "too many redirects (more than %ld)", max);
    else
        why[0] = '\0';
    free(origin);
    if (why[0]) {
        log_clean(why);
        if (doc < 0)
            set_error(job, CRAWL_FAILED, "%s", why);
        else
            link_failed(job, r->url, why);
        return 1;
    }
    job_request(job, r->redirect_url, doc, hops + 1);
    return 1;
}

static void on_source(struct fetch_engine *e, const struct fetch_response *r, void *user)
{
    (void)e;
    struct job *job = user;
    log_fetch(job->c->opts, r);
    job->in_flight--;
    job->duration_ms = r->duration_ms;
    job->bytes = (int64_t)r->len;
    job->result->http_status = r->status;
    if (follow_redirect(job, r, -1, job->hops)) {
        /* the target's answer finishes the job */
    } else if (!r->ok) {
        set_error(job, CRAWL_FAILED, "%s", r->error);
    } else if (r->status == 304) {
        job->result->outcome = CRAWL_UNCHANGED;
        job->ttl_seconds = job->state.ttl_seconds; /* the feed's <ttl> still holds */
    } else if (r->status == 429 || r->status == 503) {
        int64_t at = 0;
        if (fetch_parse_retry_after(r->retry_after, job->c->now, &at) == 0) {
            /* the line names the time the source is really due again */
            if (at > job->c->now + MAX_RETRY_AFTER)
                at = job->c->now + MAX_RETRY_AFTER;
            job->retry_at = at;
            char when[32];
            set_error(job, CRAWL_FAILED, "HTTP %ld; Retry-After until %s", r->status,
                      time_format_iso8601(at, when, sizeof when));
        } else {
            set_error(job, CRAWL_FAILED, "HTTP %ld", r->status);
        }
    } else if (r->status < 200 || r->status >= 300) {
        set_error(job, CRAWL_FAILED, "HTTP %ld", r->status);
    } else if (r->len == 0) {
        set_error(job, CRAWL_FAILED, "empty body (HTTP %ld)", r->status);
    } else {
        char *charset = fetch_content_type_charset(r->content_type);
        int rc = 0;
        job->result->outcome = CRAWL_NEW;
        if (job->src->kind == SOURCE_FEED) {
            rc = parse_feed(job, r, charset);
        } else if (job->src->kind == SOURCE_ARTICLE) {
            add_page_article(job, r, charset, 1);
            job->result->n_items = job->result->outcome == CRAWL_FAILED ? 0 : 1;
        } else {
            rc = parse_comments(job, r, charset);
        }
        /* validators are kept only when every new item was taken: otherwise a 304
         * next time would hide the deferred ones */
        if (rc == 0 && job->result->outcome != CRAWL_FAILED && job->deferred == 0) {
            job->etag = dup_or_null(r->etag);
            job->last_modified = dup_or_null(r->last_modified);
        }
        free(charset);
    }
    job_finish_if_idle(job);
}

static void on_link(struct fetch_engine *e, const struct fetch_response *r, void *user)
{
    (void)e;
    struct link_ctx *lc = user;
    struct job *job = lc->job;
    long doc = lc->doc;
    int hops = lc->hops;
    free(lc);
    log_fetch(job->c->opts, r);
    job->in_flight--;
    if (follow_redirect(job, r, doc, hops)) {
        job_finish_if_idle(job);
        return;
    }
    struct fs_error err;
    char why[FS_ERROR_MAX];
    why[0] = '\0';
    if (!r->ok)
        snprintf(why, sizeof why, "%s", r->error);
    else if (r->status < 200 || r->status >= 300)
        snprintf(why, sizeof why, "HTTP %ld", r->status);
    else if (r->len == 0)
        snprintf(why, sizeof why, "empty body");
    if (!why[0]) {
        char *charset = fetch_content_type_charset(r->content_type);
        struct html_article a;
        if (html_extract_article(r->body, r->len, charset, r->url, &a, &err) < 0) {
            snprintf(why, sizeof why, "%s", err.msg);
        } else {
            struct doc *d = &job->docs[doc];
            if (has_text(a.text)) {
                free(d->item.text);
                d->item.text = a.text;
                a.text = NULL;
                if (!has_text(d->item.title) && a.title) {
                    free(d->item.title);
                    d->item.title = a.title;
                    a.title = NULL;
                }
                if (!d->item.author && a.author) {
                    d->item.author = a.author;
                    a.author = NULL;
                }
                if (!d->item.published_at)
                    d->item.published_at = a.published_at;
                doc_cap(&job->c->settings, d);
            } else {
                snprintf(why, sizeof why, "no article text found in the page");
            }
            html_article_free(&a);
        }
        free(charset);
    }
    log_clean(why);
    job_add_link_log(job, r, why[0] ? why : NULL);
    if (why[0])
        link_failed(job, r->url, why);
    job_finish_if_idle(job);
}

/* ---- storing ----------------------------------------------------------- */

static int store_docs(struct job *job, struct fs_error *err)
{
    struct crawler *c = job->c;
    int64_t parent = 0;
    int n_new = 0, cut_titles = 0, cut_texts = 0;
    if (job->result->outcome == CRAWL_FAILED)
        return 0; /* a failed fetch stores nothing, not even what was parsed before the error */
    for (size_t i = 0; i < job->n_docs; i++) {
        struct doc *d = &job->docs[i];
        char *keys[DEDUPE_MAX_KEYS];
        size_t n_keys = doc_keys(d, job->state.id, job->src->url, keys);
        char hash[33];
        dedupe_content_hash(d->item.title, d->item.text, hash);
        struct db_document doc = {
            .source_id = job->state.id,
            .url = d->item.url,
            .guid = d->item.guid,
            .dedupe_hash = hash,
            .title = d->item.title,
            .text = d->item.text,
            .author = d->item.author,
            .tickers = d->item.tickers,
            .kind = d->kind == DOC_COMMENT ? "comment" : "article",
            .parent_id = d->kind == DOC_COMMENT ? parent : 0,
            .published_at = d->item.published_at,
            .fetched_at = c->now,
        };
        int64_t id = 0;
        int rc = db_crawl_document_insert(c->dc, &doc, (const char *const *)keys, n_keys, &id, err);
        dedupe_keys_free(keys, n_keys);
        if (rc < 0)
            return -1;
        if (d->kind == DOC_PAGE)
            parent = id;
        n_new += rc;
        cut_titles += rc && d->cut_title;
        cut_texts += rc && d->cut_text;
    }
    job->result->n_new = n_new;
    job->result->n_cut_titles = cut_titles;
    job->result->n_cut_texts = cut_texts;
    return 0;
}

static int store_logs(struct job *job, struct fs_error *err)
{
    struct crawler *c = job->c;
    struct crawl_source_result *res = job->result;
    struct db_crawl_log_row row = {
        .source_id = job->state.id,
        .url = job->src->url,
        .started_at = c->now,
        .duration_ms = job->duration_ms,
        .outcome = crawl_outcome_name(res->outcome),
        .http_status = res->http_status,
        .bytes = job->bytes,
        .n_items = res->n_items,
        .n_new = res->n_new,
        .error = res->error,
    };
    if (db_crawl_log_add(c->dc, &row, err) < 0)
        return -1;
    for (size_t i = 0; i < job->n_links; i++) {
        const struct link_log *l = &job->links[i];
        struct db_crawl_log_row lr = {
            .source_id = job->state.id,
            .url = l->url,
            .started_at = c->now,
            .duration_ms = l->duration_ms,
            .outcome = l->error ? "failed" : "new",
            .http_status = l->status,
            .bytes = l->bytes,
            .n_items = 1,
            .n_new = 0,
            .error = l->error,
        };
        if (db_crawl_log_add(c->dc, &lr, err) < 0)
            return -1;
    }
    return 0;
}

static int store_state(struct job *job, struct fs_error *err)
{
    struct crawler *c = job->c;
    struct crawl_source_result *res = job->result;
    int failed = res->outcome == CRAWL_FAILED;
    int errors = failed ? job->state.consecutive_errors + 1 : 0;
    int64_t next =
        crawler_next_fetch(c->now, !failed, job->src->interval, job->ttl_seconds, errors,
                           c->settings.backoff_min, c->settings.backoff_max, job->retry_at);
    res->next_fetch_at = next;
    struct db_source_update u = {
        .id = job->state.id,
        .etag = job->etag,
        .last_modified = job->last_modified,
        .keep_validators = res->outcome != CRAWL_NEW,
        .last_status = res->http_status,
        .last_error = res->error,
        .consecutive_errors = errors,
        .ttl_seconds = job->ttl_seconds,
        .last_fetch_at = c->now,
        .next_fetch_at = next,
    };
    return db_crawl_source_update(c->dc, &u, err);
}

static void job_store(struct job *job)
{
    struct crawler *c = job->c;
    sqlite3 *db = db_crawl_handle(c->dc);
    struct fs_error err;
    if (db_begin(db, &err) < 0 || store_docs(job, &err) < 0 || store_logs(job, &err) < 0 ||
        store_state(job, &err) < 0 || db_commit(db, &err) < 0) {
        db_rollback(db);
        job->result->n_new = job->result->n_cut_titles = job->result->n_cut_texts = 0;
        set_error(job, CRAWL_FAILED, "%s", err.msg);
        if (!c->db_failed) {
            c->db_failed = 1;
            c->db_err = err;
        }
    }
}

/* "10m", "2h", "90s" */
static void format_duration(int64_t seconds, char *buf, size_t size)
{
    if (seconds % 3600 == 0)
        snprintf(buf, size, "%lldh", (long long)(seconds / 3600));
    else if (seconds % 60 == 0)
        snprintf(buf, size, "%lldm", (long long)(seconds / 60));
    else
        snprintf(buf, size, "%llds", (long long)seconds);
}

/* A job the deadline cut short: nothing stored and the source's state kept (it
 * is due again), one 'skipped' crawl_log row saying why. */
static void job_store_not_done(struct job *job)
{
    struct crawler *c = job->c;
    char limit[32];
    format_duration(c->settings.deadline_ms / 1000, limit, sizeof limit);
    set_error(job, CRAWL_NOT_DONE, "the crawl's deadline (%s) passed first; due at the next crawl",
              limit);
    job->result->http_status = 0;
    job->result->n_new = 0;
    job->result->next_fetch_at = job->state.next_fetch_at;
    struct db_crawl_log_row row = {.source_id = job->state.id,
                                   .url = job->src->url,
                                   .started_at = c->now,
                                   .outcome = "skipped",
                                   .error = job->result->error};
    sqlite3 *db = db_crawl_handle(c->dc);
    struct fs_error err;
    if (db_begin(db, &err) < 0 || db_crawl_log_add(c->dc, &row, &err) < 0 ||
        db_commit(db, &err) < 0) {
        db_rollback(db);
        if (!c->db_failed) {
            c->db_failed = 1;
            c->db_err = err;
        }
    }
}

static void job_finish_if_idle(struct job *job)
{
    if (job->done || job->in_flight > 0)
        return;
    job->done = 1;
    if (job->c->deadline_passed)
        job_store_not_done(job);
    else
        job_store(job);
    struct crawler *c = job->c;
    c->n_done++;
    if (c->opts->progress)
        c->opts->progress(c->opts->progress_user, c->n_done, c->n_total);
}

static void job_free(struct job *job)
{
    db_source_state_free(&job->state);
    free(job->etag);
    free(job->last_modified);
    for (size_t i = 0; i < job->n_docs; i++)
        item_free(&job->docs[i].item);
    free(job->docs);
    for (size_t i = 0; i < job->n_links; i++) {
        free(job->links[i].url);
        free(job->links[i].error);
    }
    free(job->links);
}

/* ---- the run ----------------------------------------------------------- */

static int sync_sources(struct db_crawl *dc, const struct source_config *src, size_t n,
                        int64_t *ids, struct fs_error *err)
{
    sqlite3 *db = db_crawl_handle(dc);
    if (db_begin(db, err) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct db_source_def def = {src[i].name, src[i].url, source_kind_name(src[i].kind),
                                    src[i].comment_selector, src[i].follow_links};
        if (db_crawl_source_upsert(dc, &def, &ids[i], err) < 0) {
            db_rollback(db);
            return -1;
        }
    }
    return db_commit(db, err);
}

static void fetch_options_from(const struct crawler_settings *s, struct fetch_options *o)
{
    fetch_options_default(o);
    o->concurrency = s->concurrency;
    o->per_host = s->per_host;
    o->delay_ms = s->delay_ms;
    o->connect_timeout_ms = (long)s->connect_timeout_ms;
    o->timeout_ms = (long)s->timeout_ms;
    o->max_body = (size_t)s->max_body;
    o->user_agent = s->user_agent;
}

static void results_init(struct crawl_results *out, const struct source_config *src, size_t n)
{
    memset(out, 0, sizeof *out);
    out->sources = xcalloc(n ? n : 1, sizeof *out->sources);
    out->n = n;
    for (size_t i = 0; i < n; i++)
        out->sources[i].source = xstrdup(src[i].name);
}

/* Creates the jobs of the due sources and queues their first request. */
static int start_jobs(struct crawler *c, const struct source_config *src, const int64_t *ids,
                      size_t n, struct job *jobs, struct crawl_results *out, struct fs_error *err)
{
    for (size_t i = 0; i < n; i++) {
        struct job *job = &jobs[i];
        job->c = c;
        job->src = &src[i];
        job->result = &out->sources[i];
        job->done = 1; /* until started */
        if (c->opts->only_source && strcmp(c->opts->only_source, src[i].name) != 0) {
            job->result->outcome = CRAWL_SKIPPED;
            continue;
        }
        if (db_crawl_source_state(c->dc, ids[i], &job->state, err) < 0)
            return -1;
        if (!c->opts->force && job->state.next_fetch_at > c->now) {
            char when[32];
            job->result->next_fetch_at = job->state.next_fetch_at;
            set_error(job, CRAWL_SKIPPED, "not due until %s",
                      time_format_iso8601(job->state.next_fetch_at, when, sizeof when));
            job->result->skip = CRAWL_SKIP_NOT_DUE;
            continue;
        }
        job->done = 0;
        c->n_total++;
    }
    for (size_t i = 0; i < n; i++) {
        struct job *job = &jobs[i];
        if (job->done)
            continue;
        job->in_flight++; /* held until the first request is queued */
        job_request(job, job->src->url, -1, 0);
        job->in_flight--;
        job_finish_if_idle(job);
    }
    return 0;
}

static void crawler_cleanup(struct crawler *c)
{
    for (size_t i = 0; i < c->n_origins; i++) {
        struct waiter *w = c->origins[i].waiters;
        while (w) {
            struct waiter *next = w->next;
            free(w->url);
            free(w);
            w = next;
        }
        robots_free(c->origins[i].rules);
        free(c->origins[i].unavailable);
        free(c->origins[i].name);
    }
    free(c->origins);
    fetch_engine_free(c->engine);
    db_crawl_close(c->dc);
    crawler_settings_free(&c->settings);
}

static int only_source_exists(const struct crawl_options *opts, const struct source_config *src,
                              size_t n)
{
    if (!opts->only_source)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(src[i].name, opts->only_source))
            return 1;
    return 0;
}

/* Runs the fetches until they are all answered or [crawler] deadline passes;
 * then every request still queued or in flight is cancelled, and the jobs it
 * belonged to end not done (job_store_not_done). Returns 0 or -1 (err). */
static int crawl_until_deadline(struct crawler *c, struct job *jobs, size_t n, struct fs_error *err)
{
    int rc = fetch_engine_run_until(c->engine, c->deadline, err);
    if (rc <= 0)
        return rc;
    c->deadline_passed = 1;
    fetch_engine_cancel(c->engine, "the crawl's deadline passed");
    for (size_t i = 0; i < n; i++) /* a job with nothing in flight left unfinished */
        if (!jobs[i].done) {
            jobs[i].in_flight = 0;
            job_finish_if_idle(&jobs[i]);
        }
    return 0;
}

int crawler_run(sqlite3 *db, const struct config *cfg, int64_t now,
                const struct crawl_options *opts, struct crawl_results *out, struct fs_error *err)
{
    static const struct crawl_options no_options;
    memset(out, 0, sizeof *out);
    if (!opts)
        opts = &no_options;
    struct crawler c;
    memset(&c, 0, sizeof c);
    c.opts = opts;
    c.now = now;
    if (crawler_settings_load(cfg, &c.settings, err) < 0)
        return FS_EXIT_CONFIG;
    struct source_config *src = NULL;
    size_t n = 0;
    if (source_list_load(cfg, c.settings.interval, &src, &n, err) < 0) {
        crawler_settings_free(&c.settings);
        return FS_EXIT_CONFIG;
    }
    if (!only_source_exists(opts, src, n)) {
        fs_error_set(err, "no [source %s] in %s", opts->only_source, config_path(cfg));
        source_list_free(src, n);
        crawler_settings_free(&c.settings);
        return FS_EXIT_USAGE;
    }
    c.deadline = time_monotonic() + (double)c.settings.deadline_ms / 1000.0;
    c.dc = db_crawl_open(db);
    int64_t *ids = xcalloc(n ? n : 1, sizeof *ids);
    struct job *jobs = xcalloc(n ? n : 1, sizeof *jobs);
    int status = FS_EXIT_OK;
    struct fetch_options fo;
    fetch_options_from(&c.settings, &fo);
    results_init(out, src, n);
    if (sync_sources(c.dc, src, n, ids, err) < 0) {
        status = FS_EXIT_DB;
    } else if (fetch_engine_new(&c.engine, &fo, err) < 0) {
        status = FS_EXIT_FAILURE;
    } else if (start_jobs(&c, src, ids, n, jobs, out, err) < 0) {
        status = FS_EXIT_DB;
    } else if (crawl_until_deadline(&c, jobs, n, err) < 0) {
        status = FS_EXIT_FAILURE;
    } else if (c.db_failed) {
        *err = c.db_err;
        status = FS_EXIT_DB;
    }
    /* only_source filtering: drop the sources that were not asked for */
    for (size_t i = 0; i < n; i++) {
        struct crawl_source_result *r = &out->sources[i];
        if (r->outcome == CRAWL_FAILED)
            out->n_failed++;
        if (r->outcome == CRAWL_NOT_DONE)
            out->n_not_done++;
        out->n_new += r->n_new;
    }
    if (opts->only_source) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(out->sources[i].source, opts->only_source))
                out->sources[k++] = out->sources[i];
            else {
                free(out->sources[i].source);
                free(out->sources[i].error);
            }
        }
        out->n = k;
    }
    if (status == FS_EXIT_OK && (out->n_failed > 0 || out->n_not_done > 0))
        status = FS_EXIT_PARTIAL;
    for (size_t i = 0; i < n; i++)
        job_free(&jobs[i]);
    free(jobs);
    free(ids);
    crawler_cleanup(&c);
    source_list_free(src, n);
    if (status != FS_EXIT_OK && status != FS_EXIT_PARTIAL)
        crawl_results_free(out);
    return status;
}

void crawl_results_free(struct crawl_results *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->sources[i].source);
        free(r->sources[i].error);
    }
    free(r->sources);
    memset(r, 0, sizeof *r);
}
