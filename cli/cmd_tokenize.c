/*
 * cmd_tokenize.c — 'finsent tokenize': a base model's WordPiece tokens of texts
 * (classify/wordpiece.h), for inspection and for the parity test against Hugging
 * Face (tests/it_wordpiece.py).
 *
 *   finsent tokenize [--base NAME|DIR] [--json] [--max-len N] [TEXT...]
 *
 * Texts come from the arguments, else from stdin, one per line (LF or CRLF).
 */
#include "classify/base.h"
#include "classify/wordpiece.h"
#include "cli/cli.h"
#include "common/strbuf.h"
#include "crawler/text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { TOKENIZE_DEFAULT_MAX_LEN = 512, TOKENIZE_MAX_LEN = 1 << 20 };

struct tokenize_args {
    const char *base;
    int json, max_len, first; /* first: argv index of the first TEXT (argc: none) */
};

static void tokenize_usage(void)
{
    printf("usage: finsent tokenize [--base NAME|DIR] [--json] [--max-len N] [TEXT...]\n"
           "Prints the WordPiece tokens of each TEXT (else of each line of stdin) as the\n"
           "base model's Hugging Face tokenizer gives them: [CLS] pieces [SEP], at most\n"
           "N ids (default %d). --base defaults to %s.\n"
           "--json: one object per line, {\"text\": ..., \"ids\": [...], \"pieces\": [...]}.\n",
           TOKENIZE_DEFAULT_MAX_LEN, BASE_DEFAULT_NAME);
}

static int tokenize_parse(int argc, char **argv, struct tokenize_args *a)
{
    *a = (struct tokenize_args){BASE_DEFAULT_NAME, 0, TOKENIZE_DEFAULT_MAX_LEN, argc};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        if (!strcmp(argv[i], "--")) {
            a->first = i + 1;
            return 0;
        }
        if (argv[i][0] != '-') {
            a->first = i;
            return 0;
        }
        if (!strcmp(argv[i], "--help")) {
            tokenize_usage();
            exit(FS_EXIT_OK);
        }
        if (!strcmp(argv[i], "--json")) {
            a->json = 1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--base", &v))) {
            if (r < 0)
                return FS_EXIT_USAGE;
            a->base = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--max-len", &v))) {
            if (r < 0)
                return FS_EXIT_USAGE;
            char *end;
            long x = strtol(v, &end, 10);
            if (*v == '\0' || *end != '\0' || x < 2 || x > TOKENIZE_MAX_LEN)
                return cli_fail(FS_EXIT_USAGE,
                                "--max-len: expected an integer in [2, %d], got '%s'",
                                TOKENIZE_MAX_LEN, v);
            a->max_len = (int)x;
        } else {
            return cli_fail(FS_EXIT_USAGE, "tokenize: unknown option '%s'", argv[i]);
        }
    }
    return 0;
}

static void print_json(const struct wordpiece *wp, const char *text, size_t len, const int32_t *ids,
                       int n)
{
    json_t *o = json_object(), *ji = json_array(), *jp = json_array();
    for (int i = 0; i < n; i++) {
        const char *p = wordpiece_piece(wp, ids[i]);
        json_array_append_new(ji, json_integer(ids[i]));
        json_array_append_new(jp, cli_json_text(p, strlen(p)));
    }
    json_object_set_new(o, "text", cli_json_text(text, len));
    json_object_set_new(o, "ids", ji);
    json_object_set_new(o, "pieces", jp);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", s);
    free(s);
    json_decref(o);
}

/* One readable line: the pieces, then the ids. */
static void print_text(const struct wordpiece *wp, const int32_t *ids, int n)
{
    struct strbuf sb = STRBUF_INIT;
    for (int i = 0; i < n; i++)
        sb_appendf(&sb, "%s%s", i ? " " : "", wordpiece_piece(wp, ids[i]));
    sb_append(&sb, "  (ids");
    for (int i = 0; i < n; i++)
        sb_appendf(&sb, " %d", ids[i]);
    sb_append(&sb, ")");
    for (size_t i = 0; i < sb.len; i++)
        if ((unsigned char)sb.buf[i] < 0x20)
            sb.buf[i] = ' '; /* one line, whatever the vocabulary holds */
    printf("%s\n", sb.buf);
    sb_free(&sb);
}

static void tokenize_one(const struct wordpiece *wp, const struct tokenize_args *a,
                         const char *text, size_t len, int32_t *ids)
{
    int n = wordpiece_encode(wp, text, len, ids, NULL, a->max_len);
    if (a->json)
        print_json(wp, text, len, ids, n);
    else
        print_text(wp, ids, n);
}

int cmd_tokenize(struct cli_ctx *ctx, int argc, char **argv)
{
    (void)ctx;
    struct tokenize_args a;
    int rc = tokenize_parse(argc, argv, &a);
    if (rc)
        return rc;
    struct fs_error err;
    char *dir = base_resolve(a.base, &err);
    if (!dir)
        return cli_fail(FS_EXIT_MODEL, "tokenize: %s", err.msg);
    struct wordpiece *wp;
    rc = wordpiece_load_dir(dir, &wp, &err);
    free(dir);
    if (rc < 0)
        return cli_fail(FS_EXIT_MODEL, "tokenize: %s", err.msg);
    int32_t *ids = xmalloc((size_t)a.max_len * sizeof *ids);
    if (a.first < argc) {
        for (int i = a.first; i < argc; i++)
            tokenize_one(wp, &a, argv[i], strlen(argv[i]), ids);
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            size_t len = (size_t)n;
            if (len > 0 && line[len - 1] == '\n')
                len--;
            if (len > 0 && line[len - 1] == '\r')
                len--;
            tokenize_one(wp, &a, line, len, ids);
        }
        free(line);
    }
    free(ids);
    wordpiece_free(wp);
    if (fflush(stdout) != 0 || ferror(stdout))
        return cli_fail(FS_EXIT_IO, "tokenize: cannot write the output");
    return FS_EXIT_OK;
}
