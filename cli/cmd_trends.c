/*
 * cmd_trends.c — the 'trends', 'export' and 'report' commands.
 *
 * Each first brings table buckets up to date (trends_update(): counts what was
 * classified since the last update; cheap when nothing is new) unless
 * --no-update is given or the database is read-only (then the buckets are shown
 * as last counted), then reads buckets with the common filters:
 *   --topic T            id 0..19, a name or unique prefix (any case) or "all"
 *   --bucket hour|day    granularity (default day)
 *   --since ISO --until ISO   range of bucket starts / document times
 *   --all                all history
 * One rule for the range of `trends` and `export` (trends and documents): by
 * default the last 30 days (48 hours with --bucket hour) up to and including
 * the bucket that holds now; --since and --until move either end. `report`
 * shows 90 days (7 with --bucket hour) by default. --json prints JSON instead
 * of the table or CSV.
 */
#include "classify/dataset.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/outfile.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "trends/export.h"
#include "trends/report.h"
#include "trends/table.h"
#include "trends/trends.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct trends_args {
    struct trend_filter f;
    int since_set, until_set;
    int no_update, rebuild;
    int json, all; /* --json (export: also --format json), --all */
    const char *format;
    const char *output; /* -o / --html */
    const char *what;   /* export: "trends" or "documents" */
    int by_entity;      /* export trends --by entity */
    const char *watchlist;
};

static const char trends_usage[] =
    "usage: finsent trends [--json] [--topic T] [--bucket hour|day] [--since ISO]\n"
    "                      [--until ISO] [--all] [--no-update] [--rebuild]\n"
    "Shows each topic's documents, negative share, mean score and spikes over the range\n"
    "(default: the last 30 days, or 48 hours with --bucket hour, up to now; --all: all\n"
    "history). --json: one object with the range and each topic's buckets.\n";
static const char export_usage[] =
    "usage: finsent export trends|documents [--format csv|json] [--json] [-o FILE]\n"
    "                      [--topic T] [--bucket hour|day] [--since ISO] [--until ISO]\n"
    "                      [--all] [--no-update]\n"
    "       finsent export trends --by entity [--watchlist W] [--format csv] [-o FILE] ...\n"
    "Writes RFC 4180 CSV (or a JSON array) to FILE (atomically) or to standard output.\n"
    "Range as for 'finsent trends': by default the last 30 days (48 hours with --bucket\n"
    "hour) up to now; --since/--until move either end; --all: all history.\n";
static const char report_usage[] =
    "usage: finsent report --html FILE [--topic T] [--bucket hour|day] [--since ISO]\n"
    "                      [--until ISO] [--no-update]\n"
    "Writes one self-contained HTML page: topics, then each [watchlist] (or the most-\n"
    "mentioned entities), most urgent first, each with charts of its negative share,\n"
    "mean score and documents and its most negative headlines (default: the last 90\n"
    "days, or 7 days with --bucket hour; the current window: the last 7 days or 24 hours).\n";

