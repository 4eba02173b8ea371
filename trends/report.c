/* report.c — the self-contained HTML report with inline SVG charts. */
#include "trends/report.h"

#include "common/util.h"
#include "trends/trends.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chart geometry (SVG user units). */
#define CH_W 960.0
#define CH_H 300.0
#define CH_LEFT 56.0
#define CH_RIGHT 56.0
#define CH_TOP1 24.0 /* sentiment panel */
#define CH_H1 130.0
#define CH_TOP2 176.0 /* volume panel */
#define CH_H2 90.0

#define COL_NEG "#d62728"
#define COL_NEU "#a0a0a0"
#define COL_POS "#2ca02c"
#define COL_SCORE "#1f5fbf"

void report_escape(struct strbuf *sb, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            sb_append(sb, "&amp;");
            break;
        case '<':
            sb_append(sb, "&lt;");
            break;
        case '>':
            sb_append(sb, "&gt;");
            break;
        case '"':
            sb_append(sb, "&quot;");
            break;
        case '\'':
            sb_append(sb, "&#39;");
            break;
        default:
            sb_append_char(sb, *s);
        }
    }
}

int report_url_is_safe(const char *url)
{
    return url && (str_starts_with_ci(url, "http://") || str_starts_with_ci(url, "https://"));
}

/* Appends at most max bytes of s, cut at a UTF-8 character boundary, escaped. */
static void escape_prefix(struct strbuf *sb, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    char *cut = xstrndup(s, n);
    report_escape(sb, cut);
    if (n < strlen(s))
        sb_append(sb, "\u2026");
    free(cut);
}

static const char *series_anchor(int topic, char *buf, size_t size)
{
    if (topic < 0)
        snprintf(buf, size, "topic-all");
    else
        snprintf(buf, size, "topic-%d", topic);
    return buf;
}

/* ---- page frame ---- */

static const char page_style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;"
    "max-width:1000px;color:#222;background:#fff;padding:0 16px}"
    "h1{font-size:1.5em;margin-bottom:4px}h2{font-size:1.15em;margin:28px 0 6px}"
    "p.meta{color:#666;margin-top:0}"
    "table.summary{border-collapse:collapse;margin:12px 0}"
    "table.summary td,table.summary th{padding:3px 10px;border-bottom:1px solid #e3e3e3;"
    "text-align:right}table.summary td:first-child,table.summary th:first-child{text-align:left}"
    "tr.has-spike td{background:#fdecea}"
    "svg.chart{width:100%;height:auto;display:block;border:1px solid #eee;background:#fcfcfc}"
    "svg text{font-size:11px;fill:#555}"
    ".legend span{display:inline-block;margin-right:14px;font-size:.85em;color:#444}"
    ".legend i{display:inline-block;width:12px;height:12px;margin-right:4px;"
    "vertical-align:-1px;border-radius:2px}"
    "ol.headlines{margin:4px 0 12px}ol.headlines li{margin:2px 0}"
    ".score{color:" COL_NEG ";font-variant-numeric:tabular-nums}"
    "li.spike{margin-top:8px}footer{margin-top:32px;color:#888;font-size:.85em}";

static void page_head(struct strbuf *sb)
{
    sb_append(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                  "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                  "style-src 'unsafe-inline'; img-src data:\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                  "<title>finsent report</title>\n<style>");
    sb_append(sb, page_style);
    sb_append(sb, "</style>\n</head>\n<body>\n");
}

static void page_legend(struct strbuf *sb)
{
    sb_append(sb,
              "<p class=\"legend\">"
              "<span><i style=\"background:" COL_SCORE "\"></i>mean score (&#8722;1 .. +1)</span>"
              "<span><i style=\"background:" COL_NEG "\"></i>negative share (0 .. 100 %)</span>"
              "<span><i style=\"background:" COL_NEU "\"></i>neutral</span>"
              "<span><i style=\"background:" COL_POS "\"></i>positive</span>"
              "<span><i style=\"background:" COL_NEG ";opacity:.25\"></i>spike</span></p>\n");
}

/* ---- the chart ---- */

struct chart {
    struct strbuf *sb;
    int granularity;
    int64_t since, until, width;
    double plot_w;
};

static double chart_x(const struct chart *c, int64_t bucket_start)
{
    double span = (double)(c->until - c->since);
    return CH_LEFT + ((double)(bucket_start - c->since) + (double)c->width / 2) / span * c->plot_w;
}

