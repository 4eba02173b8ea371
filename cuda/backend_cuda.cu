/*
 * backend_cuda.cu — the CUDA backend of classify/backend.h: device selection,
 * memory (device buffers, pinned staging for transfers), the cuBLAS matrix
 * products, error recording, and the table of ops. The other kernels live in
 * cuda/kernels.cu; both are tested against the CPU reference (tests/test_cuda.c).
 *
 * One stream and one cuBLAS handle per backend, created here and destroyed in
 * destroy(). Every op is queued on that stream; download() and check() wait.
 */
#include "cuda/cuda_impl.cuh"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const size_t STAGING_MIN = 1 << 20;  /* first pinned staging buffer: 1 MiB */
static const size_t STAGING_MAX = 16 << 20; /* larger transfers go through it in chunks */
static const size_t STAGING_ALIGN = 256;

/* ---- errors ---------------------------------------------------------------- */

int cuda_record_failure(struct cuda_impl *im, const char *call, const char *detail,
                        const char *file, int line)
{
    if (im->failed)
        return 0;
    im->failed = 1;
    int name_len = (int)strcspn(call, "("); /* "cudaMalloc(&p, n)" -> "cudaMalloc" */
    snprintf(im->error, sizeof im->error, "cuda: %.*s failed: %s (%s:%d)", name_len, call,
             detail ? detail : "unknown error", file, line);
    return 0;
}

static int cu_check(struct backend *be, struct fs_error *err)
{
    struct cuda_impl *im = (struct cuda_impl *)be->impl;
    if (!im->failed)
        CUDA_OK(im, cudaStreamSynchronize(im->stream)); /* surfaces kernel faults */
    if (im->failed)
        return fs_error_set(err, "%s", im->error);
    return 0;
}

/* ---- lifetime ---------------------------------------------------------------- */

/* Releases everything create() made; safe on a half-built impl. Results are
 * ignored: this runs on failure paths too, where the context may be broken. */
static void impl_release(struct cuda_impl *im)
{
    if (im->stream)
        (void)cudaStreamSynchronize(im->stream);
    if (im->blas)
        (void)cublasDestroy(im->blas);
    if (im->stream)
        (void)cudaStreamDestroy(im->stream);
    if (im->partials)
        (void)cudaFree(im->partials);
    if (im->host_sum)
        (void)cudaFreeHost(im->host_sum);
    if (im->staging)
        (void)cudaFreeHost(im->staging);
    free(im);
}

static void cu_destroy(struct backend *be)
{
    impl_release((struct cuda_impl *)be->impl);
    free(be);
}

/* ---- memory -------------------------------------------------------------------- */

static void *cu_alloc(struct backend *be, size_t bytes)
{
    CUDA_IMPL_OR_RETURN(be, NULL);
    void *p = NULL;
    if (!CUDA_OK(im, cudaMalloc(&p, bytes ? bytes : 1)))
        return NULL;
    if (!CUDA_OK(im, cudaMemsetAsync(p, 0, bytes, im->stream))) {
        (void)cudaFree(p);
        return NULL;
    }
    return p;
}

static void cu_free(struct backend *be, void *p)
{
    struct cuda_impl *im = (struct cuda_impl *)be->impl;
    if (!p)
        return;
    /* queued work may still use p: wait for it rather than rely on cudaFree's
     * implicit synchronisation (which stream-ordered allocators do not do) */
    cudaError_t rc = cudaStreamSynchronize(im->stream);
    cudaError_t rc_free = cudaFree(p);
    if (!im->failed && CUDA_OK(im, rc))
        CUDA_OK(im, rc_free);
}

/* A pinned region of n bytes (n <= STAGING_MAX) for one transfer. Regions are
 * handed out one after another so that queued copies need no wait; when the
 * buffer is full, wait for the stream and start over (growing it if needed). */
static unsigned char *staging_take(struct cuda_impl *im, size_t n)
{
    size_t off = (im->staging_used + STAGING_ALIGN - 1) / STAGING_ALIGN * STAGING_ALIGN;
    if (im->staging && off + n <= im->staging_cap) {
        im->staging_used = off + n;
        return im->staging + off;
    }
    if (!CUDA_OK(im, cudaStreamSynchronize(im->stream)))
        return NULL;
    im->staging_used = 0;
    if (n > im->staging_cap) {
        size_t cap = im->staging_cap ? im->staging_cap : STAGING_MIN;
        while (cap < n)
            cap *= 2;
        if (cap > STAGING_MAX)
            cap = STAGING_MAX;
        if (im->staging && !CUDA_OK(im, cudaFreeHost(im->staging)))
            return NULL;
        im->staging = NULL;
        im->staging_cap = 0;
        if (!CUDA_OK(im, cudaMallocHost((void **)&im->staging, cap)))
            return NULL;
        im->staging_cap = cap;
    }
    im->staging_used = n;
    return im->staging;
}

