/*
 * source.h — the crawler's configuration: the [source NAME] sections and the
 * [crawler] settings.
 *
 *   [finsent]
 *   contact = ops@example.com        # put in the User-Agent
 *
 *   [crawler]
 *   concurrency = 8                  # transfers in flight
 *   per_host = 2                     # transfers in flight per host
 *   delay_ms = 500                   # between two request starts to one host
 *   connect_timeout = 10s            # durations: 90s, 15m, 2h, 1d or seconds
 *   timeout = 30s                    # whole transfer (timeout_ms = N for tests)
 *   max_body_bytes = 15728640        # decoded body limit (15 MiB)
 *   interval = 30m                   # default time between two fetches of a source
 *   backoff_min = 15m                # first retry delay after a failure
 *   backoff_max = 24h                # cap of the doubling retry delay
 *   user_agent = finsent             # product token; version and contact appended
 *   max_follow_links = 50            # pages followed per source and crawl; the other
 *                                    # new items wait for the next crawl
 *   max_title_chars = 500            # a longer title (or author) is cut to this
 *   max_text_chars = 100000          # a longer text is cut to this (characters)
 *   max_documents_per_page = 1000    # items of one feed, comments of one page; the
 *                                    # rest are dropped (the crawl line says how many)
 *   deadline = 10m                   # a whole crawl: then it stops, and the sources
 *                                    # not done are reported so and due next time
 *
 *   [source reuters-markets]
 *   url = https://example.com/feed.xml
 *   kind = feed                      # feed | article | comments
 *   follow_links = no                # feed only: fetch each new item's page
 *   comment_selector = //div[@class='comment']   # comments only (XPath)
 *   interval = 15m                   # optional, overrides [crawler] interval
 *
 * Every malformed value fails with "FILE:LINE: [section] key: reason", a
 * comment_selector that is not an XPath included.
 */
#ifndef FINSENT_SOURCE_H
#define FINSENT_SOURCE_H

#include "common/common.h"
#include "common/config.h"

#include <stddef.h>
#include <stdint.h>

enum source_kind { SOURCE_FEED = 0, SOURCE_ARTICLE, SOURCE_COMMENTS };

struct source_config {
    char *name; /* the NAME of [source NAME] */
    char *url;  /* http(s) */
    enum source_kind kind;
    char *comment_selector; /* XPath, or NULL for the built-in defaults */
    int follow_links;
    int64_t interval; /* seconds between fetches */
};

struct crawler_settings {
    int concurrency;
    int per_host;
    int delay_ms;
    int64_t connect_timeout_ms;
    int64_t timeout_ms;
    int64_t max_body;
    int64_t interval;     /* default for sources without one */
    int64_t backoff_min;  /* seconds */
    int64_t backoff_max;  /* seconds */
    int max_follow_links; /* per source and crawl */
    int64_t max_title_chars;
    int64_t max_text_chars;
    int max_documents_per_page;
    int64_t deadline_ms; /* of a whole crawl */
    char *user_agent;     /* full header value: "finsent/0.1.0 (+contact)" */
};

/* The keys of [crawler] and of [source NAME] (NULL-terminated), for the
 * configuration's schema (cli/config_check.c). */
extern const char *const crawler_config_keys[];
extern const char *const source_config_keys[];

/* Reads [crawler] and [finsent] contact. Caller frees with crawler_settings_free. */
int crawler_settings_load(const struct config *cfg, struct crawler_settings *out,
                          struct fs_error *err);
void crawler_settings_free(struct crawler_settings *s);

/* Reads every [source NAME] section in file order. default_interval applies to
 * sources without their own. Duplicate names, a missing or non-http(s) url, or an
 * unknown kind fail. Caller frees with source_list_free(). */
int source_list_load(const struct config *cfg, int64_t default_interval, struct source_config **out,
                     size_t *n, struct fs_error *err);
void source_list_free(struct source_config *list, size_t n);

const char *source_kind_name(enum source_kind kind);
/* Returns 0 and sets *kind, or -1 for an unknown name. */
int source_kind_parse(const char *name, enum source_kind *kind);

/* Next retry delay after the n-th consecutive failure (n >= 1): min doubled
 * n-1 times, capped at max. Never 0, never overflows. */
int64_t source_backoff_delay(int consecutive_errors, int64_t min, int64_t max);

#endif
