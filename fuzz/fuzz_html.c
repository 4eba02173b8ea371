/* fuzz_html.c — libFuzzer target for html_extract_article and
 * html_extract_comments (default heuristics and an XPath selector).
 *
 * Inputs are read up to PAGE_MAX bytes (scripts/fuzz.sh gives -max_len=16384
 * too): three parses of a 64 KiB page held the target near 100 executions/s,
 * and the markup that reaches the extractor's paths fits in 16 KiB. libxml2
 * is initialised once. */
#include "crawler/html.h"
#include "fuzz/fuzz_util.h"

#include <libxml/parser.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_MAX 16384

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    xmlInitParser();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size = fuzz_cut(size, PAGE_MAX);
    const char *body = (const char *)data;
    const char *charset = size && (data[0] & 1) ? "windows-1252" : NULL;
    struct fs_error err;
    struct html_article a;
    if (html_extract_article(body, size, charset, "https://example.com/a/b", &a, &err) == 0)
        html_article_free(&a);
    struct feed_item *items;
    size_t n;
    if (html_extract_comments(body, size, charset, "https://example.com/a/b", NULL, &items, &n,
                              &err) == 0)
        html_comments_free(items, n);
    if (html_extract_comments(body, size, NULL, NULL, "//div[contains(@class,'comment')]", &items,
                              &n, &err) == 0)
        html_comments_free(items, n);
    return 0;
}
