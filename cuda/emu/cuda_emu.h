/*
 * cuda_emu.h — a small CPU emulation of the part of the CUDA runtime and cuBLAS
 * that the .cu files of cuda/ use, so that the CUDA backend's kernels and host code can be
 * executed and tested against the CPU reference on a machine without a GPU
 * (cuda/emu/run.sh). It checks logic (indexing, reductions, synchronisation
 * within a block, stream ordering, transfer directions, cuBLAS argument rules),
 * not performance, and not every corner of the CUDA memory model.
 *
 * Model: one device; device memory is host memory tracked in a table; each
 * block runs as blockDim fibers on one OS thread (so __syncthreads and warp
 * shuffles are real barriers, and runs are deterministic); streams are queues executed in order at synchronisation
 * points (so code that reuses a host buffer before its async copy ran is
 * caught); cuBLAS sgemm is OpenBLAS in column-major order.
 *
 * Only for the emulation build: it is force-included (-include) by run.sh,
 * together with the preprocessing that turns <<<...>>> launches into
 * emu_launch() calls.
 */
#ifndef FINSENT_CUDA_EMU_H
#define FINSENT_CUDA_EMU_H

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <algorithm>
#include <functional>
#include <map>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __shared__ static

/* ---- launch geometry ------------------------------------------------------- */

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};

inline thread_local dim3 threadIdx, blockIdx, blockDim, gridDim;
inline thread_local void *emu_dyn_shared;

/* ---- runtime types ------------------------------------------------------------ */

enum cudaError_t {
    cudaSuccess = 0,
    cudaErrorInvalidValue = 1,
    cudaErrorMemoryAllocation = 2,
    cudaErrorInvalidConfiguration = 9,
    cudaErrorInsufficientDriver = 35,
};
enum cudaMemcpyKind {
    cudaMemcpyHostToDevice = 1,
    cudaMemcpyDeviceToHost = 2,
    cudaMemcpyDeviceToDevice = 3,
};
enum { cudaStreamNonBlocking = 1 };

struct emu_stream {
    std::vector<std::function<void()>> queue;
};
typedef emu_stream *cudaStream_t;

struct cudaDeviceProp {
    char name[256];
    int major, minor;
    size_t totalGlobalMem;
};

/* ---- device state ------------------------------------------------------------- */

struct emu_device {
    std::map<uintptr_t, size_t> device_mem, host_mem; /* start -> size */
    std::vector<emu_stream *> streams;
    cudaError_t last_error = cudaSuccess;
    std::vector<void *> *stacks = new std::vector<void *>; /* fiber stacks, reused */
    unsigned long launches = 0;
};

inline emu_device &emu() /* one instance across translation units */
{
    static emu_device d;
    return d;
}

[[noreturn]] static void emu_die(const char *what)
{
    fprintf(stderr, "cuda_emu: %s\n", what);
    abort();
}

/* Whether [p, p + n) lies inside one allocation of the table. */
static bool emu_inside(const std::map<uintptr_t, size_t> &m, const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p;
    auto it = m.upper_bound(a);
    if (it == m.begin())
        return false;
    --it;
    return a >= it->first && a + n <= it->first + it->second;
}

static void emu_run(emu_stream *s)
{
    std::vector<std::function<void()>> q;
    q.swap(s->queue);
    for (auto &f : q)
        f();
}

static void emu_sync_all()
{
    for (emu_stream *s : emu().streams)
        emu_run(s);
}

static const char *cudaGetErrorString(cudaError_t e)
{
    switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInsufficientDriver:
        return "CUDA driver version is insufficient for CUDA runtime version";
    }
    return "unknown error";
}

static cudaError_t cudaGetLastError()
{
    cudaError_t e = emu().last_error;
    emu().last_error = cudaSuccess;
    return e;
}

static cudaError_t cudaGetDeviceCount(int *n)
{
    const char *none = getenv("CUDA_EMU_NO_DEVICE");
    if (none && *none) {
        *n = 0;
        return cudaErrorInsufficientDriver;
    }
    *n = 1;
    return cudaSuccess;
}

static cudaError_t cudaSetDevice(int d)
{
    return d == 0 ? cudaSuccess : cudaErrorInvalidValue;
}

static cudaError_t cudaDriverGetVersion(int *v)
{
    *v = 13000;
    return cudaSuccess;
}

static cudaError_t cudaRuntimeGetVersion(int *v)
{
    *v = 13000;
    return cudaSuccess;
}

static cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int d)
{
    if (d != 0)
        return cudaErrorInvalidValue;
    snprintf(p->name, sizeof p->name, "cuda_emu");
    p->major = 7;
    p->minor = 5;
    p->totalGlobalMem = (size_t)1 << 30;
    return cudaSuccess;
}

static cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned)
{
    *s = new emu_stream;
    emu().streams.push_back(*s);
    return cudaSuccess;
}

static cudaError_t cudaStreamSynchronize(cudaStream_t s)
{
    emu_run(s);
    return cudaSuccess;
}

static cudaError_t cudaStreamDestroy(cudaStream_t s)
{
    emu_run(s);
    auto &v = emu().streams;
    for (size_t i = 0; i < v.size(); i++)
        if (v[i] == s)
            v.erase(v.begin() + i);
    delete s;
    return cudaSuccess;
}

static cudaError_t cudaMalloc(void **p, size_t n)
{
    if (!n) {
        *p = NULL;
        return cudaSuccess;
    }
    /* fill with garbage: reads of memory never written show up as NaNs */
    *p = malloc(n);
    if (!*p)
        return cudaErrorMemoryAllocation;
    memset(*p, 0xff, n);
    emu().device_mem[(uintptr_t)*p] = n;
    return cudaSuccess;
}

static cudaError_t cudaFree(void *p)
{
    emu_sync_all(); /* cudaFree waits for the device */
    if (!p)
        return cudaSuccess;
    if (!emu().device_mem.erase((uintptr_t)p))
        return cudaErrorInvalidValue;
    free(p);
    return cudaSuccess;
}

static cudaError_t cudaMallocHost(void **p, size_t n)
{
    *p = malloc(n ? n : 1);
    if (!*p)
        return cudaErrorMemoryAllocation;
    emu().host_mem[(uintptr_t)*p] = n;
    return cudaSuccess;
}

static cudaError_t cudaFreeHost(void *p)
{
    emu_sync_all();
    if (!emu().host_mem.erase((uintptr_t)p))
        return cudaErrorInvalidValue;
    free(p);
    return cudaSuccess;
}

static cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t s)
{
    if (n && !emu_inside(emu().device_mem, p, n))
        emu_die("cudaMemsetAsync outside device memory");
    s->queue.push_back([=] { memset(p, v, n); });
    return cudaSuccess;
}

static cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind k,
                                   cudaStream_t s)
{
    bool dd = emu_inside(emu().device_mem, dst, n), sd = emu_inside(emu().device_mem, src, n);
    if ((k == cudaMemcpyHostToDevice && (!dd || sd)) ||
        (k == cudaMemcpyDeviceToHost && (dd || !sd)) ||
        (k == cudaMemcpyDeviceToDevice && (!dd || !sd)))
        emu_die("cudaMemcpyAsync: pointers do not match the copy direction");
    if (k != cudaMemcpyDeviceToDevice) { /* async copies need pinned host memory */
        const void *host = k == cudaMemcpyHostToDevice ? src : dst;
        if (!emu_inside(emu().host_mem, host, n))
            emu_die("cudaMemcpyAsync: host side is not pinned (cudaMallocHost) memory");
    }
    s->queue.push_back([=] { memmove(dst, src, n); });
    return cudaSuccess;
}

/* ---- kernels: a block is a set of fibers -------------------------------------------
 * Each thread of a block is a fiber (ucontext) on one OS thread. A fiber runs
 * until it finishes or waits at a barrier (__syncthreads, or a warp's
 * shuffle); when no fiber can run, some threads wait at a barrier the others
 * never reach: a deadlock, which aborts. */

struct emu_barrier;

struct emu_fiber {
    ucontext_t ctx; /* to start it */
    jmp_buf jb;     /* to resume it: no signal-mask system call per switch */
    unsigned tid;
    bool started, done;
    unsigned shuffles; /* shuffles so far: picks the exchange buffer */
    emu_barrier *waiting; /* the barrier it waits at, or NULL */
    unsigned long waiting_gen;
    void *stack;
    void *fake_stack; /* ASan bookkeeping while switched out */
};

/* A barrier; a thread that has finished no longer counts. */
struct emu_barrier {
    int size = 0, expected = 0, arrived = 0; /* threads in all, still running, waiting */
    unsigned long gen = 0;
};

