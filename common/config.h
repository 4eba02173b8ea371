/*
 * config.h — finsent's INI configuration file.
 *
 * Format: "[section]" headers, "key = value" lines, comments start with '#' or ';'
 * at the beginning of a line. Section names may carry a name after a space:
 * "[source reuters-markets]", "[alert all-topics]". Keys are case-sensitive.
 * Every entry remembers its line, so a bad value is reported as "FILE:LINE: ...".
 *
 * Modules read their own sections with the typed getters; a getter reports a
 * malformed value as an error rather than silently falling back to the default.
 */
#ifndef FINSENT_CONFIG_H
#define FINSENT_CONFIG_H

#include "common/common.h"

#include <stdint.h>

struct config;

/* Loads path. A syntax error fails with "path:line: reason". Caller frees with
 * config_free(). */
int config_load(struct config **out, const char *path, struct fs_error *err);

/* Parses text (as if read from a file named `name`). */
int config_parse(struct config **out, const char *name, const char *text, struct fs_error *err);

/* An empty configuration (every getter returns its default). */
struct config *config_new_empty(void);

void config_free(struct config *cfg);

/* The file name given at load time ("(none)" for an empty config). */
const char *config_path(const struct config *cfg);

/* Raw value of the last "key" in "[section]", or NULL. */
const char *config_get(const struct config *cfg, const char *section, const char *key);

/* Line of that entry (0 when absent). */
int config_line(const struct config *cfg, const char *section, const char *key);

/* Typed getters: *out = def when absent; -1 with "file:line: section.key: reason"
 * when present but malformed or outside [min, max]. */
int config_get_int(const struct config *cfg, const char *section, const char *key, int64_t def,
                   int64_t min, int64_t max, int64_t *out, struct fs_error *err);
int config_get_double(const struct config *cfg, const char *section, const char *key,
                      double def, double min, double max, double *out, struct fs_error *err);
/* yes/no, true/false, on/off, 1/0. */
int config_get_bool(const struct config *cfg, const char *section, const char *key, int def,
                    int *out, struct fs_error *err);
/* "90s", "15m", "2h", "1d" or plain seconds. */
int config_get_duration(const struct config *cfg, const char *section, const char *key,
                        int64_t def, int64_t *out, struct fs_error *err);

/* Number of sections whose name starts with prefix (e.g. "source "); the i-th of
 * them (in file order) through config_section_at(). */
int config_section_count(const struct config *cfg, const char *prefix);
const char *config_section_at(const struct config *cfg, const char *prefix, int index);

/* Iterates the keys of one section in file order: returns 0 and sets *key and
 * *value for index i, -1 past the end. */
int config_entry_at(const struct config *cfg, const char *section, int index, const char **key,
                    const char **value);

/* Formats "file:line: section.key: " + message into err. Returns -1. */
int config_error(const struct config *cfg, const char *section, const char *key,
                 struct fs_error *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
