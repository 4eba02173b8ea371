/*
 * cmd_run.c — `finsent run` (one full cycle for cron) and `finsent init` (a
 * commented default config). `finsent cron` is in cmd_cron.c.
 */
#include "alerts/alerts.h"
#include "classify/classify.h"
#include "cli/cli.h"
#include "cli/default_config.h"
#include "common/log.h"
#include "common/outfile.h"
#include "common/strbuf.h"
#include "common/util.h"
#include "crawler/crawler.h"
#include "crawler/source.h"
#include "entities/directory.h"
#include "trends/trends.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- run -------------------------------------------------------------------- */

struct run_opts {
    int dry_run;   /* alerts: print what would be sent, change nothing */
    int lock_wait; /* seconds to wait for another run's lock */
};

/* One stage of the cycle. Returns FS_EXIT_OK, FS_EXIT_PARTIAL (completed with
 * failures), or another exit code when the stage could not run at all. */
typedef int (*run_stage_fn)(struct cli_ctx *ctx, const struct run_opts *opts);

/* Exit code for a stage that failed on the database: a full disk is a file
 * system error, a read-only or damaged store a database error. */
static int run_db_failure(sqlite3 *db, const char *stage, const char *msg)
{
    int code = cli_db_exit_code(db, FS_EXIT_FAILURE);
    if (code == FS_EXIT_IO)
        return cli_fail(code, "%s: disk full: %s", stage, msg);
    return cli_fail(code, "%s: %s", stage, msg);
}

static int stage_crawl(struct cli_ctx *ctx, const struct run_opts *opts)
{
    (void)opts;
    struct crawl_options co = {.quiet = 1};
    struct crawl_results res;
    struct fs_error err;
    int status = crawler_run(ctx->db, ctx->cfg, ctx->now, &co, &res, &err);
    if (status != FS_EXIT_OK && status != FS_EXIT_PARTIAL) {
        crawl_results_free(&res);
        return run_db_failure(ctx->db, "crawl", err.msg);
    }
    for (size_t i = 0; i < res.n; i++) {
        const struct crawl_source_result *r = &res.sources[i];
        if (r->outcome == CRAWL_FAILED || r->outcome == CRAWL_NOT_DONE)
            log_warn("crawl: %s: %s: %s", r->source, crawl_outcome_name(r->outcome),
                     r->error ? r->error : "unknown error");
        else
            log_debug("crawl: %s: %s, %d new of %d", r->source, crawl_result_outcome(r), r->n_new,
                      r->n_items);
    }
    log_info("crawl: %zu sources, %d new documents, %d failed, %d not done", res.n, res.n_new,
             res.n_failed, res.n_not_done);
    crawl_results_free(&res);
    return status;
}

static int stage_entities(struct cli_ctx *ctx, const struct run_opts *opts)
{
    (void)opts;
    return cli_entities_scan(ctx);
}

static int stage_classify(struct cli_ctx *ctx, const struct run_opts *opts)
{
    (void)opts;
    const char *device = config_get(ctx->cfg, "model", "device");
    char *path = cli_model_path(ctx, NULL);
    struct backend *be;
    struct classifier *cls;
    int rc = cli_open_classifier(ctx, path, device ? device : "auto", &be, &cls);
    free(path);
    if (rc)
        return rc;
    struct classify_stats st;
    struct fs_error err;
    if (cli_classify(ctx, cls, &st, &err) < 0)
        rc = run_db_failure(ctx->db, "classify", err.msg);
    else
        log_info("classify: %lld documents, %lld entities read from their sentences",
                 (long long)st.classified, (long long)st.entity_reads);
    cli_close_classifier(be, cls);
    return rc;
}

static int stage_trends(struct cli_ctx *ctx, const struct run_opts *opts)
{
    (void)opts;
    struct trends_stats st;
    struct fs_error err;
    if (trends_update(ctx->db, ctx->cfg, ctx->now, &st, &err) < 0)
        return run_db_failure(ctx->db, "trends", err.msg);
    log_info("trends: %lld documents counted, %lld buckets written, %lld new spikes",
             (long long)st.n_docs, (long long)st.n_rows, (long long)st.n_new_spikes);
    return FS_EXIT_OK;
}

static int stage_alerts(struct cli_ctx *ctx, const struct run_opts *opts)
{
    struct alerts_stats st;
    struct fs_error err;
    struct entity_dir *dir;
    int rc = cli_alert_entity_dir(ctx, &dir); /* checked before the cycle started */
    if (rc)
        return rc;
    rc = alerts_run(ctx->db, ctx->cfg, dir, ctx->now, opts->dry_run, &st, &err);
    if (rc < 0) { /* the configuration was checked before the cycle started */
        alerts_stats_free(&st);
        return run_db_failure(ctx->db, "alerts", err.msg);
    }
    if (opts->dry_run && st.preview)
        fputs(st.preview, stdout);
    /* alerts are what --quiet keeps: say what fired even then */
    if (st.fired || st.repeated || st.resolved)
        printf("alerts: %d fired, %d repeated, %d resolved; %d sent, %d failed\n", st.fired,
               st.repeated, st.resolved, st.sent, st.failed);
    else
        log_info("alerts: nothing to send (%d rules x topics evaluated)", st.evaluated);
    if (rc > 0)
        log_warn("alerts: %s", st.warning);
    alerts_stats_free(&st);
    return rc > 0 ? FS_EXIT_PARTIAL : FS_EXIT_OK;
}

