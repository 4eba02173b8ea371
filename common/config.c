/* config.c — INI configuration with line-numbered errors. */
#include "common/config.h"

#include "common/strbuf.h"
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct config_entry {
    char *section;
    char *key;
    char *value;
    int line;
};

struct config {
    char *path;
    struct config_entry *entries;
    size_t n, cap;
    char **sections; /* distinct section names in file order */
    size_t n_sections;
};

struct config *config_new_empty(void)
{
    struct config *cfg = xcalloc(1, sizeof *cfg);
    cfg->path = xstrdup("(none)");
    return cfg;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->entries[i].section);
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
    }
    for (size_t i = 0; i < cfg->n_sections; i++)
        free(cfg->sections[i]);
    free(cfg->sections);
    free(cfg->entries);
    free(cfg->path);
    free(cfg);
}

const char *config_path(const struct config *cfg)
{
    return cfg->path;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static void add_section(struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strcmp(cfg->sections[i], name) == 0)
            return;
    cfg->sections = xrealloc(cfg->sections, (cfg->n_sections + 1) * sizeof *cfg->sections);
    cfg->sections[cfg->n_sections++] = xstrdup(name);
}

static void add_entry(struct config *cfg, const char *section, const char *key, const char *value,
                      int line)
{
    cfg->entries = xgrow(cfg->entries, cfg->n, &cfg->cap, sizeof *cfg->entries, 32);
    struct config_entry *e = &cfg->entries[cfg->n++];
    e->section = xstrdup(section);
    e->key = xstrdup(key);
    e->value = xstrdup(value);
    e->line = line;
}

/* Strips one pair of matching quotes around a value. */
static char *unquote(char *v)
{
    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v[n - 1] = '\0';
        return v + 1;
    }
    return v;
}

/* Collapses inner runs of spaces in a section name: "[source   x]" -> "source x". */
static void normalise_section(char *s)
{
    char *w = s;
    int space = 0;
    for (char *r = s; *r; r++) {
        if (isspace((unsigned char)*r)) {
            space = 1;
            continue;
        }
        if (space && w != s)
            *w++ = ' ';
        space = 0;
        *w++ = *r;
    }
    *w = '\0';
}

static int parse_line(struct config *cfg, char *line, int lineno, char *section,
                      size_t section_size, struct fs_error *err)
{
    char *s = trim(line);
    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close || trim(close + 1)[0] != '\0')
            return fs_error_set(err, "%s:%d: malformed section header", cfg->path, lineno);
        *close = '\0';
        char *name = trim(s + 1);
        normalise_section(name);
        if (*name == '\0')
            return fs_error_set(err, "%s:%d: empty section name", cfg->path, lineno);
        if (strlen(name) >= section_size) /* cut, two names could become one */
            return fs_error_set(err, "%s:%d: section name longer than %zu characters", cfg->path,
                                lineno, section_size - 1);
        str_copy(section, section_size, name);
        add_section(cfg, section);
        return 0;
    }
    char *eq = strchr(s, '=');
    if (!eq)
        return fs_error_set(err, "%s:%d: expected 'key = value' or '[section]'", cfg->path, lineno);
    *eq = '\0';
    char *key = trim(s);
    char *value = unquote(trim(eq + 1));
    if (*key == '\0')
        return fs_error_set(err, "%s:%d: missing key before '='", cfg->path, lineno);
    if (section[0] == '\0')
        return fs_error_set(err, "%s:%d: '%s' appears before any [section]", cfg->path, lineno,
                            key);
    add_entry(cfg, section, key, value, lineno);
    return 0;
}

int config_parse(struct config **out, const char *name, const char *text, struct fs_error *err)
{
    struct config *cfg = xcalloc(1, sizeof *cfg);
    cfg->path = xstrdup(name);
    char section[256] = "";
    int lineno = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = xstrndup(p, len);
        lineno++;
        if (memchr(p, '\0', len)) {
            free(line);
            config_free(cfg);
            return fs_error_set(err, "%s:%d: NUL byte in file", name, lineno);
        }
        int rc = parse_line(cfg, line, lineno, section, sizeof section, err);
        free(line);
        if (rc < 0) {
            config_free(cfg);
            return -1;
        }
        p += len + (nl ? 1 : 0);
    }
    *out = cfg;
    return 0;
}

