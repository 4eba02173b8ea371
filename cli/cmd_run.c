/* cmd_run.c — the 'run', 'init', 'cron' commands. (stub: being built) */
#include "cli/cli.h"

int cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "run: not implemented yet");
}

int cmd_init(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "init: not implemented yet");
}

int cmd_cron(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "cron: not implemented yet");
}

