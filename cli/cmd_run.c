/*
 * cmd_run.c — `finsent run` (one full cycle for cron), `finsent init` (a
 * commented default config) and `finsent cron` (crontab line, systemd units).
 */
#include "cli/cli.h"
#include "cli/default_config.h"
#include "common/lock.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "run: not implemented yet");
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
    if (path_mkdir_parent(ctx->config_path, &err) < 0 ||
        file_write_atomic(ctx->config_path, default_config_text, strlen(default_config_text),
                          &err) < 0)
        return cli_fail(FS_EXIT_IO, "init: %s", err.msg);
    chmod(ctx->config_path, 0600);
    printf("wrote %s\nedit [finsent] contact and the [smtp] section, then run 'finsent run'\n",
           ctx->config_path);
    return FS_EXIT_OK;
}

/* ---- cron -------------------------------------------------------------------- */

static char *self_path(void)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return xstrdup("finsent");
    buf[n] = '\0';
    return xstrdup(buf);
}

static char *absolute(const char *path)
{
    char buf[PATH_MAX];
    if (path[0] == '/')
        return xstrdup(path);
    if (!getcwd(buf, sizeof buf))
        return xstrdup(path);
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s/%s", buf, path);
    return sb_detach(&sb);
}

int cmd_cron(struct cli_ctx *ctx, int argc, char **argv)
{
    const char *every = "15";
    for (int i = 1; i < argc; i++) {
        int r = cli_opt_value(argc, argv, &i, "--every", &every);
        if (r < 0)
            return FS_EXIT_USAGE;
        if (r == 0)
            return cli_fail(FS_EXIT_USAGE, "cron: unknown option '%s' (--every MINUTES)",
                            argv[i]);
    }
    int minutes = atoi(every);
    if (minutes < 1 || minutes > 59)
        return cli_fail(FS_EXIT_USAGE, "cron: --every must be 1..59 minutes");
    int rc = cli_db_path(ctx);
    if (rc)
        return rc;
    char *exe = self_path();
    char *conf = absolute(ctx->config_path);
    char *db = absolute(ctx->db_path);
    printf("# crontab -e: one cycle every %d minutes, quiet unless something to say\n"
           "*/%d * * * * %s --config %s --db %s --quiet run\n\n",
           minutes, minutes, exe, conf, db);
    printf("# ~/.config/systemd/user/finsent.service\n"
           "[Unit]\nDescription=finsent: one crawl/classify/trends/alerts cycle\n\n"
           "[Service]\nType=oneshot\nExecStart=%s --config %s --db %s --quiet run\n"
           "Nice=10\n\n",
           exe, conf, db);
    printf("# ~/.config/systemd/user/finsent.timer\n"
           "[Unit]\nDescription=run finsent every %d minutes\n\n"
           "[Timer]\nOnCalendar=*:0/%d\nPersistent=true\nRandomizedDelaySec=60\n\n"
           "[Install]\nWantedBy=timers.target\n\n"
           "# then: systemctl --user daemon-reload && systemctl --user enable --now "
           "finsent.timer\n",
           minutes, minutes);
    free(exe);
    free(conf);
    free(db);
    return FS_EXIT_OK;
}