struct emu_block {
    dim3 grid, dim, idx;
    std::vector<emu_fiber> fibers;
    emu_barrier block;
    std::vector<emu_barrier> warps;
    std::vector<uint64_t> lanes; /* shuffle exchange: two buffers of one slot per thread */
    std::vector<unsigned char> shared;
    const std::function<void()> *kernel;
    jmp_buf sched;
    const void *sched_bottom;
    size_t sched_size;
    void *sched_fake_stack;
    unsigned cur;
    unsigned long order;
};

inline thread_local emu_block *emu_cur_block;
enum { EMU_STACK = 256 * 1024 };

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define EMU_START_SWITCH(save, bottom, size) __sanitizer_start_switch_fiber(save, bottom, size)
#define EMU_FINISH_SWITCH(save, bottom, size) __sanitizer_finish_switch_fiber(save, bottom, size)
#else
#define EMU_START_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#define EMU_FINISH_SWITCH(save, bottom, size) ((void)(save), (void)(bottom), (void)(size))
#endif

/* From the running fiber back to the block's scheduler. */
static void emu_yield()
{
    emu_block *b = emu_cur_block;
    emu_fiber *f = &b->fibers[b->cur];
    EMU_START_SWITCH(f->done ? NULL : &f->fake_stack, b->sched_bottom, b->sched_size);
    if (!_setjmp(f->jb))
        _longjmp(b->sched, 1);
    EMU_FINISH_SWITCH(f->fake_stack, &b->sched_bottom, &b->sched_size);
}

static void emu_barrier_wait(emu_barrier *br)
{
    unsigned long g = br->gen;
    if (++br->arrived == br->expected) {
        br->arrived = 0;
        br->gen++;
        return;
    }
    emu_fiber *f = &emu_cur_block->fibers[emu_cur_block->cur];
    f->waiting = br;
    f->waiting_gen = g;
    while (br->gen == g)
        emu_yield();
    f->waiting = NULL;
}

static void emu_barrier_leave(emu_barrier *br)
{
    br->expected--;
    if (br->arrived && br->arrived == br->expected) {
        br->arrived = 0;
        br->gen++;
    }
}

static void __syncthreads()
{
    emu_barrier_wait(&emu_cur_block->block);
}

template <typename T> static T __shfl_xor_sync(unsigned lanes, T v, int mask)
{
    static_assert(sizeof(T) <= 8, "shuffle of a wide type");
    emu_block *b = emu_cur_block;
    unsigned tid = b->fibers[b->cur].tid, warp = tid / 32;
    /* the kernels shuffle with every lane: all of the warp must still run */
    if (lanes != 0xffffffffu || b->warps[warp].size != 32 ||
        b->warps[warp].expected != b->warps[warp].size)
        emu_die("__shfl_xor_sync: not every lane of a full warp takes part");
    unsigned partner = (tid & ~31u) | ((tid & 31u) ^ (unsigned)mask);
    if (partner >= b->lanes.size() / 2)
        emu_die("__shfl_xor_sync: partner lane outside the block");
    /* Alternate buffers: one barrier per shuffle suffices, as no lane can be
     * two shuffles ahead of another. */
    size_t base = (b->fibers[b->cur].shuffles++ & 1) * (b->lanes.size() / 2);
    memcpy(&b->lanes[base + tid], &v, sizeof v);
    emu_barrier_wait(&b->warps[warp]);
    T r;
    memcpy(&r, &b->lanes[base + partner], sizeof r);
    return r;
}

/* One thread at a time runs, so atomics are plain read-modify-writes. */
static float atomicAdd(float *p, float v)
{
    float old = *p;
    *p = old + v;
    return old;
}

static double atomicAdd(double *p, double v)
{
    double old = *p;
    *p = old + v;
    return old;
}

static void emu_fiber_main()
{
    emu_block *b = emu_cur_block;
    emu_fiber *f = &b->fibers[b->cur];
    EMU_FINISH_SWITCH(NULL, &b->sched_bottom, &b->sched_size);
    (*b->kernel)();
    f->done = true;
    emu_barrier_leave(&b->warps[f->tid / 32]);
    emu_barrier_leave(&b->block);
    emu_yield(); /* never resumed */
}

static void emu_set_thread(emu_block *b, unsigned t)
{
    threadIdx = dim3(t % b->dim.x, t / b->dim.x % b->dim.y, t / (b->dim.x * b->dim.y));
    blockIdx = b->idx;
    blockDim = b->dim;
    gridDim = b->grid;
    emu_dyn_shared = b->shared.data();
    b->cur = t;
}

