/*
 * cmd_entities.c — 'finsent entities': the companies the stored documents
 * mention, and the tools around the recogniser.
 *
 *   finsent entities [--watchlist W] [--since ISO] [--json]   list by volume
 *   finsent entities scan                  read the documents not yet read
 *   finsent entities rescan                forget all mentions and read everything again
 *   finsent entities match [--json] [TEXT...]   the mentions in texts (stdin: lines)
 *   finsent entities eval --data FILE.csv [--json] [-v]   precision and recall
 */
#include "alerts/rules.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "db/db.h"
#include "db/db_entities.h"
#include "entities/directory.h"
#include "entities/evaluate.h"
#include "entities/lookup.h"
#include "entities/recognize.h"
#include "entities/scan.h"

#include "trends/sparkline.h"
#include "trends/trends.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- watchlists ---- */

/* Calls fn with each item of [watchlist name] entities. */
static int watch_items(const struct config *cfg, const char *section,
                       int (*fn)(void *, const char *), void *ctx)
{
    return entity_list_each(config_get(cfg, section, "entities"), fn, ctx);
}

/* Every [watchlist NAME]: only the key "entities", every item known. */
static int watchlists_check(const struct config *cfg, const struct entity_dir *d,
                            struct fs_error *err)
{
    int n = cfg ? config_section_count(cfg, "watchlist ") : 0;
    for (int i = 0; i < n; i++) {
        const char *sec = config_section_at(cfg, "watchlist ", i);
        const char *key, *value;
        for (int k = 0; config_entry_at(cfg, sec, k, &key, &value) == 0; k++)
            if (strcmp(key, "entities") != 0)
                return config_error(cfg, sec, key, err, "unknown key (entities)");
        if (!config_get(cfg, sec, "entities"))
            return config_error(cfg, sec, "entities", err, "a watchlist needs entities = ...");
        if (entity_list_check(cfg, sec, d, err) < 0)
            return -1;
    }
    return 0;
}

struct watch_ids {
    const struct entity_dir *d;
    const struct entity_volume *ents; /* every entity row */
    size_t n_ents;
    int64_t *ids;
    size_t n, cap;
};

static int watch_id_item(void *ctx, const char *item)
{
    struct watch_ids *w = ctx;
    struct entity_ref ref;
    if (entity_lookup(w->d, item, &ref) < 0)
        return 0; /* checked when the directory was loaded */
    for (size_t i = 0; i < w->n_ents; i++) {
        if (w->ents[i].key && strcmp(w->ents[i].key, ref.key) == 0) {
            w->ids = xgrow(w->ids, w->n, &w->cap, sizeof *w->ids, 16);
            w->ids[w->n++] = w->ents[i].id;
        }
    }
    return 0;
}

int cli_watchlist_ids(struct cli_ctx *ctx, const char *name, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    char sec[300];
    snprintf(sec, sizeof sec, "watchlist %s", name);
    int rc = cli_config(ctx);
    if (rc == 0)
        rc = cli_db(ctx);
    if (rc)
        return rc;
    if (!config_get(ctx->cfg, sec, "entities"))
        return cli_fail(FS_EXIT_USAGE, "--watchlist: no [watchlist %s] in %s", name,
                        config_path(ctx->cfg));
    struct entity_dir *d;
    if ((rc = cli_entity_dir(ctx, &d)))
        return rc;
    struct watch_ids w = {.d = d};
    struct entity_volume *ents;
    struct fs_error err;
    if (db_entities_all(ctx->db, &ents, &w.n_ents, &err) < 0)
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "entities: %s", err.msg);
    w.ents = ents;
    watch_items(ctx->cfg, sec, watch_id_item, &w);
    db_entity_volume_free(ents, w.n_ents);
    *ids = w.ids;
    *n = w.n;
    return 0;
}

