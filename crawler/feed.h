/*
 * feed.h — parsing news feeds into items: RSS 2.0, RSS 1.0 (RDF), Atom 1.0 and
 * JSON Feed 1.x, detected from the content (not from the file name or the
 * Content-Type, which are often wrong).
 *
 * Input is untrusted: libxml2 runs with network access and entity substitution
 * off (no XXE, no entity expansion bombs); a malformed document fails with one
 * line in err and nothing is returned. Text fields come back as valid UTF-8 with
 * HTML entities decoded, markup removed from text, and whitespace normalised.
 *
 * Detection: a body starting with '{' is read as JSON Feed; otherwise as XML,
 * and the root element decides: <rss> RSS 2.0 (and 0.9x), <rdf:RDF> RSS 1.0,
 * <feed> Atom, <urlset> a Google News sitemap. A body that is an HTML page,
 * empty, not well-formed, or XML with another root fails with "not a feed: ..."
 * or "malformed XML at line N: ...".
 *
 * News sitemaps (<urlset> with news:news children, as Bloomberg publishes) are
 * accepted as FEED_SITEMAP: each <url> is an item with url = <loc>, title =
 * news:title, published_at = news:publication_date, guid NULL and text "".
 * A plain sitemap without news:title gives items with a url only.
 *
 * Charset: a byte-order mark, else the charset argument (HTTP header) when
 * iconv knows it, else the XML declaration, else UTF-8 (text_decode_document);
 * ISO-8859-1 is read as windows-1252; invalid sequences become U+FFFD.
 *
 * Threads: parsing is reentrant; as libxml2 asks, call xmlInitParser() once
 * from the main thread before parsing in several threads.
 * Entities: only the XML built-ins and character references are expanded;
 * entities declared in a DTD are never substituted (their references yield no
 * text) and external ones are never loaded. HTML named entities such as
 * &nbsp; that a sloppy feed uses without declaring them are read as the
 * characters they name.
 */
#ifndef FINSENT_FEED_H
#define FINSENT_FEED_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

enum feed_format { FEED_UNKNOWN = 0, FEED_RSS2, FEED_RSS1, FEED_ATOM, FEED_JSON, FEED_SITEMAP };

struct feed_item {
    char *guid;           /* <guid>, <id>, rdf:about or JSON id; NULL when absent */
    char *url;            /* link resolved against base_url (kept as given when it is
                             relative and there is no base); may be NULL */
    char *title;          /* plain text; may be NULL */
    char *text;           /* plain text of description/summary/content; may be "" */
    char *author;         /* may be NULL */
    int64_t published_at; /* seconds since epoch UTC; 0 when unknown */
    char *tickers;        /* tickers the feed tags the item with, comma-separated
                             ("NASDAQ:NVDA,TSLA"); NULL when none. A <category>
                             (RSS) or <category term> (Atom) is a ticker when its
                             domain/scheme names tickers, symbols or stocks, its
                             type is "symbol", or it reads EXCHANGE:SYMBOL */
};

struct feed {
    enum feed_format format;
    char *title;     /* channel title, may be NULL */
    int ttl_minutes; /* RSS <ttl>, or -1 */
    struct feed_item *items;
    size_t n_items;
};

/* Parses body (len bytes). charset is the HTTP Content-Type charset or NULL; the
 * document's own declaration is used otherwise. base_url resolves relative links
 * (may be NULL). Returns 0 and fills out (release with feed_free), or -1. */
int feed_parse(const char *body, size_t len, const char *charset, const char *base_url,
               struct feed *out, struct fs_error *err);

void feed_free(struct feed *feed);

const char *feed_format_name(enum feed_format format);

#endif
