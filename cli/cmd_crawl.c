/*
 * cmd_crawl.c — `finsent crawl [--json] [--source NAME] [--force]`.
 *
 * Prints one line per source, "NAME: OUTCOME ...", the outcomes of
 * crawl_result_outcome() (crawler/crawler.h):
 *
 *   reuters: new 3 (of 30 items)                  3 documents stored
 *   reuters: nothing new (30 items already stored)   or "(no items)"
 *   reuters: unchanged                            304 Not Modified
 *   reuters: not due until 2026-03-01T12:30:00Z   --force fetches it anyway
 *   reuters: disallowed by robots.txt
 *   reuters: failed: REASON                       retried later with backoff
 *   reuters: not done: REASON                     [crawler] deadline passed first
 *
 * A new or nothing-new line ends with "; cut: ..." when size caps cut documents,
 * titles or texts ([crawler] max_documents_per_page, max_title_chars,
 * max_text_chars). With --json one array of {source, outcome, http_status, items,
 * new, error, cut: {documents, titles, texts}}. With the global --quiet only the
 * failed and not-done lines are printed (--json prints everything: it was asked
 * for). Exit status 0 when every crawled source succeeded, 3 (FS_EXIT_PARTIAL)
 * when some failed or were not done (then a warning line on stderr says how
 * many). Takes the run lock (cli_lock): a crawl never overlaps a run or another
 * crawl.
 */
#include "cli/cli.h"
#include "common/log.h"
#include "crawler/crawler.h"
#include "crawler/text.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROGRESS_MIN_SOURCES 10

static void crawl_usage(FILE *out)
{
    fprintf(out, "usage: finsent crawl [--json] [--source NAME] [--force]\n"
                 "  --json         print the results as a JSON array\n"
                 "  --source NAME  crawl only [source NAME]\n"
                 "  --force        fetch even the sources that are not due yet\n");
}

/* "crawl: 3/200 sources" on stderr, redrawn in place; the cursor stays at the
 * start of the line so that a log line simply overwrites it. Cleared at the end. */
static void progress_line(void *user, size_t done, size_t total)
{
    (void)user;
    if (total < PROGRESS_MIN_SOURCES)
        return;
    if (done < total)
        fprintf(stderr, "\r\033[Kcrawl: %zu/%zu sources\r", done, total);
    else
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

/* "; cut: 99001 documents over max_documents_per_page, 1 title over
 * max_title_chars, 2 texts over max_text_chars" (the parts that are not 0). */
static void print_cuts(const struct crawl_source_result *r)
{
    const struct {
        int n;
        const char *one, *many, *key;
    } parts[] = {
        {r->n_dropped, "document", "documents", "max_documents_per_page"},
        {r->n_cut_titles, "title", "titles", "max_title_chars"},
        {r->n_cut_texts, "text", "texts", "max_text_chars"},
    };
    const char *sep = "; cut: ";
    for (size_t i = 0; i < FS_ARRAY_LEN(parts); i++) {
        if (parts[i].n == 0)
            continue;
        printf("%s%d %s over %s", sep, parts[i].n, parts[i].n == 1 ? parts[i].one : parts[i].many,
               parts[i].key);
        sep = ", ";
    }
}

static void print_text(const struct crawl_results *res, int quiet)
{
    for (size_t i = 0; i < res->n; i++) {
        const struct crawl_source_result *r = &res->sources[i];
        const char *outcome = crawl_result_outcome(r);
        if (quiet && r->outcome != CRAWL_FAILED && r->outcome != CRAWL_NOT_DONE)
            continue; /* --quiet: errors only */
        switch (r->outcome) {
        case CRAWL_NEW:
            if (r->n_new > 0)
                printf("%s: new %d (of %d items)", r->source, r->n_new, r->n_items);
            else if (r->n_items == 0)
                printf("%s: nothing new (no items)", r->source);
            else
                printf("%s: nothing new (%d item%s already stored)", r->source, r->n_items,
                       r->n_items == 1 ? "" : "s");
            print_cuts(r);
            putchar('\n');
            break;
        case CRAWL_UNCHANGED:
            printf("%s: unchanged\n", r->source);
            break;
        case CRAWL_FAILED:
            printf("%s: failed: %s\n", r->source, r->error ? r->error : "unknown reason");
            break;
        case CRAWL_NOT_DONE:
            printf("%s: not done: %s\n", r->source, r->error ? r->error : "unknown reason");
            break;
        case CRAWL_SKIPPED: /* the error says "not due until ..." or "disallowed by ..." */
            printf("%s: %s\n", r->source, r->error ? r->error : outcome);
            break;
        }
    }
}

/* A JSON string of s; jansson refuses invalid UTF-8 (json_string() returns NULL
 * and the key silently disappears), so such bytes become U+FFFD. */
static json_t *json_text(const char *s)
{
    if (!s)
        return json_null();
    size_t n = strlen(s);
    if (text_utf8_valid(s, n))
        return json_string(s);
    struct strbuf sb = STRBUF_INIT;
    text_utf8_repair(&sb, s, n);
    json_t *j = json_string(sb.buf);
    sb_free(&sb);
    return j;
}

static int print_json(const struct crawl_results *res)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < res->n; i++) {
        const struct crawl_source_result *r = &res->sources[i];
        json_t *o = json_object();
        json_object_set_new(o, "source", json_text(r->source));
        json_object_set_new(o, "outcome", json_string(crawl_result_outcome(r)));
        json_object_set_new(o, "http_status",
                            r->http_status ? json_integer(r->http_status) : json_null());
        json_object_set_new(o, "items", json_integer(r->n_items));
        json_object_set_new(o, "new", json_integer(r->n_new));
        json_object_set_new(o, "error", json_text(r->error));
        json_object_set_new(o, "cut",
                            json_pack("{s:i, s:i, s:i}", "documents", r->n_dropped, "titles",
                                      r->n_cut_titles, "texts", r->n_cut_texts));
        json_array_append_new(arr, o);
    }
    char *text = json_dumps(arr, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(arr);
    if (!text)
        return cli_fail(FS_EXIT_FAILURE, "crawl: cannot format JSON");
    puts(text);
    free(text);
    return 0;
}