int cli_entity_dir(struct cli_ctx *ctx, struct entity_dir **out)
{
    int rc = cli_config(ctx); /* which may load the directory for the alert rules */
    *out = ctx->entities;
    if (rc || ctx->entities)
        return rc;
    char *data = cli_data_dir();
    if (!data)
        return cli_fail(FS_EXIT_FAILURE,
                        "entities: no data directory (set FINSENT_DATA to finsent's data/)");
    struct fs_error err;
    rc = entity_dir_load(data, ctx->cfg, out, &err);
    if (rc == 0)
        log_debug("entities: directory loaded from %s/entities and the config", data);
    free(data);
    if (rc < 0) {
        int config = strstr(err.msg, "[entity") || strstr(err.msg, "entity ");
        return cli_fail(config ? FS_EXIT_CONFIG : FS_EXIT_FAILURE, "%s%s",
                        config ? "config: " : "entities: ", err.msg);
    }
    if (watchlists_check(ctx->cfg, *out, &err) < 0 ||
        alert_rules_check_entities(ctx->cfg, *out, &err) < 0) {
        entity_dir_free(*out);
        *out = NULL;
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    }
    ctx->entities = *out;
    return 0;
}

int cli_entities_scan(struct cli_ctx *ctx)
{
    int rc = cli_db(ctx);
    if (rc)
        return rc;
    struct entity_dir *d;
    if ((rc = cli_entity_dir(ctx, &d)))
        return rc;
    struct entity_scan_stats st;
    struct fs_error err;
    if (entities_scan_pending(ctx->db, d, ctx->now, 0, &st, &err) < 0)
        rc = cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_FAILURE), "%s", err.msg);
    else
        log_info("entities: %lld documents read, %lld mentions, %.2f s", (long long)st.documents,
                 (long long)st.mentions, st.seconds);
    return rc;
}

/* ---- match ---- */

static json_t *mention_json(const struct entity_dir *d, const struct mention *m, const char *text)
{
    char name[256];
    mention_entity_name(d, m, name, sizeof name);
    json_t *o = json_object();
    json_object_set_new(o, "entity", json_string(name));
    if (m->entity >= 0 && d->ents[m->entity].ticker)
        json_object_set_new(o, "ticker", json_string(d->ents[m->entity].ticker));
    json_object_set_new(o, "how", json_string(mention_how_name(m->how)));
    json_object_set_new(o, "start", json_integer(m->start));
    json_object_set_new(o, "len", json_integer(m->len));
    json_object_set_new(o, "text", cli_json_text(text + m->start, m->len));
    return o;
}

