/* cmd_trends.c — the 'trends', 'export', 'report' commands. (stub: being built) */
#include "cli/cli.h"

int cmd_trends(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "trends: not implemented yet");
}

int cmd_export(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "export: not implemented yet");
}

int cmd_report(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "report: not implemented yet");
}

