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
#include "cli/cli.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db.h"
#include "db/db_entities.h"
#include "entities/directory.h"
#include "entities/evaluate.h"
#include "entities/recognize.h"
#include "entities/scan.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_entity_dir(struct cli_ctx *ctx, struct entity_dir **out)
{
    *out = NULL;
    int rc = cli_config(ctx);
    if (rc)
        return rc;
    char *data = cli_data_dir();
    if (!data)
        return cli_fail(FS_EXIT_FAILURE,
                        "entities: no data directory (set FINSENT_DATA to finsent's data/)");
    struct fs_error err;
    rc = entity_dir_load(data, ctx->cfg, out, &err);
    free(data);
    if (rc < 0) {
        int config = strstr(err.msg, "[entity") || strstr(err.msg, "entity ");
        return cli_fail(config ? FS_EXIT_CONFIG : FS_EXIT_FAILURE, "%s%s",
                        config ? "config: " : "entities: ", err.msg);
    }
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
    entity_dir_free(d);
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
    entity_dir_free(d);
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
    entity_dir_free(d);
    return rc;
}

/* ---- list ---- */

static int cmd_entities_list(struct cli_ctx *ctx, int argc, char **argv)
{
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return cli_fail(FS_EXIT_USAGE, "entities: unknown option '%s'", argv[i]);
    }
    int rc = cli_db(ctx);
    if (rc)
        return rc;
    struct entity_volume *v;
    size_t n;
    struct fs_error err;
    if (db_entities_volume(ctx->db, &v, &n, &err) < 0)
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "entities: %s", err.msg);
    json_t *a = json ? json_array() : NULL;
    if (!json)
        printf("%-32s %-8s %9s %9s\n", "entity", "ticker", "documents", "mentions");
    for (size_t i = 0; i < n; i++) {
        if (json) {
            json_t *o = json_object();
            json_object_set_new(o, "entity", json_string(v[i].name));
            json_object_set_new(o, "ticker", v[i].ticker ? json_string(v[i].ticker) : json_null());
            json_object_set_new(o, "documents", json_integer(v[i].documents));
            json_object_set_new(o, "mentions", json_integer(v[i].mentions));
            json_array_append_new(a, o);
        } else {
            printf("%-32s %-8s %9lld %9lld\n", v[i].name, v[i].ticker ? v[i].ticker : "",
                   (long long)v[i].documents, (long long)v[i].mentions);
        }
    }
    if (json) {
        char *s = json_dumps(a, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(a);
    }
    db_entity_volume_free(v, n);
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
