/*
 * cmd_alerts.c — the 'alerts' commands:
 *
 *   finsent alerts [list] [--all] [--json]      alerts with the spike that fired them
 *   finsent alerts show ID [--json]             one alert's record: events and texts
 *   finsent alerts run [--dry-run]              the alerting stage alone
 *   finsent alerts test                         a test notification through every channel
 *   finsent alerts ack ID                       acknowledge: no more repeats
 *   finsent alerts silence TOPIC|ENTITY --for DURATION [--comment TEXT]
 *                                               mute a topic (name, id, overall or all)
 *                                               or an entity (name, $TICKER, [entity])
 *   finsent alerts silences [--all] [--json]    silences in force (all: also ended ones)
 *   finsent alerts unsilence ID                 lift a silence before it ends
 */
#include "alerts/alerts.h"
#include "alerts/rules.h"
#include "classify/dataset.h"
#include "cli/alerts_view.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db_alerts.h"
#include "db/db_entities.h"
#include "entities/lookup.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char alerts_usage[] =
    "usage: finsent alerts [list [--all] [--json]]\n"
    "       finsent alerts show ID [--json]\n"
    "       finsent alerts run [--dry-run]\n"
    "       finsent alerts test\n"
    "       finsent alerts ack ID\n"
    "       finsent alerts silence TOPIC|ENTITY --for DURATION [--comment TEXT]\n"
    "             (TOPIC: name, id, overall, all; ENTITY: name, $TICKER, [entity] section)\n"
    "       finsent alerts silences [--all] [--json]\n"
    "       finsent alerts unsilence ID\n";

int cli_alert_entity_dir(struct cli_ctx *ctx, struct entity_dir **out)
{
    *out = NULL;
    int rc = cli_config(ctx);
    if (rc)
        return rc;
    struct alert_rule *rules;
    int n;
    struct fs_error err;
    if (alert_rules_load(ctx->cfg, &rules, &n, &err) < 0)
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    int watch = alert_rules_watch_entities(rules, n);
    free(rules);
    return watch ? cli_entity_dir(ctx, out) : 0;
}

/* The alerting stage alone: `finsent alerts run [--dry-run]`. */
static int cmd_alerts_stage(struct cli_ctx *ctx, int dry_run)
{
    int rc = cli_config(ctx);
    if (rc)
        return rc;
    struct fs_error err;
    if (alerts_config_check(ctx->cfg, &err) < 0)
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    struct entity_dir *dir;
    if ((rc = cli_alert_entity_dir(ctx, &dir)))
        return rc;
    if ((!dry_run && (rc = cli_lock(ctx, "alerts run", -1))) || (rc = cli_db(ctx)))
        return rc;
    struct alerts_stats st;
    int r = alerts_run(ctx->db, ctx->cfg, dir, ctx->now, dry_run, &st, &err);
    if (r < 0) {
        alerts_stats_free(&st);
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_FAILURE), "alerts: %s", err.msg);
    }
    if (dry_run) {
        fputs(st.preview ? st.preview : "", stdout);
        alerts_stats_free(&st);
        return FS_EXIT_OK;
    }
    if (st.warning[0])
        log_warn("%s", st.warning);
    if (!ctx->quiet)
        printf("alerts: %d fired, %d repeated, %d resolved, %d pending, %d silenced; "
               "%d sent, %d failed, %lld queued\n",
               st.fired, st.repeated, st.resolved, st.pending, st.suppressed, st.sent, st.failed,
               (long long)st.still_queued);
    alerts_stats_free(&st);
    return r == 1 ? FS_EXIT_PARTIAL : FS_EXIT_OK;
}

static int alerts_test_cmd(struct cli_ctx *ctx)
{
    int rc = cli_config(ctx);
    if (rc)
        return rc;
    struct strbuf report = STRBUF_INIT;
    struct fs_error err;
    int r = alerts_test(ctx->cfg, ctx->now, &report, &err);
    if (r < 0) {
        sb_free(&report);
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    }
    fputs(report.buf, stdout);
    sb_free(&report);
    /* which channel failed and why is in the report; stderr gets the one line */
    if (r)
        log_warn("alerts test: some channels failed (see the report)");
    return r ? FS_EXIT_PARTIAL : FS_EXIT_OK;
}

/* Parses an alert id ("12"); returns it, or 0 after printing the usage error. */
static int64_t parse_alert_id(const char *cmd, const char *arg)
{
    char *end;
    long long id = strtoll(arg, &end, 10);
    if (end == arg || *end || id <= 0) {
        cli_fail(FS_EXIT_USAGE, "alerts %s: '%s' is not an alert id", cmd, arg);
        return 0;
    }
    return id;
}