/* Runs fiber f until it waits at a barrier or finishes. Its own frame holds
 * the scheduler's jump buffer, so no local of the caller can be clobbered. */
__attribute__((noinline)) static void emu_switch_in(emu_block *b, emu_fiber *f)
{
    EMU_START_SWITCH(&b->sched_fake_stack, f->stack, EMU_STACK);
    if (!_setjmp(b->sched)) {
        if (f->started)
            _longjmp(f->jb, 1);
        f->started = true;
        setcontext(&f->ctx);
    }
    EMU_FINISH_SWITCH(b->sched_fake_stack, NULL, NULL);
}

static void emu_run_block(emu_block *b, std::vector<void *> &stacks)
{
    unsigned n = b->dim.x * b->dim.y * b->dim.z;
    b->block = emu_barrier();
    b->block.expected = (int)n;
    b->warps.assign((n + 31) / 32, emu_barrier());
    for (unsigned w = 0; w < b->warps.size(); w++)
        b->warps[w].size = b->warps[w].expected = (int)(n - 32 * w < 32 ? n - 32 * w : 32);
    b->lanes.assign(2 * (size_t)n, 0);
    std::fill(b->shared.begin(), b->shared.end(), 0xff);
    b->fibers.assign(n, emu_fiber());
    while (stacks.size() < n) { /* mmap: never freed, and not reported as leaks */
        void *st = mmap(NULL, EMU_STACK, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
        if (st == MAP_FAILED)
            emu_die("cannot map a fiber stack");
        stacks.push_back(st);
    }
    for (unsigned t = 0; t < n; t++) {
        emu_fiber *f = &b->fibers[t];
        f->tid = t;
        f->stack = stacks[t];
        getcontext(&f->ctx);
        f->ctx.uc_stack.ss_sp = f->stack;
        f->ctx.uc_stack.ss_size = EMU_STACK;
        f->ctx.uc_link = NULL;
        makecontext(&f->ctx, emu_fiber_main, 0);
    }
    emu_cur_block = b;
    /* Always resume the first runnable thread in this block's order: a warp
     * runs ahead of the others until a real barrier stops it, so a missing
     * __syncthreads shows up as a wrong result. The order alternates between
     * ascending and descending thread ids from block to block. */
    bool descending = b->order & 1;
    for (unsigned left = n; left;) {
        unsigned pick = n;
        for (unsigned i = 0; i < n && pick == n; i++) {
            unsigned t = descending ? n - 1 - i : i;
            emu_fiber *f = &b->fibers[t];
            if (!f->done && (!f->waiting || f->waiting->gen != f->waiting_gen))
                pick = t;
        }
        if (pick == n)
            emu_die("deadlock: a barrier (__syncthreads or a shuffle) that some threads "
                    "of the block never reach");
        emu_set_thread(b, pick);
        emu_switch_in(b, &b->fibers[pick]);
        left -= b->fibers[pick].done;
    }
    emu_cur_block = NULL;
}

template <typename F> static void emu_run_grid(dim3 g, dim3 b, size_t shmem, F f)
{
    std::function<void()> kernel(f);
    emu_block blk;
    blk.grid = g;
    blk.dim = b;
    blk.kernel = &kernel;
    blk.shared.assign(shmem + 1, 0);
    for (unsigned z = 0; z < g.z; z++)
        for (unsigned y = 0; y < g.y; y++)
            for (unsigned x = 0; x < g.x; x++) {
                blk.idx = dim3(x, y, z);
                blk.order = emu().launches + x + y + z;
                emu_run_block(&blk, *emu().stacks);
            }
    emu().launches++;
}

/* kernel<<<g, b, shmem, stream>>>(args) becomes emu_launch(g, b, shmem, stream, lambda). */
template <typename F> static void emu_launch(dim3 g, dim3 b, size_t shmem, cudaStream_t s, F f)
{
    unsigned n = b.x * b.y * b.z;
    if (!g.x || !g.y || !g.z || !n || n > 1024 || shmem > 48 * 1024 || g.y > 65535 ||
        g.z > 65535) {
        emu().last_error = cudaErrorInvalidConfiguration;
        return;
    }
    s->queue.push_back([=] { emu_run_grid(g, b, shmem, f); });
}

/* A kernel without barriers or shuffles (preprocess.py decides): its threads
 * run one after another on the calling thread, block by block. */
template <typename F> static void emu_launch_plain(dim3 g, dim3 b, size_t shmem, cudaStream_t s,
                                                   F f)
{
    unsigned n = b.x * b.y * b.z;
    if (!g.x || !g.y || !g.z || !n || n > 1024 || shmem > 48 * 1024 || g.y > 65535 ||
        g.z > 65535) {
        emu().last_error = cudaErrorInvalidConfiguration;
        return;
    }
    s->queue.push_back([=] {
        std::vector<unsigned char> shared(shmem + 1, 0xff);
        for (unsigned z = 0; z < g.z; z++)
            for (unsigned y = 0; y < g.y; y++)
                for (unsigned x = 0; x < g.x; x++)
                    for (unsigned t = 0; t < n; t++) {
                        threadIdx = dim3(t % b.x, t / b.x % b.y, t / (b.x * b.y));
                        blockIdx = dim3(x, y, z);
                        blockDim = b;
                        gridDim = g;
                        emu_dyn_shared = shared.data();
                        f();
                    }
        emu().launches++;
    });
}

/* ---- cuBLAS ------------------------------------------------------------------------ */

enum cublasStatus_t {
    CUBLAS_STATUS_SUCCESS = 0,
    CUBLAS_STATUS_NOT_INITIALIZED = 1,
    CUBLAS_STATUS_INVALID_VALUE = 7,
};
enum cublasOperation_t { CUBLAS_OP_N = 0, CUBLAS_OP_T = 1 };
enum cublasMath_t { CUBLAS_DEFAULT_MATH = 0 };

struct emu_blas {
    cudaStream_t stream;
};
typedef emu_blas *cublasHandle_t;

static const char *cublasGetStatusString(cublasStatus_t s)
{
    switch (s) {
    case CUBLAS_STATUS_SUCCESS: return "the operation completed successfully";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "the library was not initialized";
    case CUBLAS_STATUS_INVALID_VALUE: return "an invalid value was used as an argument";
    }
    return "unknown error";
}

static cublasStatus_t cublasCreate(cublasHandle_t *h)
{
    *h = new emu_blas{NULL};
    return CUBLAS_STATUS_SUCCESS;
}

static cublasStatus_t cublasDestroy(cublasHandle_t h)
{
    delete h;
    return CUBLAS_STATUS_SUCCESS;
}

static cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s)
{
    h->stream = s;
    return CUBLAS_STATUS_SUCCESS;
}

