/*
 * backend.h — the small set of tensor ops the encoder needs, behind a table of
 * function pointers, so that the model (classify/model.c) is written once and
 * runs on the CPU (classify/backend_cpu.c, the readable reference) or on CUDA
 * (cuda/backend_cuda.cu, tested against the CPU one).
 *
 * Buffers. Every tensor lives in a backend buffer obtained from alloc(): a float
 * or int32_t array in the backend's memory (host memory for the CPU, device
 * memory for CUDA). Model code never dereferences such a pointer; it moves data
 * with upload()/download(). Pointer arithmetic inside a buffer is allowed (a
 * tensor at an offset of a larger arena is a valid argument).
 *
 * Layouts are row-major. Shapes in comments: N = B * T token rows, B sequences
 * padded to the batch's longest length T, C channels, H heads of D = C / H
 * channels, K logits per row (all heads' logits side by side).
 *
 * Gradients. Every *_backward op ACCUMULATES (+=) into each gradient it writes,
 * activation gradients included (as in llm.c): the caller zeroes gradient
 * buffers before a backward pass. matmul follows cblas_sgemm (beta chooses).
 *
 * Padding. lengths[b] (int32, in a backend buffer) is the number of real tokens
 * of sequence b (1 <= lengths[b] <= T); positions t >= lengths[b] are padding.
 * Attention never looks at padded keys; padded query rows of the attention
 * matrix are all zero (and get zero gradient).
 *
 * Errors. Ops return nothing; a backend that can fail asynchronously (CUDA)
 * records the first failure, reported by check(). alloc() returns NULL on
 * failure. Ops run in order on one stream; download() waits for them.
 *
 * Determinism. Dropout masks are a pure function of (seed, element index)
 * through fs_dropout_keep() in ops_math.h, so both backends drop the same
 * elements for the same seed.
 */
#ifndef FINSENT_BACKEND_H
#define FINSENT_BACKEND_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { BACKEND_MAX_HEADS_OUT = 4 }; /* classification heads in crossentropy ops */

struct backend {
    const char *name; /* "cpu" or "cuda" */
    void *impl;       /* backend-private state */

    /* ---- lifetime, memory ------------------------------------------------ */
    void (*destroy)(struct backend *be); /* frees be itself */
    /* Returns -1 (with the first recorded failure in err) if any op failed. */
    int (*check)(struct backend *be, struct fs_error *err);
    void *(*alloc)(struct backend *be, size_t bytes); /* zero-filled; NULL on failure */
    void (*free)(struct backend *be, void *p);
    void (*upload)(struct backend *be, void *dst, const void *host_src, size_t bytes);
    void (*download)(struct backend *be, void *host_dst, const void *src, size_t bytes);
    void (*zero)(struct backend *be, void *p, size_t bytes);
    void (*copy)(struct backend *be, void *dst, const void *src, size_t bytes);

