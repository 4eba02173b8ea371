/*
 * safetensors.c — the safetensors writer and its strict loader (see the header
 * for the format and the checks).
 */
#include "classify/safetensors.h"
#include "common/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c assumes a little-endian host"
#endif

/* ---- writer ----------------------------------------------------------------- */

struct st_item {
    char *name;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t numel;
    const float *data;
};

struct st_writer {
    struct st_item *items;
    int n, cap;
    char **keys, **values;
    int n_meta, cap_meta;
};

struct st_writer *st_writer_new(void)
{
    return xcalloc(1, sizeof(struct st_writer));
}

void st_writer_add(struct st_writer *w, const char *name, int ndim, const int64_t *shape,
                   const float *data)
{
    if (w->n == w->cap) {
        w->cap = w->cap ? 2 * w->cap : 32;
        w->items = xrealloc(w->items, (size_t)w->cap * sizeof *w->items);
    }
    struct st_item *it = &w->items[w->n++];
    memset(it, 0, sizeof *it);
    it->name = xstrdup(name);
    it->ndim = ndim;
    it->numel = 1;
    for (int i = 0; i < ndim; i++) {
        it->shape[i] = shape[i];
        it->numel *= (size_t)shape[i];
    }
    it->data = data;
}

void st_writer_meta(struct st_writer *w, const char *key, const char *value)
{
    if (w->n_meta == w->cap_meta) {
        w->cap_meta = w->cap_meta ? 2 * w->cap_meta : 16;
        w->keys = xrealloc(w->keys, (size_t)w->cap_meta * sizeof *w->keys);
        w->values = xrealloc(w->values, (size_t)w->cap_meta * sizeof *w->values);
    }
    w->keys[w->n_meta] = xstrdup(key);
    w->values[w->n_meta++] = xstrdup(value);
}

void st_writer_free(struct st_writer *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n; i++)
        free(w->items[i].name);
    for (int i = 0; i < w->n_meta; i++) {
        free(w->keys[i]);
        free(w->values[i]);
    }
    free(w->items);
    free(w->keys);
    free(w->values);
    free(w);
}

static json_t *writer_header(const struct st_writer *w, struct fs_error *err)
{
    json_t *root = json_object();
    if (w->n_meta) {
        json_t *meta = json_object();
        json_object_set_new(root, "__metadata__", meta);
        for (int i = 0; i < w->n_meta; i++) {
            json_t *v = json_string(w->values[i]);
            if (!v || json_object_set_new(meta, w->keys[i], v) < 0) {
                json_decref(root);
                fs_error_set(err, "metadata '%s' is not valid UTF-8", w->keys[i]);
                return NULL;
            }
        }
    }
    size_t off = 0;
    for (int i = 0; i < w->n; i++) {
        const struct st_item *it = &w->items[i];
        json_t *t = json_object(), *shape = json_array();
        for (int d = 0; d < it->ndim; d++)
            json_array_append_new(shape, json_integer(it->shape[d]));
        json_object_set_new(t, "dtype", json_string("F32"));
        json_object_set_new(t, "shape", shape);
        json_object_set_new(
            t, "data_offsets",
            json_pack("[II]", (json_int_t)off, (json_int_t)(off + it->numel * sizeof(float))));
        off += it->numel * sizeof(float);
        if (json_object_set_new(root, it->name, t) < 0) {
            json_decref(root);
            fs_error_set(err, "tensor name '%s' is not valid UTF-8", it->name);
            return NULL;
        }
    }
    return root;
}

int st_writer_build(struct st_writer *w, unsigned char **out, size_t *len, struct fs_error *err)
{
    json_t *root = writer_header(w, err);
    if (!root)
        return -1;
    char *hdr = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(root);
    size_t hn = strlen(hdr), padded = (hn + 7) / 8 * 8, data = 0;
    for (int i = 0; i < w->n; i++)
        data += w->items[i].numel * sizeof(float);
    unsigned char *buf = xmalloc(8 + padded + data);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    memcpy(buf + 8, hdr, hn);
    memset(buf + 8 + hn, ' ', padded - hn);
    free(hdr);
    unsigned char *p = buf + 8 + padded;
    for (int i = 0; i < w->n; i++) {
        size_t n = w->items[i].numel * sizeof(float);
        if (n)
            memcpy(p, w->items[i].data, n);
        p += n;
    }
    *out = buf;
    *len = 8 + padded + data;
    return 0;
}

int st_writer_save(struct st_writer *w, const char *path, struct fs_error *err)
{
    unsigned char *buf;
    size_t len;
    if (st_writer_build(w, &buf, &len, err) < 0)
        return -1;
    if (path_mkdir_parent(path, err) < 0) {
        free(buf);
        return -1;
    }
    int rc = file_write_atomic(path, buf, len, err);
    free(buf);
    return rc;
}

/* ---- loader ----------------------------------------------------------------- */

