/*
 * base.c — where base models live, how a name resolves to one, and what an
 * installed one holds (checked as untrusted input; fetching: base_fetch.c).
 */
#include "classify/base.h"
#include "classify/safetensors.h"
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { CONFIG_MAX = 1 << 20, VOCAB_MAX = 64 << 20, NAME_MAX_LEN = 200 };

char *base_root(void)
{
    return path_xdg_data("base");
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int name_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int base_name_valid(const char *name)
{
    if (!name || !*name || strlen(name) > NAME_MAX_LEN)
        return 0;
    for (const char *c = name; *c;) {
        if (*c == '.' || *c == '/') /* component empty or starting with '.' */
            return 0;
        for (; *c && *c != '/'; c++)
            if (!name_char_ok(*c))
                return 0;
        if (*c == '/' && !*++c)
            return 0; /* trailing '/' */
    }
    return 1;
}

char *base_resolve(const char *arg, struct fs_error *err)
{
    if (!arg || !*arg) {
        fs_error_set(err, "no base model given");
        return NULL;
    }
    if ((arg[0] == '.' || arg[0] == '/' || strchr(arg, '/')) && is_dir(arg))
        return xstrdup(arg);
    if (!base_name_valid(arg)) {
        fs_error_set(err, "base '%.200s' is neither a directory nor a valid model name", arg);
        return NULL;
    }
    char *root = base_root();
    char *dir = path_join(root, arg);
    free(root);
    if (is_dir(dir))
        return dir;
    free(dir);
    fs_error_set(
        err,
        "base '%.200s' is not installed (run 'finsent base fetch %.200s' or 'make base-model')",
        arg, arg);
    return NULL;
}

/* ---- safetensors framing ------------------------------------------------------ */

/* Bytes per element of a safetensors dtype, 0 when unknown. */
static size_t dtype_size(const char *d)
{
    static const struct {
        const char *name;
        size_t size;
    } t[] = {{"F64", 8}, {"F32", 4}, {"F16", 2},  {"BF16", 2},    {"I64", 8},
             {"U64", 8}, {"I32", 4}, {"U32", 4},  {"I16", 2},     {"U16", 2},
             {"I8", 1},  {"U8", 1},  {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
    for (size_t i = 0; i < FS_ARRAY_LEN(t); i++)
        if (!strcmp(d, t[i].name))
            return t[i].size;
    return 0;
}

struct extent {
    uint64_t begin, end;
};

static int cmp_extent(const void *a, const void *b)
{
    const struct extent *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

static int json_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int is_word_embeddings(const char *name)
{
    static const char suffix[] = "embeddings.word_embeddings.weight";
    size_t n = strlen(name), k = sizeof suffix - 1;
    return n >= k && !strcmp(name + n - k, suffix) && (n == k || name[n - k - 1] == '.');
}

/* One tensor entry: its extent in the data buffer, checked against its shape. */
static int check_tensor(const char *name, json_t *t, struct extent *ext, struct base_weights *w,
                        struct fs_error *err)
{
    json_t *dtype = json_object_get(t, "dtype"), *shape = json_object_get(t, "shape");
    json_t *offs = json_object_get(t, "data_offsets");
    if (!json_is_object(t) || !json_is_string(dtype) || !json_is_array(shape) ||
        json_array_size(shape) > ST_MAX_DIMS || !json_is_array(offs) || json_array_size(offs) != 2)
        return fs_error_set(err, "tensor '%.100s' lacks a valid dtype, shape or data_offsets",
                            name);
    uint64_t numel = 1, dim;
    for (size_t i = 0; i < json_array_size(shape); i++) {
        if (json_u64(json_array_get(shape, i), &dim) < 0 || (dim && numel > UINT64_MAX / dim))
            return fs_error_set(err, "tensor '%.100s' has a bad shape", name);
        numel *= dim;
    }
    if (json_u64(json_array_get(offs, 0), &ext->begin) < 0 ||
        json_u64(json_array_get(offs, 1), &ext->end) < 0 || ext->end < ext->begin)
        return fs_error_set(err, "tensor '%.100s' has bad data_offsets", name);
    size_t es = dtype_size(json_string_value(dtype));
    if (es && (numel > UINT64_MAX / es || ext->end - ext->begin != numel * es))
        return fs_error_set(err, "tensor '%.100s': data_offsets do not match its shape", name);
    if (is_word_embeddings(name) && json_array_size(shape) == 2) {
        w->emb_rows = json_integer_value(json_array_get(shape, 0));
        w->emb_cols = json_integer_value(json_array_get(shape, 1));
    }
    return 0;
}

/* The tensors of header hdr tile [0, data_len) exactly. */
static int check_header(json_t *hdr, uint64_t data_len, struct base_weights *w,
                        struct fs_error *err)
{
    if (!json_is_object(hdr))
        return fs_error_set(err, "header is not a JSON object");
    struct extent *ext = xcalloc(json_object_size(hdr) + 1, sizeof *ext);
    size_t n = 0;
    const char *name;
    json_t *t;
    int rc = 0;
    json_object_foreach(hdr, name, t)
    {
        if (!strcmp(name, "__metadata__")) {
            if (!json_is_object(t)) {
                rc = fs_error_set(err, "__metadata__ is not an object");
                break;
            }
            continue;
        }
        if ((rc = check_tensor(name, t, &ext[n], w, err)) < 0)
            break;
        n++;
    }
    if (rc == 0 && n == 0)
        rc = fs_error_set(err, "no tensors");
    qsort(ext, n, sizeof *ext, cmp_extent);
    uint64_t at = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (ext[i].begin != at)
            rc = fs_error_set(err, "tensor data overlaps or leaves a hole at byte %llu",
                              (unsigned long long)at);
        at = ext[i].end;
    }
    if (rc == 0 && at != data_len)
        rc = fs_error_set(err, "tensors need %llu data bytes, the file has %llu (%s)",
                          (unsigned long long)at, (unsigned long long)data_len,
                          at > data_len ? "truncated" : "trailing bytes");
    w->n_tensors = (int)n;
    free(ext);
    return rc;
}

static int read_header(FILE *f, const char *path, uint64_t size, char **hdr, uint64_t *hlen,
                       struct fs_error *err)
{
    unsigned char le[8];
    if (size < 8 || fread(le, 1, 8, f) != 8)
        return fs_error_set(err, "%s: shorter than a safetensors header", path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--)
        n = n << 8 | le[i];
    if (n < 2 || n > ST_MAX_HEADER || n > size - 8)
        return fs_error_set(err, "%s: header length %llu does not fit the file (%llu bytes)", path,
                            (unsigned long long)n, (unsigned long long)size);
    *hdr = xmalloc(n + 1);
    if (fread(*hdr, 1, n, f) != n) {
        free(*hdr);
        return fs_error_set(err, "%s: read error", path);
    }
    (*hdr)[n] = '\0';
    *hlen = n;
    return 0;
}

int base_check_safetensors(const char *path, struct base_weights *out, struct fs_error *err)
{
    struct base_weights w = {0, -1, -1};
    struct stat st;
    FILE *f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &st) != 0) {
        fs_error_set(err, "%s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    char *text = NULL;
    uint64_t hlen = 0, size = (uint64_t)st.st_size;
    int rc = read_header(f, path, size, &text, &hlen, err);
    fclose(f);
    if (rc < 0)
        return -1;
    json_error_t je;
    json_t *hdr = json_loadb(text, hlen, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!hdr)
        return fs_error_set(err, "%s: header is not valid JSON (%s)", path, je.text);
    rc = check_header(hdr, size - 8 - hlen, &w, err);
    json_decref(hdr);
    if (rc < 0)
        return fs_error_prefix(err, "%s", path);
    *out = w;
    return 0;
}

/* ---- a base directory ---------------------------------------------------------- */

/* flags: JSON_DECODE_INT_AS_REAL for files that may hold integers past int64
 * (transformers writes model_max_length = 1e30 as an integer). */
static json_t *load_json_object(const char *path, size_t flags, struct fs_error *err)
{
    char *text;
    size_t len;
    if (file_read_all(path, CONFIG_MAX, &text, &len, err) < 0)
        return NULL;
    json_error_t je;
    json_t *j = json_loadb(text, len, flags, &je);
    free(text);
    if (!json_is_object(j)) {
        fs_error_set(err, "%s: not a JSON object (%s)", path, j ? "other JSON value" : je.text);
        json_decref(j);
        return NULL;
    }
    return j;
}

/* config[key] as a positive int, else -1 with a reason. */
static int config_int(json_t *cfg, const char *path, const char *key, int *out,
                      struct fs_error *err)
{
    json_t *v = json_object_get(cfg, key);
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 1 << 24)
        return fs_error_set(err, "%s: %s is missing or not a positive integer", path, key);
    *out = (int)json_integer_value(v);
    return 0;
}

static int inspect_config(const char *dir, struct base_info *info, struct fs_error *err)
{
    char *path = path_join(dir, "config.json");
    json_t *cfg = load_json_object(path, 0, err);
    int rc = cfg ? 0 : -1;
    const char *type = cfg ? json_string_value(json_object_get(cfg, "model_type")) : NULL;
    if (rc == 0 && (!type || strcmp(type, "bert") != 0))
        rc = fs_error_set(
            err, "%s: model_type is '%.40s', not 'bert' (only BERT checkpoints are supported)",
            path, type ? type : "(none)");
    const struct {
        const char *key;
        int *out;
    } sizes[] = {
        {"num_hidden_layers", &info->layers},  {"hidden_size", &info->hidden},
        {"num_attention_heads", &info->heads}, {"intermediate_size", &info->intermediate},
        {"vocab_size", &info->vocab_size},     {"max_position_embeddings", &info->max_positions}};
    for (size_t i = 0; rc == 0 && i < FS_ARRAY_LEN(sizes); i++)
        rc = config_int(cfg, path, sizes[i].key, sizes[i].out, err);
    if (rc == 0 && info->hidden % info->heads)
        rc = fs_error_set(err, "%s: hidden_size %d is not a multiple of num_attention_heads %d",
                          path, info->hidden, info->heads);
    json_decref(cfg);
    free(path);
    return rc;
}

static int inspect_vocab(const char *dir, const struct base_info *info, struct fs_error *err)
{
    char *path = path_join(dir, "vocab.txt"), *text;
    size_t len;
    int rc = file_read_all(path, VOCAB_MAX, &text, &len, err);
    if (rc == 0) {
        size_t lines = 0;
        for (size_t i = 0; i < len; i++)
            lines += text[i] == '\n';
        lines += len && text[len - 1] != '\n';
        if (lines == 0 || lines > (size_t)info->vocab_size)
            rc = fs_error_set(err, "%s: %zu entries for a vocab_size of %d", path, lines,
                              info->vocab_size);
        free(text);
    }
    free(path);
    return rc;
}

static int inspect_tokenizer_config(const char *dir, struct fs_error *err)
{
    char *path = path_join(dir, "tokenizer_config.json");
    int rc = 0;
    if (access(path, F_OK) == 0) {
        json_t *j = load_json_object(path, JSON_DECODE_INT_AS_REAL, err);
        rc = j ? 0 : -1;
        json_decref(j);
    }
    free(path);
    return rc;
}

static int inspect_weights(const char *dir, struct base_info *info, struct fs_error *err)
{
    char *path = path_join(dir, "model.safetensors");
    struct base_weights w = {0, -1, -1};
    int rc = base_check_safetensors(path, &w, err);
    if (rc == 0 && (w.emb_rows != info->vocab_size || w.emb_cols != info->hidden))
        rc = fs_error_set(err,
                          "%s: no word-embedding tensor of shape [%d, %d] (config.json's "
                          "vocab_size, hidden_size)",
                          path, info->vocab_size, info->hidden);
    info->n_tensors = w.n_tensors;
    free(path);
    return rc;
}

/* The weights' sha256 from dir/SHA256SUMS ("HEX  model.safetensors" lines). */
static void read_recorded_sha256(const char *dir, char out[SHA256_HEX_LEN + 1])
{
    char *path = path_join(dir, "SHA256SUMS"), *text;
    out[0] = '\0';
    if (file_read_all(path, 1 << 16, &text, NULL, NULL) == 0) {
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *file = line + SHA256_HEX_LEN;
            if (strlen(line) < SHA256_HEX_LEN + 2 || *file != ' ')
                continue;
            *file = '\0';
            file += 1 + (file[1] == ' ' || file[1] == '*');
            if (!strcmp(file, "model.safetensors") && sha256_is_hex(line))
                str_copy(out, SHA256_HEX_LEN + 1, line);
        }
        free(text);
    }
    free(path);
}

static uint64_t files_size(const char *dir)
{
    static const char *files[] = {"config.json", "vocab.txt", "tokenizer_config.json",
                                  "model.safetensors"};
    uint64_t total = 0;
    for (size_t i = 0; i < FS_ARRAY_LEN(files); i++) {
        char *p = path_join(dir, files[i]);
        struct stat st;
        if (stat(p, &st) == 0)
            total += (uint64_t)st.st_size;
        free(p);
    }
    return total;
}

int base_inspect(const char *dir, struct base_info *info, struct fs_error *err)
{
    memset(info, 0, sizeof *info);
    info->dir = xstrdup(dir);
    info->bytes = files_size(dir);
    read_recorded_sha256(dir, info->weights_sha256);
    if (inspect_config(dir, info, err) < 0 || inspect_vocab(dir, info, err) < 0 ||
        inspect_tokenizer_config(dir, err) < 0 || inspect_weights(dir, info, err) < 0)
        return -1;
    return 0;
}

void base_info_free(struct base_info *info)
{
    if (!info)
        return;
    free(info->name);
    free(info->dir);
    free(info->problem);
    memset(info, 0, sizeof *info);
}

void base_list_free(struct base_info *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        base_info_free(&list[i]);
    free(list);
}

/* ---- listing ------------------------------------------------------------------- */

struct base_listing {
    struct base_info *items;
    size_t n, cap;
};

static void list_add(struct base_listing *l, const char *root, const char *name)
{
    struct fs_error err;
    char *dir = path_join(root, name);
    l->items = xgrow(l->items, l->n, &l->cap, sizeof *l->items, 8);
    struct base_info *info = &l->items[l->n++];
    if (base_inspect(dir, info, &err) < 0) {
        size_t n = strlen(dir); /* "DIR/config.json: ..." reads "config.json: ..." */
        info->problem =
            xstrdup(strncmp(err.msg, dir, n) || err.msg[n] != '/' ? err.msg : err.msg + n + 1);
    }
    info->name = xstrdup(name);
    free(dir);
}

static int has_config(const char *root, const char *name)
{
    char *dir = path_join(root, name), *cfg = path_join(dir, "config.json");
    int ok = access(cfg, F_OK) == 0;
    free(cfg);
    free(dir);
    return ok;
}

/* Adds root/prefix/ENTRY for each valid entry holding config.json; descends one
 * level into the others (ORG/NAME) when prefix is empty. */
static int list_dir(struct base_listing *l, const char *root, const char *prefix)
{
    char *dir = *prefix ? path_join(root, prefix) : xstrdup(root);
    DIR *d = opendir(dir);
    int saved = errno;
    free(dir);
    if (!d)
        return -saved;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *name = *prefix ? path_join(prefix, e->d_name) : xstrdup(e->d_name);
        if (base_name_valid(name) && has_config(root, name))
            list_add(l, root, name);
        else if (!*prefix && base_name_valid(name))
            list_dir(l, root, name);
        free(name);
    }
    closedir(d);
    return 0;
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const struct base_info *)a)->name, ((const struct base_info *)b)->name);
}

int base_list(struct base_info **out, size_t *n, struct fs_error *err)
{
    struct base_listing l = {0};
    char *root = base_root();
    int rc = list_dir(&l, root, "");
    if (rc == -ENOENT)
        rc = 0;
    else if (rc < 0)
        rc = fs_error_set(err, "%s: %s", root, strerror(-rc));
    free(root);
    if (l.n)
        qsort(l.items, l.n, sizeof *l.items, cmp_info);
    *out = l.items;
    *n = l.n;
    return rc;
}
