/* backend_cuda_stub.c — the CUDA backend's entry point when finsent is built
 * with CUDA=0: there is no CUDA backend, so asking for one fails clearly. */
#include "classify/backend.h"

int backend_cuda_create(struct backend **out, struct fs_error *err)
{
    *out = NULL;
    return fs_error_set(err, "cuda: built without CUDA (rebuild with 'make CUDA=1')");
}
