/* report_chart.c — the report's SVG charts: one quantity per chart. */
#include "trends/report_chart.h"

#include "common/util.h"
#include "trends/report.h"

#include <stdio.h>
#include <stdlib.h>

/* Geometry (SVG user units): every chart is CH_W wide with the same plot
 * columns, so that the charts of a series line up. */
#define CH_W 960.0
#define CH_LEFT 64.0
#define CH_RIGHT 16.0
#define CH_TOP 8.0
#define PLOT_W (CH_W - CH_LEFT - CH_RIGHT)

/* A y scale: value hi at y = top, lo at y = top + h. */
struct yscale {
    double lo, hi, top, h;
};

static double y_of(const struct yscale *y, double v)
{
    return y->top + (y->hi - v) / (y->hi - y->lo) * y->h;
}

static double x_of(const struct report_axis *ax, int64_t bucket_start)
{
    double span = (double)(ax->until - ax->since);
    return CH_LEFT + ((double)(bucket_start - ax->since) + (double)ax->width / 2) / span * PLOT_W;
}

static double bucket_w(const struct report_axis *ax)
{
    return PLOT_W / (double)((ax->until - ax->since) / ax->width);
}

static double share_of(const struct trend_row *r)
{
    return (double)r->n_negative / (double)r->n_docs;
}

static double score_of(const struct trend_row *r)
{
    return (double)r->score_sum_micro / 1e6 / (double)r->n_docs;
}

void report_chart_tooltip(struct strbuf *sb, const struct trend_row *r, int granularity)
{
    char when[32];
    trend_format_bucket(r->bucket_start, granularity, when, sizeof when);
    sb_appendf(sb,
               "%s UTC: %lld documents, %lld negative, %lld neutral, %lld positive; "
               "negative share %.0f%%; mean score %+.2f",
               when, (long long)r->n_docs, (long long)r->n_negative, (long long)r->n_neutral,
               (long long)r->n_positive, 100 * share_of(r), score_of(r));
    if (r->spike)
        sb_appendf(sb, " (spike, z %.1f)", r->z_score);
}

/* ---- frame: svg element, y grid and its labels, axis title, time grid ---- */

static void svg_open(struct strbuf *sb, const char *cls, const char *quantity, double height,
                     const char *label)
{
    sb_appendf(sb,
               "<svg class=\"chart %s\" data-quantity=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" "
               "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s of ",
               cls, quantity, CH_W, height, quantity);
    report_escape(sb, label);
    sb_append(sb, "\">\n");
}

/* Horizontal gridlines at values v[0..n) labelled lab[], the axis title rotated
 * beside them; the line at `strong` (when one of v) drawn darker. */
static void y_grid(struct strbuf *sb, const struct yscale *y, const double *v,
                   const char *const *lab, int n, double strong, const char *title)
{
    sb_appendf(sb,
               "<rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
               "fill=\"#fff\" stroke=\"#d8d8d8\"/>\n",
               CH_LEFT, y->top, PLOT_W, y->h);
    for (int i = 0; i < n; i++) {
        double yy = y_of(y, v[i]);
        int dark = v[i] == strong;
        sb_appendf(sb,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"%s/>"
                   "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                   CH_LEFT, yy, CH_LEFT + PLOT_W, yy, dark ? "#999" : "#ececec",
                   dark ? " stroke-dasharray=\"4 3\"" : "", CH_LEFT - 5, yy + 3.5, lab[i]);
    }
    double mid = y->top + y->h / 2;
    sb_appendf(sb,
               "<text class=\"axis-title\" x=\"14\" y=\"%.1f\" text-anchor=\"middle\" "
               "transform=\"rotate(-90 14 %.1f)\">%s</text>\n",
               mid, mid, title);
}

/* Where the time axis has a tick: up to 6 buckets spread evenly. */
static int time_ticks(const struct report_axis *ax, int64_t *out)
{
    int64_t n_buckets = (ax->until - ax->since) / ax->width;
    int n = n_buckets < 6 ? (int)n_buckets : 6;
    for (int k = 0; k < n; k++)
        out[k] = n > 1 ? ax->since + (n_buckets - 1) * k / (n - 1) * ax->width : ax->since;
    return n;
}

/* The first and last dates align with the plot's edges, so none is cut off. */
static const char *tick_anchor(int k, int n, double *dx)
{
    *dx = 0;
    if (n < 2 || (k > 0 && k < n - 1))
        return "middle";
    *dx = k == 0 ? -4 : 4;
    return k == 0 ? "start" : "end";
}

