/*
 * html.h — extracting text from HTML pages: the main text of an article, and the
 * reader comments of a discussion page.
 *
 * Pages go through libxml2's HTML parser in recover mode with network access off
 * and its error printing silenced. The charset comes from the HTTP header
 * (charset argument), else a byte-order mark, else the page's <meta> tag
 * (charset="x", charset='x', or http-equiv content="...; charset=x"), else UTF-8;
 * ISO-8859-1 is read as windows-1252 as browsers do; invalid sequences become
 * U+FFFD. Output is valid UTF-8 with entities decoded and whitespace normalised.
 * Empty pages fail with "empty HTML page"; anything else parses (recover mode).
 *
 * Article text is found with a readability-style score: paragraphs credit their
 * parent and grandparent containers, class/id words ("article", "content" /
 * "sidebar", "comment", "share"...) add or subtract, and link-heavy containers
 * lose. The best container's siblings that score at least a fifth of it (or
 * are plain body paragraphs) are kept with it, in page order, so a body split
 * into several blocks by ads or related links stays whole. script, style, nav,
 * aside, footer, forms' controls, hidden elements, comment blocks and blocks
 * whose class word names something else ("related-content", "article-tools")
 * never contribute text. Short lines before the first sentence ("Related
 * Content", "AP - 53 mins ago", a byline) are dropped. bench/bench_extract
 * measures the result against main texts marked by hand.
 */
#ifndef FINSENT_HTML_H
#define FINSENT_HTML_H

#include "common/common.h"
#include "crawler/feed.h"

#include <stddef.h>

/* XPath evaluation steps allowed per page (comment_selector). */
#define HTML_XPATH_MAX_OPS 20000000UL

struct html_article {
    char *title;          /* <title>, og:title or the first <h1>; may be NULL */
    char *text;           /* the main text, paragraphs separated by "\n\n" */
    char *author;         /* meta author when present; may be NULL */
    int64_t published_at; /* article:published_time etc.; 0 when unknown */
};

/* Extracts the main text of an article page (url may be NULL; it is only the
 * document's base). Fills out (release with html_article_free) and returns 0,
 * or -1 (err) with out zeroed. */
int html_extract_article(const char *body, size_t len, const char *charset, const char *url,
                         struct html_article *out, struct fs_error *err);
void html_article_free(struct html_article *a);

/* Extracts reader comments. xpath selects one node per comment (NULL = built-in
 * defaults that cover common comment markup). Each comment becomes a feed_item
 * (guid from an id attribute when present; url = page url (without fragment) +
 * "#" + id, or the page url; title NULL; author from an element whose class,
 * id, itemprop or rel mentions author/user/byline..., else a link to a user
 * profile; text from the part whose class mentions body/text/content/message/
 * post, else the whole node; published_at from a datetime= attribute, else an
 * <abbr> or time/date-classed element's title= (ISO or RFC 822) or epoch
 * data-utime= / data-timestamp=, else a "Month D, YYYY[, at H:MM AM]" written
 * before the body (taken as UTC), else 0). When the selected node is only the
 * comment's text (e.g. "div.comment-text" beside "span.nickname" and
 * <abbr title>), a missing author, time and id are looked for in the comment
 * around it: the outermost of its three nearest ancestors holding no other
 * selected node. A reply nested inside a selected comment is not repeated in
 * its parent.
 *
 * Defaults: elements whose class (or id) contains "comment" are grouped by tag
 * and comment class tokens ("li.comment", "div.commentpost", "li#comment");
 * containers ("comments", "comment-list", "comment-form", "...-count") are
 * skipped; the group with the most members holding text wins, and among equal
 * groups the outermost (the whole comment rather than its head or body). A lone
 * candidate counts only when an author is found in it. When nothing is found
 * and the page is a Next.js page, posts in its __NEXT_DATA__ JSON (objects with
 * "body", "id" and "user") are returned instead (Stocktwits).
 *
 * A page without comments gives 0 items. An invalid xpath fails with
 * "invalid comment XPath ...". The XPath's work is bounded: past
 * HTML_XPATH_MAX_OPS evaluation steps (libxml2's opLimit; about a second) the
 * page fails with "comment XPath ... too costly for this page", where a
 * selector that compares every node with every other one (preceding::,
 * nested //) would otherwise run for minutes on a page of many comments. Returns 0 and sets *items / *n_items (free with
 * html_comments_free), or -1 (*items NULL, *n_items 0). */
int html_extract_comments(const char *body, size_t len, const char *charset, const char *url,
                          const char *xpath, struct feed_item **items, size_t *n_items,
                          struct fs_error *err);
void html_comments_free(struct feed_item *items, size_t n_items);

#endif
