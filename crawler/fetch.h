/*
 * fetch.h — the crawler's HTTP engine: many GETs at once through libcurl's multi
 * interface, polite to every host.
 *
 *   struct fetch_engine *e;
 *   fetch_engine_new(&e, &opts, &err);
 *   fetch_engine_add(e, &(struct fetch_request){.url = u, .done = on_done, .user = job}, &err);
 *   fetch_engine_run(e, &err);   // returns when every request (and every request
 *                                // added by a callback meanwhile) has finished
 *   fetch_engine_free(e);
 *
 * Politeness: at most opts.concurrency transfers in flight, at most opts.per_host
 * to one host (by name: http and https and every port of a host count as one), and
 * opts.delay_ms between the starts of two requests to one host. Requests to one
 * host start in the order they were added. Redirects are followed within the
 * transfer (counting against the host first asked), or, for a request with
 * manual_redirects, handed back to the caller (which decides, e.g. after the
 * target's robots.txt, whether to request the target).
 *
 * Safety: only http and https, on redirects too (at most opts.max_redirects);
 * bodies above opts.max_body are cut off in the write callback and reported as an
 * error; gzip, deflate, brotli and zstd (what libcurl supports) are accepted and
 * decoded, and the limit applies to the decoded bytes. Conditional GET sends
 * If-None-Match / If-Modified-Since; the caller sees status 304.
 *
 * The engine is single-threaded: callbacks run inside fetch_engine_run(), one at a
 * time, and may add more requests.
 */
#ifndef FINSENT_FETCH_H
#define FINSENT_FETCH_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

#define FETCH_DEFAULT_MAX_BODY ((size_t)15 << 20) /* 15 MiB */

struct fetch_options {
    int concurrency;         /* transfers in flight overall (default 8) */
    int per_host;            /* transfers in flight per host (default 2) */
    int delay_ms;            /* between request starts to one host (default 500) */
    long connect_timeout_ms; /* default 10000 */
    long timeout_ms;         /* whole transfer, default 30000 */
    size_t max_body;         /* decoded bytes, default FETCH_DEFAULT_MAX_BODY */
    long max_redirects;      /* default 5 */
    const char *user_agent;  /* copied; NULL = "finsent/VERSION" */
};

/* Fills o with the defaults above. */
void fetch_options_default(struct fetch_options *o);

/* What a finished request yields. Everything is owned by the engine and valid only
 * during the done callback (copy what you keep). */
struct fetch_response {
    const char *url;           /* as requested */
    const char *effective_url; /* after redirects */
    int ok;                    /* 1: an HTTP response arrived (any status) */
    long status;               /* HTTP status of the last response; 0 when none */
    const char *body;          /* NUL-terminated (the NUL is not counted in len) */
    size_t len;
    int truncated;            /* cut at max_body (requests with truncate set) */
    const char *content_type; /* header values or NULL */
    const char *etag;
    const char *last_modified;
    const char *retry_after;
    char error[FS_ERROR_MAX]; /* when !ok: one line saying why */
    int64_t duration_ms;
    const char *redirect_url; /* manual_redirects: the absolute target of a 3xx, or NULL */
};

struct fetch_engine;

typedef void (*fetch_done_fn)(struct fetch_engine *e, const struct fetch_response *resp,
                              void *user);

struct fetch_request {
    const char *url;           /* http:// or https:// (copied) */
    const char *etag;          /* If-None-Match, or NULL (copied) */
    const char *last_modified; /* If-Modified-Since, or NULL (copied) */
    size_t max_body;           /* 0 = the engine's limit */
    int truncate;              /* 1: a longer body is cut at max_body and reported ok
                                * (truncated = 1) instead of failing */
    int manual_redirects;      /* 1: a 3xx is answered as it is, with redirect_url */
    fetch_done_fn done;        /* called exactly once per added request */
    void *user;
};

/* Creates an engine (initialises libcurl). Returns 0 or -1 with err. */
int fetch_engine_new(struct fetch_engine **out, const struct fetch_options *opts,
                     struct fs_error *err);

/* Queues a request. Fails (and never calls done) when the URL is not http(s) or
 * has no host. */
int fetch_engine_add(struct fetch_engine *e, const struct fetch_request *req, struct fs_error *err);

/* Runs until nothing is queued or in flight. Returns 0, or -1 when libcurl itself
 * fails (not for failed requests, which are reported to their callbacks). */
int fetch_engine_run(struct fetch_engine *e, struct fs_error *err);

/* Like fetch_engine_run(), but returns 1 once the monotonic time deadline
 * (time_monotonic() seconds; <= 0: none) has passed, with requests still
 * queued or in flight (fetch_engine_cancel() answers them). */
int fetch_engine_run_until(struct fetch_engine *e, double deadline, struct fs_error *err);

/* Answers every queued and in-flight request at once, each with ok = 0 and
 * error why (a request added by one of those callbacks too). */
void fetch_engine_cancel(struct fetch_engine *e, const char *why);

/* Sets the delay between request starts for the host of url (any URL or origin
 * on that host), e.g. from a robots.txt Crawl-delay; overrides opts.delay_ms. */
void fetch_engine_set_host_delay(struct fetch_engine *e, const char *url, int delay_ms);

/* The redirect limit (opts.max_redirects), for callers following by hand. */
long fetch_engine_max_redirects(const struct fetch_engine *e);

/* Frees the engine; requests never run are dropped without callbacks. */
void fetch_engine_free(struct fetch_engine *e);

/* "scheme://host[:port]" of an http(s) URL, lowercased, default port omitted; the
 * key robots.txt works on (RFC 9309: one robots.txt per scheme, host and port). NULL when url is
 * not http(s). Caller frees. */
char *fetch_url_origin(const char *url);

/* Lowercased host name of an http(s) URL, the key of the per-host limits. NULL
 * when url is not http(s). Caller frees. */
char *fetch_url_host(const char *url);

/* Path plus query of an http(s) URL ("/" when empty). NULL on error. Caller frees. */
char *fetch_url_path(const char *url);

/* The charset parameter of a Content-Type value ("text/xml; charset=UTF-8" ->
 * "UTF-8"), or NULL. Caller frees. */
char *fetch_content_type_charset(const char *content_type);

/* Parses a Retry-After value (delay seconds or an HTTP date) relative to now.
 * Returns 0 and sets *at (absolute time, never before now), or -1. */
int fetch_parse_retry_after(const char *value, int64_t now, int64_t *at);

#endif
