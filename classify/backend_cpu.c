/*
 * backend_cpu.c — the CPU backend: the readable reference for every op of
 * classify/backend.h. Matrix products go through OpenBLAS (cblas_sgemm, all
 * cores); every other op is a plain loop the compiler vectorises. Each op's
 * forward sits beside its backward. Backward ops accumulate (+=).
 */
#include "classify/backend.h"
#include "classify/ops_math.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- lifetime, memory ---------------------------------------------------- */

static void cpu_destroy(struct backend *be)
{
    free(be);
}

static int cpu_check(struct backend *be, struct fs_error *err)
{
    (void)be;
    (void)err;
    return 0;
}

static void *cpu_alloc(struct backend *be, size_t bytes)
{
    (void)be;
    return calloc(1, bytes ? bytes : 1);
}

static void cpu_free(struct backend *be, void *p)
{
    (void)be;
    free(p);
}

static void cpu_copy(struct backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (bytes)
        memmove(dst, src, bytes);
}

static void cpu_zero(struct backend *be, void *p, size_t bytes)
{
    (void)be;
    if (bytes)
        memset(p, 0, bytes);
}

/* ---- matrix products ------------------------------------------------------ */

static void cpu_matmul(struct backend *be, int trans_a, int trans_b, int m, int n, int k,
                       float alpha, const float *a, int lda, const float *b, int ldb, float beta,
                       float *c, int ldc)
{
    (void)be;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void cpu_matmul_batched(struct backend *be, int trans_a, int trans_b, int m, int n, int k,
                               float alpha, const float *a, int lda, long stride_a, const float *b,
                               int ldb, long stride_b, float beta, float *c, int ldc, long stride_c,
                               int batch)
{
    for (int i = 0; i < batch; i++)
        cpu_matmul(be, trans_a, trans_b, m, n, k, alpha, a + i * stride_a, lda, b + i * stride_b,
                   ldb, beta, c + i * stride_c, ldc);
}

/* ---- embedding ------------------------------------------------------------ */

static void cpu_embedding_forward(struct backend *be, float *out, const int32_t *ids,
                                  const float *wte, const float *wpe, int B, int T, int C)
{
    (void)be;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *o = out + ((size_t)b * T + t) * C;
            const float *e = wte + (size_t)ids[b * T + t] * C;
            const float *p = wpe + (size_t)t * C;
            for (int i = 0; i < C; i++)
                o[i] = e[i] + p[i];
        }
}

static void cpu_embedding_backward(struct backend *be, float *dwte, float *dwpe, const float *dout,
                                   const int32_t *ids, int B, int T, int C)
{
    (void)be;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *d = dout + ((size_t)b * T + t) * C;
            float *de = dwte + (size_t)ids[b * T + t] * C;
            float *dp = dwpe + (size_t)t * C;
            for (int i = 0; i < C; i++) {
                de[i] += d[i];
                dp[i] += d[i];
            }
        }
}

/* ---- layer normalisation ---------------------------------------------------- */

static void cpu_layernorm_forward(struct backend *be, float *out, float *mean, float *rstd,
                                  const float *inp, const float *weight, const float *bias, int N,
                                  int C, float eps)
{
    (void)be;
    for (int r = 0; r < N; r++) {
        const float *x = inp + (size_t)r * C;
        float *o = out + (size_t)r * C;
        float s = 0.0f;
        for (int i = 0; i < C; i++)
            s += x[i];
        float mu = s / C;
        float v = 0.0f;
        for (int i = 0; i < C; i++)
            v += (x[i] - mu) * (x[i] - mu);
        float rs = fs_ln_rstd(v / C, eps);
        for (int i = 0; i < C; i++)
            o[i] = fs_ln_norm(x[i], mu, rs) * weight[i] + bias[i];
        mean[r] = mu;
        rstd[r] = rs;
    }
}

