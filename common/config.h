/*
 * config.h — finsent's INI configuration file.
 *
 * Format: "[section]" headers, "key = value" lines, comments start with '#' or ';'
 * at the beginning of a line. Section names may carry a name after a space:
 * "[source reuters-markets]", "[alert all-topics]". Keys are case-sensitive.
 * Every entry remembers its line, so a bad value is reported as "FILE:LINE: ...".
 * A section appears once per file and a key once per section: parsing fails on a
 * repeat ("FILE:LINE: [source a] appears twice (first at line 3)").
 *
 * Which sections and keys exist is a schema (struct config_schema_section) that
 * the program checks once after loading: an unknown section or key fails with
 * its line and, for a near miss, "did you mean 'concurrency'?". Once a schema is
 * attached, reading an undeclared key aborts (a bug in the reader, caught by any
 * test that reads it).
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
int config_get_double(const struct config *cfg, const char *section, const char *key, double def,
                      double min, double max, double *out, struct fs_error *err);
/* yes/no, true/false, on/off, 1/0. */
int config_get_bool(const struct config *cfg, const char *section, const char *key, int def,
                    int *out, struct fs_error *err);
/* "90s", "15m", "2h", "1d" or plain seconds. */
int config_get_duration(const struct config *cfg, const char *section, const char *key, int64_t def,
                        int64_t *out, struct fs_error *err);

/* Number of sections whose name starts with prefix (e.g. "source "); the i-th of
 * them (in file order) through config_section_at(). */
int config_section_count(const struct config *cfg, const char *prefix);
const char *config_section_at(const struct config *cfg, const char *prefix, int index);

/* Iterates the keys of one section in file order: returns 0 and sets *key and
 * *value for index i, -1 past the end. */
int config_entry_at(const struct config *cfg, const char *section, int index, const char **key,
                    const char **value);

/* Line of the "[section]" header (0 when absent). */
int config_section_line(const struct config *cfg, const char *section);

/* One kind of section: "crawler" ([crawler]) or, with named = 1, "source"
 * ([source NAME]); keys is a NULL-terminated list of every key it may hold. */
struct config_schema_section {
    const char *name;
    int named;
    const char *const *keys;
};

/* Checks every section and key of cfg against schema[0..n) in file order and
 * attaches the schema (it must outlive cfg). Fails with "FILE:LINE: [bogus]:
 * unknown section (known: ...)", "FILE:LINE: [crawler] concurency: unknown key;
 * did you mean 'concurrency'?", "[source]: needs a name", "[crawler x]: takes
 * no name". */
int config_check_schema(struct config *cfg, const struct config_schema_section *schema, size_t n,
                        struct fs_error *err);

/* The candidate (NULL-terminated list) nearest to word when it is a near miss
 * (a few typed letters off, any case), else NULL. */
const char *config_suggest(const char *word, const char *const *candidates);

/* Formats "file:line: [section] key: " + message into err; for a key that is
 * absent, the line of the section's header. Returns -1. */
int config_error(const struct config *cfg, const char *section, const char *key,
                 struct fs_error *err, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
