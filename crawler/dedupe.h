/*
 * dedupe.h — keys that recognise the same document arriving twice: by feed
 * guid, by normalised URL, or by the hash of its normalised content (the same
 * story syndicated under different URLs).
 *
 * Key strings:
 *   "g:<source id>:<guid>"   a guid is unique within its source only ("1".."5"
 *                            in one feed are not another feed's "1".."5")
 *   "g:<guid>"               a permalink guid (an http(s) URL) is a URL, and may
 *                            match across sources
 *   "u:<url_normalize(url)>" the same story under one URL is one document,
 *                            whichever source brings it
 *   "h:<32 hex chars>"       title and body text; for a body of at least
 *                            DEDUPE_MIN_CONTENT_WORDS words (a title alone, or a
 *                            one-line summary, does not identify a story), or
 *                            when the item has neither guid nor URL
 * A store treats two documents as duplicates when any key matches.
 */
#ifndef FINSENT_DEDUPE_H
#define FINSENT_DEDUPE_H

#include "crawler/feed.h"

#include <stddef.h>
#include <stdint.h>

#define DEDUPE_MAX_KEYS 3
#define DEDUPE_MIN_CONTENT_WORDS 20

/* Hash of title and text after normalisation: case folded (text_casefold),
 * whitespace collapsed, HTML-free input assumed. NULLs count as "". Writes 32
 * lowercase hex chars + NUL into out (hash128_hex). */
void dedupe_content_hash(const char *title, const char *text, char out[33]);

/* Fills keys[0..n) with new strings (caller frees each, or dedupe_keys_free)
 * and returns n: "g:" when the item has a non-empty guid (scoped by source_id
 * unless it is an http(s) URL), "u:" when its url normalises, "h:" when its text
 * has at least DEDUPE_MIN_CONTENT_WORDS words or, lacking both others, when title
 * or text is non-empty; in that order. */
size_t dedupe_keys(const struct feed_item *item, int64_t source_id, char *keys[DEDUPE_MAX_KEYS]);

void dedupe_keys_free(char *keys[], size_t n);

#endif