static int alerts_ack_cmd(struct cli_ctx *ctx, const char *arg)
{
    long long id = parse_alert_id("ack", arg);
    if (!id)
        return FS_EXIT_USAGE;
    int rc = cli_db(ctx);
    if (rc)
        return rc;
    struct fs_error err;
    int r = alerts_ack(ctx->db, id, ctx->now, &err);
    if (r < 0)
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "%s", err.msg);
    if (r == 0)
        return cli_fail(FS_EXIT_FAILURE,
                        "alerts ack: no alert %lld (see 'finsent alerts list "
                        "--all')",
                        id);
    if (!ctx->quiet)
        printf("alert %lld acknowledged: no more repeats\n", id);
    return FS_EXIT_OK;
}

/* What `alerts silence` mutes. */
struct silence_target {
    int topic;         /* a topic, SILENCE_EVERY_TOPIC or ALERT_TOPIC_ENTITY */
    int64_t entity_id; /* the entity's row, 0 for a topic */
    char name[128];    /* what the confirmation says */
};

/* ENTITY of `alerts silence`, as a watchlist names it; its row of table
 * entities is created when no document has mentioned it yet. */
static int parse_silence_entity(struct cli_ctx *ctx, const char *arg, struct silence_target *t)
{
    struct entity_dir *d;
    int rc = cli_entity_dir(ctx, &d);
    if (rc)
        return rc;
    struct entity_ref ref;
    int known = entity_lookup(d, arg, &ref) == 0;
    if (!known) {
        char why[FS_ERROR_MAX / 2];
        topic_lookup_error(arg, why, sizeof why);
        return cli_fail(FS_EXIT_USAGE,
                        "alerts silence: %s; or an id 0..19, overall or all; nor is it an entity "
                        "(a company name, $TICKER or an [entity] section)",
                        why);
    }
    struct fs_error err;
    if (db_entity_id(ctx->db, ref.key, ref.name, ref.ticker[0] ? ref.ticker : NULL, &t->entity_id,
                     &err) < 0)
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "%s", err.msg);
    t->topic = ALERT_TOPIC_ENTITY;
    str_copy(t->name, sizeof t->name, ref.name);
    return 0;
}

/* TOPIC|ENTITY of `alerts silence`: "all", a topic name, id or overall, else an
 * entity ($TICKER always is one). Returns 0 or an exit code after printing. */
static int parse_silence_target(struct cli_ctx *ctx, const char *arg, struct silence_target *t)
{
    memset(t, 0, sizeof *t);
    if (!strcmp(arg, "all")) {
        t->topic = SILENCE_EVERY_TOPIC;
        str_copy(t->name, sizeof t->name, "every topic and entity");
        return 0;
    }
    int topic = arg[0] == '$' ? -2 : alert_topic_parse(arg);
    if (topic == -2)
        return parse_silence_entity(ctx, arg, t);
    char buf[32];
    t->topic = topic;
    str_copy(t->name, sizeof t->name, alert_topic_name(topic, buf, sizeof buf));
    return 0;
}

static int alerts_silence_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *target_arg = NULL, *dur = NULL, *comment = NULL;
    for (int i = 2; i < argc; i++) {
        const char *v;
        int r = cli_opt_value(argc, argv, &i, "--for", &v);
        int c = r == 0 ? cli_opt_value(argc, argv, &i, "--comment", &comment) : 0;
        if (r < 0 || c < 0)
            return FS_EXIT_USAGE;
        if (r > 0)
            dur = v;
        else if (c > 0)
            continue;
        else if (argv[i][0] == '-' && argv[i][1])
            return cli_fail(FS_EXIT_USAGE, "alerts silence: unknown option '%s'", argv[i]);
        else if (!target_arg)
            target_arg = argv[i];
        else
            return cli_fail(FS_EXIT_USAGE, "alerts silence: one TOPIC or ENTITY only (quote "
                                           "names with spaces)");
    }
    if (!target_arg || !dur)
        return cli_fail(FS_EXIT_USAGE, "usage: finsent alerts silence TOPIC|ENTITY --for DURATION "
                                       "[--comment TEXT]");
    int64_t seconds;
    if (duration_parse(dur, &seconds) < 0 || seconds <= 0)
        return cli_fail(FS_EXIT_USAGE, "alerts silence: '%s' is not a duration (e.g. 2h, 1d)", dur);
    int rc = cli_db(ctx);
    struct silence_target t;
    if (rc || (rc = parse_silence_target(ctx, target_arg, &t)))
        return rc;
    struct fs_error err;
    int64_t id;
    if (alerts_silence(ctx->db, t.topic, t.entity_id, ctx->now, seconds, comment, &id, &err) < 0)
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "%s", err.msg);
    char until[32];
    time_format_iso8601(ctx->now + seconds, until, sizeof until);
    if (!ctx->quiet)
        printf("silence %lld: %s silenced until %s (lift it with 'finsent alerts unsilence "
               "%lld')\n",
               (long long)id, t.name, until, (long long)id);
    return FS_EXIT_OK;
}

