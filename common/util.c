/* util.c — time parsing, hashing, file and path helpers. */
#include "common/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- time ---------------------------------------------------------------- */

static int parse_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
        (*p)++;
    }
    *out = v;
    return 0;
}

static int days_in_month(int y, int mo)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return mo == 2 && leap ? 29 : days[mo - 1];
}

/* A real calendar date and time of day: 2026-02-30 is refused (timegm would
 * silently make it March 2). */
static int valid_tm(int y, int mo, int d, int h, int mi, int s)
{
    return y >= 1900 && y <= 9999 && mo >= 1 && mo <= 12 && d >= 1 &&
           d <= days_in_month(y, mo) && h >= 0 && h <= 24 && mi >= 0 && mi <= 59 && s >= 0 &&
           s <= 60;
}

static int64_t make_utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm);
}

/* Parses "Z", "+HH:MM", "+HHMM", "+HH" or named zones into seconds east of UTC. */
static int parse_zone(const char *p, int *offset)
{
    while (*p == ' ')
        p++;
    *offset = 0;
    if (*p == '\0' || *p == 'Z' || *p == 'z')
        return 0;
    if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, hh = 0, mm = 0;
        p++;
        if (parse_digits(&p, 2, &hh) < 0)
            return -1;
        if (*p == ':')
            p++;
        if (isdigit((unsigned char)*p) && parse_digits(&p, 2, &mm) < 0)
            return -1;
        *offset = sign * (hh * 3600 + mm * 60);
        return 0;
    }
    static const struct {
        const char *name;
        int hours;
    } zones[] = {{"GMT", 0},  {"UT", 0},   {"UTC", 0},  {"EST", -5}, {"EDT", -4},
                 {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8},
                 {"PDT", -7}, {"BST", 1},  {"CET", 1},  {"CEST", 2}, {"JST", 9}};
    for (size_t i = 0; i < FS_ARRAY_LEN(zones); i++) {
        size_t n = strlen(zones[i].name);
        if (strncasecmp(p, zones[i].name, n) == 0 && !isalpha((unsigned char)p[n])) {
            *offset = zones[i].hours * 3600;
            return 0;
        }
    }
    return 0; /* unknown zone names are taken as UTC rather than rejected */
}

int time_parse_iso8601(const char *s, int64_t *out)
{
    const char *p = s;
    int y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
    while (isspace((unsigned char)*p))
        p++;
    if (parse_digits(&p, 4, &y) < 0 || *p++ != '-' || parse_digits(&p, 2, &mo) < 0 || *p++ != '-' ||
        parse_digits(&p, 2, &d) < 0)
        return -1;
    if (*p == 'T' || *p == 't' || (*p == ' ' && isdigit((unsigned char)p[1]))) {
        p++;
        if (parse_digits(&p, 2, &h) < 0 || *p++ != ':' || parse_digits(&p, 2, &mi) < 0)
            return -1;
        if (*p == ':') {
            p++;
            if (parse_digits(&p, 2, &sec) < 0)
                return -1;
            if (*p == '.' || *p == ',')
                for (p++; isdigit((unsigned char)*p); p++)
                    ;
        }
        if (parse_zone(p, &off) < 0)
            return -1;
    } else {
        while (isspace((unsigned char)*p))
            p++;
        if (*p)
            return -1;
    }
    if (!valid_tm(y, mo, d, h, mi, sec))
        return -1;
    *out = make_utc(y, mo, d, h, mi, sec) - off;
    return 0;
}

static int month_index(const char *p)
{
    static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                         "jul", "aug", "sep", "oct", "nov", "dec"};
    for (int i = 0; i < 12; i++)
        if (strncasecmp(p, months[i], 3) == 0)
            return i + 1;
    return -1;
}

int time_parse_rfc822(const char *s, int64_t *out)
{
    const char *p = s;
    int d, mo, y, h = 0, mi = 0, sec = 0, off = 0;
    while (isspace((unsigned char)*p))
        p++;
    /* optional weekday ("Mon," or "Monday,") */
    if (isalpha((unsigned char)*p)) {
        while (isalpha((unsigned char)*p))
            p++;
        if (*p == ',')
            p++;
    }
    while (isspace((unsigned char)*p))
        p++;
    char *end;
    long dl = strtol(p, &end, 10);
    if (end == p || dl < 1 || dl > 31)
        return -1;
    d = (int)dl;
    p = end;
    while (*p == ' ' || *p == '-')
        p++;
    if ((mo = month_index(p)) < 0)
        return -1;
    while (isalpha((unsigned char)*p))
        p++;
    while (*p == ' ' || *p == '-')
        p++;
    long yl = strtol(p, &end, 10);
    if (end == p)
        return -1;
    if (end - p == 2)
        yl += yl < 70 ? 2000 : 1900;
    y = (int)yl;
    p = end;
    while (*p == ' ')
        p++;
    if (isdigit((unsigned char)*p)) {
        if (parse_digits(&p, 2, &h) < 0 && (p--, parse_digits(&p, 1, &h) < 0))
            return -1;
        if (*p++ != ':' || parse_digits(&p, 2, &mi) < 0)
            return -1;
        if (*p == ':') {
            p++;
            if (parse_digits(&p, 2, &sec) < 0)
                return -1;
        }
        if (parse_zone(p, &off) < 0)
            return -1;
    }
    if (!valid_tm(y, mo, d, h, mi, sec))
        return -1;
    *out = make_utc(y, mo, d, h, mi, sec) - off;
    return 0;
}

