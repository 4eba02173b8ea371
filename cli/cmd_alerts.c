/* cmd_alerts.c — the 'alerts' commands. (stub: being built) */
#include "cli/cli.h"

int cmd_alerts(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "alerts: not implemented yet");
}

