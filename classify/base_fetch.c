/*
 * base_fetch.c — `finsent base fetch`: downloads a BERT checkpoint from the
 * Hugging Face hub (or a server laid out like it) into a temp directory, checks
 * every file, then renames the directory into place (see base_fetch.h).
 */
#include "classify/base_fetch.h"
#include "classify/base.h"
#include "common/strbuf.h"
#include "common/util.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef FINSENT_VERSION
#define FINSENT_VERSION "dev"
#endif

enum {
    CONNECT_TIMEOUT_S = 30,
    STALL_TIMEOUT_S = 60,
    MAX_REDIRS = 10,
    REV_MAX = 200,
    STALE_S = 86400
};

struct hub_file {
    const char *name;
    int optional;
    uint64_t max_bytes;
};

static const struct hub_file hub_files[] = {
    {"config.json", 0, 1 << 20},
    {"vocab.txt", 0, 64 << 20},
    {"tokenizer_config.json", 1, 1 << 20},
    {"model.safetensors", 0, (uint64_t)64 << 30},
};
enum { N_FILES = FS_ARRAY_LEN(hub_files) };

static const char default_tokenizer_config[] =
    "{\"do_lower_case\": true, \"tokenize_chinese_chars\": true, \"strip_accents\": null, "
    "\"tokenizer_class\": \"BertTokenizer\"}\n";

/* One fetch in progress. */
struct fetch {
    const char *name;
    const struct base_fetch_opts *o;
    struct base_fetch_result *res;
    char *endpoint;       /* as given, normalised, no trailing '/' */
    char *endpoint_shown; /* the same without credentials, query or fragment */
    int https;
    const char *rev;
    char *rev_escaped;
    struct curl_slist *headers; /* the Authorization header, when sent */
    char *tmp;                  /* dirname(dest)/.partial-XXXXXX */
    char sha[N_FILES][SHA256_HEX_LEN + 1];
};

/* One file's transfer. */
struct download {
    const struct fetch *f;
    const char *file;
    FILE *out;
    struct sha256 hash;
    uint64_t bytes, max;
    int too_large, write_errno;
    char linked_sha[SHA256_HEX_LEN + 1], etag_sha[SHA256_HEX_LEN + 1];
    int64_t linked_size; /* X-Linked-Size, -1 when not sent */
};

enum dl_status { DL_OK, DL_NOT_FOUND, DL_FAILED };

static int fail(struct fetch *f, enum base_fetch_fail kind, struct fs_error *err, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

/* A failure whose reason is already in err. Returns -1. */
static int failed_as(struct fetch *f, enum base_fetch_fail kind)
{
    f->res->fail = kind;
    return -1;
}

static int fail(struct fetch *f, enum base_fetch_fail kind, struct fs_error *err, const char *fmt,
                ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err)
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    f->res->fail = kind;
    return -1;
}

/* ---- headers ------------------------------------------------------------------- */

int base_etag_sha256(const char *value, char out[SHA256_HEX_LEN + 1])
{
    while (*value == ' ' || *value == '\t')
        value++;
    if (!strncmp(value, "W/", 2))
        value += 2;
    if (*value == '"')
        value++;
    size_t n = 0;
    while (value[n] && value[n] != '"' && value[n] != ' ' && value[n] != '\t' && value[n] != '\r' &&
           value[n] != '\n')
        n++;
    if (n != SHA256_HEX_LEN)
        return 0;
    char hex[SHA256_HEX_LEN + 1];
    memcpy(hex, value, n);
    hex[n] = '\0';
    if (!sha256_is_hex(hex))
        return 0;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)(hex[i] >= 'A' && hex[i] <= 'F' ? hex[i] - 'A' + 'a' : hex[i]);
    out[n] = '\0';
    return 1;
}

/* Headers of every response (redirects included): the first X-Linked-Etag and
 * X-Linked-Size (the hub's, on its redirect), the last sha256-like ETag. */
