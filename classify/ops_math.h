/*
 * ops_math.h — the per-element math of the backend ops, written once and shared
 * by the CPU backend (C) and the CUDA kernels (nvcc): FS_HD marks each function
 * __host__ __device__ under nvcc and is empty in C.
 */
#ifndef FINSENT_OPS_MATH_H
#define FINSENT_OPS_MATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __CUDACC__
#define FS_HD __host__ __device__
#else
#define FS_HD
#endif

#define FS_LN_EPS 1e-5f /* finsent's own encoder; a BERT checkpoint says its own */

/* Bits of a float and back (branch-free, vectorisable). */
FS_HD static inline float fs_float_from_bits(int32_t i)
{
#ifdef __CUDA_ARCH__ /* device pass of nvcc; the host pass takes the union */
    return __int_as_float(i);
#else
    union {
        int32_t i;
        float f;
    } u = {i};
    return u.f;
#endif
}

/* exp(x) for the whole float range, relative error below 2e-7, written without
 * libm calls so that loops over it vectorise: x = k ln2 + r, |r| <= ln2 / 2,
 * exp(r) by its Taylor polynomial of degree 7, times 2^k from the exponent bits. */
FS_HD static inline float fs_expf(float x)
{
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float kf = x * 1.44269504088896341f;
    int32_t k = (int32_t)(kf + (kf >= 0.0f ? 0.5f : -0.5f));
    float r = x - (float)k * 0.693145751953125f - (float)k * 1.428606765330187e-06f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * fs_float_from_bits((k + 127) << 23);
}

/* erf(x) as an odd/even rational function of x on [-4, 4] (|erf| rounds to 1
 * beyond), absolute error about 1e-7; no libm call, so it vectorises. */
FS_HD static inline float fs_erff(float x)
{
    x = x < -4.0f ? -4.0f : x;
    x = x > 4.0f ? 4.0f : x;
    float x2 = x * x;
    float p = -2.72614225801306e-10f;
    p = p * x2 + 2.77068142495902e-08f;
    p = p * x2 + -2.10102402082508e-06f;
    p = p * x2 + -5.69250639462346e-05f;
    p = p * x2 + -7.34990630326855e-04f;
    p = p * x2 + -2.95459980854025e-03f;
    p = p * x2 + -1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * x2 + -2.13374055278905e-04f;
    q = q * x2 + -1.68282697438203e-03f;
    q = q * x2 + -7.37332916720468e-03f;
    q = q * x2 + -1.42647390514189e-02f;
    return x * p / q;
}

/* GELU, exact form: x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
FS_HD static inline float fs_gelu(float x)
{
    return 0.5f * x * (1.0f + fs_erff(x * 0.70710678118654752f));
}

/* d/dx of fs_gelu: Phi(x) + x * phi(x). */
FS_HD static inline float fs_gelu_grad(float x)
{
    float cdf = 0.5f * (1.0f + fs_erff(x * 0.70710678118654752f));
    float pdf = 0.39894228040143268f * fs_expf(-0.5f * x * x);
    return cdf + x * pdf;
}

/* Layer norm pieces: rstd from the variance; normalised value. */
FS_HD static inline float fs_ln_rstd(float var, float eps)
{
    return 1.0f / sqrtf(var + eps);
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
    return fs_expf(x - max);
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

/* Shuffles a[0..n) in place (Fisher-Yates; host only), drawing from the
 * generator state *rng (advanced): the same state gives the same order. */
static inline void fs_shuffle(size_t *a, size_t n, uint64_t *rng)
{
    for (size_t i = n; i > 1; i--) {
        *rng += 0x9e3779b97f4a7c15ULL;
        size_t j = fs_hash64(*rng) % i;
        size_t t = a[i - 1];
        a[i - 1] = a[j];
        a[j] = t;
    }
}

/* Keeps element i under dropout probability p with mask seed `seed`. */
FS_HD static inline int fs_dropout_keep(uint64_t seed, uint64_t i, float p)
{
    uint64_t h = fs_hash64(seed ^ fs_hash64(i));
    float u = (float)(h >> 40) * (1.0f / 16777216.0f); /* 24 bits in [0, 1) */
    return u >= p;
}

#endif