static void match_one(const struct entity_dir *d, const char *text, int json)
{
    struct mention_list l = {0};
    entities_recognize(d, NULL, text, NULL, &l);
    if (json) {
        json_t *o = json_object(), *a = json_array();
        json_object_set_new(o, "text", cli_json_text(text, strlen(text)));
        for (size_t i = 0; i < l.n; i++)
            json_array_append_new(a, mention_json(d, &l.v[i], text));
        json_object_set_new(o, "mentions", a);
        char *s = json_dumps(o, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(o);
    } else {
        printf("%s\n", text);
        for (size_t i = 0; i < l.n; i++) {
            char name[256];
            mention_entity_name(d, &l.v[i], name, sizeof name);
            printf("  %-28s %-8s \"%.*s\"\n", name, mention_how_name(l.v[i].how),
                   (int)l.v[i].len, text + l.v[i].start);
        }
    }
    mention_list_free(&l);
}

static int entities_match(struct cli_ctx *ctx, int argc, char **argv)
{
    int json = 0, first = 2;
    if (first < argc && !strcmp(argv[first], "--json"))
        json = 1, first++;
    struct entity_dir *d;
    int rc = cli_entity_dir(ctx, &d);
    if (rc)
        return rc;
    size_t n;
    char **texts = cli_texts(argc, argv, first, &n);
    for (size_t i = 0; i < n; i++)
        match_one(d, texts[i], json);
    cli_texts_free(texts, n);
    return FS_EXIT_OK;
}

/* ---- eval ---- */

static void eval_miss(void *ctx, const char *text, const char *pred, const char *gold)
{
    if (*(int *)ctx)
        printf("miss: %s\n  predicted [%s], labelled [%s]\n", text, pred, gold);
}

static int entities_eval(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *data = NULL;
    int json = 0, verbose = 0;
    for (int i = 2; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else if ((r = cli_opt_value(argc, argv, &i, "--data", &data))) {
            if (r < 0)
                return FS_EXIT_USAGE;
        } else
            return cli_fail(FS_EXIT_USAGE, "entities eval: unknown option '%s'", argv[i]);
    }
    if (!data)
        return cli_fail(FS_EXIT_USAGE, "entities eval: --data FILE.csv is required");
    char *csv;
    size_t len;
    struct fs_error err;
    if (file_read_all(data, 1u << 30, &csv, &len, &err) < 0)
        return cli_fail(FS_EXIT_IO, "entities eval: %s: %s", data, err.msg);
    struct entity_dir *d;
    int rc = cli_entity_dir(ctx, &d);
    struct entity_eval e;
    if (rc == 0 && entities_evaluate(d, csv, len, &e, eval_miss, &verbose, &err) < 0)
        rc = cli_fail(FS_EXIT_FAILURE, "entities eval: %s: %s", data, err.msg);
    if (rc == 0 && json)
        printf("{\"n\": %zu, \"tp\": %zu, \"fp\": %zu, \"fn\": %zu, \"precision\": %.4f, "
               "\"recall\": %.4f, \"f1\": %.4f, \"texts_per_second\": %.0f}\n",
               e.n_texts, e.tp, e.fp, e.fn, e.precision, e.recall, e.f1,
               e.seconds > 0 ? (double)e.n_texts / e.seconds : 0.0);
    else if (rc == 0)
        printf("%zu texts: precision %.3f, recall %.3f, F1 %.3f (%zu right, %zu wrong, %zu "
               "missed)\n",
               e.n_texts, e.precision, e.recall, e.f1, e.tp, e.fp, e.fn);
    free(csv);
    return rc;
}

/* ---- list ---- */

struct list_args {
    const char *watchlist;
    int64_t since;
    int since_set, json, no_update;
};

struct list_row {
    const struct entity_volume *e;
    struct trend_totals t;
    const struct trend_row *rows;
    size_t n_rows;
};

static int list_row_cmp(const void *pa, const void *pb)
{
    const struct list_row *a = pa, *b = pb;
    if (a->t.n_docs != b->t.n_docs)
        return a->t.n_docs > b->t.n_docs ? -1 : 1;
    return strcmp(a->e->name ? a->e->name : "", b->e->name ? b->e->name : "");
}

/* Daily negative shares over [since, until) (NaN for days without documents). */
static void daily_shares(const struct list_row *r, int64_t since, int64_t until, double *v,
                         unsigned char *marks, size_t n_days)
{
    for (size_t i = 0; i < n_days; i++)
        v[i] = NAN, marks[i] = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct trend_row *b = &r->rows[i];
        if (b->bucket_start < since || b->bucket_start >= until || b->n_docs == 0)
            continue;
        size_t d = (size_t)((b->bucket_start - since) / 86400);
        if (d < n_days)
            v[d] = (double)b->n_negative / (double)b->n_docs, marks[d] = (unsigned char)b->spike;
    }
}