static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    struct download *d = user;
    size_t len = size * n;
    char line[512];
    if (len >= sizeof line)
        return len;
    memcpy(line, data, len);
    line[len] = '\0';
    char *colon = strchr(line, ':');
    if (!colon)
        return len;
    *colon = '\0';
    const char *value = colon + 1;
    char sha[SHA256_HEX_LEN + 1];
    if (!strcasecmp(line, "X-Linked-Etag") && !d->linked_sha[0] && base_etag_sha256(value, sha))
        str_copy(d->linked_sha, sizeof d->linked_sha, sha);
    else if (!strcasecmp(line, "ETag") && base_etag_sha256(value, sha))
        str_copy(d->etag_sha, sizeof d->etag_sha, sha);
    else if (!strcasecmp(line, "X-Linked-Size") && d->linked_size < 0) {
        char *end;
        long long v = strtoll(value, &end, 10);
        if (end != value && v >= 0)
            d->linked_size = v;
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    struct download *d = user;
    size_t len = size * n;
    if (d->bytes + len > d->max) {
        d->too_large = 1;
        return 0; /* aborts the transfer */
    }
    if (fwrite(data, 1, len, d->out) != len) {
        d->write_errno = errno ? errno : EIO;
        return 0;
    }
    sha256_update(&d->hash, data, len);
    d->bytes += len;
    return len;
}

static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ultotal;
    (void)ulnow;
    struct download *d = user;
    const struct base_fetch_opts *o = d->f->o;
    if (o->progress)
        o->progress(o->progress_user, d->file, (uint64_t)dlnow, (uint64_t)dltotal);
    return 0;
}

/* ---- one file -------------------------------------------------------------------- */

static char *file_url(const struct fetch *f, const char *file)
{
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "%s/%s/resolve/%s/%s", f->endpoint, f->name, f->rev_escaped, file);
    return sb_detach(&sb);
}

static CURL *easy_new(const struct fetch *f, const char *url, struct download *d, char *errbuf)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    /* no downgrade: after an https endpoint, https only */
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, f->https ? "https" : "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
    curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)STALL_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)d->max);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "finsent/" FINSENT_VERSION);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, d);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, d);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, d);
    if (f->headers) /* curl drops it on a redirect to another host */
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, f->headers);
    return c;
}

/* Why a transfer failed, as one line (the URL has no credentials: built from
 * endpoint_shown). */
static int transfer_error(struct fetch *f, struct download *d, CURLcode cc, long code,
                          const char *errbuf, struct fs_error *err)
{
    if (d->write_errno)
        return fail(f, BASE_FETCH_IO, err, "%s: cannot write %s: %s", d->file, f->tmp,
                    strerror(d->write_errno));
    if (d->too_large || cc == CURLE_FILESIZE_EXCEEDED)
        return fail(f, BASE_FETCH_INVALID, err, "%s: larger than %llu bytes", d->file,
                    (unsigned long long)d->max);
    if (cc == CURLE_HTTP_RETURNED_ERROR && (code == 401 || code == 403))
        return fail(f, BASE_FETCH_NETWORK, err,
                    "%s: HTTP %ld from %s/%s (no such repository, or a private or gated "
                    "one: set HF_TOKEN)",
                    d->file, code, f->endpoint_shown, f->name);
    if (cc == CURLE_HTTP_RETURNED_ERROR)
        return fail(f, BASE_FETCH_NETWORK, err, "%s: HTTP %ld from %s/%s at revision %s", d->file,
                    code, f->endpoint_shown, f->name, f->rev);
    if (cc == CURLE_PARTIAL_FILE)
        return fail(f, BASE_FETCH_NETWORK, err, "%s: transfer cut short after %llu bytes (%s)",
                    d->file, (unsigned long long)d->bytes,
                    errbuf[0] ? errbuf : curl_easy_strerror(cc));
    return fail(f, BASE_FETCH_NETWORK, err, "%s: %s (%s)", d->file, curl_easy_strerror(cc),
                errbuf[0] ? errbuf : "no detail");
}