static void cu_upload(struct backend *be, void *dst, const void *host_src, size_t bytes)
{
    CUDA_IMPL_OR_RETURN(be);
    const unsigned char *s = (const unsigned char *)host_src;
    unsigned char *d = (unsigned char *)dst;
    while (bytes) {
        size_t chunk = bytes < STAGING_MAX ? bytes : STAGING_MAX;
        unsigned char *st = staging_take(im, chunk);
        if (!st)
            return;
        memcpy(st, s, chunk);
        if (!CUDA_OK(im, cudaMemcpyAsync(d, st, chunk, cudaMemcpyHostToDevice, im->stream)))
            return;
        s += chunk;
        d += chunk;
        bytes -= chunk;
    }
}

static void cu_download(struct backend *be, void *host_dst, const void *src, size_t bytes)
{
    CUDA_IMPL_OR_RETURN(be);
    const unsigned char *s = (const unsigned char *)src;
    unsigned char *d = (unsigned char *)host_dst;
    while (bytes) {
        size_t chunk = bytes < STAGING_MAX ? bytes : STAGING_MAX;
        unsigned char *st = staging_take(im, chunk);
        if (!st)
            return;
        if (!CUDA_OK(im, cudaMemcpyAsync(st, s, chunk, cudaMemcpyDeviceToHost, im->stream)) ||
            !CUDA_OK(im, cudaStreamSynchronize(im->stream)))
            return;
        memcpy(d, st, chunk);
        im->staging_used = 0; /* the stream is idle: every region is free again */
        s += chunk;
        d += chunk;
        bytes -= chunk;
    }
}

static void cu_zero(struct backend *be, void *p, size_t bytes)
{
    CUDA_IMPL_OR_RETURN(be);
    if (bytes)
        CUDA_OK(im, cudaMemsetAsync(p, 0, bytes, im->stream));
}

static void cu_copy(struct backend *be, void *dst, const void *src, size_t bytes)
{
    CUDA_IMPL_OR_RETURN(be);
    if (!bytes || dst == src)
        return;
    const char *d = (const char *)dst, *s = (const char *)src;
    if (d < s + bytes && s < d + bytes) { /* cudaMemcpy must not overlap */
        cuda_record_failure(im, "copy", "overlapping buffers", __FILE__, __LINE__);
        return;
    }
    CUDA_OK(im, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, im->stream));
}

/* ---- matrix products ---------------------------------------------------------------
 * cuBLAS is column-major. A row-major M x N matrix with leading dimension ld
 * is, read column-major, its N x M transpose. So row-major C = op(A) op(B) is
 * column-major C^T = op(B)^T op(A)^T: swap the operands and m with n, keep
 * each operand's transpose flag and leading dimension. */

static cublasOperation_t blas_op(int trans)
{
    return trans ? CUBLAS_OP_T : CUBLAS_OP_N;
}

static void cu_matmul(struct backend *be, int trans_a, int trans_b, int m, int n, int k,
                      float alpha, const float *a, int lda, const float *b, int ldb, float beta,
                      float *c, int ldc)
{
    CUDA_IMPL_OR_RETURN(be);
    if (m <= 0 || n <= 0)
        return;
    CUBLAS_OK(im, cublasSgemm(im->blas, blas_op(trans_b), blas_op(trans_a), n, m, k, &alpha, b,
                              ldb, a, lda, &beta, c, ldc));
}

static void cu_matmul_batched(struct backend *be, int trans_a, int trans_b, int m, int n, int k,
                              float alpha, const float *a, int lda, long stride_a,
                              const float *b, int ldb, long stride_b, float beta, float *c,
                              int ldc, long stride_c, int batch)
{
    CUDA_IMPL_OR_RETURN(be);
    if (m <= 0 || n <= 0 || batch <= 0)
        return;
    CUBLAS_OK(im, cublasSgemmStridedBatched(im->blas, blas_op(trans_b), blas_op(trans_a), n, m,
                                            k, &alpha, b, ldb, stride_b, a, lda, stride_a,
                                            &beta, c, ldc, stride_c, batch));
}

