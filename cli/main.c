/*
 * main.c — finsent's command line: global options, then one subcommand.
 *
 *   finsent [--config PATH] [--db PATH] [--quiet] [--verbose] [--now ISO] COMMAND [ARGS]
 */
#include "alerts/desktop.h"
#include "cli/cli.h"
#include "cli/config_check.h"
#include "common/strbuf.h"
#include "crawler/text.h"
#include "common/cpu_features.h"
#include "common/lock.h"
#include "common/log.h"
#include "common/util.h"
#include "db/db.h"
#include "entities/directory.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct command {
    const char *name;
    cli_command_fn fn;
    const char *summary;
    int no_config; /* runs without reading the configuration */
};

static const struct command commands[] = {
    {"init", cmd_init, "write a commented config with real financial news feeds", 1},
    {"crawl", cmd_crawl, "fetch every due source and store new articles and comments", 0},
    {"base", cmd_base, "fetch or list pretrained base models (BERT checkpoints)", 0},
    {"train", cmd_train, "train the topic and sentiment model", 0},
    {"eval", cmd_eval, "evaluate the model on a labeled CSV (text,label)", 0},
    {"classify", cmd_classify, "classify every stored document not yet classified", 0},
    {"predict", cmd_predict, "classify texts given as arguments or on standard input", 0},
    {"trends", cmd_trends, "show per-topic sentiment over time, spikes marked", 0},
    {"entities", cmd_entities, "companies mentioned: volume, negative share, trends", 0},
    {"export", cmd_export, "export trends or documents as CSV or JSON", 0},
    {"report", cmd_report, "write a self-contained HTML report", 0},
    {"alerts", cmd_alerts, "list, show, test, acknowledge or silence alerts", 0},
    {"run", cmd_run, "one full cycle: crawl, classify, trends, alerts (for cron)", 0},
    {"cron", cmd_cron, "print a crontab line and a systemd service and timer", 0},
    {"tokenize", cmd_tokenize, "show a base model's WordPiece tokens of texts", 0},
    {"embed", cmd_embed, "print sentence embeddings from a pretrained base model", 0},
    {"topics", cmd_topics, "list the 20 topic names that rules, silences and --topic take", 1},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: finsent [--config PATH] [--db PATH] [--quiet] [--verbose] [--now ISO-8601]\n"
            "               COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < FS_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-9s %s\n", "help", "this text; 'finsent help COMMAND': a command's options");
    fprintf(out, "\nRun 'finsent COMMAND --help' (or -h) for a command's options.\n");
}

