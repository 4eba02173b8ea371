/*
 * util.h — small helpers shared by every module: time, hashing, files, paths.
 *
 * Times inside finsent are int64 seconds since the Unix epoch, UTC.
 */
#ifndef FINSENT_UTIL_H
#define FINSENT_UTIL_H

#include "common/common.h"
#include "common/strbuf.h"

#include <stdint.h>

/* Parses ISO-8601 / RFC 3339 ("2026-03-01", "2026-03-01T12:00", "2026-03-01T12:00:05Z",
 * "2026-03-01 12:00:05+02:00", fractional seconds ignored). Returns 0 and sets *out,
 * or -1 when the text is not such a time (a day the month does not have, such as
 * 2026-02-30, included). */
int time_parse_iso8601(const char *s, int64_t *out);

/* Parses RFC 822 / RFC 1123 / RFC 850 dates as found in RSS and HTTP
 * ("Mon, 29 Jul 2019 13:55 GMT", "Sun, 06 Nov 1994 08:49:37 +0000").
 * Returns 0 and sets *out, or -1. */
int time_parse_rfc822(const char *s, int64_t *out);

/* Either of the above. */
int time_parse_any(const char *s, int64_t *out);

/* Formats t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least 21 bytes). Returns buf,
 * which holds "(invalid time)" (cut to size) when t cannot be converted or the
 * result does not fit. */
char *time_format_iso8601(int64_t t, char *buf, size_t size);

/* Parses a duration such as "90s", "15m", "2h", "1d", "1w" or plain seconds.
 * Returns -1 for malformed text and for anything longer than DURATION_MAX, so
 * that now + seconds cannot overflow. */
#define DURATION_MAX ((int64_t)100 * 366 * 86400) /* about a century */
int duration_parse(const char *s, int64_t *seconds);

/* Wall-clock seconds with sub-second precision (monotonic), for benchmarks. */
double time_monotonic(void);

/* 128-bit non-cryptographic hash of bytes, as 32 lowercase hex chars + NUL. */
void hash128_hex(const void *data, size_t len, char out[33]);

/* 64-bit FNV-1a. */
uint64_t hash64(const void *data, size_t len, uint64_t seed);

/* Reads a whole file (at most max_bytes) into *out (NUL-terminated, caller frees). */
int file_read_all(const char *path, size_t max_bytes, char **out, size_t *len,
                  struct fs_error *err);

/* Writes data to path atomically (temp file in the same directory + fsync + rename). */
int file_write_atomic(const char *path, const void *data, size_t len, struct fs_error *err);

/* dir + "/" + name. Caller frees. */
char *path_join(const char *dir, const char *name);

/* mkdir -p of the directory part of path (not the last component). mode 0700. */
int path_mkdir_parent(const char *path, struct fs_error *err);

/* XDG defaults: $XDG_CONFIG_HOME/finsent/<name> (else ~/.config/finsent/<name>),
 * $XDG_DATA_HOME/finsent/<name> (else ~/.local/share/finsent/<name>).
 * Result owned by the caller. */
char *path_xdg_config(const char *name);
char *path_xdg_data(const char *name);

/* Removes CR, LF and other control characters (replaced by a space) so that text
 * can be placed into a protocol header or a one-line log message. In place. */
void str_strip_controls(char *s);

/* Bounded copy that always NUL-terminates (when size > 0). Returns strlen(src). */
size_t str_copy(char *dst, size_t size, const char *src);

/* Case-insensitive ASCII prefix test. */
int str_starts_with_ci(const char *s, const char *prefix);

/* Length of the URL start at s[0..n) -- "https://", "http://", "www." or "t.co/",
 * ASCII case-insensitive -- or 0 when s does not start with one. What may follow
 * the prefix is the caller's rule (the tokenizer, the n-gram path and URL folding
 * each have their own). */
size_t str_url_prefix(const char *s, size_t n);

/* Whether id is one of ids[0..n). */
int ids_contain(const int64_t *ids, size_t n, int64_t id);

#endif
