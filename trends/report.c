/* report.c — the self-contained HTML report with inline SVG charts. */
#include "trends/report.h"

#include "common/util.h"
#include "db/db_entities.h"
#include "trends/report_chart.h"
#include "trends/trends.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- ranking ---- */

void report_risk_of(const struct trend_series *s, int64_t recent_since, int64_t min_docs,
                    struct report_risk *r)
{
    *r = (struct report_risk){0};
    for (size_t i = 0; i < s->n; i++) {
        const struct trend_row *b = &s->rows[i];
        if (b->spike) {
            r->n_spikes++;
            r->has_spike = 1;
            r->last_spike = b->bucket_start;
            r->last_z = b->z_score;
            r->recent_spike |= b->bucket_start >= recent_since;
        }
        if (b->bucket_start >= recent_since) {
            r->recent_docs += b->n_docs;
            r->recent_negative += b->n_negative;
            r->recent_score_micro += b->score_sum_micro;
        }
    }
    r->sparse = !r->recent_spike && r->recent_docs < min_docs;
    if (!r->sparse && s->n > 0 && s->rows[s->n - 1].has_share) { /* noise when sparse */
        r->has_usual = 1;
        r->usual_share = s->rows[s->n - 1].share_baseline;
    }
}

static double recent_share(const struct report_risk *r)
{
    return r->recent_docs ? (double)r->recent_negative / (double)r->recent_docs : 0;
}

/* -1, 0, 1 as a > b, a == b, a < b: the larger value first. */
static int desc(double a, double b)
{
    return a > b ? -1 : a < b ? 1 : 0;
}

int report_risk_cmp(const struct report_risk *a, const struct report_risk *b)
{
    if (a->recent_spike != b->recent_spike)
        return a->recent_spike ? -1 : 1;
    if (a->recent_spike && a->last_spike != b->last_spike)
        return a->last_spike > b->last_spike ? -1 : 1;
    if (a->recent_spike && desc(a->last_z, b->last_z))
        return desc(a->last_z, b->last_z);
    if (a->sparse != b->sparse)
        return a->sparse ? 1 : -1;
    if (desc(recent_share(a), recent_share(b)))
        return desc(recent_share(a), recent_share(b));
    return desc((double)a->recent_docs, (double)b->recent_docs);
}

/* ---- the page's state and its series ---- */

struct page {
    sqlite3 *db;
    const struct report_opts *o;
    struct strbuf *sb;
    struct report_axis ax;
    int64_t recent_since, min_docs;
    int recent_buckets;
    struct fs_error *err;
};

/* One series to show: a topic or an entity. */
struct item {
    const struct trend_series *s;
    int by; /* DB_TREND_BY_TOPIC or DB_TREND_BY_ENTITY */
    const char *name, *ticker;
    char anchor[64];
    struct report_risk risk;
    struct trend_totals t; /* over the whole range */
};

static int item_cmp(const void *pa, const void *pb)
{
    const struct item *a = pa, *b = pb;
    int c = report_risk_cmp(&a->risk, &b->risk);
    if (c)
        return c;
    return a->s->topic < b->s->topic ? -1 : a->s->topic > b->s->topic;
}

static void item_init(struct item *it, const struct page *pg, const struct trend_series *s, int by)
{
    *it = (struct item){.s = s, .by = by, .name = trends_topic_name(s->topic)};
    report_risk_of(s, pg->recent_since, pg->min_docs, &it->risk);
    trends_series_totals(s, &it->t);
    if (s->topic < 0)
        snprintf(it->anchor, sizeof it->anchor, "topic-all");
    else
        snprintf(it->anchor, sizeof it->anchor, "topic-%d", s->topic);
}

static void item_name(struct strbuf *sb, const struct item *it)
{
    report_escape(sb, it->name);
    if (it->ticker && *it->ticker) {
        sb_append(sb, " <span class=\"ticker\">");
        report_escape(sb, it->ticker);
        sb_append(sb, "</span>");
    }
}

/* "last 7 days", "last 24 hours" */
static void window_name(const struct page *pg, char *buf, size_t size)
{
    snprintf(buf, size, "last %d %s", pg->recent_buckets,
             pg->ax.granularity == DB_TREND_DAY ? "days" : "hours");
}

