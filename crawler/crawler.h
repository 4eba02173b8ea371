/*
 * crawler.h — one crawl: sync the configured sources into the database, pick the
 * due ones, fetch them politely (robots.txt, per-host limits), parse, follow feed
 * links when asked, store new documents once (dedupe), log every fetch, and
 * schedule the next fetch of each source (interval, feed <ttl>, Retry-After,
 * exponential backoff after failures).
 *
 *   struct crawl_options o = {0};
 *   struct crawl_results res;
 *   struct fs_error err;
 *   int status = crawler_run(db, cfg, now, &o, &res, &err);
 *   // status: FS_EXIT_OK, FS_EXIT_PARTIAL (some sources failed or were not done
 *   // before the crawl's deadline), or a fatal code
 *   // (FS_EXIT_CONFIG, FS_EXIT_DB, FS_EXIT_USAGE, FS_EXIT_FAILURE) with err set
 *   // and res empty.
 *   for (size_t i = 0; i < res.n; i++) ... res.sources[i] ...
 *   crawl_results_free(&res);
 *
 * Failures of a source never stop the others and never lose what is stored: each
 * source's documents, state and crawl_log rows are written in one transaction when
 * that source is done (a failed fetch stores no documents, only its crawl_log row
 * and the source's backoff). Sources disallowed by robots.txt are SKIPPED, not
 * failed. With follow_links, a page that cannot be fetched or read leaves the
 * item stored with the feed's summary and a 'failed' crawl_log row for that URL.
 * Sizes are capped ([crawler] max_title_chars, max_text_chars,
 * max_documents_per_page): what was cut is counted in the result. Source-level
 * outcomes are returned, not printed; problems
 * below a source (a followed link that failed, kept as the feed's summary) are
 * logged through common/log.h at INFO level unless opts->quiet.
 */
#ifndef FINSENT_CRAWLER_H
#define FINSENT_CRAWLER_H

#include "common/common.h"
#include "common/config.h"

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

enum crawl_outcome {
    CRAWL_NEW,       /* fetched and parsed (n_new may be 0: all items known) */
    CRAWL_UNCHANGED, /* 304 Not Modified */
    CRAWL_FAILED,    /* error says why; retried later with backoff */
    CRAWL_SKIPPED,   /* not due yet, or disallowed by robots.txt (error says which) */
    CRAWL_NOT_DONE,  /* the crawl's [crawler] deadline passed first: nothing stored,
                      * the source's state unchanged (due again), a 'skipped'
                      * crawl_log row */
};

/* Why a source was CRAWL_SKIPPED. */
enum crawl_skip { CRAWL_SKIP_NONE, CRAWL_SKIP_NOT_DUE, CRAWL_SKIP_DISALLOWED };

struct crawl_source_result {
    char *source; /* the source's name */
    enum crawl_outcome outcome;
    long http_status;      /* 0 when no HTTP response */
    int n_items;           /* items in the feed / comments on the page */
    int n_new;             /* documents stored by this crawl */
    int n_dropped;         /* items or comments past [crawler] max_documents_per_page */
    int n_cut_titles;      /* stored documents whose title (or author) was cut */
    int n_cut_texts;       /* stored documents whose text was cut */
    char *error;           /* one line, or NULL */
    int64_t next_fetch_at; /* when the source is due again */
    enum crawl_skip skip;  /* with CRAWL_SKIPPED */
};

struct crawl_results {
    struct crawl_source_result *sources; /* in configuration order */
    size_t n;
    int n_failed;
    int n_not_done; /* sources left when the deadline passed */
    int n_new;      /* documents stored overall */
};

struct crawl_options {
    const char *only_source; /* crawl just this [source NAME]; NULL = all */
    int force;               /* ignore next_fetch_at (robots.txt still obeyed) */
    int quiet;               /* no log lines at all */
    /* called after each source finishes (may be NULL) */
    void (*progress)(void *user, size_t done, size_t total);
    void *progress_user;
};

/* Runs one crawl at time `now` (seconds since epoch, UTC) over the sources of cfg.
 * Returns an exit status (see above); out is always initialised. */
int crawler_run(sqlite3 *db, const struct config *cfg, int64_t now,
                const struct crawl_options *opts, struct crawl_results *out, struct fs_error *err);

void crawl_results_free(struct crawl_results *r);

/* "new", "unchanged", "failed", "skipped" (crawl_log's outcome column; a
 * CRAWL_NOT_DONE source is logged there as 'skipped'), "not done". */
const char *crawl_outcome_name(enum crawl_outcome outcome);

/* A source's outcome as the user sees it (crawl's lines and --json, README):
 *   "new"          fetched, n_new >= 1 documents stored
 *   "nothing new"  fetched, every item already stored (n_new = 0)
 *   "unchanged"    the server answered 304 Not Modified
 *   "not due"      fetched recently or backing off (next_fetch_at says until when)
 *   "disallowed"   robots.txt disallows the URL
 *   "failed"       error says why; retried later with backoff */
const char *crawl_result_outcome(const struct crawl_source_result *r);

/* The next fetch time after a fetch at now. ok: interval (or the feed's ttl when
 * longer, capped at one day). Failure number n (n >= 1): the backoff delay, or the
 * Retry-After time when later (capped at 7 days). */
int64_t crawler_next_fetch(int64_t now, int ok, int64_t interval, int ttl_seconds,
                           int consecutive_errors, int64_t backoff_min, int64_t backoff_max,
                           int64_t retry_at);

#endif