static void cpu_layernorm_backward(struct backend *be, float *dinp, float *dweight, float *dbias,
                                   const float *dout, const float *inp, const float *weight,
                                   const float *mean, const float *rstd, int N, int C)
{
    (void)be;
    for (int r = 0; r < N; r++) {
        const float *x = inp + (size_t)r * C;
        const float *d = dout + (size_t)r * C;
        float *dx = dinp + (size_t)r * C;
        float mu = mean[r], rs = rstd[r];
        float dn = 0.0f, dnx = 0.0f;
        for (int i = 0; i < C; i++) {
            float xhat = fs_ln_norm(x[i], mu, rs);
            float dw = d[i] * weight[i];
            dn += dw;
            dnx += dw * xhat;
        }
        dn /= C;
        dnx /= C;
        for (int i = 0; i < C; i++) {
            float xhat = fs_ln_norm(x[i], mu, rs);
            dbias[i] += d[i];
            dweight[i] += d[i] * xhat;
            dx[i] += fs_ln_dinp(d[i] * weight[i], xhat, dn, dnx, rs);
        }
    }
}

/* ---- GELU ------------------------------------------------------------------- */

static void cpu_gelu_forward(struct backend *be, float *out, const float *inp, size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        out[i] = fs_gelu(inp[i]);
}

static void cpu_gelu_backward(struct backend *be, float *dinp, const float *inp, const float *dout,
                              size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        dinp[i] += fs_gelu_grad(inp[i]) * dout[i];
}

/* ---- bias, residual ------------------------------------------------------------ */

static void cpu_bias_forward(struct backend *be, float *out, const float *bias, int N, int OC)
{
    (void)be;
    for (int r = 0; r < N; r++) {
        float *o = out + (size_t)r * OC;
        for (int i = 0; i < OC; i++)
            o[i] += bias[i];
    }
}

static void cpu_bias_backward(struct backend *be, float *dbias, const float *dout, int N, int OC)
{
    (void)be;
    for (int r = 0; r < N; r++) {
        const float *d = dout + (size_t)r * OC;
        for (int i = 0; i < OC; i++)
            dbias[i] += d[i];
    }
}

static void cpu_residual_forward(struct backend *be, float *out, const float *a, const float *b,
                                 size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++)
        out[i] = a[i] + b[i];
}

static void cpu_residual_backward(struct backend *be, float *da, float *db, const float *dout,
                                  size_t n)
{
    (void)be;
    for (size_t i = 0; i < n; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

/* ---- attention: head permutations ------------------------------------------------ */

static void cpu_split_heads_forward(struct backend *be, float *q, float *k, float *v,
                                    const float *qkv, int B, int T, int C, int H)
{
    (void)be;
    int D = C / H;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *row = qkv + ((size_t)b * T + t) * 3 * C;
            for (int h = 0; h < H; h++) {
                size_t o = (((size_t)b * H + h) * T + t) * D;
                memcpy(q + o, row + h * D, D * sizeof(float));
                memcpy(k + o, row + C + h * D, D * sizeof(float));
                memcpy(v + o, row + 2 * C + h * D, D * sizeof(float));
            }
        }
}

static void cpu_split_heads_backward(struct backend *be, float *dqkv, const float *dq,
                                     const float *dk, const float *dv, int B, int T, int C, int H)
{
    (void)be;
    int D = C / H;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            float *row = dqkv + ((size_t)b * T + t) * 3 * C;
            for (int h = 0; h < H; h++) {
                size_t o = (((size_t)b * H + h) * T + t) * D;
                for (int i = 0; i < D; i++) {
                    row[h * D + i] += dq[o + i];
                    row[C + h * D + i] += dk[o + i];
                    row[2 * C + h * D + i] += dv[o + i];
                }
            }
        }
}

static void cpu_merge_heads_forward(struct backend *be, float *out, const float *y, int B, int T,
                                    int C, int H)
{
    (void)be;
    int D = C / H;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++)
                memcpy(out + ((size_t)b * T + t) * C + h * D, y + (((size_t)b * H + h) * T + t) * D,
                       D * sizeof(float));
}

