/*
 * base_fetch.h — downloading a base model (a BERT checkpoint) from the Hugging
 * Face hub, or any server laid out like it, into base_root()/NAME
 * (classify/base.h).
 *
 * Four files are fetched over HTTP(S) with libcurl from
 *   {endpoint}/{NAME}/resolve/{revision}/{file}
 * (redirects followed: the hub sends its large files to a CDN): config.json,
 * vocab.txt, tokenizer_config.json and model.safetensors. Only http and https
 * are spoken, and after an https endpoint redirects may only go to https.
 *
 * tokenizer_config.json is optional: some BERT repositories lack it. When the
 * server answers 404 for it, the file is written with the defaults that
 * transformers' BertTokenizer assumes without one ({"do_lower_case": true,
 * "tokenize_chinese_chars": true, "strip_accents": null, "tokenizer_class":
 * "BertTokenizer"}) and SOURCE.md says so.
 *
 * Verification, before anything is installed:
 *   - a file whose response carries a sha256 (the hub's X-Linked-Etag for LFS
 *     files, else a 64-hex-digit ETag) must hash to it; X-Linked-Size, when
 *     sent, must equal the bytes received; a body shorter than its
 *     Content-Length is a failed transfer;
 *   - the directory must pass base_inspect() (config.json's model_type is
 *     "bert", the safetensors framing tiles the file, the word embeddings
 *     match config.json).
 * Files are downloaded into a fresh directory beside the target
 * (dirname(NAME)/.partial-XXXXXX, never listed as a base), then SHA256SUMS and
 * SOURCE.md are written and the directory takes the target's place in one
 * rename (an atomic exchange when a base is already there). A failed or
 * interrupted fetch therefore never leaves a usable-looking base, and a
 * previously installed base stays as it was. What an interrupted fetch left
 * (.partial-*, .old-* over a day old) is removed by the next fetch there.
 *
 *   struct base_fetch_opts o = {.endpoint = getenv("HF_ENDPOINT"),
 *                               .token = getenv("HF_TOKEN")};
 *   struct base_fetch_result r;
 *   if (base_fetch("ProsusAI/finbert", &o, &r, &err) < 0)
 *       ... r.fail says which kind of failure, err.msg why ...
 *   base_fetch_result_free(&r);
 */
#ifndef FINSENT_BASE_FETCH_H
#define FINSENT_BASE_FETCH_H

#include "common/common.h"
#include "common/sha256.h"

#include <stdint.h>

#define BASE_HUB_DEFAULT "https://huggingface.co"

/* Called while a file downloads: bytes so far and the expected total (0 while
 * unknown). Called often; the caller rate-limits what it prints. */
typedef void (*base_progress_fn)(void *user, const char *file, uint64_t done, uint64_t total);

struct base_fetch_opts {
    const char *endpoint; /* the hub, http:// or https://; NULL or "": BASE_HUB_DEFAULT */
    const char *revision; /* branch, tag or commit; NULL or "": "main" */
    const char *token;    /* NULL, or a hub token sent as "Authorization: Bearer" to an
                             https endpoint only (never over plain http, never to another
                             host after a redirect); never logged, never written */
    int force;            /* fetch even when NAME is installed and checks out */
    base_progress_fn progress;
    void *progress_user;
};

/* What kind of failure a base_fetch() that returned -1 met. */
enum base_fetch_fail {
    BASE_FETCH_OK = 0,
    BASE_FETCH_USAGE,   /* bad NAME, revision or endpoint */
    BASE_FETCH_NETWORK, /* connection, HTTP error, transfer cut short */
    BASE_FETCH_INVALID, /* the files arrived but are not a valid BERT base */
    BASE_FETCH_IO,      /* local disk: cannot create, write or rename */
};

struct base_fetch_result {
    enum base_fetch_fail fail;
    char *dir;                /* where the base is (installed or already there) */
    int already_installed;    /* nothing fetched: NAME was there and checked out */
    int tokenizer_defaulted;  /* the server had no tokenizer_config.json */
    int weights_hash_checked; /* model.safetensors matched a sha256 the server sent */
    int token_withheld;       /* a token was given but the endpoint is plain http */
    uint64_t bytes;           /* bytes downloaded */
    int layers, hidden;       /* from config.json */
    char weights_sha256[SHA256_HEX_LEN + 1];
};

/* Fetches NAME (base_name_valid(): e.g. "ProsusAI/finbert") into
 * base_root()/NAME as described above. Returns 0 and fills *res, or -1 with a
 * one-line reason in err and res->fail set. The token never appears in err.
 * Release res with base_fetch_result_free() either way. */
int base_fetch(const char *name, const struct base_fetch_opts *opts, struct base_fetch_result *res,
               struct fs_error *err);

void base_fetch_result_free(struct base_fetch_result *res);

/* The sha256 an ETag or X-Linked-Etag header value names, if any: the value
 * with surrounding blanks, a weak "W/" prefix and double quotes removed, when
 * that is 64 hex digits (lowercased into out). Returns 1 when found, else 0. */
int base_etag_sha256(const char *value, char out[SHA256_HEX_LEN + 1]);

#endif
