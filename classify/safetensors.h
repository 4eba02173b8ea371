/*
 * safetensors.h — reading and writing the safetensors format: an 8-byte
 * little-endian header length N, N bytes of JSON header, then the raw tensor
 * bytes. The header maps each tensor name to {"dtype", "shape", "data_offsets":
 * [begin, end]} (offsets relative to the byte buffer after the header) and may
 * hold "__metadata__": an object of string values.
 *
 * finsent writes F32. It reads F32, F16, BF16 and F64 tensors as F32 (a
 * pretrained checkpoint may hold any of them) and parses the other dtypes of
 * the format (I64, I32, I16, I8, U8, BOOL: e.g. a BERT checkpoint's position_ids
 * buffer) without reading them. The loader treats the file as untrusted:
 * header length, JSON syntax, duplicate names, dtypes, shapes, offsets (in range,
 * matching the shape, neither overlapping nor leaving holes) and metadata types
 * are all checked; the first problem found fails with one line.
 *
 *   struct st_writer *w = st_writer_new();
 *   st_writer_add(w, "head.weight", 2, (int64_t[]){23, 256}, data);
 *   st_writer_meta(w, "format", "finsent-model");
 *   st_writer_save(w, path, &err);     // atomic; st_writer_free(w)
 *
 *   struct st_file f;
 *   st_load(path, &f, &err);
 *   const struct st_tensor *t = st_find(&f, "head.weight");
 *   st_read_f32(&f, t, dst);           // t->numel floats
 *   st_free(&f);
 */
#ifndef FINSENT_SAFETENSORS_H
#define FINSENT_SAFETENSORS_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

enum { ST_MAX_DIMS = 8, ST_MAX_HEADER = 100 * 1024 * 1024 };

/* Tensor element types. */
enum { ST_F32, ST_F16, ST_BF16, ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U8, ST_BOOL, ST_N_DTYPES };

struct st_tensor {
    char *name;
    int dtype; /* ST_F32 ... */
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t numel;
    size_t begin, end; /* byte offsets into the data buffer */
};

struct st_file {
    unsigned char *buf; /* the whole file */
    size_t len;
    const unsigned char *data; /* the data buffer (after the header) */
    size_t data_len;
    struct st_tensor *tensors;
    int n_tensors;
    char **meta_keys, **meta_values;
    int n_meta;
};

/* Writer: collects tensors (pointers are kept until save; data not copied) and
 * metadata (copied), then writes the file atomically. */
struct st_writer;
struct st_writer *st_writer_new(void);
void st_writer_add(struct st_writer *w, const char *name, int ndim, const int64_t *shape,
                   const float *data);
void st_writer_meta(struct st_writer *w, const char *key, const char *value);
/* The whole file in memory (caller frees), for tests and hashing. -1 if a name
 * or value is not valid UTF-8. */
int st_writer_build(struct st_writer *w, unsigned char **out, size_t *len, struct fs_error *err);
int st_writer_save(struct st_writer *w, const char *path, struct fs_error *err);
void st_writer_free(struct st_writer *w);

/* Parses a file image of len bytes (takes ownership of buf, even on failure). */
int st_parse(unsigned char *buf, size_t len, struct st_file *out, struct fs_error *err);
/* Reads and parses path (at most 2 GiB); errors start with the path. On failure
 * *out is still safe to st_free(). */
int st_load(const char *path, struct st_file *out, struct fs_error *err);
void st_free(struct st_file *f);

const struct st_tensor *st_find(const struct st_file *f, const char *name);
const char *st_meta(const struct st_file *f, const char *key);
/* Copies a tensor's numel values (little-endian on disk) into dst as floats,
 * converting F16, BF16 and F64. Only for tensors with st_is_float(). */
void st_read_f32(const struct st_file *f, const struct st_tensor *t, float *dst);
int st_is_float(const struct st_tensor *t);

/* The dtype called s ("F32", "BF16", ...) or -1; a dtype's name. */
int st_dtype_from_name(const char *s);
const char *st_dtype_name(int dtype);

/* One element converted (exposed for tests). */
float st_f16_to_f32(uint16_t h);
float st_bf16_to_f32(uint16_t h);

#endif