int cli_fail(int code, const char *fmt, ...)
{
    char msg[FS_ERROR_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_clean(msg); /* one line, whatever the data in it */
    fprintf(stderr, "finsent: %s\n", msg);
    return code;
}

int cli_db_exit_code(sqlite3 *db, int fallback)
{
    /* extended result codes are on (db_open), so compare the primary code only */
    switch (db ? sqlite3_extended_errcode(db) & 0xff : SQLITE_OK) {
    case SQLITE_FULL:
        return FS_EXIT_IO;
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
        return FS_EXIT_DB;
    default:
        return fallback;
    }
}

int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    size_t n = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        cli_fail(FS_EXIT_USAGE, "option %s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_config(struct cli_ctx *ctx)
{
    if (ctx->cfg)
        return 0;
    struct fs_error err;
    if (!ctx->config_explicit && access(ctx->config_path, F_OK) != 0) {
        ctx->cfg = config_new_empty();
        log_debug("no config at %s; using defaults", ctx->config_path);
        return 0;
    }
    if (config_load(&ctx->cfg, ctx->config_path, &err) < 0 || config_check_all(ctx->cfg, &err) < 0)
        return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
    /* the entities that alert rules name are checked up front too, for every
     * command (the directory is loaded only when a rule names some; without a
     * data directory the commands that need one say so themselves) */
    char *data = cli_data_dir();
    if (!data)
        return 0;
    free(data);
    struct entity_dir *dir;
    int rc = cli_alert_entity_dir(ctx, &dir);
    return rc;
}

int cli_db_path(struct cli_ctx *ctx)
{
    if (ctx->db_path)
        return 0;
    int rc = cli_config(ctx);
    if (rc)
        return rc;
    const char *p = config_get(ctx->cfg, "finsent", "database");
    ctx->owned_db_path = p ? xstrdup(p) : path_xdg_data("finsent.db");
    ctx->db_path = ctx->owned_db_path;
    return 0;
}

int cli_db(struct cli_ctx *ctx)
{
    if (ctx->db)
        return 0;
    int rc = cli_db_path(ctx);
    if (rc)
        return rc;
    struct fs_error err;
    if (db_open(&ctx->db, ctx->db_path, &err) < 0)
        return cli_fail(FS_EXIT_DB, "%s", err.msg);
    return 0;
}

int cli_lock(struct cli_ctx *ctx, const char *cmd, int wait_seconds)
{
    if (ctx->locked)
        return 0;
    int rc = cli_config(ctx);
    if (rc == 0)
        rc = cli_db_path(ctx);
    if (rc)
        return rc;
    struct fs_error err;
    if (wait_seconds < 0) {
        int64_t wait;
        if (config_get_duration(ctx->cfg, "run", "lock_wait", 60, &wait, &err) < 0)
            return cli_fail(FS_EXIT_CONFIG, "config: %s", err.msg);
        wait_seconds = wait > INT_MAX ? INT_MAX : (int)wait;
    }
    struct strbuf path = STRBUF_INIT;
    sb_appendf(&path, "%s.lock", ctx->db_path);
    int got = lock_acquire(path.buf, wait_seconds, &ctx->lock_fd, &err);
    if (got > 0)
        rc = cli_fail(FS_EXIT_LOCKED, "%s: another run holds %s (waited %ds)", cmd, path.buf,
                      wait_seconds);
    else if (got < 0)
        rc = cli_fail(FS_EXIT_DB, "%s: %s", cmd, err.msg);
    ctx->locked = got == 0;
    sb_free(&path);
    return rc;
}

int cli_db_read(struct cli_ctx *ctx)
{
    if (ctx->db)
        return 0;
    int rc = cli_db_path(ctx);
    if (rc)
        return rc;
    struct fs_error err, ro_err;
    if (db_open(&ctx->db, ctx->db_path, &err) == 0) {
        /* SQLite opens a file it may not write read-only, without an error */
        ctx->db_readonly = sqlite3_db_readonly(ctx->db, "main") == 1;
        return 0;
    }
    if (access(ctx->db_path, F_OK) != 0 || db_open_readonly(&ctx->db, ctx->db_path, &ro_err) < 0)
        return cli_fail(FS_EXIT_DB, "%s", err.msg);
    ctx->db_readonly = 1;
    log_debug("%s: opened read-only (%s)", ctx->db_path, err.msg);
    return 0;
}

char **cli_texts(int argc, char **argv, int first, size_t *n)
{
    char **t = NULL;
    size_t cap = 0;
    *n = 0;
    if (first < argc) {
        *n = (size_t)(argc - first);
        t = xmalloc(*n * sizeof *t);
        for (size_t i = 0; i < *n; i++)
            t[i] = xstrdup(argv[first + (int)i]);
        return t;
    }
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, stdin)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (*n == cap)
            t = xrealloc(t, (cap = cap ? 2 * cap : 64) * sizeof *t);
        t[(*n)++] = xstrdup(line);
    }
    free(line);
    return t;
}

json_t *cli_json_text(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j)
        return j;
    struct strbuf sb = STRBUF_INIT;
    text_utf8_repair(&sb, s, n);
    j = json_stringn(sb.buf, sb.len);
    sb_free(&sb);
    return j ? j : json_null();
}

void cli_texts_free(char **texts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
}