/* Parses the options shared by the three commands; returns 0 or an exit code. */
static int parse_args(int argc, char **argv, const char *usage, struct trends_args *a)
{
    a->f.granularity = DB_TREND_DAY;
    a->f.since = INT64_MIN;
    a->f.until = INT64_MAX;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return -1;
        } else if (!strcmp(argv[i], "--no-update")) {
            a->no_update = 1;
        } else if (!strcmp(argv[i], "--rebuild")) {
            a->rebuild = 1;
        } else if (!strcmp(argv[i], "--json")) {
            a->json = 1;
        } else if (!strcmp(argv[i], "--all")) {
            a->all = 1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--topic", &v)) > 0) {
            if (trends_topic_parse(v, &a->f.topic) < 0) {
                char why[FS_ERROR_MAX / 2];
                topic_lookup_error(v, why, sizeof why);
                return cli_fail(FS_EXIT_USAGE, "--topic: %s; or an id 0..19, or all", why);
            }
            a->f.topic_set = 1;
        } else if (r == 0 && (r = cli_opt_value(argc, argv, &i, "--bucket", &v)) > 0) {
            a->f.granularity = trend_granularity_parse(v);
            if (a->f.granularity < 0)
                return cli_fail(FS_EXIT_USAGE, "--bucket: '%s' is not hour or day", v);
        } else if (r == 0 && (r = cli_opt_value(argc, argv, &i, "--since", &v)) > 0) {
            if (time_parse_iso8601(v, &a->f.since) < 0)
                return cli_fail(FS_EXIT_USAGE, "--since: '%s' is not an ISO-8601 time", v);
            a->since_set = 1;
        } else if (r == 0 && (r = cli_opt_value(argc, argv, &i, "--until", &v)) > 0) {
            if (time_parse_iso8601(v, &a->f.until) < 0)
                return cli_fail(FS_EXIT_USAGE, "--until: '%s' is not an ISO-8601 time", v);
            a->until_set = 1;
        } else if (r == 0 && (r = cli_opt_value(argc, argv, &i, "--by", &v)) > 0) {
            if (strcmp(v, "entity") != 0 && strcmp(v, "topic") != 0)
                return cli_fail(FS_EXIT_USAGE, "--by: '%s' is not topic or entity", v);
            a->by_entity = !strcmp(v, "entity");
        } else if (r == 0 && (r = cli_opt_value(argc, argv, &i, "--watchlist", &v)) > 0) {
            a->watchlist = v;
        } else if (r == 0 && (r = cli_opt_value(argc, argv, &i, "--format", &v)) > 0) {
            a->format = v;
        } else if (r == 0 && ((r = cli_opt_value(argc, argv, &i, "-o", &v)) > 0 ||
                              (r == 0 && (r = cli_opt_value(argc, argv, &i, "--output", &v)) > 0) ||
                              (r == 0 && (r = cli_opt_value(argc, argv, &i, "--html", &v)) > 0))) {
            a->output = v;
        } else if (r < 0) {
            return FS_EXIT_USAGE;
        } else if (argv[i][0] != '-' && !a->what) {
            a->what = argv[i];
        } else {
            return cli_fail(FS_EXIT_USAGE, "%s: unexpected argument '%s' (see --help)", argv[0],
                            argv[i]);
        }
    }
    if (a->since_set && a->until_set && a->f.since >= a->f.until)
        return cli_fail(FS_EXIT_USAGE, "--since must be before --until");
    if (a->all && (a->since_set || a->until_set))
        return cli_fail(FS_EXIT_USAGE, "--all: give it or --since/--until, not both");
    return 0;
}

/* Opens config and database and runs trends_update() unless --no-update. */
static int prepare(struct cli_ctx *ctx, const struct trends_args *a)
{
    int rc = cli_config(ctx);
    if (rc == 0)
        rc = cli_db_read(ctx);
    if (rc)
        return rc;
    if (a->no_update && !a->rebuild)
        return 0;
    if (ctx->db_readonly) {
        if (a->rebuild)
            return cli_fail(FS_EXIT_DB, "--rebuild: %s is read-only", ctx->db_path);
        log_info("%s is read-only: showing the buckets as last counted", ctx->db_path);
        return 0;
    }
    struct spike_params p;
    struct fs_error err;
    if (trends_config_load(ctx->cfg, &p, &err) < 0)
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    struct trends_stats st;
    int r = a->rebuild ? trends_rebuild(ctx->db, &p, ctx->now, &st, &err)
                       : trends_update_params(ctx->db, &p, ctx->now, &st, &err);
    if (r < 0)
        return cli_fail(FS_EXIT_DB, "%s", err.msg);
    if (st.n_docs > 0 || st.rebuilt || st.rescored)
        log_info("trends: counted %lld documents, %lld buckets written, %lld new spikes%s",
                 (long long)st.n_docs, (long long)st.n_rows, (long long)st.n_new_spikes,
                 st.rebuilt    ? " (rebuilt)"
                 : st.rescored ? " (re-scored)"
                               : "");
    return 0;
}

