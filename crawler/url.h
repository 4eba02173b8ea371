/*
 * url.h — URL helpers for the crawler: resolving links found in feeds and pages
 * (RFC 3986 section 5), normalising URLs into dedupe keys, and checking that a
 * URL may be fetched (http and https only).
 *
 * Every function returns a new string the caller frees, or NULL.
 */
#ifndef FINSENT_URL_H
#define FINSENT_URL_H

/* Resolves ref against base (RFC 3986 5.2, with dot-segment removal). Leading
 * and trailing whitespace of ref is ignored. An absolute ref is returned as is
 * (trimmed); a relative ref with base NULL or not absolute gives NULL. */
char *url_resolve(const char *base, const char *ref);

/* The form used for dedupe: scheme and host lowercased, default port (:80 for
 * http, :443 for https) dropped, fragment dropped, query parameters named utm_*
 * dropped (the '?' too when none is left), empty path as "/", dot segments
 * removed. Returns NULL when url is not an absolute URL with a host. */
char *url_normalize(const char *url);

/* 1 when url starts with "http://" or "https://" (any case) and has a host. */
int url_is_http_or_https(const char *url);

#endif
