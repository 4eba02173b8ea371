/*
 * sha256.h — SHA-256 (FIPS 180-4), streaming, for checking downloaded files
 * against the hashes their publishers give (a Hugging Face LFS ETag, a pinned
 * value) and for recording what was installed.
 *
 *   struct sha256 h;
 *   sha256_init(&h);
 *   sha256_update(&h, buf, n);     // any number of times
 *   char hex[SHA256_HEX_LEN + 1];
 *   sha256_final_hex(&h, hex);     // 64 lowercase hex digits + NUL
 *
 *   sha256_file_hex(path, hex, &err);   // a whole file, read in blocks
 */
#ifndef FINSENT_SHA256_H
#define FINSENT_SHA256_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

enum { SHA256_LEN = 32, SHA256_HEX_LEN = 64 };

struct sha256 {
    uint32_t state[8];
    uint64_t bytes;          /* total length so far */
    unsigned char block[64]; /* pending input, fill bytes used */
    size_t fill;
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Finishes the hash: the 32-byte digest. h must be re-initialised before reuse. */
void sha256_final(struct sha256 *h, unsigned char out[SHA256_LEN]);
/* Same, as 64 lowercase hex digits and a NUL. */
void sha256_final_hex(struct sha256 *h, char out[SHA256_HEX_LEN + 1]);

/* The hash of a whole file. Returns 0, or -1 with "path: reason" in err. */
int sha256_file_hex(const char *path, char out[SHA256_HEX_LEN + 1], struct fs_error *err);

/* 1 when s is exactly 64 hex digits (either case), else 0. */
int sha256_is_hex(const char *s);

#endif
