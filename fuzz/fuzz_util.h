/* fuzz_util.h — what the fuzz targets share: cutting an input to the bound a
 * target reads, the round-trip check of a deserialiser, and the CPU backend
 * of the model targets (created once, in LLVMFuzzerInitialize). */
#ifndef FINSENT_FUZZ_UTIL_H
#define FINSENT_FUZZ_UTIL_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The first max bytes of an input of size bytes. */
static inline size_t fuzz_cut(size_t size, size_t max)
{
    return size < max ? size : max;
}

/* An accepted input must serialise back to exactly its own bytes; frees out. */
static inline void fuzz_same_bytes(const char *in, size_t in_len, char *out, size_t out_len)
{
    if (out_len != in_len || memcmp(out, in, in_len) != 0)
        abort();
    free(out);
}

/* A target that defines FUZZ_WITH_BACKEND gets fuzz_cpu, created once by the
 * LLVMFuzzerInitialize defined here. */
#ifdef FUZZ_WITH_BACKEND
#include "classify/backend.h"

static struct backend *fuzz_cpu;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    struct fs_error err;
    if (backend_cpu_create(&fuzz_cpu, &err) < 0)
        abort();
    return 0;
}
#endif

#endif