int config_load(struct config **out, const char *path, struct fs_error *err)
{
    char *text;
    size_t len;
    if (file_read_all(path, 4u << 20, &text, &len, err) < 0)
        return -1;
    if (strlen(text) != len) {
        free(text);
        return fs_error_set(err, "%s: contains a NUL byte; not a text file", path);
    }
    int rc = config_parse(out, path, text, err);
    free(text);
    return rc;
}

static const struct config_entry *find(const struct config *cfg, const char *section,
                                       const char *key)
{
    for (size_t i = cfg->n; i-- > 0;)
        if (strcmp(cfg->entries[i].section, section) == 0 && strcmp(cfg->entries[i].key, key) == 0)
            return &cfg->entries[i];
    return NULL;
}

const char *config_get(const struct config *cfg, const char *section, const char *key)
{
    const struct config_entry *e = find(cfg, section, key);
    return e ? e->value : NULL;
}

int config_line(const struct config *cfg, const char *section, const char *key)
{
    const struct config_entry *e = find(cfg, section, key);
    return e ? e->line : 0;
}

int config_error(const struct config *cfg, const char *section, const char *key,
                 struct fs_error *err, const char *fmt, ...)
{
    char msg[FS_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = config_line(cfg, section, key);
    if (line > 0)
        return fs_error_set(err, "%s:%d: [%s] %s: %s", cfg->path, line, section, key, msg);
    return fs_error_set(err, "%s: [%s] %s: %s", cfg->path, section, key, msg);
}

int config_get_int(const struct config *cfg, const char *section, const char *key, int64_t def,
                   int64_t min, int64_t max, int64_t *out, struct fs_error *err)
{
    const char *v = config_get(cfg, section, key);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (end == v || *trim(end) != '\0' || errno)
        return config_error(cfg, section, key, err, "'%s' is not an integer", v);
    if (n < min || n > max)
        return config_error(cfg, section, key, err, "%lld is outside [%lld, %lld]", n,
                            (long long)min, (long long)max);
    *out = n;
    return 0;
}

int config_get_double(const struct config *cfg, const char *section, const char *key, double def,
                      double min, double max, double *out, struct fs_error *err)
{
    const char *v = config_get(cfg, section, key);
    if (!v) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *trim(end) != '\0' || errno || !isfinite(d))
        return config_error(cfg, section, key, err, "'%s' is not a number", v);
    if (d < min || d > max)
        return config_error(cfg, section, key, err, "%g is outside [%g, %g]", d, min, max);
    *out = d;
    return 0;
}

int config_get_bool(const struct config *cfg, const char *section, const char *key, int def,
                    int *out, struct fs_error *err)
{
    const char *v = config_get(cfg, section, key);
    if (!v) {
        *out = def;
        return 0;
    }
    static const char *const yes[] = {"yes", "true", "on", "1"};
    static const char *const no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < FS_ARRAY_LEN(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return config_error(cfg, section, key, err, "'%s' is not yes/no", v);
}

int config_get_duration(const struct config *cfg, const char *section, const char *key, int64_t def,
                        int64_t *out, struct fs_error *err)
{
    const char *v = config_get(cfg, section, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (duration_parse(v, out) < 0)
        return config_error(cfg, section, key, err,
                            "'%s' is not a duration (e.g. 90s, 15m, 2h, 1d; at most 100 years)", v);
    return 0;
}

int config_section_count(const struct config *cfg, const char *prefix)
{
    int n = 0;
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strncmp(cfg->sections[i], prefix, plen) == 0)
            n++;
    return n;
}

const char *config_section_at(const struct config *cfg, const char *prefix, int index)
{
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strncmp(cfg->sections[i], prefix, plen) == 0 && index-- == 0)
            return cfg->sections[i];
    return NULL;
}

int config_entry_at(const struct config *cfg, const char *section, int index, const char **key,
                    const char **value)
{
    for (size_t i = 0; i < cfg->n; i++) {
        if (strcmp(cfg->entries[i].section, section) != 0)
            continue;
        if (index-- == 0) {
            *key = cfg->entries[i].key;
            *value = cfg->entries[i].value;
            return 0;
        }
    }
    return -1;
}