int cmd_crawl(struct cli_ctx *ctx, int argc, char **argv)
{
    struct crawl_options opts = {0};
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (!strcmp(argv[i], "--force")) {
            opts.force = 1;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            crawl_usage(stdout);
            return FS_EXIT_OK;
        } else if ((r = cli_opt_value(argc, argv, &i, "--source", &v))) {
            if (r < 0)
                return FS_EXIT_USAGE;
            opts.only_source = v;
        } else {
            return cli_fail(FS_EXIT_USAGE,
                            "crawl: unknown argument '%s' (see 'finsent crawl --help')", argv[i]);
        }
    }
    int rc = cli_config(ctx);
    if (rc)
        return rc;
    if ((rc = cli_lock(ctx, "crawl", -1)) || (rc = cli_db(ctx)))
        return rc;
    opts.quiet = ctx->quiet;
    if (ctx->is_tty && !ctx->quiet)
        opts.progress = progress_line;
    struct crawl_results res;
    struct fs_error err;
    int status = crawler_run(ctx->db, ctx->cfg, ctx->now, &opts, &res, &err);
    if (status == FS_EXIT_DB)
        status = cli_db_exit_code(ctx->db, FS_EXIT_DB); /* a full disk is FS_EXIT_IO */
    if (status != FS_EXIT_OK && status != FS_EXIT_PARTIAL)
        return cli_fail(status, "crawl: %s", err.msg);
    if (json) {
        if (print_json(&res)) {
            crawl_results_free(&res);
            return FS_EXIT_FAILURE;
        }
    } else {
        print_text(&res, ctx->quiet);
        if (res.n == 0 && !ctx->quiet)
            fprintf(stderr, "finsent: crawl: no [source NAME] sections in %s\n",
                    config_path(ctx->cfg));
    }
    /* the reasons are on stdout, one per source; stderr gets the one line */
    if (status == FS_EXIT_PARTIAL && res.n_failed > 0)
        log_warn("crawl: %d of %zu sources failed", res.n_failed, res.n);
    if (res.n_not_done > 0)
        log_warn("crawl: %d of %zu sources not done: the crawl's deadline passed", res.n_not_done,
                 res.n);
    crawl_results_free(&res);
    return status;
}