/* Vertical gridlines at the ticks; with dates below the plot when `dates`. */
static void x_grid(struct strbuf *sb, const struct report_axis *ax, const struct yscale *y,
                   int dates)
{
    int64_t ticks[6];
    int n = time_ticks(ax, ticks);
    for (int k = 0; k < n; k++) {
        double x = x_of(ax, ticks[k]);
        sb_appendf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>", x,
                   y->top, x, y->top + y->h + (dates ? 4 : 0), dates ? "#999" : "#f0f0f0");
        if (!dates)
            continue;
        char when[32];
        trend_format_bucket(ticks[k], ax->granularity, when, sizeof when);
        double dx;
        const char *anchor = tick_anchor(k, n, &dx);
        sb_appendf(sb, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s</text>",
                   x + dx, y->top + y->h + 16, anchor, when);
    }
    sb_append(sb, "\n");
}

static void spike_bands(struct strbuf *sb, const struct report_axis *ax,
                        const struct trend_series *s, const struct yscale *y)
{
    double w = bucket_w(ax) < 3 ? 3 : bucket_w(ax);
    for (size_t i = 0; i < s->n; i++)
        if (s->rows[i].spike)
            sb_appendf(sb,
                       "<rect class=\"spike-band\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
                       "height=\"%.1f\" fill=\"" REPORT_COL_NEG "\" opacity=\"0.16\"/>\n",
                       x_of(ax, s->rows[i].bucket_start) - w / 2, y->top, w, y->h);
}

/* ---- data ---- */

typedef double (*row_value_fn)(const struct trend_row *r);

/* A polyline through each run of consecutive buckets (breaks over empty ones);
 * with `area`, the run is also filled down to the scale's lo. */
static void line_runs(struct strbuf *sb, const struct report_axis *ax, const struct trend_series *s,
                      const struct yscale *y, row_value_fn value, const char *colour, int area)
{
    for (size_t i = 0; i < s->n;) {
        size_t j = i + 1;
        while (j < s->n && s->rows[j].bucket_start == s->rows[j - 1].bucket_start + ax->width)
            j++;
        if (j - i > 1) {
            struct strbuf pts = STRBUF_INIT;
            for (size_t k = i; k < j; k++)
                sb_appendf(&pts, "%.2f,%.2f ", x_of(ax, s->rows[k].bucket_start),
                           y_of(y, value(&s->rows[k])));
            if (area)
                sb_appendf(sb,
                           "<polygon class=\"area\" points=\"%.2f,%.2f %s%.2f,%.2f\" fill=\"%s\" "
                           "opacity=\"0.12\"/>\n",
                           x_of(ax, s->rows[i].bucket_start), y_of(y, y->lo), pts.buf,
                           x_of(ax, s->rows[j - 1].bucket_start), y_of(y, y->lo), colour);
            sb_appendf(sb,
                       "<polyline class=\"line\" points=\"%s\" fill=\"none\" stroke=\"%s\" "
                       "stroke-width=\"1.8\"/>\n",
                       pts.buf, colour);
            sb_free(&pts);
        }
        i = j;
    }
}

/* One point per bucket, each with its counts as a tooltip. */
static void points(struct strbuf *sb, const struct report_axis *ax, const struct trend_series *s,
                   const struct yscale *y, row_value_fn value, const char *colour)
{
    double r = bucket_w(ax) < 6 ? 1.8 : 2.6;
    sb_appendf(sb, "<g class=\"points\" fill=\"%s\">\n", colour);
    for (size_t i = 0; i < s->n; i++) {
        sb_appendf(sb, "<circle class=\"pt\" cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\"><title>",
                   x_of(ax, s->rows[i].bucket_start), y_of(y, value(&s->rows[i])), r);
        report_chart_tooltip(sb, &s->rows[i], ax->granularity);
        sb_append(sb, "</title></circle>\n");
    }
    sb_append(sb, "</g>\n");
}

static double usual_share_of(const struct trend_row *r)
{
    return r->share_baseline;
}

/* The usual (baseline) share before each bucket, where the series has one. */
static void usual_line(struct strbuf *sb, const struct report_axis *ax,
                       const struct trend_series *s, const struct yscale *y)
{
    struct trend_row *rows = xcalloc(s->n + 1, sizeof *rows);
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->rows[i].has_share)
            rows[n++] = s->rows[i];
    struct trend_series usual = {s->topic, rows, n};
    sb_append(sb, "<g class=\"usual-line\" stroke-dasharray=\"5 3\">\n");
    line_runs(sb, ax, &usual, y, usual_share_of, REPORT_COL_USUAL, 0);
    sb_append(sb, "</g>\n");
    free(rows);
}

static void spike_markers(struct strbuf *sb, const struct report_axis *ax,
                          const struct trend_series *s, const struct yscale *y)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct trend_row *r = &s->rows[i];
        if (!r->spike)
            continue;
        sb_appendf(sb,
                   "<circle class=\"spike-marker\" cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"#fff\" "
                   "stroke=\"" REPORT_COL_NEG "\" stroke-width=\"2.5\"><title>",
                   x_of(ax, r->bucket_start), y_of(y, share_of(r)));
        report_chart_tooltip(sb, r, ax->granularity);
        sb_append(sb, "</title></circle>\n");
    }
}

