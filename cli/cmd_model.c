/* cmd_model.c — the 'train', 'eval', 'classify', 'predict' commands. (stub: being built) */
#include "cli/cli.h"

int cmd_train(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "train: not implemented yet");
}

int cmd_eval(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "eval: not implemented yet");
}

int cmd_classify(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "classify: not implemented yet");
}

int cmd_predict(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    (void)argc;
    (void)argv;
    return cli_fail(FS_EXIT_FAILURE, "predict: not implemented yet");
}