static int parse_globals(struct cli_ctx *ctx, int argc, char **argv, int *i)
{
    for (*i = 1; *i < argc && argv[*i][0] == '-'; (*i)++) {
        const char *v;
        const char *a = argv[*i];
        int r;
        if ((r = cli_opt_value(argc, argv, i, "--config", &v))) {
            if (r < 0)
                return FS_EXIT_USAGE;
            ctx->config_path = v;
            ctx->config_explicit = 1;
        } else if ((r = cli_opt_value(argc, argv, i, "--db", &v))) {
            if (r < 0)
                return FS_EXIT_USAGE;
            ctx->db_path = v;
        } else if ((r = cli_opt_value(argc, argv, i, "--now", &v))) {
            if (r < 0)
                return FS_EXIT_USAGE;
            if (time_parse_iso8601(v, &ctx->now) < 0)
                return cli_fail(FS_EXIT_USAGE, "--now: '%s' is not an ISO-8601 time", v);
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            ctx->quiet = 1;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            ctx->verbose = 1;
        } else if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
            printf("finsent %s (schema %d)\n", FINSENT_VERSION, db_schema_latest());
            exit(FS_EXIT_OK);
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            exit(FS_EXIT_OK);
        } else {
            return cli_fail(FS_EXIT_USAGE, "unknown option '%s' (see 'finsent help')", a);
        }
    }
    return 0;
}

/* -h or --help among a command's arguments (before a "--" that ends options). */
static int wants_help(int argc, char **argv)
{
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "--"))
            return 0;
        if (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help"))
            return 1;
    }
    return 0;
}

/* Runs the command at argv[i] (or its help). */
static int run_command(struct cli_ctx *ctx, int argc, char **argv, int i)
{
    int rc = 0;
    int help = !strcmp(argv[i], "help");
    if (help && i + 1 >= argc) {
        usage(stdout);
        return FS_EXIT_OK;
    }
    if (help && i + 2 < argc)
        return cli_fail(FS_EXIT_USAGE, "help: one COMMAND at a time (see 'finsent help')");
    const char *name = argv[i + help];
    const struct command *cmd = NULL;
    for (size_t k = 0; k < FS_ARRAY_LEN(commands); k++)
        if (!strcmp(name, commands[k].name))
            cmd = &commands[k];
    if (!cmd)
        return cli_fail(FS_EXIT_USAGE, "unknown command '%s' (see 'finsent help')", name);
    if (help || wants_help(argc - i, argv + i)) {
        /* every command prints its usage for exactly this, before reading anything */
        char help_opt[] = "--help";
        char *help_argv[] = {(char *)cmd->name, help_opt, NULL};
        rc = cmd->fn(ctx, 2, help_argv);
    } else if (cmd->no_config || (rc = cli_config(ctx)) == 0) {
        /* the whole configuration is checked before any command runs */
        rc = cmd->fn(ctx, argc - i, argv + i);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], DESKTOP_HELPER_ARG))
        return desktop_helper_main(argc, argv); /* alerts/desktop.h */
    /* OpenBLAS picks its kernel when it loads; a better one needs a re-exec */
    cpu_blas_select_and_reexec(argv);
    struct cli_ctx ctx = {0};
    ctx.now = (int64_t)time(NULL);
    ctx.is_tty = isatty(STDOUT_FILENO);
    int i, rc = parse_globals(&ctx, argc, argv, &i);
    if (rc)
        return rc;
    if (!ctx.config_path) {
        ctx.owned_config_path = path_xdg_config("finsent.conf");
        ctx.config_path = ctx.owned_config_path;
    }
    log_set_level(ctx.quiet ? LOG_WARN : ctx.verbose ? LOG_DEBUG : LOG_INFO);
    if (ctx.verbose) {
        char blas[256];
        cpu_blas_describe(blas, sizeof blas);
        log_debug("blas: %s", blas);
    }
    if (i >= argc) {
        usage(stderr);
        rc = FS_EXIT_USAGE;
    } else {
        rc = run_command(&ctx, argc, argv, i);
    }
    db_close(ctx.db);
    if (ctx.locked)
        lock_release(ctx.lock_fd);
    entity_dir_free(ctx.entities);
    config_free(ctx.cfg);
    free(ctx.owned_db_path);
    free(ctx.owned_config_path);
    return rc;
}
