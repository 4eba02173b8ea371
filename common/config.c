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

struct config_section {
    char *name;
    int line; /* of its "[...]" header */
};

struct config {
    char *path;
    struct config_entry *entries;
    size_t n, cap;
    struct config_section *sections; /* distinct section names in file order */
    size_t n_sections;
    const struct config_schema_section *schema; /* set by config_check_schema() */
    size_t n_schema;
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
        free(cfg->sections[i].name);
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

static const struct config_section *find_section(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strcmp(cfg->sections[i].name, name) == 0)
            return &cfg->sections[i];
    return NULL;
}

/* A section may appear once: a second "[source a]" would silently merge into or
 * override the first. */
static int add_section(struct config *cfg, const char *name, int line, struct fs_error *err)
{
    const struct config_section *seen = find_section(cfg, name);
    if (seen)
        return fs_error_set(err, "%s:%d: [%s] appears twice (first at line %d)", cfg->path, line,
                            name, seen->line);
    cfg->sections = xrealloc(cfg->sections, (cfg->n_sections + 1) * sizeof *cfg->sections);
    cfg->sections[cfg->n_sections].name = xstrdup(name);
    cfg->sections[cfg->n_sections++].line = line;
    return 0;
}

static const struct config_entry *find(const struct config *cfg, const char *section,
                                       const char *key);

/* A key may appear once per section: which of two values wins is a guess. */
static int add_entry(struct config *cfg, const char *section, const char *key, const char *value,
                     int line, struct fs_error *err)
{
    const struct config_entry *seen = find(cfg, section, key);
    if (seen)
        return fs_error_set(err, "%s:%d: [%s] %s: given twice (first at line %d)", cfg->path, line,
                            section, key, seen->line);
    cfg->entries = xgrow(cfg->entries, cfg->n, &cfg->cap, sizeof *cfg->entries, 32);
    struct config_entry *e = &cfg->entries[cfg->n++];
    e->section = xstrdup(section);
    e->key = xstrdup(key);
    e->value = xstrdup(value);
    e->line = line;
    return 0;
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
        return add_section(cfg, section, lineno, err);
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
    return add_entry(cfg, section, key, value, lineno, err);
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

static void assert_declared(const struct config *cfg, const char *section, const char *key);

const char *config_get(const struct config *cfg, const char *section, const char *key)
{
    assert_declared(cfg, section, key);
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
    if (line == 0) /* a missing key: the section's header says where */
        line = config_section_line(cfg, section);
    if (line > 0)
        return fs_error_set(err, "%s:%d: [%s] %s: %s", cfg->path, line, section, key, msg);
    return fs_error_set(err, "%s: [%s] %s: %s", cfg->path, section, key, msg);
}

int config_section_line(const struct config *cfg, const char *section)
{
    const struct config_section *s = find_section(cfg, section);
    return s ? s->line : 0;
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
        if (strncmp(cfg->sections[i].name, prefix, plen) == 0)
            n++;
    return n;
}

const char *config_section_at(const struct config *cfg, const char *prefix, int index)
{
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < cfg->n_sections; i++)
        if (strncmp(cfg->sections[i].name, prefix, plen) == 0 && index-- == 0)
            return cfg->sections[i].name;
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

/* ---- schema ------------------------------------------------------------------ */

/* Optimal string alignment distance of a and b, ignoring ASCII case, capped at
 * 9 (names are short; anything that far is no near miss). */
static int edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 40 || m > 40)
        return 9;
    int d[41][41];
    for (size_t i = 0; i <= n; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int v = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 &&
                tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[n][m] < 9 ? d[n][m] : 9;
}

const char *config_suggest(const char *word, const char *const *candidates)
{
    const char *best = NULL;
    int best_d = 9;
    size_t len = strlen(word);
    int max_d = len <= 3 ? 1 : len <= 6 ? 2 : 3; /* a near miss, not another word */
    for (size_t i = 0; candidates[i]; i++) {
        int d = edit_distance(word, candidates[i]);
        if (d <= max_d && d < best_d) {
            best = candidates[i];
            best_d = d;
        }
    }
    return best;
}

static const struct config_schema_section *schema_find(const struct config *cfg, const char *word)
{
    for (size_t i = 0; i < cfg->n_schema; i++)
        if (strcmp(cfg->schema[i].name, word) == 0)
            return &cfg->schema[i];
    return NULL;
}