static void status_badge(const struct page *pg, const struct item *it)
{
    char when[32];
    const struct report_risk *r = &it->risk;
    if (r->has_spike)
        trend_format_bucket(r->last_spike, pg->ax.granularity, when, sizeof when);
    if (r->recent_spike)
        sb_appendf(pg->sb, "<span class=\"badge spike\">spike %s</span>", when);
    else if (r->sparse)
        sb_append(pg->sb, "<span class=\"badge sparse\">few documents</span>");
    else if (r->has_spike)
        sb_appendf(pg->sb, "<span class=\"badge old\">last spike %s</span>", when);
}

/* ---- headlines ---- */

static void headline_body(struct strbuf *sb, const struct trend_doc *d)
{
    const char *title = d->title && *d->title ? d->title : d->text ? d->text : "(untitled)";
    int link = report_url_is_safe(d->url);
    if (link) {
        sb_append(sb, "<a href=\"");
        report_escape(sb, d->url);
        sb_append(sb, "\" rel=\"noopener noreferrer\">");
    }
    escape_prefix(sb, title, 200);
    if (link)
        sb_append(sb, "</a>");
    char when[32];
    trend_format_bucket(d->has_published ? d->published_at : d->fetched_at, DB_TREND_DAY, when,
                        sizeof when);
    sb_appendf(sb, " <span class=\"score\">%+.2f</span> <span class=\"src\">", d->score);
    if (d->source) {
        report_escape(sb, d->source);
        sb_append(sb, ", ");
    }
    sb_appendf(sb, "%s</span>", when);
}

static int headline_item(void *ctx, const struct trend_doc *d)
{
    struct strbuf *sb = ctx;
    sb_append(sb, "<li>");
    headline_body(sb, d);
    sb_append(sb, "</li>\n");
    return 0;
}

static int headline_cell(void *ctx, const struct trend_doc *d)
{
    headline_body(ctx, d);
    return 0;
}

/* The series' most negative headlines in [from, to) as an <ol class=CLS>. */
static int headline_list(struct page *pg, const struct item *it, int64_t from, int64_t to,
                         const char *cls)
{
    size_t before = pg->sb->len;
    sb_appendf(pg->sb, "<ol class=\"%s\">\n", cls);
    size_t empty = pg->sb->len;
    if (db_trends_headlines_by(pg->db, it->by, it->s->topic, from, to, pg->o->headlines,
                               headline_item, pg->sb, pg->err) < 0)
        return -1;
    if (pg->sb->len == empty) {
        sb_truncate(pg->sb, before);
        sb_appendf(pg->sb, "<p class=\"%s none\">No negative documents.</p>\n", cls);
    } else {
        sb_append(pg->sb, "</ol>\n");
    }
    return 0;
}

static int recent_headlines(struct page *pg, const struct item *it)
{
    char win[48];
    window_name(pg, win, sizeof win);
    sb_appendf(pg->sb, "<h4>Most negative headlines, %s</h4>\n", win);
    return headline_list(pg, it, pg->recent_since, pg->ax.until, "headlines recent");
}

/* The latest spikes (3 at most), each with its bucket's most negative headlines. */
static int spike_list(struct page *pg, const struct item *it)
{
    const struct trend_series *s = it->s;
    int shown = 0;
    for (size_t i = s->n; i-- > 0 && shown < 3;) {
        const struct trend_row *r = &s->rows[i];
        if (!r->spike)
            continue;
        if (!shown++)
            sb_append(pg->sb, "<ul class=\"spikes\">\n");
        char when[32];
        trend_format_bucket(r->bucket_start, pg->ax.granularity, when, sizeof when);
        sb_appendf(pg->sb,
                   "<li class=\"spike\"><b>Spike %s UTC</b>: %lld of %lld documents negative "
                   "(%.0f%%, usual %.0f%%), z %.1f\n",
                   when, (long long)r->n_negative, (long long)r->n_docs,
                   100.0 * (double)r->n_negative / (double)r->n_docs, 100.0 * r->share_baseline,
                   r->z_score);
        if (headline_list(pg, it, r->bucket_start, r->bucket_start + pg->ax.width, "headlines") < 0)
            return -1;
        sb_append(pg->sb, "</li>\n");
    }
    if (shown)
        sb_append(pg->sb, "</ul>\n");
    return 0;
}

