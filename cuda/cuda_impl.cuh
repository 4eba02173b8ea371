/*
 * cuda_impl.cuh — what the CUDA backend's translation units share: the
 * backend-private state (struct cuda_impl), the checking macros that record the
 * first failing CUDA or cuBLAS call, launch-size helpers and the warp/block
 * reductions used by the kernels.
 *
 * Error model (classify/backend.h): ops return nothing. Every CUDA and cuBLAS
 * call goes through CUDA_OK / CUBLAS_OK, every kernel launch is followed by
 * LAUNCHED; the first failure is recorded in impl->error and later ops become
 * no-ops, so check() reports the cause, not a cascade of consequences.
 */
#ifndef FINSENT_CUDA_IMPL_CUH
#define FINSENT_CUDA_IMPL_CUH

#include <stddef.h>
#include <stdint.h>

/* common.h has no extern "C" guard of its own; its functions are C. */
extern "C" {
#include "common/common.h"
}
#include "classify/backend.h"
#include "cuda/backend_cuda.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

enum {
    CUDA_BLOCK = 256,         /* threads per block of the element-wise kernels */
    CUDA_REDUCE_BLOCKS = 256, /* partial sums of sum_squares */
};

struct cuda_impl {
    int device;
    cudaStream_t stream;
    cublasHandle_t blas;
    /* Pinned host staging for upload/download, grown on demand up to a cap;
     * staging_used is the bump offset of copies still possibly in flight. */
    unsigned char *staging;
    size_t staging_cap, staging_used;
    double *partials; /* device: CUDA_REDUCE_BLOCKS partial sums + the total */
    double *host_sum; /* pinned: sum_squares result */
    int failed;
    char error[FS_ERROR_MAX];
    char desc[384]; /* backend_cuda_describe(): name (< 256) and versions */
};

/* Records "cuda: CALL failed: DETAIL (file:line)" unless a failure is already
 * recorded. Returns 0 so callers can write `if (!CUDA_OK(...)) return;`. */
int cuda_record_failure(struct cuda_impl *im, const char *call, const char *detail,
                        const char *file, int line);

static inline int cuda_ok_(struct cuda_impl *im, cudaError_t rc, const char *call,
                           const char *file, int line)
{
    if (rc == cudaSuccess)
        return 1;
    return cuda_record_failure(im, call, cudaGetErrorString(rc), file, line);
}

static inline int cublas_ok_(struct cuda_impl *im, cublasStatus_t st, const char *call,
                             const char *file, int line)
{
    if (st == CUBLAS_STATUS_SUCCESS)
        return 1;
    return cuda_record_failure(im, call, cublasGetStatusString(st), file, line);
}

#define CUDA_OK(im, call) cuda_ok_((im), (call), #call, __FILE__, __LINE__)
#define CUBLAS_OK(im, call) cublas_ok_((im), (call), #call, __FILE__, __LINE__)
/* After a <<<...>>> launch: catches bad launch configurations at once
 * (errors while the kernel runs surface at the next synchronisation). */
#define LAUNCHED(im) CUDA_OK((im), cudaGetLastError())

/* The impl of a backend, or a return from the calling op when a failure is
 * already recorded (later ops would only add noise). */
#define CUDA_IMPL_OR_RETURN(be, ...)                                                       \
    struct cuda_impl *im = (struct cuda_impl *)(be)->impl;                                 \
    if (im->failed)                                                                        \
        return __VA_ARGS__

/* Blocks for n elements with grid-stride loops (kernels loop when capped). */
static inline unsigned cuda_grid(size_t n, unsigned block)
{
    size_t g = (n + block - 1) / block;
    const size_t cap = (size_t)1 << 16;
    return (unsigned)(g < 1 ? 1 : g > cap ? cap : g);
}

/* Installs every kernel-based op of struct backend (cuda/kernels.cu). */
void cuda_kernels_install(struct backend *be);

/* Runs a tiny kernel and waits: fails (recorded in im) when the device cannot
 * run this build's code, e.g. no kernel image for its architecture. */
int cuda_kernels_probe(struct cuda_impl *im);

/* ---- reductions (device) ------------------------------------------------- */
#ifdef __CUDACC__

template <typename F> __device__ static inline F warp_sum(F v)
{
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ static inline float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1)
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

/* Sum over the whole block, returned to every thread. blockDim.x must be a
 * multiple of 32; every thread of the block must call it. */
template <typename F> __device__ static inline F block_sum(F v)
{
    __shared__ F part[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads(); /* part[] may still be read by a previous call */
    if (lane == 0)
        part[warp] = v;
    __syncthreads();
    return warp_sum(lane < nwarps ? part[lane] : (F)0);
}

__device__ static inline float block_max(float v)
{
    __shared__ float part[32];
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0)
        part[warp] = v;
    __syncthreads();
    return warp_max(lane < nwarps ? part[lane] : -INFINITY);
}

#endif /* __CUDACC__ */

#endif
