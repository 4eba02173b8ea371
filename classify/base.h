/*
 * base.h — pretrained base models (BERT-family checkpoints in the Hugging Face
 * layout) on disk: where they live, how a name or a path resolves to one, and
 * fetching one from the hub.
 *
 * A base directory holds config.json, vocab.txt, tokenizer_config.json and
 * model.safetensors. Installed bases live under $XDG_DATA_HOME/finsent/base/NAME/
 * (NAME is the hub's name, e.g. "sentence-transformers/all-MiniLM-L6-v2").
 *
 *   char *dir = base_resolve("sentence-transformers/all-MiniLM-L6-v2", &err);
 *   ... read dir/config.json etc. (classify/hf_bert.h, classify/wordpiece.h)
 *   free(dir);
 */
#ifndef FINSENT_BASE_H
#define FINSENT_BASE_H

#include "common/common.h"

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

#endif
