/* backend_cuda.cu — placeholder CUDA backend entry point: reports whether a
 * device exists; the kernels and cuBLAS calls are written against
 * classify/backend.h by the CUDA backend's author and replace this file. */
extern "C" {
#include "common/common.h" /* C declarations (fs_error_set) */
}
#include "classify/backend.h"

#include <cuda_runtime.h>

extern "C" int backend_cuda_create(struct backend **out, struct fs_error *err)
{
    *out = NULL;
    int n = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc != cudaSuccess || n == 0)
        return fs_error_set(err, "cuda: no CUDA device (%s)",
                            rc != cudaSuccess ? cudaGetErrorString(rc) : "none found");
    return fs_error_set(err, "cuda: the CUDA backend is not implemented in this build");
}
