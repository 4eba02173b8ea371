/*
 * ops_math.h — the per-element math of the backend ops, written once and shared
 * by the CPU backend (C) and the CUDA kernels (nvcc): FS_HD marks each function
 * __host__ __device__ under nvcc and is empty in C.
 */
#ifndef FINSENT_OPS_MATH_H
#define FINSENT_OPS_MATH_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define FS_HD __host__ __device__
#else
#define FS_HD
#endif

#define FS_LN_EPS 1e-5f

/* GELU, exact form: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
FS_HD static inline float fs_gelu(float x)
{
    return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}

/* d/dx of fs_gelu: Phi(x) + x * phi(x). */
FS_HD static inline float fs_gelu_grad(float x)
{
    float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
    float pdf = 0.39894228040143268f * expf(-0.5f * x * x);
    return cdf + x * pdf;
}

/* Layer norm pieces: rstd from the variance; normalised value. */
FS_HD static inline float fs_ln_rstd(float var)
{
    return 1.0f / sqrtf(var + FS_LN_EPS);
}

FS_HD static inline float fs_ln_norm(float x, float mean, float rstd)
{
    return (x - mean) * rstd;
}

/* Layer norm input gradient for one element, given the row sums
 * mean_dn = mean_j(dout_j * w_j) and mean_dnx = mean_j(dout_j * w_j * xhat_j). */
FS_HD static inline float fs_ln_dinp(float dout_w, float xhat, float mean_dn, float mean_dnx,
                                     float rstd)
{
    return (dout_w - mean_dn - xhat * mean_dnx) * rstd;
}

/* Bias corrections of AdamW's moments at 1-based step t: 1 / (1 - beta^t). */
FS_HD static inline float fs_adamw_correction(float beta, int t)
{
    return 1.0f / (1.0f - powf(beta, (float)t));
}

/* One AdamW step on one parameter. c1, c2 are fs_adamw_correction(beta1, t) and
 * fs_adamw_correction(beta2, t). Updates *m, *v and returns the new parameter.
 * Weight decay is decoupled (applied to the parameter, scaled by lr), as in
 * torch.optim.AdamW. */
FS_HD static inline float fs_adamw_step(float param, float grad, float *m, float *v, float lr,
                                        float beta1, float beta2, float eps, float wd, float c1,
                                        float c2)
{
    float mt = beta1 * *m + (1.0f - beta1) * grad;
    float vt = beta2 * *v + (1.0f - beta2) * grad * grad;
    *m = mt;
    *v = vt;
    return param - lr * ((mt * c1) / (sqrtf(vt * c2) + eps) + wd * param);
}

/* Softmax helper: exp(x - max) * scale-free; callers normalise by the sum. */
FS_HD static inline float fs_softmax_exp(float x, float max)
{
    return expf(x - max);
}

/* Softmax backward for one element: y_i * (dy_i - sum_j y_j dy_j). */
FS_HD static inline float fs_softmax_grad(float y, float dy, float dot)
{
    return y * (dy - dot);
}

/* A 64-bit mix (splitmix64 finaliser): a counter-based random stream. */
FS_HD static inline uint64_t fs_hash64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Keeps element i under dropout probability p with mask seed `seed`. */
FS_HD static inline int fs_dropout_keep(uint64_t seed, uint64_t i, float p)
{
    uint64_t h = fs_hash64(seed ^ fs_hash64(i));
    float u = (float)(h >> 40) * (1.0f / 16777216.0f); /* 24 bits in [0, 1) */
    return u >= p;
}

#endif