static double y_score(double s)
{
    return CH_TOP1 + (1.0 - (s + 1.0) / 2.0) * CH_H1;
}

static double y_share(double v)
{
    return CH_TOP1 + (1.0 - v) * CH_H1;
}

static void chart_axes(struct chart *c)
{
    struct strbuf *sb = c->sb;
    double x0 = CH_LEFT, x1 = CH_LEFT + c->plot_w;
    sb_appendf(sb,
               "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" "
               "stroke=\"#ddd\"/>\n",
               x0, CH_TOP1, c->plot_w, CH_H1);
    sb_appendf(sb,
               "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#bbb\" "
               "stroke-dasharray=\"4 3\"/>\n",
               x0, y_score(0), x1, y_score(0));
    sb_appendf(sb,
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">+1</text>"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">0</text>"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">&#8722;1</text>\n",
               x0 - 6, y_score(1) + 4, x0 - 6, y_score(0) + 4, x0 - 6, y_score(-1) + 4);
    sb_appendf(sb,
               "<text x=\"%.1f\" y=\"%.1f\">100%%</text><text x=\"%.1f\" y=\"%.1f\">0%%</text>\n",
               x1 + 6, y_share(1) + 4, x1 + 6, y_share(0) + 4);
    sb_appendf(sb,
               "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#fff\" "
               "stroke=\"#ddd\"/>\n",
               x0, CH_TOP2, c->plot_w, CH_H2);
    /* time ticks */
    int64_t n_buckets = (c->until - c->since) / c->width;
    int ticks = n_buckets < 5 ? (int)n_buckets : 5;
    for (int k = 0; k < ticks; k++) {
        int64_t b = ticks > 1 ? c->since + (n_buckets - 1) * k / (ticks - 1) * c->width : c->since;
        char when[32];
        trend_format_bucket(b, c->granularity, when, sizeof when);
        double x = chart_x(c, b);
        sb_appendf(sb,
                   "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                   x, CH_TOP2 + CH_H2, x, CH_TOP2 + CH_H2 + 4, x, CH_TOP2 + CH_H2 + 17, when);
    }
}

static void chart_volume(struct chart *c, const struct trend_series *s)
{
    int64_t max_docs = 1;
    for (size_t i = 0; i < s->n; i++)
        if (s->rows[i].n_docs > max_docs)
            max_docs = s->rows[i].n_docs;
    double bar_w = c->plot_w / (double)((c->until - c->since) / c->width) * 0.8;
    if (bar_w < 0.6)
        bar_w = 0.6;
    double base = CH_TOP2 + CH_H2;
    sb_appendf(c->sb,
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%lld</text>"
               "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">docs</text>\n",
               CH_LEFT - 6, CH_TOP2 + 10, (long long)max_docs, CH_LEFT - 6, CH_TOP2 + 24);
    sb_append(c->sb, "<g class=\"volume\">\n");
    for (size_t i = 0; i < s->n; i++) {
        const struct trend_row *r = &s->rows[i];
        double x = chart_x(c, r->bucket_start) - bar_w / 2;
        int64_t parts[3] = {r->n_negative, r->n_neutral, r->n_positive};
        const char *colours[3] = {COL_NEG, COL_NEU, COL_POS};
        double y = base;
        for (int k = 0; k < 3; k++) {
            if (parts[k] == 0)
                continue;
            double h = (double)parts[k] / (double)max_docs * CH_H2;
            y -= h;
            sb_appendf(c->sb,
                       "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" "
                       "fill=\"%s\"/>",
                       x, y, bar_w, h, colours[k]);
        }
    }
    sb_append(c->sb, "\n</g>\n");
}

/* A line through the points of consecutive buckets; breaks over empty ones. */
static void chart_line(struct chart *c, const struct trend_series *s, int share, const char *colour,
                       const char *cls)
{
    sb_appendf(c->sb, "<g class=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\">\n", cls,
               colour);
    for (size_t i = 0; i < s->n;) {
        size_t j = i + 1;
        while (j < s->n && s->rows[j].bucket_start == s->rows[j - 1].bucket_start + c->width)
            j++;
        if (j - i == 1)
            sb_append(c->sb, "<circle r=\"2\" ");
        else
            sb_append(c->sb, "<polyline points=\"");
        for (size_t k = i; k < j; k++) {
            const struct trend_row *r = &s->rows[k];
            double v = share ? (double)r->n_negative / (double)r->n_docs
                             : (double)r->score_sum_micro / 1e6 / (double)r->n_docs;
            double x = chart_x(c, r->bucket_start), y = share ? y_share(v) : y_score(v);
            if (j - i == 1)
                sb_appendf(c->sb, "cx=\"%.2f\" cy=\"%.2f\" fill=\"%s\"/>\n", x, y, colour);
            else
                sb_appendf(c->sb, "%.2f,%.2f ", x, y);
        }
        if (j - i > 1)
            sb_append(c->sb, "\"/>\n");
        i = j;
    }
    sb_append(c->sb, "</g>\n");
}

static void chart_spikes(struct chart *c, const struct trend_series *s)
{
    double band_w = c->plot_w / (double)((c->until - c->since) / c->width);
    if (band_w < 3)
        band_w = 3;
    for (size_t i = 0; i < s->n; i++) {
        const struct trend_row *r = &s->rows[i];
        if (!r->spike)
            continue;
        double x = chart_x(c, r->bucket_start);
        double share = (double)r->n_negative / (double)r->n_docs;
        char when[32];
        trend_format_bucket(r->bucket_start, c->granularity, when, sizeof when);
        sb_appendf(c->sb,
                   "<rect class=\"spike-band\" x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" "
                   "height=\"%.1f\" fill=\"" COL_NEG "\" opacity=\"0.18\"/>\n",
                   x - band_w / 2, CH_TOP1, band_w, CH_TOP2 + CH_H2 - CH_TOP1);
        sb_appendf(c->sb,
                   "<circle class=\"spike-marker\" cx=\"%.2f\" cy=\"%.2f\" r=\"5\" fill=\"#fff\" "
                   "stroke=\"" COL_NEG "\" stroke-width=\"2.5\"><title>spike %s UTC: %lld of %lld "
                   "negative (%.0f%%), z %.1f</title></circle>\n",
                   x, y_share(share), when, (long long)r->n_negative, (long long)r->n_docs,
                   100 * share, r->z_score);
    }
}

static void chart_svg(struct chart *c, const struct trend_series *s)
{
    sb_appendf(
        c->sb,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
        "role=\"img\" aria-label=\"sentiment and volume of ",
        CH_W, CH_H);
    report_escape(c->sb, trends_topic_name(s->topic));
    sb_append(c->sb, " over time\">\n");
    chart_axes(c);
    chart_volume(c, s);
    chart_spikes(c, s);
    chart_line(c, s, 0, COL_SCORE, "score-line");
    chart_line(c, s, 1, COL_NEG, "share-line");
    sb_append(c->sb, "</svg>\n");
}

/* ---- headlines ---- */

static int headline_item(void *ctx, const struct trend_doc *d)
{
    struct strbuf *sb = ctx;
    const char *title = d->title && *d->title ? d->title : d->text ? d->text : "(untitled)";
    sb_append(sb, "<li>");
    int link = report_url_is_safe(d->url);
    if (link) {
        sb_append(sb, "<a href=\"");
        report_escape(sb, d->url);
        sb_append(sb, "\" rel=\"noopener noreferrer\">");
    }
    escape_prefix(sb, title, 200);
    if (link)
        sb_append(sb, "</a>");
    sb_appendf(sb, " <span class=\"score\">%+.2f</span>", d->score);
    if (d->source) {
        sb_append(sb, " &middot; ");
        report_escape(sb, d->source);
    }
    sb_append(sb, "</li>\n");
    return 0;
}

static int spike_list(sqlite3 *db, const struct report_opts *o, const struct trend_series *s,
                      struct strbuf *sb, struct fs_error *err)
{
    int64_t width = trend_bucket_width(o->filter.granularity);
    int any = 0;
    for (size_t i = s->n; i-- > 0;) { /* latest first */
        const struct trend_row *r = &s->rows[i];
        if (!r->spike)
            continue;
        if (!any)
            sb_append(sb, "<ul class=\"spikes\">\n");
        any = 1;
        char when[32];
        trend_format_bucket(r->bucket_start, o->filter.granularity, when, sizeof when);
        sb_appendf(sb,
                   "<li class=\"spike\"><b>Spike %s UTC</b>: %lld of %lld documents negative "
                   "(%.0f%%, usual %.0f%%), z %.1f\n<ol class=\"headlines\">\n",
                   when, (long long)r->n_negative, (long long)r->n_docs,
                   100.0 * (double)r->n_negative / (double)r->n_docs, 100.0 * r->share_baseline,
                   r->z_score);
        if (db_trends_headlines(db, s->topic, r->bucket_start, r->bucket_start + width,
                                o->headlines, headline_item, sb, err) < 0)
            return -1;
        sb_append(sb, "</ol></li>\n");
    }
    if (any)
        sb_append(sb, "</ul>\n");
    return 0;
}

/* ---- the page ---- */

static void summary_table(struct strbuf *sb, const struct trend_series *series, size_t n)
{
    sb_append(sb, "<table class=\"summary\">\n<tr><th>topic</th><th>documents</th>"
                  "<th>negative</th><th>mean score</th><th>spikes</th></tr>\n");
    for (size_t i = 0; i < n; i++) {
        struct trend_totals t;
        trends_series_totals(&series[i], &t);
        char anchor[32];
        series_anchor(series[i].topic, anchor, sizeof anchor);
        sb_appendf(sb, "<tr%s><td><a href=\"#%s\">", t.n_spikes ? " class=\"has-spike\"" : "",
                   anchor);
        report_escape(sb, trends_topic_name(series[i].topic));
        sb_appendf(sb, "</a></td><td>%lld</td><td>%.1f%%</td><td>%+.2f</td><td>%lld</td></tr>\n",
                   (long long)t.n_docs, 100.0 * (double)t.n_negative / (double)t.n_docs,
                   (double)t.score_sum_micro / 1e6 / (double)t.n_docs, (long long)t.n_spikes);
    }
    sb_append(sb, "</table>\n");
}

int report_html(sqlite3 *db, const struct report_opts *o, struct strbuf *out, struct fs_error *err)
{
    struct trend_row *rows;
    size_t n;
    if (db_trends_query(db, &o->filter, &rows, &n, err) < 0)
        return -1;
    struct trend_series *series;
    size_t n_series = trends_series_split(rows, n, &series);
    struct chart c = {
        .sb = out,
        .granularity = o->filter.granularity,
        .since = o->filter.since,
        .until = o->filter.until,
        .width = trend_bucket_width(o->filter.granularity),
        .plot_w = CH_W - CH_LEFT - CH_RIGHT,
    };
    if (o->fit_since && n > 0) {
        int64_t first = rows[0].bucket_start;
        for (size_t i = 1; i < n; i++)
            if (rows[i].bucket_start < first)
                first = rows[i].bucket_start;
        if (first > c.since)
            c.since = first;
    }
    if (c.until <= c.since)
        c.until = c.since + c.width;

    page_head(out);
    char from[32], to[32], now[32];
    trend_format_bucket(c.since, c.granularity, from, sizeof from);
    trend_format_bucket(c.until - c.width, c.granularity, to, sizeof to);
    time_format_iso8601(o->now, now, sizeof now);
    sb_appendf(out,
               "<h1>finsent &mdash; sentiment by topic</h1>\n<p class=\"meta\">%s buckets from "
               "%s to %s UTC &middot; generated %s</p>\n",
               db_trend_granularity_name(c.granularity), from, to, now);
    if (n_series == 0)
        sb_append(out, "<p class=\"empty\">No classified documents in this range.</p>\n");
    else
        summary_table(out, series, n_series);
    page_legend(out);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n_series; i++) {
        char anchor[32];
        sb_appendf(out, "<section class=\"series\" id=\"%s\">\n<h2>",
                   series_anchor(series[i].topic, anchor, sizeof anchor));
        report_escape(out, trends_topic_name(series[i].topic));
        sb_append(out, "</h2>\n");
        chart_svg(&c, &series[i]);
        rc = spike_list(db, o, &series[i], out, err);
        sb_append(out, "</section>\n");
    }
    sb_append(out, "<footer>Generated by finsent " FINSENT_VERSION
                   ". Scores are p(positive) &#8722; p(negative) per document; a spike is a "
                   "bucket whose negative count and negative share are both far above the "
                   "topic's own moving baseline.</footer>\n</body>\n</html>\n");
    free(series);
    free(rows);
    return rc;
}
