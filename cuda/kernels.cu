/*
 * kernels.cu — the CUDA kernels of every non-GEMM op of classify/backend.h,
 * each with its host-side launcher, forward beside backward, in the order of
 * backend.h. The per-element math comes from classify/ops_math.h (the same
 * FS_HD functions the CPU reference uses), so there is one definition of it.
 *
 * Conventions: element-wise kernels use grid-stride loops over size_t
 * indices; row-wise ops (layer norm, softmax) give one warp per row; per-
 * sequence ops (attention pooling) one block per sequence. Column sums
 * (bias, layer-norm parameters, embeddings, attention-pooling query) reduce
 * within a block and add across blocks with atomicAdd, so they agree with the
 * CPU within rounding but are not bitwise reproducible. Lengths are clamped
 * to [0, T] so that a bad length can never address outside a buffer.
 */
#include "classify/ops_math.h"
#include "cuda/cuda_impl.cuh"

#include <stdio.h>
#include <string.h>

#define FOR_EACH(i, n)                                                                     \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                \
         i += (size_t)gridDim.x * blockDim.x)

enum { WARPS_PER_BLOCK = CUDA_BLOCK / 32 };

__device__ static inline int clamp_len(int32_t len, int T)
{
    return len < 0 ? 0 : len > T ? T : (int)len;
}

/* ---- probe ------------------------------------------------------------------- */

__global__ static void probe_kernel(double *p)
{
    p[0] = 0.0;
}

int cuda_kernels_probe(struct cuda_impl *im)
{
    probe_kernel<<<1, 1, 0, im->stream>>>(im->partials);
    cudaError_t rc = cudaGetLastError();
    if (rc == cudaSuccess)
        rc = cudaStreamSynchronize(im->stream);
    if (rc == cudaSuccess)
        return 1;
    struct cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, im->device) != cudaSuccess)
        return cuda_ok_(im, rc, "kernel launch", __FILE__, __LINE__);
    im->failed = 1;
    snprintf(im->error, sizeof im->error,
             "cuda: device %d (%s, sm_%d%d) cannot run this build's kernels: %s "
             "(rebuild with NVARCH='-arch=sm_%d%d')",
             im->device, prop.name, prop.major, prop.minor, cudaGetErrorString(rc), prop.major,
             prop.minor);
    return 0;
}

/* ---- embedding ------------------------------------------------------------------ */

__global__ static void embedding_forward_kernel(float *out, const int32_t *ids, const float *wte,
                                                const float *wpe, int T, int C, size_t n)
{
    FOR_EACH(i, n)
    {
        size_t row = i / C;
        int c = (int)(i % C), t = (int)(row % T);
        out[i] = wte[(size_t)ids[row] * C + c] + wpe[(size_t)t * C + c];
    }
}

/* One thread per (t, c): sums dwpe over the batch itself, scatters into dwte
 * with atomics (the same token id may appear many times). */
__global__ static void embedding_backward_kernel(float *dwte, float *dwpe, const float *dout,
                                                 const int32_t *ids, int B, int T, int C)
{
    FOR_EACH(i, (size_t)T * C)
    {
        int t = (int)(i / C), c = (int)(i % C);
        float dp = 0.0f;
        for (int b = 0; b < B; b++) {
            size_t row = (size_t)b * T + t;
            float d = dout[row * C + c];
            dp += d;
            atomicAdd(dwte + (size_t)ids[row] * C + c, d);
        }
        dwpe[i] += dp;
    }
}

static void cu_embedding_forward(struct backend *be, float *out, const int32_t *ids,
                                 const float *wte, const float *wpe, int B, int T, int C)
{
    CUDA_IMPL_OR_RETURN(be);
    size_t n = (size_t)B * T * C;
    if (!n)
        return;
    embedding_forward_kernel<<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(
        out, ids, wte, wpe, T, C, n);
    LAUNCHED(im);
}

static void cu_embedding_backward(struct backend *be, float *dwte, float *dwpe,
                                  const float *dout, const int32_t *ids, int B, int T, int C)
{
    CUDA_IMPL_OR_RETURN(be);
    size_t n = (size_t)T * C;
    if (!n || B <= 0)
        return;
    embedding_backward_kernel<<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(
        dwte, dwpe, dout, ids, B, T, C);
    LAUNCHED(im);
}

/* ---- layer normalisation (one warp per row) -------------------------------------- */

