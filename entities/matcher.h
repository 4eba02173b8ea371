/*
 * matcher.h — one-pass multi-pattern matching (Aho-Corasick) over ASCII-folded
 * bytes.
 *
 * Every pattern is added once with a payload; after matcher_build() a scan reads
 * the text once, left to right, and reports every occurrence of every pattern
 * (overlapping ones included) as (start, end, payload). Matching folds ASCII
 * letters to lower case and '-' to ' ' on both sides; other bytes (UTF-8
 * included) compare as they are. Word boundaries, case rules and overlaps are the caller's business
 * (entities/recognize.h).
 *
 *   struct matcher *m = matcher_new();
 *   matcher_add(m, "apple", 5, 7);            // payload 7
 *   matcher_build(m);
 *   matcher_scan(m, text, len, on_hit, ctx);  // on_hit(ctx, start, end, 7)
 *   matcher_free(m);
 *
 * The trie is stored as sorted edge arrays (binary search per byte) plus a
 * direct 256-entry table at the root, so memory grows with the patterns'
 * total length, not with the alphabet.
 */
#ifndef FINSENT_MATCHER_H
#define FINSENT_MATCHER_H

#include <stddef.h>
#include <stdint.h>

struct matcher;

struct matcher *matcher_new(void);
void matcher_free(struct matcher *m);

/* Adds pattern p (len > 0 bytes) with payload value. Returns 0 when added, 1
 * when the folded pattern was already there (the first payload is kept: add
 * the patterns that take precedence first). Only before matcher_build(). */
int matcher_add(struct matcher *m, const char *p, size_t len, int32_t value);

/* Computes the failure links; after it the matcher is read-only (scans from
 * several threads are safe). */
void matcher_build(struct matcher *m);

/* Number of patterns added and of trie states (for figures). */
size_t matcher_patterns(const struct matcher *m);
size_t matcher_states(const struct matcher *m);

/* Called for each occurrence: text[start, end) matches the pattern whose
 * payload is value. Return 0 to go on, non-zero to stop the scan. */
typedef int (*matcher_hit_fn)(void *ctx, size_t start, size_t end, int32_t value);

/* Scans text[0, len) once. Returns 0, or what a callback returned to stop. */
int matcher_scan(const struct matcher *m, const char *text, size_t len, matcher_hit_fn fn,
                 void *ctx);

#endif
