/*
 * cmd_embed.c — `finsent embed`: sentence embeddings from a pretrained base
 * model (classify/sentence.h), the debugging aid and the contract outside
 * checks use; with --tokens also each token's last hidden state.
 */
#include "classify/backend.h"
#include "classify/base.h"
#include "classify/hf_bert.h"
#include "classify/sentence.h"
#include "classify/wordpiece.h"
#include "cli/cli.h"
#include "common/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct embed_args {
    const char *base, *device;
    int json, tokens, max_len;
    int first; /* argv index of the first TEXT */
};

static int embed_usage(void)
{
    printf("usage: finsent embed --base NAME|DIR [--json] [--tokens] [--max-len N]\n"
           "                     [--device auto|cpu|cuda] [TEXT...]\n"
           "Prints each text's sentence embedding (mean of the last hidden states over\n"
           "its tokens, L2-normalised); texts come from stdin, one per line, when none\n"
           "are given. --json: one object per line {\"text\", \"embedding\"}; --tokens\n"
           "adds \"ids\" and \"states\" (each token's last hidden state).\n");
    return FS_EXIT_OK;
}

static int embed_parse(int argc, char **argv, struct embed_args *a)
{
    a->first = argc;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r = 0;
        if (!strcmp(argv[i], "--")) {
            a->first = i + 1;
            break;
        }
        if (argv[i][0] != '-') {
            a->first = i;
            break;
        }
        if (!strcmp(argv[i], "--json"))
            a->json = 1;
        else if (!strcmp(argv[i], "--tokens"))
            a->tokens = a->json = 1;
        else if (!strcmp(argv[i], "--help"))
            return -embed_usage() - 1;
        else if ((r = cli_opt_value(argc, argv, &i, "--base", &v)))
            a->base = r > 0 ? v : NULL;
        else if ((r = cli_opt_value(argc, argv, &i, "--device", &v)))
            a->device = r > 0 ? v : NULL;
        else if ((r = cli_opt_value(argc, argv, &i, "--max-len", &v))) {
            char *end;
            long n = r > 0 ? strtol(v, &end, 10) : 0;
            if (r < 0 || *end || n < 2 || n > 4096)
                return cli_fail(FS_EXIT_USAGE, "embed: --max-len wants a number in [2, 4096]");
            a->max_len = (int)n;
        } else
            return cli_fail(FS_EXIT_USAGE, "embed: unknown option '%s'", argv[i]);
        if (r < 0)
            return FS_EXIT_USAGE;
    }
    if (!a->base)
        return cli_fail(FS_EXIT_USAGE, "embed: --base NAME|DIR is required");
    return 0;
}

static json_t *float_array(const float *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

static void print_json(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    puts(s);
    free(s);
    json_decref(o);
}

static void print_embedding(const char *text, const float *e, int C, int json)
{
    if (json) {
        print_json(json_pack("{s:o, s:o}", "text", cli_json_text(text, strlen(text)),
                             "embedding", float_array(e, C)));
        return;
    }
    for (int c = 0; c < C; c++)
        printf(c ? " %.7g" : "%.7g", (double)e[c]);
    putchar('\n');
}

/* --tokens: each text alone, with its ids and per-token states. */
static int embed_tokens(struct model *m, const struct wordpiece *wp, char **texts, size_t n,
                        int max_len)
{
    int C = m->cfg.width;
    int32_t *ids = xmalloc((size_t)max_len * sizeof *ids);
    float *states = xmalloc((size_t)max_len * C * sizeof *states), *e = xmalloc(C * sizeof *e);
    struct fs_error err;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len = strlen(texts[i]);
        int T = sentence_token_states(m, wp, texts[i], len, max_len, ids, states, e, &err);
        if (T < 0) {
            rc = cli_fail(FS_EXIT_FAILURE, "embed: %s", err.msg);
            break;
        }
        json_t *o = json_pack("{s:o}", "text", cli_json_text(texts[i], len)), *jids = json_array(),
               *js = json_array();
        for (int t = 0; t < T; t++) {
            json_array_append_new(jids, json_integer(ids[t]));
            json_array_append_new(js, float_array(states + (size_t)t * C, C));
        }
        json_object_set_new(o, "ids", jids);
        json_object_set_new(o, "embedding", float_array(e, C));
        json_object_set_new(o, "states", js);
        print_json(o);
    }
    free(ids), free(states), free(e);
    return rc;
}

static int embed_all(struct model *m, const struct wordpiece *wp, char **texts, size_t n,
                     int max_len, int json)
{
    int C = m->cfg.width;
    float *emb = xmalloc((n ? n : 1) * (size_t)C * sizeof *emb);
    struct fs_error err;
    int rc = 0;
    if (sentence_embed(m, wp, (const char *const *)texts, NULL, n, max_len, emb, &err) < 0)
        rc = cli_fail(FS_EXIT_FAILURE, "embed: %s", err.msg);
    for (size_t i = 0; rc == 0 && i < n; i++)
        print_embedding(texts[i], emb + i * C, C, json);
    free(emb);
    return rc;
}

int cmd_embed(struct cli_ctx *ctx, int argc, char **argv)
{
    struct embed_args a = {0};
    int rc = embed_parse(argc, argv, &a);
    if (rc)
        return rc < 0 ? FS_EXIT_OK : rc;
    struct fs_error err;
    char *dir = base_resolve(a.base, &err);
    if (!dir)
        return cli_fail(FS_EXIT_MODEL, "embed: %s", err.msg);
    struct wordpiece *wp = NULL;
    struct backend *be = NULL;
    struct model *m = NULL;
    if (wordpiece_load_dir(dir, &wp, &err) < 0)
        rc = cli_fail(FS_EXIT_MODEL, "embed: %s", err.msg);
    else if (backend_create(cli_model_device(ctx, a.device), &be, ctx->verbose, &err) < 0)
        rc = cli_fail(FS_EXIT_FAILURE, "embed: %s", err.msg);
    else if (hf_bert_load(dir, be, NULL, 0, &m, &err) < 0)
        rc = cli_fail(FS_EXIT_MODEL, "embed: %s", err.msg);
    if (rc == 0) {
        int max_len = a.max_len ? a.max_len : sentence_max_len(dir, m);
        size_t n;
        char **texts = cli_texts(argc, argv, a.first, &n);
        rc = a.tokens ? embed_tokens(m, wp, texts, n, max_len)
                      : embed_all(m, wp, texts, n, max_len, a.json);
        cli_texts_free(texts, n);
    }
    model_free(m);
    if (be)
        be->destroy(be);
    wordpiece_free(wp);
    free(dir);
    return rc;
}