/* The received body against what the server said about it. */
static int check_download(struct fetch *f, struct download *d, char sha[SHA256_HEX_LEN + 1],
                          struct fs_error *err)
{
    sha256_final_hex(&d->hash, sha);
    if (d->linked_size >= 0 && (uint64_t)d->linked_size != d->bytes)
        return fail(f, BASE_FETCH_INVALID, err,
                    "%s: %llu bytes received, the server announced %lld", d->file,
                    (unsigned long long)d->bytes, (long long)d->linked_size);
    const char *want = d->linked_sha[0] ? d->linked_sha : d->etag_sha[0] ? d->etag_sha : NULL;
    if (want && strcmp(want, sha) != 0)
        return fail(f, BASE_FETCH_INVALID, err,
                    "%s: sha256 %.16s... does not match the server's %.16s...", d->file, sha, want);
    if (want && !strcmp(d->file, "model.safetensors"))
        f->res->weights_hash_checked = 1;
    return 0;
}

static int close_output(struct fetch *f, struct download *d, const char *path, struct fs_error *err)
{
    int bad = fflush(d->out) != 0 || fsync(fileno(d->out)) != 0;
    int e = errno;
    bad |= fclose(d->out) != 0;
    d->out = NULL;
    if (bad)
        return fail(f, BASE_FETCH_IO, err, "%s: %s", path, strerror(e ? e : EIO));
    return 0;
}

static enum dl_status transfer_status(struct fetch *f, struct download *d, const char *path,
                                      CURLcode cc, long code, const char *errbuf,
                                      char sha[SHA256_HEX_LEN + 1], struct fs_error *err)
{
    if (close_output(f, d, path, err) < 0)
        return DL_FAILED;
    if (cc == CURLE_HTTP_RETURNED_ERROR && code == 404)
        return DL_NOT_FOUND;
    if (cc != CURLE_OK) {
        transfer_error(f, d, cc, code, errbuf, err);
        return DL_FAILED;
    }
    return check_download(f, d, sha, err) == 0 ? DL_OK : DL_FAILED;
}

/* Downloads hub file hf into f->tmp. DL_NOT_FOUND (nothing set) for a 404. */
static enum dl_status download(struct fetch *f, const struct hub_file *hf,
                               char sha[SHA256_HEX_LEN + 1], struct fs_error *err)
{
    struct download d = {.f = f, .file = hf->name, .max = hf->max_bytes, .linked_size = -1};
    char *path = path_join(f->tmp, hf->name), *url = file_url(f, hf->name);
    char errbuf[CURL_ERROR_SIZE] = "";
    enum dl_status st = DL_FAILED;
    sha256_init(&d.hash);
    d.out = fopen(path, "wbx");
    CURL *c = d.out ? easy_new(f, url, &d, errbuf) : NULL;
    if (!d.out) {
        fail(f, BASE_FETCH_IO, err, "%s: %s", path, strerror(errno));
    } else if (!c) {
        fail(f, BASE_FETCH_NETWORK, err, "%s: cannot start a transfer", hf->name);
    } else {
        CURLcode cc = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        f->res->bytes += d.bytes;
        st = transfer_status(f, &d, path, cc, code, errbuf, sha, err);
    }
    if (d.out)
        fclose(d.out);
    if (c)
        curl_easy_cleanup(c);
    if (st == DL_NOT_FOUND)
        unlink(path);
    free(url);
    free(path);
    return st;
}

static int write_default_tokenizer_config(struct fetch *f, char sha[SHA256_HEX_LEN + 1],
                                          struct fs_error *err)
{
    char *path = path_join(f->tmp, "tokenizer_config.json");
    int rc =
        file_write_atomic(path, default_tokenizer_config, strlen(default_tokenizer_config), err);
    free(path);
    if (rc < 0)
        return failed_as(f, BASE_FETCH_IO);
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, default_tokenizer_config, strlen(default_tokenizer_config));
    sha256_final_hex(&h, sha);
    f->res->tokenizer_defaulted = 1;
    return 0;
}