static void cpu_merge_heads_backward(struct backend *be, float *dy, const float *dout, int B, int T,
                                     int C, int H)
{
    (void)be;
    int D = C / H;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < H; h++) {
                const float *d = dout + ((size_t)b * T + t) * C + h * D;
                float *o = dy + (((size_t)b * H + h) * T + t) * D;
                for (int i = 0; i < D; i++)
                    o[i] += d[i];
            }
}

/* ---- attention: masked softmax ------------------------------------------------------ */

/* Softmax of scale * x over the first len entries of a row of T; the rest 0. */
static void softmax_row(float *y, const float *x, int len, int T, float scale)
{
    float max = -INFINITY;
    for (int j = 0; j < len; j++)
        max = fmaxf(max, scale * x[j]);
    float sum = 0.0f;
    for (int j = 0; j < len; j++) {
        y[j] = fs_softmax_exp(scale * x[j], max);
        sum += y[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < len; j++)
        y[j] *= inv;
    for (int j = len; j < T; j++)
        y[j] = 0.0f;
}

/* dx += scale * softmax backward over the first len entries. */
static void softmax_row_backward(float *dx, const float *dy, const float *y, int len, float scale)
{
    float dot = 0.0f;
    for (int j = 0; j < len; j++)
        dot += y[j] * dy[j];
    for (int j = 0; j < len; j++)
        dx[j] += scale * fs_softmax_grad(y[j], dy[j], dot);
}

static void cpu_softmax_forward(struct backend *be, float *att, const float *scores,
                                const int32_t *lengths, int B, int H, int T, float scale)
{
    (void)be;
    for (int b = 0; b < B; b++) {
        int len = lengths[b];
        for (int h = 0; h < H; h++)
            for (int i = 0; i < T; i++) {
                size_t o = (((size_t)b * H + h) * T + i) * T;
                if (i < len)
                    softmax_row(att + o, scores + o, len, T, scale);
                else
                    memset(att + o, 0, T * sizeof(float));
            }
    }
}

static void cpu_softmax_backward(struct backend *be, float *dscores, const float *datt,
                                 const float *att, const int32_t *lengths, int B, int H, int T,
                                 float scale)
{
    (void)be;
    for (int b = 0; b < B; b++) {
        int len = lengths[b];
        for (int h = 0; h < H; h++)
            for (int i = 0; i < len; i++) {
                size_t o = (((size_t)b * H + h) * T + i) * T;
                softmax_row_backward(dscores + o, datt + o, att + o, len, scale);
            }
    }
}

/* ---- attention pooling ------------------------------------------------------------------ */

static void cpu_attnpool_forward(struct backend *be, float *pooled, float *w, const float *x,
                                 const float *q, const int32_t *lengths, int B, int T, int C)
{
    (void)be;
    for (int b = 0; b < B; b++) {
        int len = lengths[b];
        const float *xb = x + (size_t)b * T * C;
        float *wb = w + (size_t)b * T;
        float *pb = pooled + (size_t)b * C;
        for (int t = 0; t < len; t++) {
            float s = 0.0f;
            for (int i = 0; i < C; i++)
                s += xb[(size_t)t * C + i] * q[i];
            wb[t] = s;
        }
        softmax_row(wb, wb, len, T, 1.0f);
        for (int i = 0; i < C; i++)
            pb[i] = 0.0f;
        for (int t = 0; t < len; t++)
            for (int i = 0; i < C; i++)
                pb[i] += wb[t] * xb[(size_t)t * C + i];
    }
}

static void cpu_attnpool_backward(struct backend *be, float *dx, float *dq, const float *dpooled,
                                  const float *x, const float *q, const float *w,
                                  const int32_t *lengths, int B, int T, int C)
{
    (void)be;
    for (int b = 0; b < B; b++) {
        int len = lengths[b];
        const float *xb = x + (size_t)b * T * C;
        const float *wb = w + (size_t)b * T;
        const float *dp = dpooled + (size_t)b * C;
        float *dxb = dx + (size_t)b * T * C;
        /* dw[t] = dpooled . x[t]; ds = softmax backward of dw */
        float dot = 0.0f;
        for (int t = 0; t < len; t++) {
            float dw = 0.0f;
            for (int i = 0; i < C; i++)
                dw += dp[i] * xb[(size_t)t * C + i];
            dot += wb[t] * dw;
        }
        for (int t = 0; t < len; t++) {
            const float *xt = xb + (size_t)t * C;
            float *dxt = dxb + (size_t)t * C;
            float dw = 0.0f;
            for (int i = 0; i < C; i++)
                dw += dp[i] * xt[i];
            float ds = fs_softmax_grad(wb[t], dw, dot);
            for (int i = 0; i < C; i++) {
                dxt[i] += wb[t] * dp[i] + ds * q[i];
                dq[i] += ds * xt[i];
            }
        }
    }
}

/* ---- classification heads ---------------------------------------------------------------- */

static int head_offset(const int *sizes, int h)
{
    int off = 0;
    for (int i = 0; i < h; i++)
        off += sizes[i];
    return off;
}

static int head_total(int n_heads, const int *sizes)
{
    return head_offset(sizes, n_heads);
}

/* The smoothed target probability of class j for a row labelled `label`. */
static float smooth_target(int j, int label, int n, float eps)
{
    return (j == label ? 1.0f - eps : 0.0f) + eps / n;
}

static void cpu_crossentropy_forward(struct backend *be, float *losses, float *probs,
                                     const float *logits, const int32_t *task, const int32_t *label,
                                     int B, int n_heads, const int *sizes, float eps)
{
    (void)be;
    int K = head_total(n_heads, sizes);
    for (int b = 0; b < B; b++) {
        const float *lg = logits + (size_t)b * K;
        float *pr = probs + (size_t)b * K;
        for (int h = 0; h < n_heads; h++) {
            int off = head_offset(sizes, h);
            softmax_row(pr + off, lg + off, sizes[h], sizes[h], 1.0f);
        }
        losses[b] = 0.0f;
        int t = task[b];
        if (t < 0 || t >= n_heads || label[b] < 0 || label[b] >= sizes[t])
            continue;
        int off = head_offset(sizes, t);
        float max = -INFINITY, sum = 0.0f;
        for (int j = 0; j < sizes[t]; j++)
            max = fmaxf(max, lg[off + j]);
        for (int j = 0; j < sizes[t]; j++)
            sum += expf(lg[off + j] - max);
        float lse = max + logf(sum), loss = 0.0f;
        for (int j = 0; j < sizes[t]; j++)
            loss -= smooth_target(j, label[b], sizes[t], eps) * (lg[off + j] - lse);
        losses[b] = loss;
    }
}

static void cpu_crossentropy_backward(struct backend *be, float *dlogits, const float *probs,
                                      const int32_t *task, const int32_t *label, int B, int n_heads,
                                      const int *sizes, float eps, float dloss)
{
    (void)be;
    int K = head_total(n_heads, sizes);
    for (int b = 0; b < B; b++) {
        int t = task[b];
        if (t < 0 || t >= n_heads || label[b] < 0 || label[b] >= sizes[t])
            continue;
        int off = head_offset(sizes, t);
        const float *pr = probs + (size_t)b * K + off;
        float *dl = dlogits + (size_t)b * K + off;
        for (int j = 0; j < sizes[t]; j++)
            dl[j] += dloss * (pr[j] - smooth_target(j, label[b], sizes[t], eps));
    }
}

/* ---- dropout ---------------------------------------------------------------------------- */

static void cpu_dropout_forward(struct backend *be, float *out, const float *inp, size_t n, float p,
                                uint64_t seed)
{
    (void)be;
    if (p <= 0.0f) {
        if (out != inp)
            memmove(out, inp, n * sizeof(float));
        return;
    }
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        out[i] = fs_dropout_keep(seed, i, p) ? inp[i] * scale : 0.0f;
}

static void cpu_dropout_backward(struct backend *be, float *dinp, const float *dout, size_t n,
                                 float p, uint64_t seed)
{
    (void)be;
    float scale = p > 0.0f ? 1.0f / (1.0f - p) : 1.0f;
    for (size_t i = 0; i < n; i++)
        if (p <= 0.0f || fs_dropout_keep(seed, i, p))
            dinp[i] += dout[i] * scale;
}

/* ---- optimiser ---------------------------------------------------------------------------- */

/* Eight partial sums, so that the compiler can keep them in vector registers
 * (bench_ops, "clip norm": 16.4 ms a training step as one serial sum, 2.4 ms this
 * way); in double, so the order hardly matters: about 1e-11 relative. */
enum { SUM_SQUARES_LANES = 8 };

static double cpu_sum_squares(struct backend *be, const float *x, size_t n)
{
    (void)be;
    double lane[SUM_SQUARES_LANES] = {0.0};
    size_t i = 0;
    for (; i + SUM_SQUARES_LANES <= n; i += SUM_SQUARES_LANES)
        for (int k = 0; k < SUM_SQUARES_LANES; k++)
            lane[k] += (double)x[i + k] * x[i + k];
    double s = 0.0;
    for (; i < n; i++)
        s += (double)x[i] * x[i];
    for (int k = 0; k < SUM_SQUARES_LANES; k++)
        s += lane[k];
    return s;
}

static void cpu_adamw(struct backend *be, float *param, const float *grad, float *m, float *v,
                      size_t n, float lr, float beta1, float beta2, float eps, float wd,
                      float grad_scale, int t)
{
    (void)be;
    float c1 = fs_adamw_correction(beta1, t), c2 = fs_adamw_correction(beta2, t);
    for (size_t i = 0; i < n; i++)
        param[i] = fs_adamw_step(param[i], grad[i] * grad_scale, &m[i], &v[i], lr, beta1, beta2,
                                 eps, wd, c1, c2);
}

/* ---- registry entry ---------------------------------------------------------------------------
 */

static int cpu_set_threads(struct backend *be, int n)
{
    (void)be;
    int was = openblas_get_num_threads();
    openblas_set_num_threads(n);
    return was;
}

int backend_cpu_create(struct backend **out, struct fs_error *err)
{
    (void)err;
    struct backend *be = xcalloc(1, sizeof *be);
    be->name = "cpu";
    be->set_threads = cpu_set_threads;
    be->destroy = cpu_destroy;
    be->check = cpu_check;
    be->alloc = cpu_alloc;
    be->free = cpu_free;
    be->upload = cpu_copy;
    be->download = cpu_copy;
    be->zero = cpu_zero;
    be->copy = cpu_copy;
    be->matmul = cpu_matmul;
    be->matmul_batched = cpu_matmul_batched;
    be->embedding_forward = cpu_embedding_forward;
    be->embedding_backward = cpu_embedding_backward;
    be->layernorm_forward = cpu_layernorm_forward;
    be->layernorm_backward = cpu_layernorm_backward;
    be->gelu_forward = cpu_gelu_forward;
    be->gelu_backward = cpu_gelu_backward;
    be->bias_forward = cpu_bias_forward;
    be->bias_backward = cpu_bias_backward;
    be->residual_forward = cpu_residual_forward;
    be->residual_backward = cpu_residual_backward;
    be->split_heads_forward = cpu_split_heads_forward;
    be->split_heads_backward = cpu_split_heads_backward;
    be->merge_heads_forward = cpu_merge_heads_forward;
    be->merge_heads_backward = cpu_merge_heads_backward;
    be->softmax_forward = cpu_softmax_forward;
    be->softmax_backward = cpu_softmax_backward;
    be->attnpool_forward = cpu_attnpool_forward;
    be->attnpool_backward = cpu_attnpool_backward;
    be->crossentropy_forward = cpu_crossentropy_forward;
    be->crossentropy_backward = cpu_crossentropy_backward;
    be->dropout_forward = cpu_dropout_forward;
    be->dropout_backward = cpu_dropout_backward;
    be->sum_squares = cpu_sum_squares;
    be->adamw = cpu_adamw;
    *out = be;
    return 0;
}
