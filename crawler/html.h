/*
 * html.h — extracting text from HTML pages: the main text of an article, and the
 * reader comments of a discussion page.
 *
 * Pages go through libxml2's HTML parser in recover mode with network access off.
 * The charset comes from the HTTP header (charset argument), else the page's
 * <meta> tag, else UTF-8 with invalid sequences repaired. Output is valid UTF-8
 * with entities decoded and whitespace normalised.
 */
#ifndef FINSENT_HTML_H
#define FINSENT_HTML_H

#include "common/common.h"
#include "crawler/feed.h"

#include <stddef.h>

struct html_article {
    char *title;          /* <title>, og:title or the first <h1>; may be NULL */
    char *text;           /* the main text, paragraphs separated by "\n\n" */
    char *author;         /* meta author when present; may be NULL */
    int64_t published_at; /* article:published_time etc.; 0 when unknown */
};

/* Extracts the main text of an article page. Returns 0 or -1 (err). */
int html_extract_article(const char *body, size_t len, const char *charset, const char *url,
                         struct html_article *out, struct fs_error *err);
void html_article_free(struct html_article *a);

/* Extracts reader comments. xpath selects one node per comment (NULL = built-in
 * defaults that cover common comment markup). Each comment becomes a feed_item
 * (guid from an id attribute when present; url = page url + "#" + id).
 * Returns 0 and sets *items / *n_items (free with html_comments_free), or -1. */
int html_extract_comments(const char *body, size_t len, const char *charset, const char *url,
                          const char *xpath, struct feed_item **items, size_t *n_items,
                          struct fs_error *err);
void html_comments_free(struct feed_item *items, size_t n_items);

#endif