static int download_all(struct fetch *f, struct fs_error *err)
{
    for (int i = 0; i < N_FILES; i++) {
        const struct hub_file *hf = &hub_files[i];
        enum dl_status st = download(f, hf, f->sha[i], err);
        if (st == DL_FAILED)
            return -1;
        if (st == DL_NOT_FOUND && hf->optional) {
            if (write_default_tokenizer_config(f, f->sha[i], err) < 0)
                return -1;
        } else if (st == DL_NOT_FOUND) {
            return fail(f, BASE_FETCH_NETWORK, err,
                        "%s: not found (HTTP 404) at %s/%s, revision %s%s", hf->name,
                        f->endpoint_shown, f->name, f->rev,
                        strcmp(hf->name, "model.safetensors")
                            ? ""
                            : " (finsent reads safetensors checkpoints only)");
        }
    }
    return 0;
}

/* ---- the directory --------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void rm_tree(const char *dir)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_manifest(struct fetch *f, struct fs_error *err)
{
    struct strbuf sums = STRBUF_INIT, src = STRBUF_INIT;
    char when[32];
    for (int i = 0; i < N_FILES; i++)
        sb_appendf(&sums, "%s  %s\n", f->sha[i], hub_files[i].name);
    time_format_iso8601((int64_t)time(NULL), when, sizeof when);
    sb_appendf(&src, "# %s\n\nFetched by `finsent base fetch` on %s from %s/%s, revision %s.\n\n",
               f->name, when, f->endpoint_shown, f->name, f->rev);
    sb_appendf(&src, "- Licence: see the model card, %s/%s.\n", f->endpoint_shown, f->name);
    sb_appendf(&src, "- model.safetensors sha256 %s (%s).\n", f->sha[N_FILES - 1],
               f->res->weights_hash_checked ? "matched the sha256 the server sent"
                                            : "the server sent no sha256 to check against");
    if (f->res->tokenizer_defaulted)
        sb_appendf(&src, "- tokenizer_config.json: absent on the server; written with "
                         "BertTokenizer's defaults (lower-casing on).\n");
    sb_appendf(&src, "\nsha256 of each file: SHA256SUMS (`sha256sum -c SHA256SUMS`).\n");
    char *p1 = path_join(f->tmp, "SHA256SUMS"), *p2 = path_join(f->tmp, "SOURCE.md");
    int rc = file_write_atomic(p1, sums.buf, sums.len, err);
    if (rc == 0)
        rc = file_write_atomic(p2, src.buf, src.len, err);
    free(p1);
    free(p2);
    sb_free(&sums);
    sb_free(&src);
    return rc < 0 ? failed_as(f, BASE_FETCH_IO) : 0;
}

/* Removes the temp directory's path from a message ("…/.partial-x/config.json: …"
 * reads "config.json: …"). */
static void strip_tmp(const struct fetch *f, struct fs_error *err)
{
    size_t n = strlen(f->tmp);
    char *at = strstr(err->msg, f->tmp);
    if (at && at[n] == '/')
        memmove(at, at + n + 1, strlen(at + n + 1) + 1);
}

static int verify(struct fetch *f, struct fs_error *err)
{
    struct base_info info;
    int rc = base_inspect(f->tmp, &info, err);
    f->res->layers = info.layers;
    f->res->hidden = info.hidden;
    base_info_free(&info);
    if (rc < 0) {
        strip_tmp(f, err);
        return failed_as(f, BASE_FETCH_INVALID);
    }
    return 0;
}

/* Moves the base at dest aside (to an empty directory beside it), puts f->tmp
 * in its place and removes the old one; puts it back on failure. For file
 * systems without RENAME_EXCHANGE. */