/* `alerts silences [--all] [--json]`. */
static int alerts_silences_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
    int all = 0, json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--all"))
            all = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return cli_fail(FS_EXIT_USAGE, "alerts silences: unknown argument '%s'", argv[i]);
    }
    int rc = cli_db(ctx);
    return rc ? rc : alerts_view_silences(ctx, all, json);
}

static int alerts_unsilence_cmd(struct cli_ctx *ctx, const char *arg)
{
    char *end;
    long long id = strtoll(arg, &end, 10);
    if (end == arg || *end || id <= 0)
        return cli_fail(FS_EXIT_USAGE, "alerts unsilence: '%s' is not a silence id", arg);
    int rc = cli_db(ctx);
    if (rc)
        return rc;
    struct fs_error err;
    int r = alerts_unsilence(ctx->db, id, ctx->now, &err);
    if (r < 0)
        return cli_fail(cli_db_exit_code(ctx->db, FS_EXIT_DB), "%s", err.msg);
    if (r == 0)
        return cli_fail(FS_EXIT_FAILURE,
                        "alerts unsilence: no active silence %lld (see 'finsent alerts "
                        "silences --all')",
                        id);
    if (!ctx->quiet)
        printf("silence %lld lifted\n", id);
    return FS_EXIT_OK;
}

/* `alerts [list] [--all] [--json]` (argv[1] may itself be --all or --json). */
static int alerts_list_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
    int all = 0, json = 0;
    for (int i = strcmp(argv[1], "list") == 0 ? 2 : 1; i < argc; i++) {
        if (!strcmp(argv[i], "--all"))
            all = 1;
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return cli_fail(FS_EXIT_USAGE, "alerts list: unknown argument '%s'", argv[i]);
    }
    int rc = cli_config(ctx); /* a rule naming no topic fails here, not in `run` */
    if (rc == 0)
        rc = cli_db_read(ctx);
    return rc ? rc : alerts_view_list(ctx, all, json);
}

/* `alerts show ID [--json]`. */
static int alerts_show_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *id_arg = NULL;
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!id_arg && argv[i][0] != '-')
            id_arg = argv[i];
        else
            return cli_fail(FS_EXIT_USAGE, "alerts show: unknown argument '%s'", argv[i]);
    }
    if (!id_arg)
        return cli_fail(FS_EXIT_USAGE, "usage: finsent alerts show ID [--json]");
    int64_t id = parse_alert_id("show", id_arg);
    if (!id)
        return FS_EXIT_USAGE;
    int rc = cli_db_read(ctx);
    return rc ? rc : alerts_view_show(ctx, id, json);
}

int cmd_alerts(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : "list";
    if (!strcmp(sub, "--help") || !strcmp(sub, "-h") || !strcmp(sub, "help")) {
        fputs(alerts_usage, stdout);
        return FS_EXIT_OK;
    }
    if (!strcmp(sub, "--dry-run"))
        return argc == 2 ? cmd_alerts_stage(ctx, 1)
                         : cli_fail(FS_EXIT_USAGE, "usage: finsent alerts --dry-run");
    if (!strcmp(sub, "list") || !strcmp(sub, "--all") || !strcmp(sub, "--json"))
        return alerts_list_cmd(ctx, argc, argv);
    if (!strcmp(sub, "show"))
        return alerts_show_cmd(ctx, argc, argv);
    if (!strcmp(sub, "run")) {
        int dry = 0;
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "--dry-run") != 0)
                return cli_fail(FS_EXIT_USAGE, "alerts run: unknown argument '%s'", argv[i]);
            dry = 1;
        }
        return cmd_alerts_stage(ctx, dry);
    }
    if (!strcmp(sub, "test"))
        return argc == 2 ? alerts_test_cmd(ctx)
                         : cli_fail(FS_EXIT_USAGE, "usage: finsent alerts test");
    if (!strcmp(sub, "ack"))
        return argc == 3 ? alerts_ack_cmd(ctx, argv[2])
                         : cli_fail(FS_EXIT_USAGE, "usage: finsent alerts ack ID");
    if (!strcmp(sub, "silence"))
        return alerts_silence_cmd(ctx, argc, argv);
    if (!strcmp(sub, "silences"))
        return alerts_silences_cmd(ctx, argc, argv);
    if (!strcmp(sub, "unsilence"))
        return argc == 3 ? alerts_unsilence_cmd(ctx, argv[2])
                         : cli_fail(FS_EXIT_USAGE, "usage: finsent alerts unsilence ID");
    return cli_fail(FS_EXIT_USAGE, "alerts: unknown subcommand '%s' (see 'finsent alerts --help')",
                    sub);
}
