/*
 * cli.h — the command layer: global options, lazily opened config and database,
 * and one entry point per subcommand (cli/cmd_<area>.c).
 *
 * A command returns an exit code (enum fs_exit in common/common.h) and prints
 * its one-line reason on failure through cli_fail(). Library modules never print
 * errors themselves; this layer decides what the user sees.
 */
#ifndef FINSENT_CLI_H
#define FINSENT_CLI_H

#include "common/common.h"
#include "common/config.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

struct cli_ctx {
    const char *config_path; /* --config, or the XDG default */
    const char *db_path;     /* --db, or [finsent] database in the config, or XDG */
    int config_explicit;     /* --config was given: a missing file is an error */
    int quiet;               /* --quiet: only alerts and errors */
    int verbose;             /* --verbose */
    int is_tty;              /* stdout is a terminal (progress bars, colour) */
    int64_t now;             /* the clock: --now for tests, else time(NULL) */
    struct config *cfg;      /* loaded by cli_config() */
    sqlite3 *db;             /* opened by cli_db() or cli_db_read() */
    int db_readonly;         /* cli_db_read() could only read it */
    int locked;              /* cli_lock() holds <database>.lock on lock_fd */
    int lock_fd;
    char *owned_db_path;
    char *owned_config_path;
    struct entity_dir *entities; /* loaded by cli_entity_dir() */
};

typedef int (*cli_command_fn)(struct cli_ctx *ctx, int argc, char **argv);

/* Loads the configuration once and checks all of it (cli/config_check.h). A
 * missing default file yields an empty config; a missing --config file, a
 * syntax error or any bad section, key or value is FS_EXIT_CONFIG. Returns 0 or an
 * exit code (after printing the reason). */
int cli_config(struct cli_ctx *ctx);

/* Resolves ctx->db_path (--db, else [finsent] database, else XDG) without
 * opening it. Returns 0 or an exit code. */
int cli_db_path(struct cli_ctx *ctx);

/* Opens (creating, migrating) the database once. Returns 0 or FS_EXIT_DB. */
int cli_db(struct cli_ctx *ctx);

/* Takes the run lock, "<database>.lock" (common/lock.h), for a command that
 * writes what a concurrent cycle also writes: run, crawl, classify and alerts
 * run (two crawls would fetch every source twice, two classifiers classify the
 * same documents twice, two alert runs send the same notification twice).
 * Waits wait_seconds, or [run] lock_wait (default 60 s) when wait_seconds < 0.
 * Returns 0 (held until the process ends: main releases it), FS_EXIT_LOCKED
 * when another process still holds it, FS_EXIT_CONFIG or FS_EXIT_DB (after
 * printing "cmd: ..."). The reading commands (trends, export, report, alerts
 * list) and single-statement writes (alerts ack, silence) do not take it: each
 * update is one transaction, so overlapping a cycle is harmless. */
int cli_lock(struct cli_ctx *ctx, const char *cmd, int wait_seconds);

/* Opens the database for a command that only reads (trends, export, report,
 * alerts list): like cli_db(), but a database the process cannot write (a
 * read-only file, directory or file system) is opened read-only and
 * ctx->db_readonly set, instead of failing. Returns 0 or FS_EXIT_DB. */
int cli_db_read(struct cli_ctx *ctx);

/* Exit code for a command that failed on the database, from its last error: a
 * full disk is FS_EXIT_IO, a read-only, damaged or unopenable store FS_EXIT_DB,
 * anything else fallback. */
int cli_db_exit_code(sqlite3 *db, int fallback);

/* Prints "finsent: <message>" on stderr and returns code. */
int cli_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses a "--name VALUE" or "--name=VALUE" option at argv[*i]; on a match sets
 * *value, advances *i past it and returns 1; returns 0 when argv[*i] is another
 * option, -1 (after printing) when the value is missing. */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **value);

/* The model file: opt when given, else [model] path, else the XDG data path.
 * Caller frees. (cmd_model.c) */
char *cli_model_path(struct cli_ctx *ctx, const char *opt);

/* The texts of a command: argv[first..argc) when there are any, else the lines
 * of stdin (without their line ends; a final line without one counts). *n gets
 * the count; free with cli_texts_free(). (main.c) */
char **cli_texts(int argc, char **argv, int first, size_t *n);
void cli_texts_free(char **texts, size_t n);

/* A JSON string of s[0..n); when that is not valid UTF-8, its repair (invalid
 * bytes as U+FFFD, controls as spaces: crawler/text.h). Never NULL. (main.c) */
json_t *cli_json_text(const char *s, size_t n);

