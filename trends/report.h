/*
 * report.h — `finsent report --html FILE`: one self-contained HTML page.
 *
 * The page needs nothing from the network: styles are inline, charts are inline
 * SVG, there is no script, and a Content-Security-Policy meta tag forbids
 * scripts and remote loads anyway. Every piece of data (titles, URLs, source
 * names) is HTML-escaped; a link is made only for http(s) URLs.
 *
 * Layout: a summary table (one row per series: documents, negative share, mean
 * score, spikes), then one <section class="series" id="topic-N"> per series
 * (N = topic id, "all" for -1) holding exactly one <svg class="chart">:
 *   - upper panel: mean score (blue, -1..+1) and negative share (red, 0..100 %)
 *     per bucket; lines break over empty buckets;
 *   - lower panel: documents per bucket, stacked negative / neutral / positive;
 *   - each spike: a shaded band (class "spike-band") and a marker on the share
 *     line (<circle class="spike-marker">, with a <title> tooltip);
 * followed by the spikes' most negative headlines (<ol class="headlines">),
 * linked to the documents' URLs.
 */
#ifndef FINSENT_REPORT_H
#define FINSENT_REPORT_H

#include "common/common.h"
#include "common/strbuf.h"
#include "db/db_trends.h"

#include <sqlite3.h>
#include <stdint.h>

struct report_opts {
    struct trend_filter filter; /* granularity, topic, bucket-aligned [since, until) */
    int64_t now;                /* "generated at" */
    int headlines;              /* most negative headlines listed per spike (5) */
    int fit_since;              /* start the charts at the first bucket with data
                                   when that is later than filter.since */
};

/* Appends the whole page to out. Returns 0 or -1 with err set (database). */
int report_html(sqlite3 *db, const struct report_opts *o, struct strbuf *out, struct fs_error *err);

/* Appends s HTML-escaped (& < > " ' become entities) to sb. NULL appends nothing. */
void report_escape(struct strbuf *sb, const char *s);

/* 1 when url is an absolute http:// or https:// URL (safe to link). */
int report_url_is_safe(const char *url);

#endif
