/* table.c — the per-topic table with sparklines printed by `finsent trends`. */
#include "trends/table.h"

#include "common/common.h"
#include "common/util.h"
#include "trends/sparkline.h"
#include "trends/trends.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOPIC_WIDTH 28
#define SPARK_MIN_WIDTH 14 /* strlen("negative share"), the column's title */

struct columns {
    size_t n;
    int64_t per; /* buckets per column */
    double *share;
    unsigned char *spike;
    int64_t *docs, *neg;
};

static void columns_fill(struct columns *c, const struct trend_series *s,
                         const struct table_opts *o, int64_t width)
{
    memset(c->docs, 0, c->n * sizeof *c->docs);
    memset(c->neg, 0, c->n * sizeof *c->neg);
    memset(c->spike, 0, c->n);
    for (size_t i = 0; s && i < s->n; i++) {
        const struct trend_row *r = &s->rows[i];
        if (r->bucket_start < o->since || r->bucket_start >= o->until)
            continue;
        size_t col = (size_t)((r->bucket_start - o->since) / width / c->per);
        if (col >= c->n)
            continue;
        c->docs[col] += r->n_docs;
        c->neg[col] += r->n_negative;
        c->spike[col] |= r->spike != 0;
    }
    for (size_t k = 0; k < c->n; k++)
        c->share[k] = c->docs[k] > 0 ? (double)c->neg[k] / (double)c->docs[k] : NAN;
}

static void table_line(struct strbuf *sb, int topic, const struct trend_series *s,
                       struct columns *c, const struct table_opts *o, int64_t width)
{
    struct trend_totals t = {0};
    if (s)
        trends_series_totals(s, &t);
    columns_fill(c, s, o, width);
    sb_appendf(sb, "%-*.*s %7lld ", TOPIC_WIDTH, TOPIC_WIDTH, trends_topic_name(topic),
               (long long)t.n_docs);
    if (t.n_docs > 0)
        sb_appendf(sb, "%5.1f %+6.2f  ", 100.0 * (double)t.n_negative / (double)t.n_docs,
                   (double)t.score_sum_micro / 1e6 / (double)t.n_docs);
    else
        sb_appendf(sb, "%5s %6s  ", "-", "-");
    sparkline_append(sb, c->share, c->spike, c->n, o->unicode, o->colour);
    for (size_t k = c->n; k < SPARK_MIN_WIDTH; k++)
        sb_append_char(sb, ' ');
    sb_appendf(sb, "  %3lld", (long long)t.n_spikes);
    for (size_t i = s ? s->n : 0; i-- > 0;) {
        if (s->rows[i].spike) {
            char when[32];
            trend_format_bucket(s->rows[i].bucket_start, o->granularity, when, sizeof when);
            sb_appendf(sb, "  last %s (z %.1f)", when, s->rows[i].z_score);
            break;
        }
    }
    sb_append_char(sb, '\n');
    if (t.n_spikes == 0)
        return;
    sb_appendf(sb, "%*s", TOPIC_WIDTH + 1 + 7 + 1 + 5 + 1 + 6 + 2, "");
    size_t last = 0;
    for (size_t k = 0; k < c->n; k++)
        if (c->spike[k])
            last = k + 1;
    for (size_t k = 0; k < last; k++)
        sb_append_char(sb, c->spike[k] ? '^' : ' ');
    sb_append_char(sb, '\n');
}

void trends_table_append(struct strbuf *sb, const struct trend_row *rows, size_t n,
                         const struct table_opts *o)
{
    int64_t width = trend_bucket_width(o->granularity);
    int64_t n_buckets = (o->until - o->since) / width;
    if (n_buckets < 1)
        n_buckets = 1;
    int64_t max_cols = o->max_cols > 0 ? o->max_cols : 60;
    struct columns c = {0};
    c.per = (n_buckets + max_cols - 1) / max_cols;
    c.n = (size_t)((n_buckets + c.per - 1) / c.per);
    c.share = xcalloc(c.n, sizeof *c.share);
    c.spike = xcalloc(c.n, 1);
    c.docs = xcalloc(c.n, sizeof *c.docs);
    c.neg = xcalloc(c.n, sizeof *c.neg);

    char from[32], to[32];
    trend_format_bucket(o->since, o->granularity, from, sizeof from);
    trend_format_bucket(o->until - width, o->granularity, to, sizeof to);
    sb_appendf(sb,
               "%s buckets %s .. %s UTC; chart: negative share per %s%s (%s 0%% .. %s 100%%, "
               "blank = no documents), ^ = spike\n",
               db_trend_granularity_name(o->granularity), from, to, c.per > 1 ? "group of " : "",
               c.per > 1 ? "buckets" : "bucket", o->unicode ? "\u2581" : "_",
               o->unicode ? "\u2588" : "@");
    sb_appendf(sb, "%-*s %7s %5s %6s  %-*s  %3s\n", TOPIC_WIDTH, "topic", "docs", "neg%", "score",
               (int)c.n, "negative share", "spikes");

    struct trend_series *series;
    size_t n_series = trends_series_split(rows, n, &series);
    if (o->only_topic_set) {
        const struct trend_series *s = NULL;
        for (size_t i = 0; i < n_series; i++)
            if (series[i].topic == o->only_topic)
                s = &series[i];
        table_line(sb, o->only_topic, s, &c, o, width);
    } else {
        for (size_t i = 0; i < n_series; i++)
            table_line(sb, series[i].topic, &series[i], &c, o, width);
        if (n_series == 0)
            sb_append(sb, "(no classified documents in this range)\n");
    }
    free(series);
    free(c.share);
    free(c.spike);
    free(c.docs);
    free(c.neg);
}