static int key_declared(const struct config_schema_section *s, const char *key)
{
    for (size_t i = 0; s->keys[i]; i++)
        if (strcmp(s->keys[i], key) == 0)
            return 1;
    return 0;
}

/* The schema entry of a section name: "source a" -> "source". */
static const struct config_schema_section *schema_of(const struct config *cfg, const char *section)
{
    char word[64];
    size_t n = strcspn(section, " ");
    if (n >= sizeof word)
        return NULL;
    memcpy(word, section, n);
    word[n] = '\0';
    return schema_find(cfg, word);
}

/* Reading a key that the schema does not declare is a bug in the reader: the
 * check would reject the very key the code reads. Caught by any test that
 * loads that section. */
static void assert_declared(const struct config *cfg, const char *section, const char *key)
{
    if (!cfg->schema)
        return;
    const struct config_schema_section *s = schema_of(cfg, section);
    if (s && key_declared(s, key))
        return;
    fprintf(stderr,
            "finsent: internal error: config key [%s] %s is read but not declared in "
            "the schema (cli/config_check.c)\n",
            section, key);
    abort();
}

/* "finsent, crawler, source NAME, ..." for messages. */
static void schema_section_list(const struct config *cfg, struct strbuf *sb)
{
    for (size_t i = 0; i < cfg->n_schema; i++)
        sb_appendf(sb, "%s%s%s", i ? ", " : "", cfg->schema[i].name,
                   cfg->schema[i].named ? " NAME" : "");
}

static int check_section(const struct config *cfg, const struct config_section *sec,
                         struct fs_error *err)
{
    const char *name = sec->name;
    size_t wlen = strcspn(name, " ");
    const struct config_schema_section *s = schema_of(cfg, name);
    if (!s) {
        char word[64];
        str_copy(word, sizeof word, name);
        if (wlen < sizeof word)
            word[wlen] = '\0';
        const char *names[64];
        size_t k = 0;
        for (size_t i = 0; i < cfg->n_schema && k + 1 < FS_ARRAY_LEN(names); i++)
            names[k++] = cfg->schema[i].name;
        names[k] = NULL;
        const char *near = config_suggest(word, names);
        if (near)
            return fs_error_set(err, "%s:%d: [%s]: unknown section; did you mean [%s%s]?",
                                cfg->path, sec->line, name, near, name + wlen);
        struct strbuf sb = STRBUF_INIT;
        schema_section_list(cfg, &sb);
        fs_error_set(err, "%s:%d: [%s]: unknown section (known: %s)", cfg->path, sec->line, name,
                     sb.buf);
        sb_free(&sb);
        return -1;
    }
    if (s->named && name[wlen] == '\0')
        return fs_error_set(err, "%s:%d: [%s]: needs a name: [%s NAME]", cfg->path, sec->line, name,
                            s->name);
    if (!s->named && name[wlen] != '\0')
        return fs_error_set(err, "%s:%d: [%s]: takes no name: [%s]", cfg->path, sec->line, name,
                            s->name);
    return 0;
}

static int check_key(const struct config *cfg, const struct config_entry *e, struct fs_error *err)
{
    const struct config_schema_section *s = schema_of(cfg, e->section);
    if (key_declared(s, e->key))
        return 0;
    const char *near = config_suggest(e->key, s->keys);
    if (near)
        return fs_error_set(err, "%s:%d: [%s] %s: unknown key; did you mean '%s'?", cfg->path,
                            e->line, e->section, e->key, near);
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; s->keys[i]; i++)
        sb_appendf(&sb, "%s%s", i ? ", " : "", s->keys[i]);
    fs_error_set(err, "%s:%d: [%s] %s: unknown key (known: %s)", cfg->path, e->line, e->section,
                 e->key, sb.buf);
    sb_free(&sb);
    return -1;
}

int config_check_schema(struct config *cfg, const struct config_schema_section *schema, size_t n,
                        struct fs_error *err)
{
    cfg->schema = schema;
    cfg->n_schema = n;
    /* a section's keys follow its header (sections never repeat), so this is
     * file order: the problem reported is the first in the file */
    for (size_t i = 0; i < cfg->n_sections; i++) {
        if (check_section(cfg, &cfg->sections[i], err) < 0)
            return -1;
        for (size_t e = 0; e < cfg->n; e++)
            if (!strcmp(cfg->entries[e].section, cfg->sections[i].name) &&
                check_key(cfg, &cfg->entries[e], err) < 0)
                return -1;
    }
    return 0;
}