__global__ static void layernorm_forward_kernel(float *out, float *mean, float *rstd,
                                                const float *inp, const float *weight,
                                                const float *bias, int N, int C,
                                                float eps)
{
    int row = blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= N)
        return; /* the whole warp leaves together */
    const float *x = inp + (size_t)row * C;
    float *o = out + (size_t)row * C;
    float s = 0.0f;
    for (int i = lane; i < C; i += 32)
        s += x[i];
    float mu = warp_sum(s) / C;
    float v = 0.0f;
    for (int i = lane; i < C; i += 32)
        v += (x[i] - mu) * (x[i] - mu);
    float rs = fs_ln_rstd(warp_sum(v) / C, eps);
    for (int i = lane; i < C; i += 32)
        o[i] = fs_ln_norm(x[i], mu, rs) * weight[i] + bias[i];
    if (lane == 0) {
        mean[row] = mu;
        rstd[row] = rs;
    }
}

__global__ static void layernorm_dinp_kernel(float *dinp, const float *dout, const float *inp,
                                             const float *weight, const float *mean,
                                             const float *rstd, int N, int C)
{
    int row = blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= N)
        return;
    const float *x = inp + (size_t)row * C, *d = dout + (size_t)row * C;
    float *dx = dinp + (size_t)row * C;
    float mu = mean[row], rs = rstd[row], dn = 0.0f, dnx = 0.0f;
    for (int i = lane; i < C; i += 32) {
        float dw = d[i] * weight[i];
        dn += dw;
        dnx += dw * fs_ln_norm(x[i], mu, rs);
    }
    dn = warp_sum(dn) / C;
    dnx = warp_sum(dnx) / C;
    for (int i = lane; i < C; i += 32)
        dx[i] += fs_ln_dinp(d[i] * weight[i], fs_ln_norm(x[i], mu, rs), dn, dnx, rs);
}

/* Column sums over N rows of an N x C matrix, block (32, 8): 32 columns per
 * block, 8 row lanes striding over the rows of this block's share. dsum[c] +=
 * sum of src; with LN, also dscaled[c] += sum of src * xhat (layer norm's
 * weight gradient). */
template <bool LN>
__global__ static void colsum_kernel(float *dsum, float *dscaled, const float *src,
                                     const float *inp, const float *mean, const float *rstd,
                                     int N, int C)
{
    __shared__ float s_sum[8][33], s_scaled[8][33];
    int c = blockIdx.x * 32 + threadIdx.x;
    float a = 0.0f, as = 0.0f;
    if (c < C)
        for (int r = blockIdx.y * 8 + threadIdx.y; r < N; r += gridDim.y * 8) {
            size_t i = (size_t)r * C + c;
            a += src[i];
            if (LN)
                as += src[i] * fs_ln_norm(inp[i], mean[r], rstd[r]);
        }
    s_sum[threadIdx.y][threadIdx.x] = a;
    s_scaled[threadIdx.y][threadIdx.x] = as;
    __syncthreads();
    if (threadIdx.y != 0 || c >= C)
        return;
    for (int y = 1; y < 8; y++) {
        a += s_sum[y][threadIdx.x];
        as += s_scaled[y][threadIdx.x];
    }
    atomicAdd(dsum + c, a);
    if (LN)
        atomicAdd(dscaled + c, as);
}

static dim3 colsum_grid(int N, int C)
{
    int gy = (N + 63) / 64; /* about 64 rows per block column, at most 64 blocks */
    return dim3((unsigned)(C + 31) / 32, (unsigned)(gy < 1 ? 1 : gy > 64 ? 64 : gy));
}