/* ---- a series: its numbers, charts and headlines ---- */

static void percent_cell(struct strbuf *sb, int has, double v)
{
    if (has)
        sb_appendf(sb, "<td>%.0f%%</td>", 100 * v);
    else
        sb_append(sb, "<td>&#8211;</td>");
}

static void series_stats(struct page *pg, const struct item *it)
{
    const struct report_risk *r = &it->risk;
    char win[48];
    window_name(pg, win, sizeof win);
    sb_appendf(pg->sb, "<p class=\"stats\">%c%s: ", win[0] - 'a' + 'A', win + 1);
    if (r->recent_docs == 0) {
        sb_append(pg->sb, "no documents");
    } else {
        sb_appendf(pg->sb, "<b>%.0f%% negative</b> of %lld documents", 100 * recent_share(r),
                   (long long)r->recent_docs);
        if (r->has_usual)
            sb_appendf(pg->sb, " (usual %.0f%%)", 100 * r->usual_share);
        sb_appendf(pg->sb, ", mean score %+.2f",
                   (double)r->recent_score_micro / 1e6 / (double)r->recent_docs);
    }
    sb_appendf(pg->sb, " &middot; %lld spike%s in the range</p>\n", (long long)r->n_spikes,
               r->n_spikes == 1 ? "" : "s");
}

static void series_charts(struct page *pg, const struct item *it)
{
    struct strbuf *sb = pg->sb;
    sb_append(sb, "<div class=\"panels\">\n");
    report_chart_share(sb, &pg->ax, it->s, it->name);
    report_chart_score(sb, &pg->ax, it->s, it->name);
    report_chart_volume(sb, &pg->ax, it->s, it->name);
    sb_append(sb, "</div>\n");
}

/* rank 0: not ranked (the all-topics series). */
static int series_section(struct page *pg, const struct item *it, int rank)
{
    struct strbuf *sb = pg->sb;
    sb_appendf(sb, "<section class=\"series %s%s\" id=\"%s\"",
               it->by == DB_TREND_BY_TOPIC ? "topic" : "entity", rank ? "" : " overall",
               it->anchor);
    if (rank)
        sb_appendf(sb, " data-rank=\"%d\"", rank);
    sb_append(sb, ">\n<h3>");
    if (rank)
        sb_appendf(sb, "<span class=\"rank\">%d</span> ", rank);
    item_name(sb, it);
    sb_append(sb, " ");
    status_badge(pg, it);
    sb_append(sb, "</h3>\n");
    series_stats(pg, it);
    series_charts(pg, it);
    sb_append(sb, "<div class=\"news\">\n");
    int rc = recent_headlines(pg, it);
    if (rc == 0)
        rc = spike_list(pg, it);
    sb_append(sb, "</div>\n</section>\n");
    return rc;
}

/* ---- a group: summary table, ranked series, compact rows ---- */

static void summary_row(struct page *pg, const struct item *it, int rank)
{
    struct strbuf *sb = pg->sb;
    const struct report_risk *r = &it->risk;
    const struct trend_totals t = it->t;
    sb_appendf(sb, "<tr%s><td>%d</td><td><a href=\"#%s\">",
               r->recent_spike ? " class=\"has-spike\"" : "", rank, it->anchor);
    item_name(sb, it);
    sb_append(sb, "</a></td><td>");
    status_badge(pg, it);
    sb_appendf(sb, "</td><td>%lld</td>", (long long)r->recent_docs);
    percent_cell(sb, r->recent_docs > 0, recent_share(r));
    percent_cell(sb, r->has_usual, r->usual_share);
    if (r->recent_docs > 0)
        sb_appendf(sb, "<td>%+.2f</td>",
                   (double)r->recent_score_micro / 1e6 / (double)r->recent_docs);
    else
        sb_append(sb, "<td>&#8211;</td>");
    sb_appendf(sb, "<td>%lld</td><td>%lld</td></tr>\n", (long long)t.n_docs, (long long)t.n_spikes);
}

