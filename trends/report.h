/*
 * report.h — `finsent report --html FILE`: one self-contained HTML page for a
 * risk analyst, most urgent first.
 *
 * The page needs nothing from the network: styles are inline, charts are inline
 * SVG, there is no script, and a Content-Security-Policy meta tag forbids
 * scripts and remote loads anyway. Every piece of data (titles, URLs, source,
 * topic, entity and watchlist names) is HTML-escaped; a link is made only for
 * http(s) URLs.
 *
 * The current window: the last `recent_buckets` buckets of the range (7 days
 * with day buckets, 24 hours with hour buckets). Each series (a topic, an
 * entity) is ranked by its risk now (report_risk_cmp()):
 *   1. series with a spike in the current window, latest spike first;
 *   2. series with at least min_docs documents in the window ([trends]
 *      min_docs), highest negative share in the window first;
 *   3. the rest ("few documents"): no chart, one compact table row each.
 *
 * Layout, per group (<section class="group" id="topics">, then one per
 * watchlist: <section class="group watchlist" id="watchlist-K"
 * data-watchlist="NAME"> naming its entities in <p class="watch-entities">,
 * or, with no watchlist configured, <section class="group entities"
 * id="entities"> for the most-mentioned entities of the range):
 *   - <table class="summary">: one row per series in rank order (status, the
 *     window's documents, negative share, usual share, mean score, spikes);
 *   - one <section class="series" data-rank="R"> per ranked series (id
 *     "topic-N", or "entity-ID" / "wK-entity-ID" in watchlist K), holding three
 *     charts (trends/report_chart.h: negative share 0..100 %, mean score
 *     -1..+1, documents), the window's most negative headlines (<ol
 *     class="headlines recent">, also when nothing spiked) and each spike's
 *     (<ul class="spikes">);
 *   - <table class="sparse">: the few-documents series, one <tr
 *     class="sparse-row"> each with its counts and most negative headline;
 *   - topics only: the all-topics series last (<section class="series
 *     overall" id="topic-all">), for context.
 * Entities are left out when the report is restricted to one topic.
 */
#ifndef FINSENT_REPORT_H
#define FINSENT_REPORT_H

#include "common/common.h"
#include "common/strbuf.h"
#include "db/db_trends.h"
#include "trends/trends.h"

#include <sqlite3.h>
#include <stdint.h>

/* One watchlist: its name, its entities as configured (shown as written) and
 * the database ids of those that have been mentioned. Borrowed. */
struct report_watchlist {
    const char *name;
    const char *entities;
    const int64_t *ids;
    size_t n_ids;
};

struct report_opts {
    struct trend_filter filter; /* granularity, topic, bucket-aligned [since, until) */
    int64_t now;                /* "generated at" */
    int headlines;              /* most negative headlines listed per list (5) */
    int fit_since;              /* start the charts at the first bucket with data
                                   when that is later than filter.since */
    int64_t min_docs;           /* documents in the window a series needs to be
                                   ranked by share and charted (0: 5, the
                                   [trends] min_docs default) */
    int recent_buckets;         /* the current window (0: 7 days or 24 hours) */
    const struct report_watchlist *watchlists; /* one group each */
    size_t n_watchlists;                       /* 0: the most-mentioned entities */
    int top_entities;                          /* how many of those (0: 8) */
};

/* Appends the whole page to out. Returns 0 or -1 with err set (database). */
int report_html(sqlite3 *db, const struct report_opts *o, struct strbuf *out, struct fs_error *err);

/* How much attention a series needs now (see the ranking above). */
struct report_risk {
    int recent_spike;        /* a bucket in the current window spiked */
    int64_t last_spike;      /* start of the latest spike bucket (valid when has_spike) */
    int has_spike;           /* any spike in the range */
    double last_z;           /* z-score of that bucket */
    int64_t n_spikes;        /* spikes in the range */
    int64_t recent_docs;     /* documents in the window */
    int64_t recent_negative; /* negative ones among them */
    int64_t recent_score_micro;
    int has_usual;
    double usual_share; /* the share baseline of the series' latest bucket (not when sparse) */
    int sparse;         /* no recent spike and fewer than min_docs in the window */
};

/* The risk of series s given the window's first bucket start and min_docs. */
void report_risk_of(const struct trend_series *s, int64_t recent_since, int64_t min_docs,
                    struct report_risk *r);

/* < 0 when a needs attention before b, > 0 after, 0 when equal. */
int report_risk_cmp(const struct report_risk *a, const struct report_risk *b);

/* Appends s HTML-escaped (& < > " ' become entities) to sb. NULL appends nothing. */
void report_escape(struct strbuf *sb, const char *s);

/* 1 when url is an absolute http:// or https:// URL (safe to link). */
int report_url_is_safe(const char *url);

#endif