/* Fills in a default window of n_buckets ending with the bucket holding now
 * (nothing with --all). */
static void default_window(struct trends_args *a, int64_t now, int64_t n_buckets)
{
    if (a->all)
        return;
    int64_t width = trend_bucket_width(a->f.granularity);
    if (!a->until_set)
        a->f.until = trend_bucket_start(now, a->f.granularity) + width;
    if (!a->since_set)
        a->f.since = a->f.until - n_buckets * width;
}

/* Widens [since, until) to whole buckets of the filter's granularity. */
static void align_filter(struct trend_filter *f)
{
    int64_t width = trend_bucket_width(f->granularity);
    if (f->since != INT64_MIN)
        f->since = trend_bucket_start(f->since, f->granularity);
    if (f->until != INT64_MAX)
        f->until = trend_bucket_start(f->until - 1, f->granularity) + width;
}

/* Writes text to path (common/outfile.h: atomically for a regular file, in
 * place for a FIFO or device), or to stdout when path is NULL. */
static int emit(const char *path, const struct strbuf *sb)
{
    struct fs_error err;
    if (path) {
        if (outfile_write(path, sb->buf, sb->len, 0666, &err) < 0)
            return cli_fail(FS_EXIT_IO, "%s", err.msg);
        return 0;
    }
    if (fwrite(sb->buf, 1, sb->len, stdout) != sb->len || fflush(stdout) != 0)
        return cli_fail(FS_EXIT_IO, "writing to standard output failed: %s", strerror(errno));
    return 0;
}

/* Streams the documents (CSV or JSON) to path (common/outfile.h) without holding a large
 * export in memory. */
static int export_documents_file(struct cli_ctx *ctx, const struct trend_filter *f,
                                 const char *path, int json)
{
    struct outfile of;
    struct fs_error err;
    if (outfile_open(&of, path, 0666, &err) < 0)
        return cli_fail(FS_EXIT_IO, "export: %s", err.msg);
    struct strbuf sb = STRBUF_INIT;
    int rc = 0;
    if ((json ? export_documents_json(ctx->db, f, of.fp, &sb, &err)
              : export_documents_csv(ctx->db, f, of.fp, &sb, &err)) < 0) {
        rc = cli_fail(strstr(err.msg, "writing") ? FS_EXIT_IO : FS_EXIT_DB, "export: %s: %s", path,
                      err.msg);
        outfile_abort(&of);
    } else if (outfile_commit(&of, &err) < 0) {
        rc = cli_fail(FS_EXIT_IO, "export: %s", err.msg);
    }
    sb_free(&sb);
    return rc;
}

static json_t *json_bound(int64_t t, int64_t unbounded)
{
    char buf[32];
    return t == unbounded ? json_null() : json_string(time_format_iso8601(t, buf, sizeof buf));
}

/* trends --json: {"granularity", "since", "until", "series": [{"topic",
 * "topic_id", "buckets": [export's row objects]}]}; since/until null with --all. */
static void trends_json_append(struct strbuf *sb, const struct trend_filter *f,
                               const struct trend_row *rows, size_t n)
{
    json_t *o = json_object(), *series = json_array();
    json_object_set_new(o, "granularity",
                        json_string(f->granularity == DB_TREND_DAY ? "day" : "hour"));
    json_object_set_new(o, "since", json_bound(f->since, INT64_MIN));
    json_object_set_new(o, "until", json_bound(f->until, INT64_MAX));
    json_t *buckets = NULL;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || rows[i].topic != rows[i - 1].topic) {
            json_t *s = json_object();
            json_object_set_new(s, "topic", json_string(trends_topic_name(rows[i].topic)));
            json_object_set_new(s, "topic_id", json_integer(rows[i].topic));
            buckets = json_array();
            json_object_set_new(s, "buckets", buckets);
            json_array_append_new(series, s);
        }
        json_t *b = export_trend_row_json(&rows[i]);
        json_object_del(b, "topic");
        json_array_append_new(buckets, b);
    }
    json_object_set_new(o, "series", series);
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    sb_append(sb, text ? text : "null");
    sb_append(sb, "\n");
    free(text);
    json_decref(o);
}