/* ---- the three charts ---- */

void report_chart_share(struct strbuf *sb, const struct report_axis *ax,
                        const struct trend_series *s, const char *label)
{
    static const double v[] = {0, 0.25, 0.5, 0.75, 1};
    static const char *const lab[] = {"0%", "25%", "50%", "75%", "100%"};
    struct yscale y = {0, 1, CH_TOP, 100};
    svg_open(sb, "share", "negative-share", CH_TOP + y.h + 8, label);
    y_grid(sb, &y, v, lab, 5, -1, "negative share");
    x_grid(sb, ax, &y, 0);
    spike_bands(sb, ax, s, &y);
    usual_line(sb, ax, s, &y);
    line_runs(sb, ax, s, &y, share_of, REPORT_COL_NEG, 1);
    points(sb, ax, s, &y, share_of, REPORT_COL_NEG);
    spike_markers(sb, ax, s, &y);
    sb_append(sb, "</svg>\n");
}

void report_chart_score(struct strbuf *sb, const struct report_axis *ax,
                        const struct trend_series *s, const char *label)
{
    static const double v[] = {-1, -0.5, 0, 0.5, 1};
    static const char *const lab[] = {"&#8722;1", "&#8722;0.5", "0", "+0.5", "+1"};
    struct yscale y = {-1, 1, CH_TOP, 80};
    svg_open(sb, "score", "mean-score", CH_TOP + y.h + 8, label);
    y_grid(sb, &y, v, lab, 5, 0, "mean score");
    x_grid(sb, ax, &y, 0);
    spike_bands(sb, ax, s, &y);
    line_runs(sb, ax, s, &y, score_of, REPORT_COL_SCORE, 0);
    points(sb, ax, s, &y, score_of, REPORT_COL_SCORE);
    sb_append(sb, "</svg>\n");
}

static void volume_bar(struct strbuf *sb, const struct report_axis *ax, const struct trend_row *r,
                       const struct yscale *y)
{
    double w = bucket_w(ax) * 0.8 < 0.6 ? 0.6 : bucket_w(ax) * 0.8;
    double x = x_of(ax, r->bucket_start) - w / 2, base = y_of(y, 0);
    int64_t parts[3] = {r->n_negative, r->n_neutral, r->n_positive};
    static const char *const colours[3] = {REPORT_COL_NEG, REPORT_COL_NEU, REPORT_COL_POS};
    sb_append(sb, "<g class=\"bar\"><title>");
    report_chart_tooltip(sb, r, ax->granularity);
    sb_append(sb, "</title>");
    for (int k = 0; k < 3; k++) {
        if (parts[k] == 0)
            continue;
        double h = base - y_of(y, (double)parts[k]);
        base -= h;
        sb_appendf(sb, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
                   x, base, w, h, colours[k]);
    }
    sb_append(sb, "</g>\n");
}

/* The smallest 1, 2 or 5 times a power of ten that is >= v (v >= 1). */
static int64_t nice_ceil(int64_t v)
{
    for (int64_t p = 1;; p *= 10) {
        if (v <= p)
            return p;
        if (v <= 2 * p)
            return 2 * p;
        if (v <= 5 * p)
            return 5 * p;
    }
}

void report_chart_volume(struct strbuf *sb, const struct report_axis *ax,
                         const struct trend_series *s, const char *label)
{
    int64_t max_docs = 2;
    for (size_t i = 0; i < s->n; i++)
        if (s->rows[i].n_docs > max_docs)
            max_docs = s->rows[i].n_docs;
    int64_t top = nice_ceil(max_docs); /* 1, 2 or 5 x 10^k: even, so top / 2 is whole */
    char top_s[32], half_s[32];
    snprintf(top_s, sizeof top_s, "%lld", (long long)top);
    snprintf(half_s, sizeof half_s, "%lld", (long long)(top / 2));
    const double v[] = {0, (double)(top / 2), (double)top};
    const char *const lab[] = {"0", half_s, top_s};
    struct yscale y = {0, (double)top, CH_TOP, 60};
    svg_open(sb, "volume", "documents", CH_TOP + y.h + 22, label);
    y_grid(sb, &y, v, lab, 3, -1, "documents");
    x_grid(sb, ax, &y, 1);
    spike_bands(sb, ax, s, &y);
    sb_append(sb, "<g class=\"volume\">\n");
    for (size_t i = 0; i < s->n; i++)
        volume_bar(sb, ax, &s->rows[i], &y);
    sb_append(sb, "</g>\n</svg>\n");
}