static void summary_table(struct page *pg, const struct item *items, size_t n, const char *what)
{
    char win[48];
    window_name(pg, win, sizeof win);
    sb_appendf(pg->sb,
               "<table class=\"summary\">\n<tr><th rowspan=\"2\">#</th><th rowspan=\"2\">%s</th>"
               "<th rowspan=\"2\">status</th><th colspan=\"4\" class=\"span\">%s</th>"
               "<th colspan=\"2\" class=\"span\">whole range</th></tr>\n<tr><th>documents</th>"
               "<th>negative</th><th>usual negative</th><th>mean score</th><th>documents</th>"
               "<th>spikes</th></tr>\n",
               what, win);
    for (size_t i = 0; i < n; i++)
        summary_row(pg, &items[i], (int)i + 1);
    sb_append(pg->sb, "</table>\n");
}

static int sparse_row(struct page *pg, const struct item *it)
{
    struct strbuf *sb = pg->sb;
    const struct trend_totals t = it->t;
    double nd = t.n_docs ? (double)t.n_docs : 1;
    sb_appendf(sb, "<tr class=\"sparse-row\" id=\"%s\"><td>", it->anchor);
    item_name(sb, it);
    sb_appendf(sb, "</td><td>%lld</td><td>%lld</td><td>%.0f%%</td><td>%+.2f</td><td>",
               (long long)it->risk.recent_docs, (long long)t.n_docs,
               100.0 * (double)t.n_negative / nd, (double)t.score_sum_micro / 1e6 / nd);
    size_t before = sb->len;
    if (db_trends_headlines_by(pg->db, it->by, it->s->topic, pg->ax.since, pg->ax.until, 1,
                               headline_cell, sb, pg->err) < 0)
        return -1;
    if (sb->len == before)
        sb_append(sb, "&#8211;");
    sb_append(sb, "</td></tr>\n");
    return 0;
}

static int sparse_table(struct page *pg, const struct item *items, size_t n, const char *what)
{
    size_t n_sparse = 0;
    for (size_t i = 0; i < n; i++)
        n_sparse += items[i].risk.sparse;
    if (n_sparse == 0)
        return 0;
    char win[48];
    window_name(pg, win, sizeof win);
    sb_appendf(pg->sb,
               "<table class=\"sparse\">\n<caption>Few documents: fewer than %lld in the %s and "
               "no spike, so no chart</caption>\n<tr><th>%s</th><th>documents, %s</th>"
               "<th>documents, range</th><th>negative</th><th>mean score</th>"
               "<th>most negative headline</th></tr>\n",
               (long long)pg->min_docs, win, what, win);
    for (size_t i = 0; i < n; i++)
        if (items[i].risk.sparse && sparse_row(pg, &items[i]) < 0)
            return -1;
    sb_append(pg->sb, "</table>\n");
    return 0;
}

/* Ranks items (in place) and appends the group's table, charts and rows. */
static int group_body(struct page *pg, struct item *items, size_t n, const char *what)
{
    qsort(items, n, sizeof *items, item_cmp);
    summary_table(pg, items, n, what);
    int rank = 0;
    for (size_t i = 0; i < n; i++)
        if (!items[i].risk.sparse && series_section(pg, &items[i], ++rank) < 0)
            return -1;
    return sparse_table(pg, items, n, what);
}

/* ---- topics ---- */

static int topics_group(struct page *pg, const struct trend_series *series, size_t n_series)
{
    struct item *items = xcalloc(n_series + 1, sizeof *items), overall;
    size_t n = 0;
    int has_overall = 0;
    for (size_t i = 0; i < n_series; i++) {
        if (series[i].topic == TRENDS_ALL_TOPICS)
            item_init(&overall, pg, &series[i], DB_TREND_BY_TOPIC), has_overall = 1;
        else
            item_init(&items[n++], pg, &series[i], DB_TREND_BY_TOPIC);
    }
    sb_append(pg->sb, "<section class=\"group topics\" id=\"topics\">\n<h2>Topics</h2>\n");
    if (n_series == 0)
        sb_append(pg->sb, "<p class=\"empty\">No classified documents in this range.</p>\n");
    int rc = n ? group_body(pg, items, n, "topic") : 0;
    if (rc == 0 && has_overall) {
        sb_append(pg->sb, "<h2 class=\"context\">All topics together</h2>\n");
        overall.name = "All topics";
        rc = series_section(pg, &overall, 0);
    }
    sb_append(pg->sb, "</section>\n");
    free(items);
    return rc;
}