static json_t *list_json(const struct list_row *r, const double *v, size_t n_days)
{
    json_t *o = json_object(), *daily = json_array();
    json_object_set_new(o, "entity", json_string(r->e->name ? r->e->name : ""));
    json_object_set_new(o, "ticker", r->e->ticker ? json_string(r->e->ticker) : json_null());
    json_object_set_new(o, "documents", json_integer(r->t.n_docs));
    json_object_set_new(o, "negative", json_integer(r->t.n_negative));
    double n = r->t.n_docs ? (double)r->t.n_docs : 1;
    json_object_set_new(o, "negative_share", json_real((double)r->t.n_negative / n));
    json_object_set_new(o, "mean_score", json_real((double)r->t.score_sum_micro / 1e6 / n));
    json_object_set_new(o, "spikes", json_integer(r->t.n_spikes));
    for (size_t i = 0; i < n_days; i++)
        json_array_append_new(daily, isnan(v[i]) ? json_null() : json_real(v[i]));
    json_object_set_new(o, "daily_negative_share", daily);
    return o;
}

static void list_print(struct cli_ctx *ctx, const struct list_row *rows, size_t n, int64_t since,
                       int64_t until, int json)
{
    size_t n_days = (size_t)((until - since) / 86400);
    double *v = xcalloc(n_days + 1, sizeof *v);
    unsigned char *marks = xcalloc(n_days + 1, 1);
    json_t *a = json ? json_array() : NULL;
    if (!json)
        printf("%-28s %-7s %6s %6s %6s %6s %6s  negative share per day\n", "entity", "ticker",
               "docs", "neg", "share", "score", "spikes");
    for (size_t i = 0; i < n; i++) {
        const struct list_row *r = &rows[i];
        daily_shares(r, since, until, v, marks, n_days);
        if (json) {
            json_array_append_new(a, list_json(r, v, n_days));
            continue;
        }
        double nd = r->t.n_docs ? (double)r->t.n_docs : 1;
        struct strbuf sb = STRBUF_INIT;
        sparkline_append(&sb, v, marks, n_days, ctx->is_tty, ctx->is_tty && !getenv("NO_COLOR"));
        printf("%-28.28s %-7.7s %6lld %6lld %6.2f %+6.2f %6lld  %s\n", r->e->name ? r->e->name : "",
               r->e->ticker ? r->e->ticker : "", (long long)r->t.n_docs,
               (long long)r->t.n_negative, (double)r->t.n_negative / nd,
               (double)r->t.score_sum_micro / 1e6 / nd, (long long)r->t.n_spikes,
               sb.buf ? sb.buf : "");
        sb_free(&sb);
    }
    if (json) {
        char *s = json_dumps(a, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(a);
    }
    free(v), free(marks);
}

static int list_parse(int argc, char **argv, struct list_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "--json"))
            a->json = 1;
        else if (!strcmp(argv[i], "--no-update"))
            a->no_update = 1;
        else if ((r = cli_opt_value(argc, argv, &i, "--watchlist", &v))) {
            if (r < 0)
                return FS_EXIT_USAGE;
            a->watchlist = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--since", &v))) {
            if (r < 0)
                return FS_EXIT_USAGE;
            if (time_parse_iso8601(v, &a->since) < 0)
                return cli_fail(FS_EXIT_USAGE, "--since: '%s' is not an ISO-8601 time", v);
            a->since_set = 1;
        } else
            return cli_fail(FS_EXIT_USAGE, "entities: unknown option '%s' (see --help)", argv[i]);
    }
    return 0;
}

/* Brings the buckets up to date (both kinds), as `finsent trends` does. */
static int list_update(struct cli_ctx *ctx)
{
    struct fs_error err;
    struct trends_stats st;
    if (trends_update(ctx->db, ctx->cfg, ctx->now, &st, &err) < 0)
        return cli_fail(strstr(err.msg, ":") && strstr(err.msg, "[trends]") ? FS_EXIT_CONFIG
                                                                             : FS_EXIT_DB,
                        "%s", err.msg);
    return 0;
}

