/*
 * cmd_base.c — `finsent base fetch|list`: pretrained base models.
 *
 *   finsent base fetch [--revision REV] [--force] NAME
 *       downloads NAME (e.g. ProsusAI/finbert) from the hub into
 *       $XDG_DATA_HOME/finsent/base/NAME (classify/base_fetch.h). The hub is
 *       $HF_ENDPOINT, else [model] hub in the config, else https://huggingface.co;
 *       $HF_TOKEN, when set, is sent to an https hub as a Bearer token and
 *       never printed. Prints one line on success. Exit status: 1 network or
 *       HTTP failure, 2 bad NAME/revision/endpoint, 7 the files are not a valid
 *       BERT base (corrupt, truncated, hash mismatch), 8 local disk; nothing
 *       is installed then and a base already there is untouched.
 *   finsent base list [--json]
 *       the installed bases: name, size, layers x width, the weights' sha256
 *       (recorded at install time in SHA256SUMS); a base that fails its checks
 *       is listed with the reason.
 *
 * Progress of the weights download goes to stderr: redrawn in place on a
 * terminal, otherwise one line every 30 seconds (none for a quick download, so
 * that a failure stays one line).
 */
#include "classify/base.h"
#include "classify/base_fetch.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PROGRESS_MIN_BYTES = 1 << 20 };
#define PROGRESS_TTY_S 0.2
#define PROGRESS_LOG_S 30.0

static const char base_usage[] =
    "usage: finsent base fetch [--revision REV] [--force] NAME\n"
    "       finsent base list [--json]\n"
    "fetch   download a BERT checkpoint (config.json, vocab.txt, tokenizer_config.json,\n"
    "        model.safetensors) from the hub ($HF_ENDPOINT, [model] hub, or\n"
    "        https://huggingface.co; $HF_TOKEN for private or gated models)\n"
    "list    the installed base models\n";

/* ---- progress ---------------------------------------------------------------------- */

struct progress {
    int tty;
    const char *file; /* the file last reported */
    double last;      /* when the last line was drawn */
    int started, drawn;
};

static double mib(uint64_t bytes)
{
    return (double)bytes / (1024.0 * 1024.0);
}

static void progress_tty(struct progress *p, const char *file, uint64_t done, uint64_t total)
{
    if (total)
        fprintf(stderr, "\r\033[Kbase: %s %.1f / %.1f MiB (%d%%)", file, mib(done), mib(total),
                (int)(100.0 * (double)done / (double)total));
    else
        fprintf(stderr, "\r\033[Kbase: %s %.1f MiB", file, mib(done));
    fflush(stderr);
    p->drawn = 1;
}

static void on_progress(void *user, const char *file, uint64_t done, uint64_t total)
{
    struct progress *p = user;
    if (total < PROGRESS_MIN_BYTES && done < PROGRESS_MIN_BYTES)
        return; /* the small files download in a blink */
    double now = time_monotonic();
    if (!p->file || strcmp(p->file, file) != 0) {
        p->file = file;
        p->started = 0;
    }
    if (p->tty) {
        if (now - p->last >= PROGRESS_TTY_S || (total && done == total)) {
            progress_tty(p, file, done, total);
            p->last = now;
        }
    } else if (!p->started) {
        p->started = 1; /* a quick download prints nothing */
        p->last = now;
    } else if (now - p->last >= PROGRESS_LOG_S) {
        fprintf(stderr, "finsent: base: %s %.1f / %.1f MiB\n", file, mib(done), mib(total));
        p->last = now;
    }
}

static void progress_end(struct progress *p)
{
    if (p->drawn) {
        fprintf(stderr, "\r\033[K");
        fflush(stderr);
    }
}

/* ---- fetch --------------------------------------------------------------------------- */

static int exit_code(enum base_fetch_fail kind)
{
    switch (kind) {
    case BASE_FETCH_USAGE:
        return FS_EXIT_USAGE;
    case BASE_FETCH_INVALID:
        return FS_EXIT_MODEL;
    case BASE_FETCH_IO:
        return FS_EXIT_IO;
    default:
        return FS_EXIT_FAILURE;
    }
}

/* The hub: $HF_ENDPOINT (as the Python tools read it), else [model] hub. */
static int hub_endpoint(struct cli_ctx *ctx, const char **out)
{
    *out = getenv("HF_ENDPOINT");
    if (*out && **out)
        return 0;
    int rc = cli_config(ctx);
    if (rc)
        return rc;
    *out = config_get(ctx->cfg, "model", "hub");
    return 0;
}