static void cu_layernorm_forward(struct backend *be, float *out, float *mean, float *rstd,
                                 const float *inp, const float *weight, const float *bias,
                                 int N, int C, float eps)
{
    CUDA_IMPL_OR_RETURN(be);
    if (N <= 0 || C <= 0)
        return;
    unsigned blocks = (unsigned)((N + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK);
    layernorm_forward_kernel<<<blocks, CUDA_BLOCK, 0, im->stream>>>(out, mean, rstd, inp, weight,
                                                                    bias, N, C, eps);
    LAUNCHED(im);
}

static void cu_layernorm_backward(struct backend *be, float *dinp, float *dweight, float *dbias,
                                  const float *dout, const float *inp, const float *weight,
                                  const float *mean, const float *rstd, int N, int C)
{
    CUDA_IMPL_OR_RETURN(be);
    if (N <= 0 || C <= 0)
        return;
    unsigned blocks = (unsigned)((N + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK);
    layernorm_dinp_kernel<<<blocks, CUDA_BLOCK, 0, im->stream>>>(dinp, dout, inp, weight, mean,
                                                                 rstd, N, C);
    if (!LAUNCHED(im))
        return;
    colsum_kernel<true><<<colsum_grid(N, C), dim3(32, 8), 0, im->stream>>>(
        dbias, dweight, dout, inp, mean, rstd, N, C);
    LAUNCHED(im);
}

/* ---- GELU ------------------------------------------------------------------------------ */

__global__ static void gelu_forward_kernel(float *out, const float *inp, size_t n)
{
    FOR_EACH(i, n)
    out[i] = fs_gelu(inp[i]);
}

__global__ static void gelu_backward_kernel(float *dinp, const float *inp, const float *dout,
                                            size_t n)
{
    FOR_EACH(i, n)
    dinp[i] += fs_gelu_grad(inp[i]) * dout[i];
}

static void cu_gelu_forward(struct backend *be, float *out, const float *inp, size_t n)
{
    CUDA_IMPL_OR_RETURN(be);
    if (!n)
        return;
    gelu_forward_kernel<<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(out, inp, n);
    LAUNCHED(im);
}

static void cu_gelu_backward(struct backend *be, float *dinp, const float *inp,
                             const float *dout, size_t n)
{
    CUDA_IMPL_OR_RETURN(be);
    if (!n)
        return;
    gelu_backward_kernel<<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(dinp, inp,
                                                                                dout, n);
    LAUNCHED(im);
}

/* ---- bias, residual ---------------------------------------------------------------------- */

__global__ static void bias_forward_kernel(float *out, const float *bias, int OC, size_t n)
{
    FOR_EACH(i, n)
    out[i] += bias[i % OC];
}

__global__ static void residual_forward_kernel(float *out, const float *a, const float *b,
                                               size_t n)
{
    FOR_EACH(i, n)
    out[i] = a[i] + b[i];
}

__global__ static void residual_backward_kernel(float *da, float *db, const float *dout,
                                                size_t n)
{
    FOR_EACH(i, n)
    {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}

static void cu_bias_forward(struct backend *be, float *out, const float *bias, int N, int OC)
{
    CUDA_IMPL_OR_RETURN(be);
    size_t n = (size_t)(N > 0 ? N : 0) * (OC > 0 ? OC : 0);
    if (!n)
        return;
    bias_forward_kernel<<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(out, bias, OC,
                                                                               n);
    LAUNCHED(im);
}

static void cu_bias_backward(struct backend *be, float *dbias, const float *dout, int N, int OC)
{
    CUDA_IMPL_OR_RETURN(be);
    if (N <= 0 || OC <= 0)
        return;
    colsum_kernel<false><<<colsum_grid(N, OC), dim3(32, 8), 0, im->stream>>>(
        dbias, NULL, dout, NULL, NULL, NULL, N, OC);
    LAUNCHED(im);
}

static void cu_residual_forward(struct backend *be, float *out, const float *a, const float *b,
                                size_t n)
{
    CUDA_IMPL_OR_RETURN(be);
    if (!n)
        return;
    residual_forward_kernel<<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(out, a, b,
                                                                                   n);
    LAUNCHED(im);
}

static void cu_residual_backward(struct backend *be, float *da, float *db, const float *dout,
                                 size_t n)
{
    CUDA_IMPL_OR_RETURN(be);
    if (!n)
        return;
    residual_backward_kernel<<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(da, db,
                                                                                    dout, n);
    LAUNCHED(im);
}

/* ---- attention: head permutations ------------------------------------------------------ */

/* Index in a [B,H,T,D] tensor of channel c (head c / D) of token row (b, t). */
__device__ static inline size_t head_index(size_t row, int c, int T, int H, int D)
{
    size_t b = row / T, t = row % T;
    return ((b * H + c / D) * T + t) * D + c % D;
}

/* One thread per element of qkv [B,T,3C]; BACKWARD accumulates into dqkv. */
template <bool BACKWARD>
__global__ static void split_heads_kernel(float *qkv, float *q, float *k, float *v, int T, int C,
                                          int H, size_t n)
{
    int D = C / H;
    FOR_EACH(i, n)
    {
        size_t row = i / (3 * (size_t)C);
        int j = (int)(i % (3 * (size_t)C));
        float *part = j < C ? q : j < 2 * C ? k : v;
        size_t o = head_index(row, j % C, T, H, D);
        if (BACKWARD)
            qkv[i] += part[o];
        else
            part[o] = qkv[i];
    }
}

/* One thread per element of out [B,T,C]; BACKWARD accumulates into y. */
template <bool BACKWARD>
__global__ static void merge_heads_kernel(float *out, float *y, int T, int C, int H, size_t n)
{
    int D = C / H;
    FOR_EACH(i, n)
    {
        size_t o = head_index(i / C, (int)(i % C), T, H, D);
        if (BACKWARD)
            y[o] += out[i];
        else
            out[i] = y[o];
    }
}

static int heads_ok(struct cuda_impl *im, int C, int H)
{
    if (H > 0 && C > 0 && C % H == 0)
        return 1;
    return cuda_record_failure(im, "split/merge heads", "C is not a multiple of H", __FILE__,
                               __LINE__);
}

static void cu_split_heads_forward(struct backend *be, float *q, float *k, float *v,
                                   const float *qkv, int B, int T, int C, int H)
{
    CUDA_IMPL_OR_RETURN(be);
    size_t n = (size_t)B * T * 3 * C;
    if (B <= 0 || T <= 0 || !heads_ok(im, C, H))
        return;
    split_heads_kernel<false><<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(
        (float *)qkv, q, k, v, T, C, H, n);
    LAUNCHED(im);
}

static void cu_split_heads_backward(struct backend *be, float *dqkv, const float *dq,
                                    const float *dk, const float *dv, int B, int T, int C, int H)
{
    CUDA_IMPL_OR_RETURN(be);
    size_t n = (size_t)B * T * 3 * C;
    if (B <= 0 || T <= 0 || !heads_ok(im, C, H))
        return;
    split_heads_kernel<true><<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(
        dqkv, (float *)dq, (float *)dk, (float *)dv, T, C, H, n);
    LAUNCHED(im);
}

static void cu_merge_heads_forward(struct backend *be, float *out, const float *y, int B, int T,
                                   int C, int H)
{
    CUDA_IMPL_OR_RETURN(be);
    size_t n = (size_t)B * T * C;
    if (B <= 0 || T <= 0 || !heads_ok(im, C, H))
        return;
    merge_heads_kernel<false><<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(
        out, (float *)y, T, C, H, n);
    LAUNCHED(im);
}

static void cu_merge_heads_backward(struct backend *be, float *dy, const float *dout, int B,
                                    int T, int C, int H)
{
    CUDA_IMPL_OR_RETURN(be);
    size_t n = (size_t)B * T * C;
    if (B <= 0 || T <= 0 || !heads_ok(im, C, H))
        return;
    merge_heads_kernel<true><<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(
        (float *)dout, dy, T, C, H, n);
    LAUNCHED(im);
}

/* ---- attention: masked softmax (one warp per row of T scores) ------------------------- */

/* Each lane reads and writes only its own columns, so att may alias scores. */
__global__ static void softmax_forward_kernel(float *att, const float *scores,
                                              const int32_t *lengths, int H, int T, float scale,
                                              size_t rows)
{
    size_t row = (size_t)blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows)
        return;
    int len = clamp_len(lengths[row / ((size_t)H * T)], T), i = (int)(row % T);
    const float *x = scores + row * T;
    float *y = att + row * T;
    if (i >= len) {
        for (int j = lane; j < T; j += 32)
            y[j] = 0.0f;
        return;
    }
    float max = -INFINITY;
    for (int j = lane; j < len; j += 32)
        max = fmaxf(max, scale * x[j]);
    max = warp_max(max);
    float sum = 0.0f;
    for (int j = lane; j < len; j += 32)
        sum += fs_softmax_exp(scale * x[j], max);
    float inv = 1.0f / warp_sum(sum);
    for (int j = lane; j < T; j += 32)
        y[j] = j < len ? fs_softmax_exp(scale * x[j], max) * inv : 0.0f;
}

__global__ static void softmax_backward_kernel(float *dscores, const float *datt,
                                               const float *att, const int32_t *lengths, int H,
                                               int T, float scale, size_t rows)
{
    size_t row = (size_t)blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32;
    int lane = threadIdx.x % 32;
    if (row >= rows)
        return;
    int len = clamp_len(lengths[row / ((size_t)H * T)], T), i = (int)(row % T);
    if (i >= len)
        return;
    const float *y = att + row * T, *dy = datt + row * T;
    float *dx = dscores + row * T;
    float dot = 0.0f;
    for (int j = lane; j < len; j += 32)
        dot += y[j] * dy[j];
    dot = warp_sum(dot);
    for (int j = lane; j < len; j += 32)
        dx[j] += scale * fs_softmax_grad(y[j], dy[j], dot);
}

static unsigned warp_rows_grid(size_t rows)
{
    return (unsigned)((rows + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK);
}

static void cu_softmax_forward(struct backend *be, float *att, const float *scores,
                               const int32_t *lengths, int B, int H, int T, float scale)
{
    CUDA_IMPL_OR_RETURN(be);
    size_t rows = (size_t)(B > 0 ? B : 0) * (H > 0 ? H : 0) * (T > 0 ? T : 0);
    if (!rows)
        return;
    softmax_forward_kernel<<<warp_rows_grid(rows), CUDA_BLOCK, 0, im->stream>>>(
        att, scores, lengths, H, T, scale, rows);
    LAUNCHED(im);
}

static void cu_softmax_backward(struct backend *be, float *dscores, const float *datt,
                                const float *att, const int32_t *lengths, int B, int H, int T,
                                float scale)
{
    CUDA_IMPL_OR_RETURN(be);
    size_t rows = (size_t)(B > 0 ? B : 0) * (H > 0 ? H : 0) * (T > 0 ? T : 0);
    if (!rows)
        return;
    softmax_backward_kernel<<<warp_rows_grid(rows), CUDA_BLOCK, 0, im->stream>>>(
        dscores, datt, att, lengths, H, T, scale, rows);
    LAUNCHED(im);
}

/* ---- attention pooling (one block per sequence) ----------------------------------------- */

__global__ static void attnpool_forward_kernel(float *pooled, float *w, const float *x,
                                               const float *q, const int32_t *lengths, int T,
                                               int C)
{
    int b = blockIdx.x, len = clamp_len(lengths[b], T);
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const float *xb = x + (size_t)b * T * C;
    float *wb = w + (size_t)b * T;
    for (int t = warp; t < T; t += WARPS_PER_BLOCK) { /* scores x[t] . q */
        float s = 0.0f;
        if (t < len)
            for (int i = lane; i < C; i += 32)
                s += xb[(size_t)t * C + i] * q[i];
        s = warp_sum(s);
        if (lane == 0)
            wb[t] = s;
    }
    __syncthreads();
    float max = -INFINITY;
    for (int t = threadIdx.x; t < len; t += blockDim.x)
        max = fmaxf(max, wb[t]);
    max = block_max(max);
    float sum = 0.0f;
    for (int t = threadIdx.x; t < len; t += blockDim.x) {
        wb[t] = fs_softmax_exp(wb[t], max);
        sum += wb[t];
    }
    float inv = 1.0f / block_sum(sum);
    for (int t = threadIdx.x; t < len; t += blockDim.x)
        wb[t] *= inv;
    __syncthreads();
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float acc = 0.0f;
        for (int t = 0; t < len; t++)
            acc += wb[t] * xb[(size_t)t * C + c];
        pooled[(size_t)b * C + c] = acc;
    }
}

/* Dynamic shared memory: T floats, dw[t] then ds[t] (softmax backward). */
__global__ static void attnpool_backward_kernel(float *dx, float *dq, const float *dpooled,
                                                const float *x, const float *q, const float *w,
                                                const int32_t *lengths, int T, int C)
{
    extern __shared__ float ds[];
    int b = blockIdx.x, len = clamp_len(lengths[b], T);
    int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const float *xb = x + (size_t)b * T * C, *wb = w + (size_t)b * T;
    const float *dp = dpooled + (size_t)b * C;
    for (int t = warp; t < len; t += WARPS_PER_BLOCK) { /* dw[t] = dpooled . x[t] */
        float s = 0.0f;
        for (int i = lane; i < C; i += 32)
            s += dp[i] * xb[(size_t)t * C + i];
        s = warp_sum(s);
        if (lane == 0)
            ds[t] = s;
    }
    __syncthreads();
    float dot = 0.0f;
    for (int t = threadIdx.x; t < len; t += blockDim.x)
        dot += wb[t] * ds[t];
    dot = block_sum(dot);
    for (int t = threadIdx.x; t < len; t += blockDim.x)
        ds[t] = fs_softmax_grad(wb[t], ds[t], dot);
    __syncthreads();
    float *dxb = dx + (size_t)b * T * C;
    for (size_t i = threadIdx.x; i < (size_t)len * C; i += blockDim.x) {
        int t = (int)(i / C), c = (int)(i % C);
        dxb[i] += wb[t] * dp[c] + ds[t] * q[c];
    }
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float acc = 0.0f;
        for (int t = 0; t < len; t++)
            acc += ds[t] * xb[(size_t)t * C + c];
        atomicAdd(dq + c, acc);
    }
}

static void cu_attnpool_forward(struct backend *be, float *pooled, float *w, const float *x,
                                const float *q, const int32_t *lengths, int B, int T, int C)
{
    CUDA_IMPL_OR_RETURN(be);
    if (B <= 0 || T <= 0 || C <= 0)
        return;
    attnpool_forward_kernel<<<B, CUDA_BLOCK, 0, im->stream>>>(pooled, w, x, q, lengths, T, C);
    LAUNCHED(im);
}

static void cu_attnpool_backward(struct backend *be, float *dx, float *dq, const float *dpooled,
                                 const float *x, const float *q, const float *w,
                                 const int32_t *lengths, int B, int T, int C)
{
    CUDA_IMPL_OR_RETURN(be);
    if (B <= 0 || T <= 0 || C <= 0)
        return;
    size_t shared = (size_t)T * sizeof(float);
    if (shared > 48 * 1024) {
        cuda_record_failure(im, "attnpool_backward", "sequence too long (T > 12288)", __FILE__,
                            __LINE__);
        return;
    }
    attnpool_backward_kernel<<<B, CUDA_BLOCK, shared, im->stream>>>(dx, dq, dpooled, x, q, w,
                                                                    lengths, T, C);
    LAUNCHED(im);
}

/* ---- classification heads (one thread per row; K is a few dozen at most) ------------ */

struct heads {
    int n, K;
    int size[BACKEND_MAX_HEADS_OUT], off[BACKEND_MAX_HEADS_OUT];
};

/* The label-smoothed target of class j for a row labelled `label` of n classes
 * (the CPU reference's smooth_target in classify/backend_cpu.c). */
__device__ static inline float smooth_target(int j, int label, int n, float eps)
{
    return (j == label ? 1.0f - eps : 0.0f) + eps / n;
}

/* The row's head index if it is labelled, else -1. */
__device__ static inline int labelled_head(const struct heads &hd, int32_t task, int32_t label)
{
    if (task < 0 || task >= hd.n || label < 0 || label >= hd.size[task])
        return -1;
    return (int)task;
}

__global__ static void crossentropy_forward_kernel(float *losses, float *probs,
                                                   const float *logits, const int32_t *task,
                                                   const int32_t *label, int B, struct heads hd,
                                                   float eps)
{
    FOR_EACH(b, (size_t)B)
    {
        const float *lg = logits + b * hd.K;
        float *pr = probs + b * hd.K;
        for (int h = 0; h < hd.n; h++) { /* every head's probabilities */
            const float *x = lg + hd.off[h];
            float *y = pr + hd.off[h], max = -INFINITY, sum = 0.0f;
            for (int j = 0; j < hd.size[h]; j++)
                max = fmaxf(max, x[j]);
            for (int j = 0; j < hd.size[h]; j++) {
                y[j] = fs_softmax_exp(x[j], max);
                sum += y[j];
            }
            for (int j = 0; j < hd.size[h]; j++)
                y[j] *= 1.0f / sum;
        }
        losses[b] = 0.0f;
        int t = labelled_head(hd, task[b], label[b]);
        if (t < 0)
            continue;
        const float *x = lg + hd.off[t];
        int n = hd.size[t];
        float max = -INFINITY, sum = 0.0f, loss = 0.0f;
        for (int j = 0; j < n; j++)
            max = fmaxf(max, x[j]);
        for (int j = 0; j < n; j++)
            sum += expf(x[j] - max);
        float lse = max + logf(sum);
        for (int j = 0; j < n; j++)
            loss -= smooth_target(j, label[b], n, eps) * (x[j] - lse);
        losses[b] = loss;
    }
}

__global__ static void crossentropy_backward_kernel(float *dlogits, const float *probs,
                                                    const int32_t *task, const int32_t *label,
                                                    int B, struct heads hd, float eps,
                                                    float dloss)
{
    FOR_EACH(b, (size_t)B)
    {
        int t = labelled_head(hd, task[b], label[b]);
        if (t < 0)
            continue;
        const float *pr = probs + b * hd.K + hd.off[t];
        float *dl = dlogits + b * hd.K + hd.off[t];
        for (int j = 0; j < hd.size[t]; j++)
            dl[j] += dloss * (pr[j] - smooth_target(j, label[b], hd.size[t], eps));
    }
}

/* Copies the host-side head sizes into a by-value kernel argument. */
static int heads_make(struct cuda_impl *im, struct heads *hd, int n_heads, const int *sizes)
{
    memset(hd, 0, sizeof *hd);
    if (n_heads < 1 || n_heads > BACKEND_MAX_HEADS_OUT)
        return cuda_record_failure(im, "crossentropy", "unsupported number of heads", __FILE__,
                                   __LINE__);
    hd->n = n_heads;
    for (int h = 0; h < n_heads; h++) {
        if (sizes[h] < 1)
            return cuda_record_failure(im, "crossentropy", "empty head", __FILE__, __LINE__);
        hd->size[h] = sizes[h];
        hd->off[h] = hd->K;
        hd->K += sizes[h];
    }
    return 1;
}

static void cu_crossentropy_forward(struct backend *be, float *losses, float *probs,
                                    const float *logits, const int32_t *task,
                                    const int32_t *label, int B, int n_heads, const int *sizes,
                                    float eps)
{
    CUDA_IMPL_OR_RETURN(be);
    struct heads hd;
    if (B <= 0 || !heads_make(im, &hd, n_heads, sizes))
        return;
    crossentropy_forward_kernel<<<cuda_grid((size_t)B, 64), 64, 0, im->stream>>>(
        losses, probs, logits, task, label, B, hd, eps);
    LAUNCHED(im);
}

static void cu_crossentropy_backward(struct backend *be, float *dlogits, const float *probs,
                                     const int32_t *task, const int32_t *label, int B,
                                     int n_heads, const int *sizes, float eps, float dloss)
{
    CUDA_IMPL_OR_RETURN(be);
    struct heads hd;
    if (B <= 0 || !heads_make(im, &hd, n_heads, sizes))
        return;
    crossentropy_backward_kernel<<<cuda_grid((size_t)B, 64), 64, 0, im->stream>>>(
        dlogits, probs, task, label, B, hd, eps, dloss);
    LAUNCHED(im);
}

/* ---- dropout ----------------------------------------------------------------------------- */

__global__ static void dropout_forward_kernel(float *out, const float *inp, size_t n, float p,
                                              float scale, uint64_t seed)
{
    FOR_EACH(i, n)
    out[i] = fs_dropout_keep(seed, i, p) ? inp[i] * scale : 0.0f;
}

__global__ static void dropout_backward_kernel(float *dinp, const float *dout, size_t n, float p,
                                               float scale, uint64_t seed)
{
    FOR_EACH(i, n)
    {
        if (p <= 0.0f || fs_dropout_keep(seed, i, p))
            dinp[i] += dout[i] * scale;
    }
}

static void cu_dropout_forward(struct backend *be, float *out, const float *inp, size_t n,
                               float p, uint64_t seed)
{
    CUDA_IMPL_OR_RETURN(be);
    if (!n)
        return;
    if (p <= 0.0f) {
        if (out != inp)
            be->copy(be, out, inp, n * sizeof(float));
        return;
    }
    dropout_forward_kernel<<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(
        out, inp, n, p, 1.0f / (1.0f - p), seed);
    LAUNCHED(im);
}

static void cu_dropout_backward(struct backend *be, float *dinp, const float *dout, size_t n,
                                float p, uint64_t seed)
{
    CUDA_IMPL_OR_RETURN(be);
    if (!n)
        return;
    dropout_backward_kernel<<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(
        dinp, dout, n, p, p > 0.0f ? 1.0f / (1.0f - p) : 1.0f, seed);
    LAUNCHED(im);
}

/* ---- optimiser ---------------------------------------------------------------------------- */

/* Two passes with fixed shapes, so the sum is the same from run to run:
 * CUDA_REDUCE_BLOCKS partial sums in double, then one block adds them. */
__global__ static void sum_squares_partial_kernel(double *partials, const float *x, size_t n)
{
    double s = 0.0;
    FOR_EACH(i, n)
    s += (double)x[i] * x[i];
    s = block_sum(s);
    if (threadIdx.x == 0)
        partials[blockIdx.x] = s;
}

__global__ static void sum_squares_final_kernel(double *partials, int nblocks)
{
    double s = 0.0;
    for (int i = threadIdx.x; i < nblocks; i += blockDim.x)
        s += partials[i];
    s = block_sum(s);
    if (threadIdx.x == 0)
        partials[CUDA_REDUCE_BLOCKS] = s;
}

static double cu_sum_squares(struct backend *be, const float *x, size_t n)
{
    CUDA_IMPL_OR_RETURN(be, 0.0);
    if (!n)
        return 0.0;
    unsigned blocks = cuda_grid(n, CUDA_BLOCK);
    if (blocks > CUDA_REDUCE_BLOCKS)
        blocks = CUDA_REDUCE_BLOCKS;
    sum_squares_partial_kernel<<<blocks, CUDA_BLOCK, 0, im->stream>>>(im->partials, x, n);
    if (!LAUNCHED(im))
        return 0.0;
    sum_squares_final_kernel<<<1, CUDA_BLOCK, 0, im->stream>>>(im->partials, (int)blocks);
    if (!LAUNCHED(im) ||
        !CUDA_OK(im, cudaMemcpyAsync(im->host_sum, im->partials + CUDA_REDUCE_BLOCKS,
                                     sizeof(double), cudaMemcpyDeviceToHost, im->stream)) ||
        !CUDA_OK(im, cudaStreamSynchronize(im->stream)))
        return 0.0;
    return *im->host_sum;
}

__global__ static void adamw_kernel(float *param, const float *grad, float *m, float *v,
                                    size_t n, float lr, float beta1, float beta2, float eps,
                                    float wd, float grad_scale, float c1, float c2)
{
    FOR_EACH(i, n)
    param[i] = fs_adamw_step(param[i], grad[i] * grad_scale, &m[i], &v[i], lr, beta1, beta2,
                             eps, wd, c1, c2);
}

static void cu_adamw(struct backend *be, float *param, const float *grad, float *m, float *v,
                     size_t n, float lr, float beta1, float beta2, float eps, float wd,
                     float grad_scale, int t)
{
    CUDA_IMPL_OR_RETURN(be);
    if (!n)
        return;
    /* bias corrections computed once, on the host, as the CPU backend does */
    float c1 = fs_adamw_correction(beta1, t), c2 = fs_adamw_correction(beta2, t);
    adamw_kernel<<<cuda_grid(n, CUDA_BLOCK), CUDA_BLOCK, 0, im->stream>>>(
        param, grad, m, v, n, lr, beta1, beta2, eps, wd, grad_scale, c1, c2);
    LAUNCHED(im);
}

/* ---- table ---------------------------------------------------------------------------------- */

void cuda_kernels_install(struct backend *be)
{
    be->embedding_forward = cu_embedding_forward;
    be->embedding_backward = cu_embedding_backward;
    be->layernorm_forward = cu_layernorm_forward;
    be->layernorm_backward = cu_layernorm_backward;
    be->gelu_forward = cu_gelu_forward;
    be->gelu_backward = cu_gelu_backward;
    be->bias_forward = cu_bias_forward;
    be->bias_backward = cu_bias_backward;
    be->residual_forward = cu_residual_forward;
    be->residual_backward = cu_residual_backward;
    be->split_heads_forward = cu_split_heads_forward;
    be->split_heads_backward = cu_split_heads_backward;
    be->merge_heads_forward = cu_merge_heads_forward;
    be->merge_heads_backward = cu_merge_heads_backward;
    be->softmax_forward = cu_softmax_forward;
    be->softmax_backward = cu_softmax_backward;
    be->attnpool_forward = cu_attnpool_forward;
    be->attnpool_backward = cu_attnpool_backward;
    be->crossentropy_forward = cu_crossentropy_forward;
    be->crossentropy_backward = cu_crossentropy_backward;
    be->dropout_forward = cu_dropout_forward;
    be->dropout_backward = cu_dropout_backward;
    be->sum_squares = cu_sum_squares;
    be->adamw = cu_adamw;
}