static int install_aside(struct fetch *f, const char *dest)
{
    size_t n = strlen(f->tmp) + 8;
    char *aside = xmalloc(n);
    snprintf(aside, n, "%s", f->tmp);
    memcpy(strrchr(aside, '/') + 1, ".old-XXXXXX", sizeof ".old-XXXXXX");
    int rc = -1;
    if (mkdtemp(aside) && rename(dest, aside) == 0) {
        rc = rename(f->tmp, dest);
        if (rc != 0) {
            int e = errno;
            rename(aside, dest);
            errno = e;
        }
    }
    int e = errno;
    rm_tree(aside);
    free(aside);
    errno = e;
    return rc;
}

/* Puts f->tmp at dest: a plain rename when dest is free, else an atomic
 * exchange (f->tmp then holds the old base, removed by the caller). */
static int install(struct fetch *f, const char *dest, struct fs_error *err)
{
    struct stat st;
    int rc;
    if (lstat(dest, &st) != 0 && errno == ENOENT)
        rc = rename(f->tmp, dest);
    else if ((rc = renameat2(AT_FDCWD, f->tmp, AT_FDCWD, dest, RENAME_EXCHANGE)) != 0 &&
             (errno == EINVAL || errno == ENOSYS))
        rc = install_aside(f, dest);
    if (rc == 0)
        return 0;
    return fail(f, BASE_FETCH_IO, err, "cannot rename the download into %s: %s", dest,
                strerror(errno));
}

/* ---- options ---------------------------------------------------------------------- */

static char *url_without_trailing_slash(char *u)
{
    size_t n = strlen(u);
    while (n > 0 && u[n - 1] == '/')
        u[--n] = '\0';
    return u;
}

static char *curlu_get(CURLU *u)
{
    char *s = NULL;
    if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
        return NULL;
    char *copy = url_without_trailing_slash(xstrdup(s));
    curl_free(s);
    return copy;
}

static int parse_endpoint(struct fetch *f, const char *in, struct fs_error *err)
{
    CURLU *u = curl_url();
    char *scheme = NULL;
    int ok = u && curl_url_set(u, CURLUPART_URL, in, 0) == CURLUE_OK &&
             curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             (!strcmp(scheme, "http") || !strcmp(scheme, "https"));
    if (ok) {
        f->https = !strcmp(scheme, "https");
        curl_url_set(u, CURLUPART_QUERY, NULL, 0);
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
        f->endpoint = curlu_get(u);
        curl_url_set(u, CURLUPART_USER, NULL, 0);
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
        f->endpoint_shown = curlu_get(u);
        ok = f->endpoint && f->endpoint_shown;
    }
    curl_free(scheme);
    curl_url_cleanup(u);
    /* the value is not echoed: it may hold credentials */
    return ok ? 0
              : fail(f, BASE_FETCH_USAGE, err,
                     "the hub endpoint (HF_ENDPOINT or [model] hub) is not an http:// or https:// "
                     "URL");
}

static int parse_revision(struct fetch *f, const char *rev, struct fs_error *err)
{
    f->rev = rev && *rev ? rev : "main";
    size_t n = strlen(f->rev);
    int ok = n <= REV_MAX && f->rev[0] != '/' && f->rev[0] != '.' && !strstr(f->rev, "..");
    struct strbuf sb = STRBUF_INIT;
    for (size_t i = 0; ok && i < n; i++) {
        char c = f->rev[i];
        if (c == '/')
            sb_append(&sb, "%2F"); /* refs/pr/1 is one path segment */
        else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-')
            sb_append_char(&sb, c);
        else
            ok = 0;
    }
    f->rev_escaped = sb_detach(&sb);
    return ok ? 0
              : fail(f, BASE_FETCH_USAGE, err,
                     "revision '%.100s' is not a branch, tag or commit name", f->rev);
}

/* The Authorization header, over https only. */
static void set_token(struct fetch *f)
{
    const char *t = f->o->token;
    if (!t || !*t)
        return;
    if (!f->https) {
        f->res->token_withheld = 1;
        return;
    }
    struct strbuf sb = STRBUF_INIT;
    sb_appendf(&sb, "Authorization: Bearer %s", t);
    str_strip_controls(sb.buf); /* no header injection */
    f->headers = curl_slist_append(NULL, sb.buf);
    explicit_bzero(sb.buf, sb.len);
    sb_free(&sb);
}

