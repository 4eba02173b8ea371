/*
 * report_chart.h — the inline SVG charts of the HTML report (trends/report.h),
 * one quantity per chart, each with its own labelled y axis:
 *
 *   report_chart_share()   negative share, 0 % .. 100 % (red line and area; the
 *                          series' usual share as a dashed grey line; each spike
 *                          a <circle class="spike-marker"> with a <title>);
 *   report_chart_score()   mean score, -1 .. +1 (blue line, dashed 0 line);
 *   report_chart_volume()  documents per bucket, stacked negative / neutral /
 *                          positive bars, 0 .. the series' maximum, and the time
 *                          axis's dates.
 *
 * The three share one time axis (same x for the same bucket), so they stack as
 * small multiples. Each is an <svg class="chart QUANTITY"
 * data-quantity="negative-share|mean-score|documents"> whose y axis carries
 * gridline labels (<text class="tick">) and a rotated title (<text
 * class="axis-title">). Every bucket with documents has a <title> tooltip with
 * its counts (report_chart_tooltip()): on its point (<circle class="pt">) in
 * the share and score charts and on its bar (<g class="bar">). Spike buckets
 * are shaded (<rect class="spike-band">) in all three. Lines break over empty
 * buckets. Nothing here reads the database.
 */
#ifndef FINSENT_REPORT_CHART_H
#define FINSENT_REPORT_CHART_H

#include "common/strbuf.h"
#include "trends/trends.h"

#include <stdint.h>

/* The page's colours (the legend in report.c names them). */
#define REPORT_COL_NEG "#c62828"
#define REPORT_COL_NEU "#b0b0b0"
#define REPORT_COL_POS "#2e7d32"
#define REPORT_COL_SCORE "#1f5fbf"
#define REPORT_COL_USUAL "#777"

/* The time axis shared by a series' charts: buckets [since, until), each
 * `width` seconds, of granularity (DB_TREND_HOUR or DB_TREND_DAY). */
struct report_axis {
    int granularity;
    int64_t since, until, width;
};

/* Appends one chart of series s (label: its name, for aria-label; escaped). */
void report_chart_share(struct strbuf *sb, const struct report_axis *ax,
                        const struct trend_series *s, const char *label);
void report_chart_score(struct strbuf *sb, const struct report_axis *ax,
                        const struct trend_series *s, const char *label);
void report_chart_volume(struct strbuf *sb, const struct report_axis *ax,
                         const struct trend_series *s, const char *label);

/* Appends a bucket's tooltip text (escaped for an element's content), e.g.
 * "2026-03-26 14:00 UTC: 30 documents, 27 negative, 0 neutral, 3 positive;
 * negative share 90%; mean score -0.81", with " (spike, z 5.4)" after a spike. */
void report_chart_tooltip(struct strbuf *sb, const struct trend_row *r, int granularity);

#endif