static cublasStatus_t cublasSetMathMode(cublasHandle_t, cublasMath_t)
{
    return CUBLAS_STATUS_SUCCESS;
}

/* cuBLAS's argument rules (column-major): lda >= rows of the stored A, etc. */
static bool emu_gemm_args_ok(cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
                             int lda, int ldb, int ldc)
{
    int ra = ta == CUBLAS_OP_N ? m : k, rb = tb == CUBLAS_OP_N ? k : n;
    return m >= 0 && n >= 0 && k >= 0 && lda >= (ra > 1 ? ra : 1) && ldb >= (rb > 1 ? rb : 1) &&
           ldc >= (m > 1 ? m : 1);
}

static cublasStatus_t cublasSgemmStridedBatched(cublasHandle_t h, cublasOperation_t ta,
                                                cublasOperation_t tb, int m, int n, int k,
                                                const float *alpha, const float *a, int lda,
                                                long long sa, const float *b, int ldb,
                                                long long sb, const float *beta, float *c,
                                                int ldc, long long sc, int batch)
{
    if (!h->stream)
        return CUBLAS_STATUS_NOT_INITIALIZED;
    if (!emu_gemm_args_ok(ta, tb, m, n, k, lda, ldb, ldc) || batch < 0)
        return CUBLAS_STATUS_INVALID_VALUE;
    float al = *alpha, be = *beta;
    h->stream->queue.push_back([=] {
        for (int i = 0; i < batch; i++)
            cblas_sgemm(CblasColMajor, ta == CUBLAS_OP_T ? CblasTrans : CblasNoTrans,
                        tb == CUBLAS_OP_T ? CblasTrans : CblasNoTrans, m, n, k, al, a + i * sa,
                        lda, b + i * sb, ldb, be, c + i * sc, ldc);
    });
    return CUBLAS_STATUS_SUCCESS;
}

static cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
                                  int m, int n, int k, const float *alpha, const float *a,
                                  int lda, const float *b, int ldb, const float *beta, float *c,
                                  int ldc)
{
    return cublasSgemmStridedBatched(h, ta, tb, m, n, k, alpha, a, lda, 0, b, ldb, 0, beta, c,
                                     ldc, 0, 1);
}

#endif