/* ---- creation ------------------------------------------------------------------------ */

/* Fills im->desc from the device's properties and the versions in use. */
static int describe(struct cuda_impl *im)
{
    struct cudaDeviceProp prop;
    int drv = 0, rt = 0;
    if (!CUDA_OK(im, cudaGetDeviceProperties(&prop, im->device)) ||
        !CUDA_OK(im, cudaDriverGetVersion(&drv)) || !CUDA_OK(im, cudaRuntimeGetVersion(&rt)))
        return -1;
    snprintf(im->desc, sizeof im->desc, "%.255s (sm_%d%d, %.0f GiB, driver %d.%d, runtime %d.%d)",
             prop.name, prop.major, prop.minor, prop.totalGlobalMem / 1073741824.0, drv / 1000,
             drv % 1000 / 10, rt / 1000, rt % 1000 / 10);
    return 0;
}

extern "C" const char *backend_cuda_describe(const struct backend *be)
{
    if (!be || !be->name || strcmp(be->name, "cuda") != 0)
        return "";
    return ((const struct cuda_impl *)be->impl)->desc;
}

/* Picks device 0 (CUDA_VISIBLE_DEVICES chooses which one that is) and builds
 * the stream, handle and reduction buffers. Returns 0 or -1 (im->error). */
static int impl_init(struct cuda_impl *im)
{
    im->device = 0;
    if (!CUDA_OK(im, cudaSetDevice(im->device)) ||
        !CUDA_OK(im, cudaStreamCreateWithFlags(&im->stream, cudaStreamNonBlocking)) ||
        !CUBLAS_OK(im, cublasCreate(&im->blas)) ||
        !CUBLAS_OK(im, cublasSetStream(im->blas, im->stream)) ||
        !CUDA_OK(im, cudaMalloc((void **)&im->partials,
                                (CUDA_REDUCE_BLOCKS + 1) * sizeof(double))) ||
        !CUDA_OK(im, cudaMallocHost((void **)&im->host_sum, sizeof(double))))
        return -1;
    /* Full FP32 products (no TF32 on Ampere and later): results stay within
     * the tolerances of tests/test_cuda.c against the CPU reference. */
    if (!CUBLAS_OK(im, cublasSetMathMode(im->blas, CUBLAS_DEFAULT_MATH)))
        return -1;
    if (describe(im) < 0)
        return -1;
    return cuda_kernels_probe(im) ? 0 : -1;
}

static void install_ops(struct backend *be)
{
    be->name = "cuda";
    be->destroy = cu_destroy;
    be->check = cu_check;
    be->alloc = cu_alloc;
    be->free = cu_free;
    be->upload = cu_upload;
    be->download = cu_download;
    be->zero = cu_zero;
    be->copy = cu_copy;
    be->matmul = cu_matmul;
    be->matmul_batched = cu_matmul_batched;
    cuda_kernels_install(be);
}

/* The one line for a machine where CUDA cannot start. */
static int no_device(cudaError_t rc, struct fs_error *err)
{
    int rt = 0;
    if (rc == cudaErrorInsufficientDriver && cudaRuntimeGetVersion(&rt) == cudaSuccess)
        return fs_error_set(err,
                            "cuda: no CUDA device (no NVIDIA driver loaded, or one older "
                            "than this build's CUDA runtime %d.%d)",
                            rt / 1000, rt % 1000 / 10);
    return fs_error_set(err, "cuda: no CUDA device (%s)", cudaGetErrorString(rc));
}

/* The plugin entry point, found by cuda/backend_cuda_loader.c with dlsym. */
extern "C" int cuda_plugin_create(struct backend **out, struct fs_error *err)
{
    *out = NULL;
    int n = 0;
    cudaError_t rc = cudaGetDeviceCount(&n);
    if (rc != cudaSuccess) {
        (void)cudaGetLastError(); /* clear it: the process goes on with the CPU */
        return no_device(rc, err);
    }
    if (n <= 0)
        return fs_error_set(err, "cuda: no CUDA device (none found)");

    struct cuda_impl *im = (struct cuda_impl *)xcalloc(1, sizeof *im);
    if (impl_init(im) < 0) {
        fs_error_set(err, "%s", im->error);
        (void)cudaGetLastError();
        impl_release(im);
        return -1;
    }
    struct backend *be = (struct backend *)xcalloc(1, sizeof *be);
    be->impl = im;
    install_ops(be);
    *out = be;
    return 0;
}
