/* cmd_crawl.c — the 'crawl' commands. (stub: being built) */
#include "cli/cli.h"

int cmd_crawl(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "crawl: not implemented yet");
}