int time_parse_any(const char *s, int64_t *out)
{
    if (!s)
        return -1;
    if (time_parse_iso8601(s, out) == 0)
        return 0;
    return time_parse_rfc822(s, out);
}

char *time_format_iso8601(int64_t t, char *buf, size_t size)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (size == 0)
        return buf;
    /* gmtime_r fails (and leaves tm unset) for years beyond an int; strftime
     * leaves buf unspecified when it does not fit */
    if (!gmtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        str_copy(buf, size, "(invalid time)");
    return buf;
}

int duration_parse(const char *s, int64_t *seconds)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno || v < 0)
        return -1;
    int64_t mult = 1;
    switch (*end) {
    case '\0':
    case 's':
        mult = 1;
        break;
    case 'm':
        mult = 60;
        break;
    case 'h':
        mult = 3600;
        break;
    case 'd':
        mult = 86400;
        break;
    case 'w':
        mult = 7 * 86400;
        break;
    default:
        return -1;
    }
    if (*end && end[1])
        return -1;
    /* a bound keeps v * mult and every caller's now + seconds from overflowing */
    if (v > DURATION_MAX / mult)
        return -1;
    *seconds = (int64_t)v * mult;
    return 0;
}

double time_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- hashing --------------------------------------------------------------- */

uint64_t hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    /* final avalanche (splitmix64 finaliser) */
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

void hash128_hex(const void *data, size_t len, char out[33])
{
    uint64_t a = hash64(data, len, 0), b = hash64(data, len, 0x9e3779b97f4a7c15ULL);
    snprintf(out, 33, "%016llx%016llx", (unsigned long long)a, (unsigned long long)b);
}

/* ---- files and paths ----------------------------------------------------------- */

int file_read_all(const char *path, size_t max_bytes, char **out, size_t *len, struct fs_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fs_error_set(err, "%s: %s", path, strerror(errno));
    struct strbuf sb = STRBUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (sb.len + n > max_bytes) {
            fclose(f);
            sb_free(&sb);
            return fs_error_set(err, "%s: larger than %zu bytes", path, max_bytes);
        }
        sb_append_n(&sb, chunk, n);
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        sb_free(&sb);
        return fs_error_set(err, "%s: read error", path);
    }
    if (len)
        *len = sb.len;
    *out = sb_detach(&sb);
    return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, struct fs_error *err)
{
    struct strbuf tmp = STRBUF_INIT;
    sb_appendf(&tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp.buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fs_error_set(err, "%s: %s", tmp.buf, strerror(errno));
        sb_free(&tmp);
        return -1;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            fs_error_set(err, "%s: %s", path, strerror(errno));
            close(fd);
            unlink(tmp.buf);
            sb_free(&tmp);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fs_error_set(err, "%s: %s", path, strerror(errno));
        unlink(tmp.buf);
        sb_free(&tmp);
        return -1;
    }
    if (rename(tmp.buf, path) < 0) {
        fs_error_set(err, "%s: %s", path, strerror(errno));
        unlink(tmp.buf);
        sb_free(&tmp);
        return -1;
    }
    sb_free(&tmp);
    return 0;
}

int path_mkdir_parent(const char *path, struct fs_error *err)
{
    char *dir = xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        free(dir);
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            fs_error_set(err, "cannot create %s: %s", dir, strerror(errno));
            free(dir);
            return -1;
        }
        *p = '/';
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        fs_error_set(err, "cannot create %s: %s", dir, strerror(errno));
        free(dir);
        return -1;
    }
    free(dir);
    return 0;
}

static char *xdg_path(const char *env, const char *fallback, const char *name)
{
    struct strbuf sb = STRBUF_INIT;
    const char *base = getenv(env);
    if (base && base[0] == '/') {
        sb_appendf(&sb, "%s/finsent/%s", base, name);
    } else {
        const char *home = getenv("HOME");
        sb_appendf(&sb, "%s/%s/finsent/%s", home && *home ? home : ".", fallback, name);
    }
    return sb_detach(&sb);
}

char *path_xdg_config(const char *name)
{
    return xdg_path("XDG_CONFIG_HOME", ".config", name);
}

char *path_xdg_data(const char *name)
{
    return xdg_path("XDG_DATA_HOME", ".local/share", name);
}

/* ---- strings ------------------------------------------------------------------ */

void str_strip_controls(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

size_t str_copy(char *dst, size_t size, const char *src)
{
    size_t n = strlen(src);
    if (size > 0) {
        size_t k = n < size - 1 ? n : size - 1;
        memcpy(dst, src, k);
        dst[k] = '\0';
    }
    return n;
}

int str_starts_with_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

size_t str_url_prefix(const char *s, size_t n)
{
    static const char *const prefixes[] = {"https://", "http://", "www.", "t.co/"};
    for (size_t i = 0; i < FS_ARRAY_LEN(prefixes); i++) {
        size_t k = strlen(prefixes[i]);
        if (n >= k && strncasecmp(s, prefixes[i], k) == 0)
            return k;
    }
    return 0;
}

char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int ids_contain(const int64_t *ids, size_t n, int64_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return 1;
    return 0;
}