int cmd_trends(struct cli_ctx *ctx, int argc, char **argv)
{
    struct trends_args a = {0};
    int rc = parse_args(argc, argv, trends_usage, &a);
    if (rc)
        return rc < 0 ? FS_EXIT_OK : rc;
    if (a.what || a.format)
        return cli_fail(FS_EXIT_USAGE, "trends: unexpected argument '%s'",
                        a.what ? a.what : "--format");
    if ((rc = prepare(ctx, &a)))
        return rc;
    default_window(&a, ctx->now, a.f.granularity == DB_TREND_DAY ? 30 : 48);
    align_filter(&a.f);
    struct table_opts o = {
        .granularity = a.f.granularity,
        .since = a.f.since,
        .until = a.f.until,
        .unicode = ctx->is_tty,
        .colour = ctx->is_tty && !getenv("NO_COLOR"),
        .only_topic_set = a.f.topic_set,
        .only_topic = a.f.topic,
    };
    struct trend_row *rows;
    size_t n;
    struct fs_error err;
    if (db_trends_query(ctx->db, &a.f, &rows, &n, &err) < 0)
        return cli_fail(FS_EXIT_DB, "%s", err.msg);
    struct strbuf sb = STRBUF_INIT;
    if (a.json)
        trends_json_append(&sb, &a.f, rows, n);
    else
        trends_table_append(&sb, rows, n, &o);
    free(rows);
    rc = emit(NULL, &sb);
    sb_free(&sb);
    return rc;
}

int cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
    struct trends_args a = {0};
    int rc = parse_args(argc, argv, export_usage, &a);
    if (rc)
        return rc < 0 ? FS_EXIT_OK : rc;
    if (!a.what || (strcmp(a.what, "trends") != 0 && strcmp(a.what, "documents") != 0))
        return cli_fail(FS_EXIT_USAGE, "export: say what to export: trends or documents");
    if (a.format && strcmp(a.format, "csv") != 0 && strcmp(a.format, "json") != 0)
        return cli_fail(FS_EXIT_USAGE, "export: format '%s' is not supported (csv, json)",
                        a.format);
    if (a.json && a.format && strcmp(a.format, "json") != 0)
        return cli_fail(FS_EXIT_USAGE, "export: --json contradicts --format %s", a.format);
    int json = a.json || (a.format && !strcmp(a.format, "json"));
    if ((a.by_entity || a.watchlist) && strcmp(a.what, "trends") != 0)
        return cli_fail(FS_EXIT_USAGE, "export: --by entity and --watchlist are for trends");
    if (a.watchlist && !a.by_entity)
        return cli_fail(FS_EXIT_USAGE, "export: --watchlist needs --by entity");
    if (a.by_entity && a.f.topic_set)
        return cli_fail(FS_EXIT_USAGE, "export: --topic and --by entity do not go together");
    if (a.by_entity && json)
        return cli_fail(FS_EXIT_USAGE, "export: --by entity writes CSV only");
    if ((rc = prepare(ctx, &a)))
        return rc;
    default_window(&a, ctx->now, a.f.granularity == DB_TREND_DAY ? 30 : 48);
    if (!strcmp(a.what, "trends")) /* include the buckets holding --since / --until */
        align_filter(&a.f);
    if (!strcmp(a.what, "documents") && a.output)
        return export_documents_file(ctx, &a.f, a.output, json);
    int64_t *ids = NULL;
    size_t n_ids = 0;
    if (a.watchlist && (rc = cli_watchlist_ids(ctx, a.watchlist, &ids, &n_ids)))
        return rc;
    struct strbuf sb = STRBUF_INIT;
    struct fs_error err;
    int r;
    if (!strcmp(a.what, "trends") && a.by_entity)
        r = export_entity_trends_csv(ctx->db, &a.f, a.watchlist ? ids : NULL, n_ids, &sb, &err);
    else if (!strcmp(a.what, "trends"))
        r = json ? export_trends_json(ctx->db, &a.f, &sb, &err)
                 : export_trends_csv(ctx->db, &a.f, &sb, &err);
    else
        r = json ? export_documents_json(ctx->db, &a.f, stdout, &sb, &err)
                 : export_documents_csv(ctx->db, &a.f, stdout, &sb, &err);
    free(ids);
    if (r < 0) {
        sb_free(&sb);
        return cli_fail(strstr(err.msg, "writing") ? FS_EXIT_IO : FS_EXIT_DB, "export: %s",
                        err.msg);
    }
    rc = emit(a.output, &sb);
    sb_free(&sb);
    return rc;
}