/* The compute device: opt when given, else [model] device, else "auto".
 * (cmd_model.c) */
const char *cli_model_device(struct cli_ctx *ctx, const char *opt);

/* Loads the classifier at path on device ("auto", "cpu", "cuda"); prints the
 * one-line reason and returns FS_EXIT_MODEL when the file is missing or invalid.
 * Release with cli_close_classifier(). (cmd_model.c) */
struct backend;
struct classifier;
int cli_open_classifier(struct cli_ctx *ctx, const char *path, const char *device,
                        struct backend **be, struct classifier **cls);
void cli_close_classifier(struct backend *be, struct classifier *cls);

/* The classify stage (classify/classify.h) with ctx's [classify] settings over
 * ctx's database. Returns 0 or -1 with err set. (cmd_model.c) */
struct classify_stats;
int cli_classify(struct cli_ctx *ctx, struct classifier *cls, struct classify_stats *st,
                 struct fs_error *err);

/* data/ from $FINSENT_DATA, beside the binary (or its ../share/finsent), or
 * the install prefix. Caller frees; NULL when none exists. (cmd_model.c) */
char *cli_data_dir(void);

/* The entity directory: data/entities/ plus the config's [entity] sections,
 * loaded and checked once per process (about 175 ms) and kept in ctx, which
 * owns it (main() frees it). Returns 0, FS_EXIT_CONFIG (a bad [entity]
 * section) or FS_EXIT_FAILURE (no data), after printing. (cmd_entities.c) */
struct entity_dir;
int cli_entity_dir(struct cli_ctx *ctx, struct entity_dir **out);

/* The entity directory when some [alert NAME] rule watches entities (loaded
 * and checked by cli_entity_dir(), the rules' entity names included), else
 * *out = NULL. Returns 0 or an exit code after printing. (cmd_alerts.c) */
int cli_alert_entity_dir(struct cli_ctx *ctx, struct entity_dir **out);

/* The recognition stage (entities/scan.h) over ctx's database: loads the
 * directory, reads every pending document. Returns 0 or an exit code after
 * printing. (cmd_entities.c) */
int cli_entities_scan(struct cli_ctx *ctx);

/* The database ids of the entities of [watchlist name] that have been
 * mentioned, in a new array (caller frees). Returns 0 or an exit code (no such
 * watchlist: FS_EXIT_USAGE) after printing. (cmd_entities.c) */
int cli_watchlist_ids(struct cli_ctx *ctx, const char *name, int64_t **ids, size_t *n);

/* Subcommands, each in cli/cmd_<area>.c. argv[0] is the command name. Each
 * prints its usage on stdout and returns 0 when called as {name, "--help"}
 * (main.c calls it so for -h or --help anywhere in its options and for
 * 'finsent help NAME'). */
int cmd_crawl(struct cli_ctx *ctx, int argc, char **argv);    /* cmd_crawl.c */
int cmd_base(struct cli_ctx *ctx, int argc, char **argv);     /* cmd_base.c */
int cmd_train(struct cli_ctx *ctx, int argc, char **argv);    /* cmd_model.c */
int cmd_eval(struct cli_ctx *ctx, int argc, char **argv);     /* cmd_model.c */
int cmd_classify(struct cli_ctx *ctx, int argc, char **argv); /* cmd_model.c */
int cmd_predict(struct cli_ctx *ctx, int argc, char **argv);  /* cmd_model.c */
int cmd_trends(struct cli_ctx *ctx, int argc, char **argv);   /* cmd_trends.c */
int cmd_export(struct cli_ctx *ctx, int argc, char **argv);   /* cmd_trends.c */
int cmd_report(struct cli_ctx *ctx, int argc, char **argv);   /* cmd_trends.c */
int cmd_alerts(struct cli_ctx *ctx, int argc, char **argv);   /* cmd_alerts.c */
int cmd_run(struct cli_ctx *ctx, int argc, char **argv);      /* cmd_run.c */
int cmd_init(struct cli_ctx *ctx, int argc, char **argv);     /* cmd_run.c */
int cmd_cron(struct cli_ctx *ctx, int argc, char **argv);     /* cmd_run.c */
int cmd_tokenize(struct cli_ctx *ctx, int argc, char **argv); /* cmd_tokenize.c */
int cmd_embed(struct cli_ctx *ctx, int argc, char **argv);    /* cmd_embed.c */
int cmd_topics(struct cli_ctx *ctx, int argc, char **argv);   /* cmd_topics.c */
int cmd_entities(struct cli_ctx *ctx, int argc, char **argv); /* cmd_entities.c */

#endif