/* ---- entities ---- */

struct entities {
    struct trend_row *rows;
    struct trend_series *series;
    size_t n_rows, n_series;
    struct entity_volume *ents; /* by id */
    size_t n_ents;
};

static const struct entity_volume *entity_of(const struct entities *e, int64_t id)
{
    size_t lo = 0, hi = e->n_ents;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e->ents[mid].id == id)
            return &e->ents[mid];
        if (e->ents[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void entity_item(struct page *pg, const struct entities *e, const struct trend_series *s,
                        const char *prefix, struct item *it)
{
    item_init(it, pg, s, DB_TREND_BY_ENTITY);
    const struct entity_volume *v = entity_of(e, s->topic);
    it->name = v && v->name ? v->name : "?";
    it->ticker = v ? v->ticker : NULL;
    snprintf(it->anchor, sizeof it->anchor, "%sentity-%d", prefix, s->topic);
}

static int watchlist_group(struct page *pg, const struct entities *e, size_t k)
{
    const struct report_watchlist *w = &pg->o->watchlists[k];
    struct item *items = xcalloc(e->n_series + 1, sizeof *items);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "w%zu-", k + 1);
    size_t n = 0;
    for (size_t i = 0; i < e->n_series; i++)
        if (ids_contain(w->ids, w->n_ids, e->series[i].topic))
            entity_item(pg, e, &e->series[i], prefix, &items[n++]);
    sb_appendf(pg->sb, "<section class=\"group watchlist\" id=\"watchlist-%zu\" data-watchlist=\"",
               k + 1);
    report_escape(pg->sb, w->name);
    sb_append(pg->sb, "\">\n<h2>Watchlist ");
    report_escape(pg->sb, w->name);
    sb_append(pg->sb, "</h2>\n<p class=\"watch-entities\">Entities: ");
    report_escape(pg->sb, w->entities);
    sb_append(pg->sb, "</p>\n");
    int rc = 0;
    if (n == 0)
        sb_append(pg->sb,
                  "<p class=\"empty\">No documents mention these entities in this range.</p>\n");
    else
        rc = group_body(pg, items, n, "entity");
    sb_append(pg->sb, "</section>\n");
    free(items);
    return rc;
}

static int docs_desc(const void *pa, const void *pb)
{
    const struct item *a = pa, *b = pb;
    if (a->t.n_docs != b->t.n_docs)
        return a->t.n_docs > b->t.n_docs ? -1 : 1;
    return a->s->topic < b->s->topic ? -1 : a->s->topic > b->s->topic;
}

static int top_entities_group(struct page *pg, const struct entities *e)
{
    if (e->n_series == 0)
        return 0;
    struct item *items = xcalloc(e->n_series, sizeof *items);
    for (size_t i = 0; i < e->n_series; i++)
        entity_item(pg, e, &e->series[i], "", &items[i]);
    qsort(items, e->n_series, sizeof *items, docs_desc);
    size_t top = pg->o->top_entities > 0 ? (size_t)pg->o->top_entities : 8;
    size_t n = e->n_series < top ? e->n_series : top;
    sb_appendf(pg->sb,
               "<section class=\"group entities\" id=\"entities\">\n<h2>Most-mentioned "
               "entities</h2>\n<p class=\"meta\">The %zu entities with the most documents in "
               "the range (no [watchlist] is configured).</p>\n",
               n);
    int rc = group_body(pg, items, n, "entity");
    sb_append(pg->sb, "</section>\n");
    free(items);
    return rc;
}

static int entity_groups(struct page *pg)
{
    struct trend_filter f = pg->o->filter;
    f.topic_set = 0;
    f.since = pg->ax.since;
    f.until = pg->ax.until;
    struct entities e = {0};
    int rc = db_trends_query_by(pg->db, DB_TREND_BY_ENTITY, &f, &e.rows, &e.n_rows, pg->err);
    if (rc == 0)
        rc = db_entities_all(pg->db, &e.ents, &e.n_ents, pg->err);
    if (rc == 0) {
        e.n_series = trends_series_split(e.rows, e.n_rows, &e.series);
        for (size_t k = 0; rc == 0 && k < pg->o->n_watchlists; k++)
            rc = watchlist_group(pg, &e, k);
        if (rc == 0 && pg->o->n_watchlists == 0)
            rc = top_entities_group(pg, &e);
    }
    free(e.series);
    free(e.rows);
    db_entity_volume_free(e.ents, e.n_ents);
    return rc;
}

/* ---- the page ---- */

static const char page_style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;"
    "max-width:1040px;color:#222;background:#fff;padding:0 16px;line-height:1.35}"
    "h1{font-size:1.5em;margin-bottom:4px}"
    "h2{font-size:1.3em;margin:36px 0 8px;padding-bottom:4px;border-bottom:2px solid #333}"
    "h2.context{font-size:1.1em;border-bottom:1px solid #bbb;color:#555}"
    "h3{font-size:1.1em;margin:0 0 4px}h4{font-size:.95em;margin:10px 0 2px;color:#444}"
    "p.meta{color:#666;margin-top:0}nav a{margin-right:14px}"
    "table{border-collapse:collapse;margin:10px 0;font-variant-numeric:tabular-nums}"
    "td,th{padding:3px 9px;border-bottom:1px solid #e3e3e3;text-align:right;vertical-align:top}"
    "th{font-size:.85em;color:#555;font-weight:600}"
    "table.summary td:nth-child(2),table.summary td:nth-child(3),table.sparse td:first-child,"
    "table.sparse td:last-child,table.sparse th:first-child,table.sparse th:last-child,"
    "th[rowspan]{text-align:left}th.span{text-align:center;"
    "border-bottom:1px solid #bbb}table.summary td:nth-child(2){white-space:nowrap}"
    "tr.has-spike td{background:#fdecea}"
    "caption{text-align:left;color:#555;font-size:.9em;padding:4px 0}"
    ".badge{display:inline-block;font-size:.78em;font-weight:600;padding:1px 7px;"
    "border-radius:9px;background:#eee;color:#555;white-space:nowrap}"
    ".badge.spike{background:" REPORT_COL_NEG
    ";color:#fff}.badge.sparse{background:#f3f3f3;color:#888}"
    ".rank{display:inline-block;min-width:1.6em;color:#888}.ticker{color:#777;font-weight:400}"
    "section.series{margin:18px 0 26px;padding:12px 14px;border:1px solid #e6e6e6;"
    "border-radius:6px}section.series[data-rank=\"1\"]{border-color:#e8b4b0}"
    "p.stats{margin:0 0 6px;color:#333}"
    "svg.chart{width:100%;height:auto;display:block;margin:0}"
    "svg text{font-size:11px;fill:#555}svg text.axis-title{font-size:11px;fill:#333;"
    "font-weight:600}"
    ".legend span{display:inline-block;margin-right:14px;font-size:.85em;color:#444}"
    ".legend i{display:inline-block;width:12px;height:12px;margin-right:4px;"
    "vertical-align:-1px;border-radius:2px}"
    "ol.headlines{margin:2px 0 8px;padding-left:22px}ol.headlines li{margin:2px 0}"
    "p.none{color:#888;margin:2px 0 8px}"
    ".score{color:" REPORT_COL_NEG
    ";font-variant-numeric:tabular-nums}.src{color:#777;font-size:.9em}"
    "ul.spikes{padding-left:18px}li.spike{margin-top:6px}"
    "footer{margin-top:32px;color:#888;font-size:.85em}";

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

static void page_intro(const struct page *pg, int has_entities)
{
    struct strbuf *sb = pg->sb;
    char from[32], to[32], now[32], win[48], since[32];
    trend_format_bucket(pg->ax.since, pg->ax.granularity, from, sizeof from);
    trend_format_bucket(pg->ax.until - pg->ax.width, pg->ax.granularity, to, sizeof to);
    trend_format_bucket(pg->recent_since, pg->ax.granularity, since, sizeof since);
    time_format_iso8601(pg->o->now, now, sizeof now);
    window_name(pg, win, sizeof win);
    sb_appendf(sb,
               "<h1>finsent &mdash; news sentiment risk</h1>\n<p class=\"meta\">%s buckets from "
               "%s to %s UTC &middot; current window: the %s (from %s) &middot; generated %s</p>\n",
               db_trend_granularity_name(pg->ax.granularity), from, to, win, since, now);
    sb_append(sb, "<nav><a href=\"#topics\">Topics</a>");
    for (size_t k = 0; has_entities && k < pg->o->n_watchlists; k++) {
        sb_appendf(sb, "<a href=\"#watchlist-%zu\">Watchlist ", k + 1);
        report_escape(sb, pg->o->watchlists[k].name);
        sb_append(sb, "</a>");
    }
    if (has_entities && pg->o->n_watchlists == 0)
        sb_append(sb, "<a href=\"#entities\">Entities</a>");
    sb_appendf(sb,
               "</nav>\n<p class=\"legend\">Most urgent first: a spike in the %s, then the "
               "highest negative share among series with at least %lld documents in it. "
               "<span><i style=\"background:" REPORT_COL_NEG "\"></i>negative</span>"
               "<span><i style=\"background:" REPORT_COL_NEU "\"></i>neutral</span>"
               "<span><i style=\"background:" REPORT_COL_POS "\"></i>positive</span>"
               "<span><i style=\"background:" REPORT_COL_SCORE "\"></i>mean score</span>"
               "<span><i style=\"background:" REPORT_COL_USUAL
               ";height:2px;vertical-align:3px\"></i>usual "
               "negative share</span>"
               "<span><i style=\"background:" REPORT_COL_NEG ";opacity:.2\"></i>spike</span></p>\n",
               win, (long long)pg->min_docs);
}

/* The charts' time axis: the filter's range, starting at the first bucket with
 * data when o->fit_since, bounded when the filter is not. */
static void page_axis(struct page *pg, const struct trend_row *rows, size_t n)
{
    const struct report_opts *o = pg->o;
    struct report_axis *ax = &pg->ax;
    ax->granularity = o->filter.granularity;
    ax->width = trend_bucket_width(o->filter.granularity);
    ax->since = o->filter.since;
    ax->until = o->filter.until;
    if (ax->until == INT64_MAX)
        ax->until = trend_bucket_start(o->now, ax->granularity) + ax->width;
    int64_t first = ax->until - ax->width;
    for (size_t i = 0; i < n; i++)
        if (rows[i].bucket_start < first)
            first = rows[i].bucket_start;
    if ((o->fit_since || ax->since == INT64_MIN) && first > ax->since)
        ax->since = first;
    if (ax->until <= ax->since)
        ax->until = ax->since + ax->width;
    pg->recent_buckets = o->recent_buckets > 0             ? o->recent_buckets
                         : ax->granularity == DB_TREND_DAY ? 7
                                                           : 24;
    pg->recent_since = ax->until - pg->recent_buckets * ax->width;
    if (pg->recent_since < ax->since)
        pg->recent_since = ax->since;
    pg->min_docs = o->min_docs > 0 ? o->min_docs : 5;
}

int report_html(sqlite3 *db, const struct report_opts *o, struct strbuf *out, struct fs_error *err)
{
    struct trend_row *rows;
    size_t n;
    if (db_trends_query(db, &o->filter, &rows, &n, err) < 0)
        return -1;
    struct trend_series *series;
    size_t n_series = trends_series_split(rows, n, &series);
    struct page pg = {.db = db, .o = o, .sb = out, .err = err};
    page_axis(&pg, rows, n);
    int entities = !o->filter.topic_set;
    page_head(out);
    page_intro(&pg, entities);
    int rc = topics_group(&pg, series, n_series);
    if (rc == 0 && entities)
        rc = entity_groups(&pg);
    sb_append(out, "<footer>Generated by finsent " FINSENT_VERSION
                   ". Scores are p(positive) &#8722; p(negative) per document; a spike is a "
                   "bucket whose negative count and negative share are both far above the "
                   "series' own moving baseline (the usual share). Hover a point or a bar for "
                   "its bucket's counts.</footer>\n</body>\n</html>\n");
    free(series);
    free(rows);
    return rc;
}
