/*
 * dedupe.h — keys that recognise the same document arriving twice: by feed
 * guid, by normalised URL, or by the hash of its normalised content (the same
 * story syndicated under different URLs).
 *
 * Key strings: "g:<guid>", "u:<url_normalize(url)>", "h:<32 hex chars>".
 * A store treats two documents as duplicates when any key matches.
 */
#ifndef FINSENT_DEDUPE_H
#define FINSENT_DEDUPE_H

#include "crawler/feed.h"

#include <stddef.h>

#define DEDUPE_MAX_KEYS 3

/* Hash of title and text after normalisation: case folded (text_casefold),
 * whitespace collapsed, HTML-free input assumed. NULLs count as "". Writes 32
 * lowercase hex chars + NUL into out (hash128_hex). */
void dedupe_content_hash(const char *title, const char *text, char out[33]);

/* Fills keys[0..n) with new strings (caller frees each, or dedupe_keys_free)
 * and returns n: "g:" when the item has a non-empty guid, "u:" when its url
 * normalises, "h:" when title or text is non-empty; in that order. */
size_t dedupe_keys(const struct feed_item *item, char *keys[DEDUPE_MAX_KEYS]);

void dedupe_keys_free(char *keys[], size_t n);

#endif