static int cmd_entities_list(struct cli_ctx *ctx, int argc, char **argv)
{
    struct list_args a = {0};
    int rc = list_parse(argc, argv, &a);
    if (rc == 0)
        rc = cli_config(ctx);
    if (rc == 0)
        rc = cli_db(ctx);
    if (rc == 0 && !a.no_update)
        rc = list_update(ctx);
    int64_t *only = NULL;
    size_t n_only = 0;
    if (rc == 0 && a.watchlist)
        rc = cli_watchlist_ids(ctx, a.watchlist, &only, &n_only);
    if (rc == 0 && !a.watchlist) { /* the [entity] and [watchlist] sections are checked */
        struct entity_dir *d;
        rc = cli_entity_dir(ctx, &d);
    }
    if (rc)
        return rc;
    int64_t until = trend_bucket_start(ctx->now, DB_TREND_DAY) + 86400;
    int64_t since = a.since_set ? trend_bucket_start(a.since, DB_TREND_DAY) : until - 30 * 86400;
    struct trend_filter f = {DB_TREND_DAY, 0, 0, since, until};
    struct trend_row *rows = NULL;
    struct entity_volume *ents = NULL;
    size_t n_rows = 0, n_ents = 0;
    struct fs_error err;
    if (db_entities_all(ctx->db, &ents, &n_ents, &err) < 0 ||
        db_trends_query_by(ctx->db, DB_TREND_BY_ENTITY, &f, &rows, &n_rows, &err) < 0) {
        db_entity_volume_free(ents, n_ents);
        free(only);
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "entities: %s", err.msg);
    }
    struct trend_series *series;
    size_t n_series = trends_series_split(rows, n_rows, &series);
    struct list_row *list = xcalloc(n_series + 1, sizeof *list);
    size_t n = 0;
    for (size_t i = 0, e = 0; i < n_series; i++) {
        while (e < n_ents && ents[e].id < series[i].topic)
            e++;
        if (e == n_ents || ents[e].id != series[i].topic ||
            (only && !ids_contain(only, n_only, series[i].topic)))
            continue;
        list[n].e = &ents[e];
        list[n].rows = series[i].rows;
        list[n].n_rows = series[i].n;
        trends_series_totals(&series[i], &list[n].t);
        n++;
    }
    qsort(list, n, sizeof *list, list_row_cmp);
    list_print(ctx, list, n, since, until, a.json);
    free(list), free(series), free(rows), free(only);
    db_entity_volume_free(ents, n_ents);
    return FS_EXIT_OK;
}

/* ---- scan, rescan ---- */

static int entities_rescan(struct cli_ctx *ctx)
{
    int rc = cli_db(ctx);
    if (rc)
        return rc;
    struct fs_error err;
    if (db_begin(ctx->db, &err) < 0 || db_entities_reset(ctx->db, &err) < 0 ||
        db_commit(ctx->db, &err) < 0) {
        db_rollback(ctx->db);
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "entities rescan: %s", err.msg);
    }
    return cli_entities_scan(ctx);
}

static void entities_usage(void)
{
    printf("usage: finsent entities [--watchlist W] [--since ISO] [--json]\n"
           "       finsent entities scan | rescan\n"
           "       finsent entities match [--json] [TEXT...]\n"
           "       finsent entities eval --data FILE.csv [--json] [-v]\n"
           "Companies mentioned in the stored documents, by volume and negative share;\n"
           "scan reads documents not yet read, rescan all of them again (after the\n"
           "[entity] sections changed); match shows the mentions in texts; eval scores\n"
           "the recogniser on a text,entities CSV (data/entities/labelled.csv).\n");
}

int cmd_entities(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "";
    if (!strcmp(sub, "--help") || !strcmp(sub, "help")) {
        entities_usage();
        return FS_EXIT_OK;
    }
    if (!strcmp(sub, "scan")) {
        int rc = cli_entities_scan(ctx);
        return rc;
    }
    if (!strcmp(sub, "rescan"))
        return entities_rescan(ctx);
    if (!strcmp(sub, "match"))
        return entities_match(ctx, argc, argv);
    if (!strcmp(sub, "eval"))
        return entities_eval(ctx, argc, argv);
    return cmd_entities_list(ctx, argc, argv);
}
