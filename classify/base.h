/*
 * base.h — pretrained base models (BERT-family checkpoints in the Hugging Face
 * layout) on disk: where they live, how a name or a path resolves to one, and
 * fetching one from the hub.
 *
 * A base directory holds config.json, vocab.txt, tokenizer_config.json and
 * model.safetensors. Installed bases live under $XDG_DATA_HOME/finsent/base/NAME/
 * (NAME is the hub's name, e.g. "sentence-transformers/all-MiniLM-L6-v2"), with
 * SHA256SUMS (the sha256 of each file, in `sha256sum -c` format, written when
 * the base was installed) and SOURCE.md (where it came from). Directories whose
 * name starts with '.' (".partial-*" downloads in progress) are never bases.
 * Fetching: classify/base_fetch.h.
 *
 *   char *dir = base_resolve("sentence-transformers/all-MiniLM-L6-v2", &err);
 *   ... read dir/config.json etc. (classify/hf_bert.h, classify/wordpiece.h)
 *   free(dir);
 *
 *   struct base_info *list; size_t n;
 *   base_list(&list, &n, &err);        // every installed base, checked
 *   base_list_free(list, n);
 */
#ifndef FINSENT_BASE_H
#define FINSENT_BASE_H

#include "common/common.h"
#include "common/sha256.h"

#include <stddef.h>
#include <stdint.h>

/* The default base model's hub name. */
#define BASE_DEFAULT_NAME "sentence-transformers/all-MiniLM-L6-v2"

/* The directory where installed bases live: $XDG_DATA_HOME/finsent/base
 * (else ~/.local/share/finsent/base). Caller frees. */
char *base_root(void);

/* Resolves NAME|DIR to a base directory: arg itself when it names an existing
 * directory (a path: contains '/' and exists, or starts with '.' or '/'),
 * else base_root()/arg when that directory exists. Returns a string the caller
 * frees, or NULL with a one-line reason in err ("base 'X' is not installed (run
 * 'finsent base fetch X' or 'make base-model')"). NAME must not contain "..",
 * a leading '/', or characters outside [A-Za-z0-9._/-]. */
char *base_resolve(const char *arg, struct fs_error *err);

/* 1 when name is a valid base name: one or more components of [A-Za-z0-9._-]
 * separated by single '/', none empty, none starting with '.' (so no "..",
 * no hidden or ".partial-*" directory), at most 200 bytes; else 0. */
int base_name_valid(const char *name);

/* What the safetensors framing of a weights file says (base_check_safetensors). */
struct base_weights {
    int n_tensors;
    int64_t emb_rows, emb_cols; /* shape of "*embeddings.word_embeddings.weight"; -1 if absent */
};

/* Checks the safetensors framing of the file at path without reading tensor
 * data, treating it as untrusted: the 8-byte header length fits the file, the
 * header is a JSON object, each tensor has a dtype, a shape and data_offsets
 * [begin, end] whose extent matches the shape for the known dtypes (F64, F32,
 * F16, BF16, I64, I32, I16, I8, U8, BOOL, F8_*), and the tensors tile the data
 * buffer exactly (no overlap, no hole, nothing past the end: a truncated
 * download fails here). Any dtype is accepted. Returns 0 and fills *out, or -1
 * with a one-line reason. */
int base_check_safetensors(const char *path, struct base_weights *out, struct fs_error *err);

/* One base directory, as base_inspect() reads it. */
struct base_info {
    char *name; /* relative to base_root() (base_list), or NULL */
    char *dir;
    int layers, hidden, heads, intermediate, vocab_size, max_positions;
    int n_tensors;
    uint64_t bytes;                          /* the four files' sizes added up */
    char weights_sha256[SHA256_HEX_LEN + 1]; /* from SHA256SUMS; "" when not recorded */
    char *problem;                           /* base_list: NULL, or why base_inspect() refused it */
};

/* Checks the base directory dir as untrusted input and fills *info (caller
 * releases with base_info_free): config.json is a JSON object with model_type
 * "bert" and positive sizes (hidden_size divisible by num_attention_heads),
 * vocab.txt has between 1 and vocab_size lines, tokenizer_config.json (when
 * present) is a JSON object, and model.safetensors passes
 * base_check_safetensors() with a word-embedding tensor of shape
 * [vocab_size, hidden_size]. Tensor data is not read, so this is cheap.
 * Returns 0, or -1 with a one-line reason naming the file. */
int base_inspect(const char *dir, struct base_info *info, struct fs_error *err);

/* Every installed base under base_root() (NAME or ORG/NAME directories that
 * hold a config.json), sorted by name, each inspected: one that fails
 * base_inspect() is still listed, with its reason in `problem`. Returns 0 (an
 * absent root is an empty list), or -1 when the root cannot be read. */
int base_list(struct base_info **out, size_t *n, struct fs_error *err);

void base_info_free(struct base_info *info);
void base_list_free(struct base_info *list, size_t n);

#endif