/* The [watchlist NAME] sections with their mentioned entities' ids, for the
 * report (none when the report is restricted to one topic). Returns 0 or an
 * exit code after printing; free with watchlists_free(). */
static int report_watchlists(struct cli_ctx *ctx, struct report_watchlist **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    int count = config_section_count(ctx->cfg, "watchlist ");
    if (count <= 0)
        return 0;
    struct report_watchlist *w = xcalloc((size_t)count, sizeof *w);
    for (int i = 0; i < count; i++) {
        const char *sec = config_section_at(ctx->cfg, "watchlist ", i);
        int64_t *ids;
        int rc = cli_watchlist_ids(ctx, sec + strlen("watchlist "), &ids, &w[i].n_ids);
        if (rc) {
            *out = w;
            *n = (size_t)i;
            return rc;
        }
        w[i].name = sec + strlen("watchlist ");
        w[i].entities = config_get(ctx->cfg, sec, "entities");
        w[i].ids = ids;
    }
    *out = w;
    *n = (size_t)count;
    return 0;
}

static void watchlists_free(struct report_watchlist *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((int64_t *)w[i].ids);
    free(w);
}

int cmd_report(struct cli_ctx *ctx, int argc, char **argv)
{
    struct trends_args a = {0};
    int rc = parse_args(argc, argv, report_usage, &a);
    if (rc)
        return rc < 0 ? FS_EXIT_OK : rc;
    if (a.what || a.json || a.format)
        return cli_fail(FS_EXIT_USAGE, "report: unexpected argument '%s'",
                        a.what   ? a.what
                        : a.json ? "--json"
                                 : "--format");
    if (!a.output)
        return cli_fail(FS_EXIT_USAGE, "report: --html FILE is required");
    if ((rc = prepare(ctx, &a)))
        return rc;
    struct spike_params p;
    struct fs_error err;
    if (trends_config_load(ctx->cfg, &p, &err) < 0)
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    default_window(&a, ctx->now, a.f.granularity == DB_TREND_DAY ? 90 : 7 * 24);
    align_filter(&a.f);
    struct report_watchlist *w = NULL;
    size_t n_w = 0;
    if (!a.f.topic_set && (rc = report_watchlists(ctx, &w, &n_w))) {
        watchlists_free(w, n_w);
        return rc;
    }
    struct report_opts o = {
        .filter = a.f,
        .now = ctx->now,
        .headlines = 5,
        .fit_since = !a.since_set,
        .min_docs = p.min_docs,
        .watchlists = w,
        .n_watchlists = n_w,
    };
    struct strbuf sb = STRBUF_INIT;
    if (report_html(ctx->db, &o, &sb, &err) < 0)
        rc = cli_fail(FS_EXIT_DB, "report: %s", err.msg);
    else
        rc = emit(a.output, &sb);
    watchlists_free(w, n_w);
    sb_free(&sb);
    return rc;
}