static const struct {
    const char *name;
    run_stage_fn fn;
} run_stages[] = {
    {"crawl", stage_crawl},
    {"entities", stage_entities},
    {"classify", stage_classify},
    {"trends", stage_trends},
    {"alerts", stage_alerts},
};

static int run_parse_args(struct cli_ctx *ctx, int argc, char **argv, struct run_opts *opts)
{
    int64_t wait;
    struct fs_error err;
    if (config_get_duration(ctx->cfg, "run", "lock_wait", 60, &wait, &err) < 0)
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    opts->lock_wait = wait > INT_MAX ? INT_MAX : (int)wait;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "--dry-run")) {
            opts->dry_run = 1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--lock-wait", &v))) {
            if (r < 0 || duration_parse(v, &wait) < 0)
                return cli_fail(FS_EXIT_USAGE, "run: --lock-wait needs a duration (e.g. 30s)");
            opts->lock_wait = wait > INT_MAX ? INT_MAX : (int)wait;
        } else {
            return cli_fail(FS_EXIT_USAGE, "run: unknown option '%s'", argv[i]);
        }
    }
    return 0;
}

/* Worst outcome wins, except that a partial failure never hides a hard one. */
static int run_merge_status(int acc, int rc)
{
    if (rc == FS_EXIT_OK)
        return acc;
    if (acc == FS_EXIT_OK || acc == FS_EXIT_PARTIAL)
        return rc;
    return acc;
}

/* Checks every stage's configuration before anything runs, so a bad value stops
 * the cycle with "FILE:LINE: ..." and exit 4 instead of failing half-way. */
static int run_check_config(struct cli_ctx *ctx)
{
    struct fs_error err;
    struct crawler_settings cs;
    if (crawler_settings_load(ctx->cfg, &cs, &err) < 0)
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    struct source_config *sources = NULL;
    size_t n_sources = 0;
    int rc = source_list_load(ctx->cfg, cs.interval, &sources, &n_sources, &err);
    crawler_settings_free(&cs);
    if (rc < 0)
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    source_list_free(sources, n_sources);
    struct spike_params sp;
    if (trends_config_load(ctx->cfg, &sp, &err) < 0 || alerts_config_check(ctx->cfg, &err) < 0)
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    struct entity_dir *dir;
    rc = cli_entity_dir(ctx, &dir);
    return rc;
}

static const char run_usage[] =
    "usage: finsent run [--dry-run] [--lock-wait DURATION]\n"
    "One cycle: crawl, classify, trends, alerts (for cron; with the global --quiet\n"
    "only alerts and errors are printed). --dry-run prints the alerts instead of\n"
    "sending them. Exit codes: 0 ok, 3 some sources or deliveries failed, 4 config,\n"
    "5 another run holds the lock, 6 database, 7 model, 8 file system.\n";

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "--help")) {
        fputs(run_usage, stdout);
        return FS_EXIT_OK;
    }
    struct run_opts opts = {0};
    int rc = cli_config(ctx);
    if (rc)
        return rc;
    if ((rc = run_parse_args(ctx, argc, argv, &opts)) != 0 || (rc = run_check_config(ctx)) != 0)
        return rc;
    if ((rc = cli_db_path(ctx)) != 0)
        return rc;
    if ((rc = cli_lock(ctx, "run", opts.lock_wait)) != 0 || (rc = cli_db(ctx)) != 0)
        return rc;
    int status = FS_EXIT_OK;
    for (size_t i = 0; i < FS_ARRAY_LEN(run_stages); i++) {
        double t0 = time_monotonic();
        int src = run_stages[i].fn(ctx, &opts);
        status = run_merge_status(status, src);
        if (src == FS_EXIT_DB || src == FS_EXIT_IO)
            break; /* the store itself is unusable: later stages cannot help, and the
                      stage's one-line reason stays the last line on stderr */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        log_info("%s: done in %.2fs (peak RSS so far %.1f MB)", run_stages[i].name,
                 time_monotonic() - t0, (double)ru.ru_maxrss / 1024.0);
    }
    return status;
}

/* ---- init ------------------------------------------------------------------ */

int cmd_init(struct cli_ctx *ctx, int argc, char **argv)
{
    int force = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--force"))
            force = 1;
        else if (!strcmp(argv[i], "--help")) {
            printf("usage: finsent init [--force]\n"
                   "Writes a commented configuration to %s\n",
                   ctx->config_path);
            return FS_EXIT_OK;
        } else
            return cli_fail(FS_EXIT_USAGE, "init: unknown option '%s'", argv[i]);
    }
    if (!force && access(ctx->config_path, F_OK) == 0)
        return cli_fail(FS_EXIT_FAILURE, "init: %s already exists (use --force to overwrite)",
                        ctx->config_path);
    struct fs_error err;
    /* a new config is the owner's only (0600); one rewritten keeps its mode */
    if (path_mkdir_parent(ctx->config_path, &err) < 0 ||
        outfile_write(ctx->config_path, default_config_text, strlen(default_config_text), 0600,
                      &err) < 0)
        return cli_fail(FS_EXIT_IO, "init: %s", err.msg);
    if (!ctx->quiet) /* --quiet: errors only */
        printf("wrote %s\nedit [finsent] contact and the [smtp] section, then run 'finsent "
               "run'\n",
               ctx->config_path);
    return FS_EXIT_OK;
}
