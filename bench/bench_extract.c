/* bench_extract.c — how well the article extractor finds the main text of the
 * saved pages (tests/fixtures/pages): token-level precision and recall of
 * html_extract_article's text against the main text marked by hand in
 * tests/fixtures/pages/main_text/NAME.txt (tests/token_overlap.h). Prints one
 * line per page and the totals (micro-averaged over all tokens). Figures only;
 * tests/test_html.c holds each page to a floor.
 *
 *   build/bench/bench_extract
 */
#include "common/util.h"
#include "crawler/html.h"
#include "tests/token_overlap.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const PAGES[] = {
    "247wallst_djia_movers", "bloomberg_jobs_states", "businessinsider_advisor_insights",
    "businessweek_hedge_funds_pensions", "fool_top_stocks_2015_with_comments"};

/* The extracted text of page NAME and its marked main text, or -1. */
static int load_pair(const char *name, char **text, char **marked)
{
    char path[256], *buf;
    size_t len;
    struct fs_error err;
    struct html_article a;
    snprintf(path, sizeof path, "tests/fixtures/pages/%s.html", name);
    if (file_read_all(path, 1 << 24, &buf, &len, &err) < 0)
        return -1;
    int rc = html_extract_article(buf, len, NULL, NULL, &a, &err);
    free(buf);
    if (rc < 0)
        return -1;
    *text = a.text;
    a.text = NULL;
    html_article_free(&a);
    snprintf(path, sizeof path, "tests/fixtures/pages/main_text/%s.txt", name);
    if (file_read_all(path, 1 << 24, marked, &len, &err) < 0) {
        free(*text);
        return -1;
    }
    return 0;
}

int main(void)
{
    size_t ext = 0, mark = 0, common = 0;
    printf("%-36s %9s %9s %9s %9s\n", "page", "tokens", "marked", "precision", "recall");
    for (size_t i = 0; i < sizeof PAGES / sizeof *PAGES; i++) {
        char *text, *marked;
        if (load_pair(PAGES[i], &text, &marked) < 0) {
            fprintf(stderr, "bench_extract: cannot read %s (run from the repository root)\n",
                    PAGES[i]);
            return 1;
        }
        struct token_score s = token_overlap(text, marked);
        printf("%-36s %9zu %9zu %9.3f %9.3f\n", PAGES[i], s.extracted, s.marked, s.precision,
               s.recall);
        ext += s.extracted, mark += s.marked, common += s.common;
        free(text);
        free(marked);
    }
    printf("%-36s %9zu %9zu %9.3f %9.3f\n", "all (micro)", ext, mark,
           ext ? (double)common / (double)ext : 1, mark ? (double)common / (double)mark : 1);
    return 0;
}