/* ---- entry point ------------------------------------------------------------------ */

/* NAME already installed and sound: nothing to fetch. */
static int already_installed(struct fetch *f, const char *dest)
{
    struct base_info info = {0};
    struct fs_error ignored;
    int ok = access(dest, F_OK) == 0 && base_inspect(dest, &info, &ignored) == 0;
    if (ok) {
        f->res->already_installed = 1;
        f->res->layers = info.layers;
        f->res->hidden = info.hidden;
        str_copy(f->res->weights_sha256, sizeof f->res->weights_sha256, info.weights_sha256);
    }
    base_info_free(&info);
    return ok;
}

/* Removes what interrupted fetches left in dir (".partial-*", ".old-*") once a
 * day old: never listed as bases, they only take space. */
static void remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t cutoff = time(NULL) - STALE_S;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, ".partial-", 9) != 0 && strncmp(e->d_name, ".old-", 5) != 0)
            continue;
        char *p = path_join(dir, e->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && st.st_mtime < cutoff)
            rm_tree(p);
        free(p);
    }
    closedir(d);
}

static int make_tmp(struct fetch *f, const char *dest, struct fs_error *err)
{
    if (path_mkdir_parent(dest, err) < 0)
        return failed_as(f, BASE_FETCH_IO);
    char *slash = strrchr(dest, '/');
    struct strbuf sb = STRBUF_INIT;
    sb_append_n(&sb, dest, (size_t)(slash - dest));
    remove_stale(sb.buf);
    sb_append(&sb, "/.partial-XXXXXX");
    f->tmp = sb_detach(&sb);
    if (!mkdtemp(f->tmp)) {
        int e = errno;
        free(f->tmp);
        f->tmp = NULL;
        return fail(f, BASE_FETCH_IO, err, "cannot create a directory beside %s: %s", dest,
                    strerror(e));
    }
    return 0;
}

static int fetch_into(struct fetch *f, const char *dest, struct fs_error *err)
{
    if (make_tmp(f, dest, err) < 0 || download_all(f, err) < 0 || verify(f, err) < 0 ||
        write_manifest(f, err) < 0 || install(f, dest, err) < 0)
        return -1;
    str_copy(f->res->weights_sha256, sizeof f->res->weights_sha256, f->sha[N_FILES - 1]);
    return 0;
}

int base_fetch(const char *name, const struct base_fetch_opts *opts, struct base_fetch_result *res,
               struct fs_error *err)
{
    memset(res, 0, sizeof *res);
    struct fetch f = {.name = name, .o = opts, .res = res};
    if (!base_name_valid(name))
        return fail(&f, BASE_FETCH_USAGE, err,
                    "'%.200s' is not a model name (ORG/NAME of letters, digits, '.', '_', '-')",
                    name ? name : "");
    char *root = base_root(), *dest = path_join(root, name);
    free(root);
    res->dir = dest;
    int rc = parse_endpoint(
        &f, opts->endpoint && *opts->endpoint ? opts->endpoint : BASE_HUB_DEFAULT, err);
    if (rc == 0)
        rc = parse_revision(&f, opts->revision, err);
    if (rc == 0 && (opts->force || !already_installed(&f, dest))) {
        set_token(&f);
        rc = fetch_into(&f, dest, err);
    }
    if (f.tmp) /* the failed download, or the old base after an exchange */
        rm_tree(f.tmp);
    curl_slist_free_all(f.headers); /* (curl copies nothing secret elsewhere) */
    free(f.tmp);
    free(f.endpoint);
    free(f.endpoint_shown);
    free(f.rev_escaped);
    return rc;
}

void base_fetch_result_free(struct base_fetch_result *res)
{
    if (!res)
        return;
    free(res->dir);
    res->dir = NULL;
}