void st_free(struct st_file *f)
{
    for (int i = 0; i < f->n_tensors; i++)
        free(f->tensors[i].name);
    for (int i = 0; i < f->n_meta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->tensors);
    free(f->meta_keys);
    free(f->meta_values);
    free(f->buf);
    memset(f, 0, sizeof *f);
}

static int parse_meta(struct st_file *f, json_t *meta, struct fs_error *err)
{
    if (!json_is_object(meta))
        return fs_error_set(err, "__metadata__ is not an object");
    size_t n = json_object_size(meta);
    f->meta_keys = xcalloc(n ? n : 1, sizeof(char *));
    f->meta_values = xcalloc(n ? n : 1, sizeof(char *));
    const char *key;
    json_t *v;
    json_object_foreach(meta, key, v)
    {
        if (!json_is_string(v))
            return fs_error_set(err, "metadata '%.60s' is not a string", key);
        f->meta_keys[f->n_meta] = xstrdup(key);
        f->meta_values[f->n_meta++] = xstrndup(json_string_value(v), json_string_length(v));
    }
    return 0;
}

static const char *const dtype_name[ST_N_DTYPES] = {
    [ST_F32] = "F32", [ST_F16] = "F16", [ST_BF16] = "BF16", [ST_F64] = "F64", [ST_I64] = "I64",
    [ST_I32] = "I32", [ST_I16] = "I16", [ST_I8] = "I8",    [ST_U8] = "U8",   [ST_BOOL] = "BOOL",
};
static const size_t dtype_size[ST_N_DTYPES] = {
    [ST_F32] = 4, [ST_F16] = 2, [ST_BF16] = 2, [ST_F64] = 8, [ST_I64] = 8,
    [ST_I32] = 4, [ST_I16] = 2, [ST_I8] = 1,   [ST_U8] = 1,  [ST_BOOL] = 1,
};

int st_dtype_from_name(const char *s)
{
    for (int i = 0; i < ST_N_DTYPES; i++)
        if (!strcmp(s, dtype_name[i]))
            return i;
    return -1;
}

const char *st_dtype_name(int dtype)
{
    return dtype >= 0 && dtype < ST_N_DTYPES ? dtype_name[dtype] : "?";
}

int st_is_float(const struct st_tensor *t)
{
    return t->dtype == ST_F32 || t->dtype == ST_F16 || t->dtype == ST_BF16 || t->dtype == ST_F64;
}

/* Multiplies with overflow check against limit. */
static int mul_checked(size_t a, size_t b, size_t limit, size_t *out)
{
    if (a && b > limit / a)
        return -1;
    *out = a * b;
    return 0;
}

static int parse_tensor(struct st_file *f, const char *name, json_t *t, struct fs_error *err)
{
    if (!json_is_object(t))
        return fs_error_set(err, "tensor '%.60s': not an object", name);
    if (json_object_size(t) != 3)
        return fs_error_set(err, "tensor '%.60s': expected exactly dtype, shape, data_offsets",
                            name);
    json_t *dtype = json_object_get(t, "dtype"), *shape = json_object_get(t, "shape");
    json_t *offs = json_object_get(t, "data_offsets");
    if (!json_is_string(dtype))
        return fs_error_set(err, "tensor '%.60s': missing dtype", name);
    int dt = st_dtype_from_name(json_string_value(dtype));
    if (dt < 0)
        return fs_error_set(err, "tensor '%.60s': unknown dtype %.16s", name,
                            json_string_value(dtype));
    if (!json_is_array(shape) || json_array_size(shape) > ST_MAX_DIMS)
        return fs_error_set(err, "tensor '%.60s': bad shape", name);
    if (!json_is_array(offs) || json_array_size(offs) != 2)
        return fs_error_set(err, "tensor '%.60s': bad data_offsets", name);
    struct st_tensor *st = &f->tensors[f->n_tensors];
    memset(st, 0, sizeof *st);
    st->ndim = (int)json_array_size(shape);
    size_t numel = 1;
    for (int d = 0; d < st->ndim; d++) {
        json_t *v = json_array_get(shape, (size_t)d);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return fs_error_set(err, "tensor '%.60s': bad shape", name);
        st->shape[d] = json_integer_value(v);
        if (mul_checked(numel, (size_t)st->shape[d], f->data_len, &numel) < 0)
            return fs_error_set(err, "tensor '%.60s': shape larger than the file", name);
    }
    json_t *b = json_array_get(offs, 0), *e = json_array_get(offs, 1);
    if (!json_is_integer(b) || !json_is_integer(e) || json_integer_value(b) < 0 ||
        json_integer_value(e) < json_integer_value(b))
        return fs_error_set(err, "tensor '%.60s': bad data_offsets", name);
    if ((uint64_t)json_integer_value(e) > f->data_len)
        return fs_error_set(err, "tensor '%.60s': data beyond the end of the file (truncated?)",
                            name);
    st->begin = (size_t)json_integer_value(b);
    st->end = (size_t)json_integer_value(e);
    size_t bytes;
    if (mul_checked(numel, dtype_size[dt], f->data_len, &bytes) < 0 || bytes != st->end - st->begin)
        return fs_error_set(err, "tensor '%.60s': shape does not match its data_offsets", name);
    st->numel = numel;
    st->dtype = dt;
    st->name = xstrdup(name);
    f->n_tensors++;
    return 0;
}

