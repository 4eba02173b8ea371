/*
 * robots.h — robots.txt (RFC 9309) for one origin: parsing, and asking whether a
 * path may be fetched by finsent.
 *
 * Group selection: the groups whose User-agent names our product token (case-
 * insensitive, "finsent") are merged; when there are none, the "*" groups are.
 * Matching: the longest matching Allow/Disallow pattern wins, Allow on a tie;
 * "*" matches any run of characters and a final "$" anchors the end. An empty
 * Disallow allows everything. /robots.txt itself is always allowed.
 * Crawl-delay (not in the RFC, widely used) is read from the selected groups.
 *
 * The body is untrusted: parsing never fails, it only keeps the lines it
 * understands (at most ROBOTS_MAX_BYTES are read, as the RFC allows).
 */
#ifndef FINSENT_ROBOTS_H
#define FINSENT_ROBOTS_H

#include <stddef.h>

#define ROBOTS_MAX_BYTES ((size_t)512 * 1024)
#define ROBOTS_AGENT "finsent"

struct robots;

/* Parses a robots.txt body (len bytes, may be NULL/0 = allow all) for the product
 * token agent (NULL = ROBOTS_AGENT). Caller frees with robots_free(). */
struct robots *robots_parse(const char *body, size_t len, const char *agent);

/* A robots that disallows everything (e.g. robots.txt answered 5xx). */
struct robots *robots_disallow_all(void);

/* 1 when path ("/a/b?q") may be fetched, 0 when disallowed. r NULL allows all. */
int robots_allowed(const struct robots *r, const char *path);

/* Crawl-delay in milliseconds from the selected groups, or 0 when none. */
int robots_crawl_delay_ms(const struct robots *r);

void robots_free(struct robots *r);

#endif