    /* ---- matrix products ------------------------------------------------- */
    /* C = alpha * op(A) @ op(B) + beta * C, cblas_sgemm row-major semantics:
     * op(A) is M x K, op(B) is K x N, C is M x N; trans_a / trans_b nonzero
     * means the stored matrix is transposed (CblasTrans). */
    void (*matmul)(struct backend *be, int trans_a, int trans_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
    /* batch independent products; matrix i starts at a + i * stride_a, etc. */
    void (*matmul_batched)(struct backend *be, int trans_a, int trans_b, int m, int n, int k,
                           float alpha, const float *a, int lda, long stride_a, const float *b,
                           int ldb, long stride_b, float beta, float *c, int ldc, long stride_c,
                           int batch);

    /* ---- embedding: out[b,t,:] = wte[ids[b,t],:] + wpe[t,:] --------------- */
    void (*embedding_forward)(struct backend *be, float *out, const int32_t *ids, const float *wte,
                              const float *wpe, int B, int T, int C);
    void (*embedding_backward)(struct backend *be, float *dwte, float *dwpe, const float *dout,
                               const int32_t *ids, int B, int T, int C);

    /* ---- layer normalisation over the last dimension ---------------------- */
    /* rstd = 1 / sqrt(variance + eps); mean[N], rstd[N] are saved for the
     * backward pass. */
    void (*layernorm_forward)(struct backend *be, float *out, float *mean, float *rstd,
                              const float *inp, const float *weight, const float *bias, int N,
                              int C, float eps);
    void (*layernorm_backward)(struct backend *be, float *dinp, float *dweight, float *dbias,
                               const float *dout, const float *inp, const float *weight,
                               const float *mean, const float *rstd, int N, int C);

    /* ---- GELU (exact, erf form: torch.nn.GELU()) ------------------------- */
    void (*gelu_forward)(struct backend *be, float *out, const float *inp, size_t n);
    void (*gelu_backward)(struct backend *be, float *dinp, const float *inp, const float *dout,
                          size_t n);

    /* ---- bias and residual ----------------------------------------------- */
    /* out[n,o] += bias[o] for an N x OC matrix. */
    void (*bias_forward)(struct backend *be, float *out, const float *bias, int N, int OC);
    /* dbias[o] += sum over n of dout[n,o]. */
    void (*bias_backward)(struct backend *be, float *dbias, const float *dout, int N, int OC);
    /* out = a + b (out may alias a or b). */
    void (*residual_forward)(struct backend *be, float *out, const float *a, const float *b,
                             size_t n);
    /* da += dout; db += dout. */
    void (*residual_backward)(struct backend *be, float *da, float *db, const float *dout,
                              size_t n);

    /* ---- attention --------------------------------------------------------- */
    /* qkv [B,T,3C] (q | k | v, each H x D) -> q, k, v each [B,H,T,D]. */
    void (*split_heads_forward)(struct backend *be, float *q, float *k, float *v, const float *qkv,
                                int B, int T, int C, int H);
    void (*split_heads_backward)(struct backend *be, float *dqkv, const float *dq, const float *dk,
                                 const float *dv, int B, int T, int C, int H);
    /* y [B,H,T,D] -> out [B,T,C]. */
    void (*merge_heads_forward)(struct backend *be, float *out, const float *y, int B, int T, int C,
                                int H);
    void (*merge_heads_backward)(struct backend *be, float *dy, const float *dout, int B, int T,
                                 int C, int H);
    /* att[b,h,i,:] = softmax_j<len(scale * scores[b,h,i,j]) for i < len, rows i >= len
     * and columns j >= len are 0. scores, att: [B,H,T,T]; att may alias scores. */
    void (*softmax_forward)(struct backend *be, float *att, const float *scores,
                            const int32_t *lengths, int B, int H, int T, float scale);
    void (*softmax_backward)(struct backend *be, float *dscores, const float *datt,
                             const float *att, const int32_t *lengths, int B, int H, int T,
                             float scale);

    /* ---- attention pooling --------------------------------------------------
     * w[b,t] = softmax over t < len of (x[b,t,:] . q) (0 for padding);
     * pooled[b,:] = sum_t w[b,t] x[b,t,:]. x [B,T,C], q [C], w [B,T]. */
    void (*attnpool_forward)(struct backend *be, float *pooled, float *w, const float *x,
                             const float *q, const int32_t *lengths, int B, int T, int C);
    void (*attnpool_backward)(struct backend *be, float *dx, float *dq, const float *dpooled,
                              const float *x, const float *q, const float *w,
                              const int32_t *lengths, int B, int T, int C);

    /* ---- classification heads ---------------------------------------------
     * logits [B,K] hold n_heads heads side by side: head h is the columns
     * [off_h, off_h + sizes[h]) with off_h = sum of the earlier sizes.
     * Forward: probs[b, head h] = softmax of that head's logits, for every
     * head; if task[b] in [0, n_heads) and label[b] in [0, sizes[task]), then
     * losses[b] = cross-entropy of head task[b] against label[b] with label
     * smoothing eps (target 1-eps+eps/n on the label, eps/n elsewhere), else
     * losses[b] = 0 (unlabeled row). sizes[] is a host array.
     * Backward: dlogits[b, head task[b]] += dloss * (probs - target) for
     * labeled rows; nothing for the others. */
    void (*crossentropy_forward)(struct backend *be, float *losses, float *probs,
                                 const float *logits, const int32_t *task, const int32_t *label,
                                 int B, int n_heads, const int *sizes, float eps);
    void (*crossentropy_backward)(struct backend *be, float *dlogits, const float *probs,
                                  const int32_t *task, const int32_t *label, int B, int n_heads,
                                  const int *sizes, float eps, float dloss);

    /* ---- dropout ------------------------------------------------------------
     * out[i] = fs_dropout_keep(seed, i, p) ? inp[i] / (1 - p) : 0 (out may alias
     * inp); backward: dinp[i] += the same factor * dout[i]. p = 0 is a copy. */
    void (*dropout_forward)(struct backend *be, float *out, const float *inp, size_t n, float p,
                            uint64_t seed);
    void (*dropout_backward)(struct backend *be, float *dinp, const float *dout, size_t n, float p,
                             uint64_t seed);

    /* ---- optimiser ----------------------------------------------------------
     * sum of squares of x[0..n) (for gradient clipping), returned to the host. */
    double (*sum_squares)(struct backend *be, const float *x, size_t n);
    /* AdamW step t (1-based) on n parameters: g = grad_scale * grad; m, v moment
     * buffers; decoupled weight decay wd (fs_adamw_step in ops_math.h). */
    void (*adamw)(struct backend *be, float *param, const float *grad, float *m, float *v, size_t n,
                  float lr, float beta1, float beta2, float eps, float wd, float grad_scale, int t);

    /* ---- concurrency (optional: NULL when the backend runs one stream) ---- */
    /* Sets how many threads each matrix product may use and returns the
     * previous count. A backend that has it lets independent inference passes
     * (separate activations, shared read-only parameters) run on several
     * threads at once (classify/infer.c), each product then on one thread. */
    int (*set_threads)(struct backend *be, int n);
};

/* Creates a backend: "cpu", "cuda" or "auto" (CUDA when a device is usable,
 * else CPU; with verbose, logs which at LOG_INFO). Returns 0 or -1 (err says
 * why, e.g. "cuda: built without CUDA"). Release with be->destroy(be). */
int backend_create(const char *device, struct backend **out, int verbose, struct fs_error *err);

/* The CPU backend (classify/backend_cpu.c): OpenBLAS on every core. */
int backend_cpu_create(struct backend **out, struct fs_error *err);

/* The CUDA backend (cuda/backend_cuda.cu; cuda/backend_cuda_stub.c when built
 * with CUDA=0). Fails with a one-line reason when no device is usable. */
int backend_cuda_create(struct backend **out, struct fs_error *err);

#ifdef __cplusplus
}
#endif

#endif