static int base_fetch_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
    struct base_fetch_opts o = {.token = getenv("HF_TOKEN")};
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(base_usage, stdout);
            return FS_EXIT_OK;
        }
        if (!strcmp(argv[i], "--force")) {
            o.force = 1;
            continue;
        }
        int r = cli_opt_value(argc, argv, &i, "--revision", &o.revision);
        if (r < 0)
            return FS_EXIT_USAGE;
        if (r > 0)
            continue;
        if (argv[i][0] == '-' || name)
            return cli_fail(FS_EXIT_USAGE,
                            "base fetch: unexpected argument '%s' (see 'finsent base --help')",
                            argv[i]);
        name = argv[i];
    }
    if (!name)
        return cli_fail(FS_EXIT_USAGE,
                        "base fetch: which model? (e.g. 'finsent base fetch ProsusAI/finbert')");
    int rc = hub_endpoint(ctx, &o.endpoint);
    if (rc)
        return rc;
    struct progress p = {.tty = isatty(STDERR_FILENO)};
    if (!ctx->quiet) {
        o.progress = on_progress;
        o.progress_user = &p;
    }
    struct base_fetch_result res;
    struct fs_error err;
    rc = base_fetch(name, &o, &res, &err);
    progress_end(&p);
    if (res.token_withheld)
        log_warn("HF_TOKEN was not sent: the hub endpoint is plain http");
    if (rc < 0) {
        rc = cli_fail(exit_code(res.fail), "base fetch %s: %s", name, err.msg);
    } else if (ctx->quiet) {
        /* --quiet: errors only */
    } else if (res.already_installed) {
        printf("%s is already installed in %s (--force fetches it again)\n", name, res.dir);
    } else {
        printf("installed %s in %s (%d layers x %d, %.1f MiB, sha256 %.16s%s)\n", name, res.dir,
               res.layers, res.hidden, mib(res.bytes), res.weights_sha256,
               res.weights_hash_checked ? ", matches the hub's" : "");
        if (res.tokenizer_defaulted)
            log_warn("%s has no tokenizer_config.json; BertTokenizer's defaults were written "
                     "(lower-casing on)",
                     name);
    }
    base_fetch_result_free(&res);
    return rc;
}

/* ---- list ---------------------------------------------------------------------------- */

static json_t *info_json(const struct base_info *b)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(b->name));
    json_object_set_new(o, "dir", json_string(b->dir));
    json_object_set_new(o, "bytes", json_integer((json_int_t)b->bytes));
    json_object_set_new(o, "ok", json_boolean(!b->problem));
    json_object_set_new(o, "problem", b->problem ? json_string(b->problem) : json_null());
    json_object_set_new(o, "layers", json_integer(b->layers));
    json_object_set_new(o, "hidden", json_integer(b->hidden));
    json_object_set_new(o, "heads", json_integer(b->heads));
    json_object_set_new(o, "vocab_size", json_integer(b->vocab_size));
    json_object_set_new(o, "tensors", json_integer(b->n_tensors));
    json_object_set_new(o, "sha256",
                        b->weights_sha256[0] ? json_string(b->weights_sha256) : json_null());
    return o;
}

static void print_list_json(const struct base_info *list, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, info_json(&list[i]));
    char *s = json_dumps(a, JSON_INDENT(2));
    puts(s);
    free(s);
    json_decref(a);
}

static void print_list_text(const struct base_info *list, size_t n)
{
    printf("%-44s %10s  %-13s %s\n", "NAME", "SIZE", "SHAPE", "SHA256 (weights)");
    for (size_t i = 0; i < n; i++) {
        const struct base_info *b = &list[i];
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%d", b->layers, b->hidden);
        if (b->problem)
            printf("%-44s %6.1f MiB  BROKEN: %s\n", b->name, mib(b->bytes), b->problem);
        else
            printf("%-44s %6.1f MiB  %-13s %.16s\n", b->name, mib(b->bytes), shape,
                   b->weights_sha256[0] ? b->weights_sha256 : "-");
    }
}

static int base_list_cmd(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            return cli_fail(FS_EXIT_USAGE, "base list: unexpected argument '%s'", argv[i]);
    }
    struct base_info *list;
    size_t n;
    struct fs_error err;
    if (base_list(&list, &n, &err) < 0)
        return cli_fail(FS_EXIT_IO, "base list: %s", err.msg);
    if (json) {
        print_list_json(list, n);
    } else if (n == 0) {
        char *root = base_root();
        printf("no base models in %s (run 'make base-model' or 'finsent base fetch NAME')\n", root);
        free(root);
    } else {
        print_list_text(list, n);
    }
    base_list_free(list, n);
    return FS_EXIT_OK;
}

int cmd_base(struct cli_ctx *ctx, int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(base_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? FS_EXIT_USAGE : FS_EXIT_OK;
    }
    if (!strcmp(argv[1], "fetch"))
        return base_fetch_cmd(ctx, argc - 1, argv + 1);
    if (!strcmp(argv[1], "list"))
        return base_list_cmd(ctx, argc - 1, argv + 1);
    return cli_fail(FS_EXIT_USAGE, "base: unknown subcommand '%s' (fetch or list)", argv[1]);
}