static int cmp_begin(const void *a, const void *b)
{
    const struct st_tensor *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : x->end < y->end ? -1 : 0;
}

/* The tensors must tile the data buffer exactly: no overlap, no holes. */
static int check_tiling(struct st_file *f, struct fs_error *err)
{
    struct st_tensor *s = xmalloc((size_t)(f->n_tensors ? f->n_tensors : 1) * sizeof *s);
    memcpy(s, f->tensors, (size_t)f->n_tensors * sizeof *s);
    qsort(s, (size_t)f->n_tensors, sizeof *s, cmp_begin);
    size_t at = 0;
    int rc = 0;
    for (int i = 0; i < f->n_tensors && rc == 0; i++) {
        if (s[i].begin < at)
            rc = fs_error_set(err, "tensor '%.60s' overlaps another tensor", s[i].name);
        else if (s[i].begin > at)
            rc = fs_error_set(err, "hole in the data before tensor '%.60s'", s[i].name);
        at = s[i].end;
    }
    if (rc == 0 && at != f->data_len)
        rc = fs_error_set(err, "%zu bytes of data after the last tensor", f->data_len - at);
    free(s);
    return rc;
}

static int parse_header(struct st_file *f, const char *hdr, size_t n, struct fs_error *err)
{
    json_error_t je;
    json_t *root = json_loadb(hdr, n, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return fs_error_set(err, "header is not valid JSON (%s)", je.text);
    int rc = 0;
    if (!json_is_object(root)) {
        json_decref(root);
        return fs_error_set(err, "header is not a JSON object");
    }
    f->tensors = xcalloc(json_object_size(root) + 1, sizeof *f->tensors);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        if (!strcmp(key, "__metadata__"))
            rc = parse_meta(f, v, err);
        else
            rc = parse_tensor(f, key, v, err);
        if (rc < 0)
            break;
    }
    json_decref(root);
    return rc < 0 ? -1 : check_tiling(f, err);
}

int st_parse(unsigned char *buf, size_t len, struct st_file *out, struct fs_error *err)
{
    memset(out, 0, sizeof *out);
    out->buf = buf;
    out->len = len;
    if (len < 8)
        return fs_error_set(err, "file too short for a safetensors header (%zu bytes)", len);
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n |= (uint64_t)buf[i] << (8 * i);
    if (n < 2 || n > ST_MAX_HEADER || n > len - 8)
        return fs_error_set(err, "bad header length %llu for a file of %zu bytes",
                            (unsigned long long)n, len);
    if (buf[8] != '{')
        return fs_error_set(err, "header does not start with '{'");
    out->data = buf + 8 + n;
    out->data_len = len - 8 - (size_t)n;
    return parse_header(out, (const char *)buf + 8, (size_t)n, err);
}

int st_load(const char *path, struct st_file *out, struct fs_error *err)
{
    char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    if (file_read_all(path, (size_t)2 << 30, &buf, &len, err) < 0)
        return -1;
    if (st_parse((unsigned char *)buf, len, out, err) < 0)
        return fs_error_prefix(err, "%s", path);
    return 0;
}

const struct st_tensor *st_find(const struct st_file *f, const char *name)
{
    for (int i = 0; i < f->n_tensors; i++)
        if (!strcmp(f->tensors[i].name, name))
            return &f->tensors[i];
    return NULL;
}

const char *st_meta(const struct st_file *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (!strcmp(f->meta_keys[i], key))
            return f->meta_values[i];
    return NULL;
}

/* IEEE half precision -> float, every case (zero, subnormal, normal, inf, NaN). */
float st_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13); /* inf, NaN */
    } else if (exp != 0) {
        bits = sign | ((exp + 112u) << 23) | (man << 13); /* 127 - 15 = 112 */
    } else if (man == 0) {
        bits = sign;
    } else { /* subnormal: normalise */
        int e = -1;
        do {
            e++;
            man <<= 1;
        } while (!(man & 0x400u));
        bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ffu) << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

float st_bf16_to_f32(uint16_t h)
{
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

void st_read_f32(const struct st_file *f, const struct st_tensor *t, float *dst)
{
    const unsigned char *p = f->data + t->begin;
    for (size_t i = 0; i < t->numel; i++) {
        switch (t->dtype) {
        case ST_F32:
            memcpy(dst + i, p + 4 * i, 4);
            break;
        case ST_F16:
        case ST_BF16: {
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            dst[i] = t->dtype == ST_F16 ? st_f16_to_f32(h) : st_bf16_to_f32(h);
            break;
        }
        case ST_F64: {
            double d;
            memcpy(&d, p + 8 * i, 8);
            dst[i] = (float)d;
            break;
        }
        default:
            dst[i] = 0.0f; /* not a float tensor: callers check st_is_float() */
        }
    }
}
