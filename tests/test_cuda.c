/* test_cuda.c — the CUDA backend against the CPU reference: every op of
 * classify/backend.h on the same inputs, then a whole forward and backward
 * pass of the encoder and an AdamW step. Without a usable CUDA device they are
 * one "SKIP ...: no CUDA device" line (tests/it_cuda_emu.sh runs them on a CPU
 * emulation of the device instead); the device fallback test runs everywhere.
 *
 * Tolerances, as |gpu - cpu| <= atol + rtol * |cpu| per element:
 *   element-wise ops (GELU, dropout, AdamW, permutations)   rtol 1e-5
 *   row reductions (layer norm, softmax, pooling, heads)     rtol 1e-5, atol 1e-5
 *   GEMM results and column sums (different summation order) rtol 1e-4, atol 1e-4
 *   whole-model gradients                                    rtol 1e-3, atol 1e-3 * max|cpu|
 *   whole-model AdamW step (new - old params), where the
 *   gradient's sign is clear on both sides                   rtol 1e-3, atol 1e-6
 */
#include "classify/backend.h"
#include "classify/model.h"
#include "tests/check.h"
#ifdef FINSENT_HAVE_CUDA
#include "cuda/backend_cuda.h"
#else
#define backend_cuda_describe(be) ((void)(be), "")
#endif

#include <stdint.h>

static struct backend *cpu, *gpu; /* gpu is NULL without a usable device */

/* ---- paired tensors: the same data on both backends ---------------------- */

struct pair {
    size_t n, bytes;
    void *c, *g; /* CPU buffer, GPU buffer */
};

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static float rnd(float lo, float hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return lo + (hi - lo) * (float)((rng_state >> 40) * (1.0 / 16777216.0));
}

static struct pair pair_from(const void *host, size_t n, size_t elem)
{
    struct pair p = {n, n * elem, NULL, NULL};
    p.c = cpu->alloc(cpu, p.bytes);
    p.g = gpu->alloc(gpu, p.bytes);
    if (host) {
        cpu->upload(cpu, p.c, host, p.bytes);
        gpu->upload(gpu, p.g, host, p.bytes);
    }
    return p;
}

static struct pair pair_rand(size_t n, float lo, float hi)
{
    float *h = xmalloc(n * sizeof *h);
    for (size_t i = 0; i < n; i++)
        h[i] = rnd(lo, hi);
    struct pair p = pair_from(h, n, sizeof(float));
    free(h);
    return p;
}

static struct pair pair_zero(size_t n)
{
    return pair_from(NULL, n, sizeof(float));
}

static struct pair pair_ints(const int32_t *v, size_t n)
{
    return pair_from(v, n, sizeof(int32_t));
}

static void pair_free(struct pair *p)
{
    cpu->free(cpu, p->c);
    gpu->free(gpu, p->g);
}

/* Side s of a pair: 0 the CPU, 1 the GPU. */
#define F(p) ((float *)(s_ ? (p).g : (p).c))
#define I(p) ((int32_t *)(s_ ? (p).g : (p).c))
#define BE (s_ ? gpu : cpu)
#define BOTH for (int s_ = 0; s_ < 2; s_++)

/* Compares the two sides of a float pair; on mismatch fills why. */
static int close_enough(const struct pair *p, double rtol, double atol, const char *what, char *why,
                        size_t why_len)
{
    struct fs_error err;
    if (gpu->check(gpu, &err) < 0) {
        snprintf(why, why_len, "%s: %.400s", what, err.msg);
        return 0;
    }
    float *hc = xmalloc(p->bytes), *hg = xmalloc(p->bytes);
    cpu->download(cpu, hc, p->c, p->bytes);
    gpu->download(gpu, hg, p->g, p->bytes);
    size_t worst = 0;
    double worst_excess = 0.0;
    int ok = 1;
    for (size_t i = 0; i < p->n; i++) {
        double d = fabs((double)hg[i] - hc[i]), lim = atol + rtol * fabs(hc[i]);
        if (!(d <= lim) && (ok || d - lim > worst_excess)) {
            ok = 0;
            worst = i;
            worst_excess = d - lim;
        }
    }
    if (!ok)
        snprintf(why, why_len, "%s[%zu]: gpu %.9g vs cpu %.9g (rtol %g, atol %g)", what, worst,
                 hg[worst], hc[worst], rtol, atol);
    free(hc);
    free(hg);
    return ok;
}

#define CHECK_CLOSE(p, rtol, atol)                                                                 \
    do {                                                                                           \
        char why_[512];                                                                            \
        CHECK_MSG(close_enough(&(p), (rtol), (atol), #p, why_, sizeof why_), "%s", why_);          \
    } while (0)

#define NEED_GPU()                                                                                 \
    do {                                                                                           \
        if (!gpu)                                                                                  \
            SKIP("no CUDA device");                                                                \
    } while (0)

/* ---- device selection ------------------------------------------------------- */

static void test_device_fallback(void)
{
    struct backend *be = NULL;
    struct fs_error err;
    CHECK(backend_create("auto", &be, 0, &err) == 0);
    CHECK(be != NULL);
    CHECK_STR_EQ(be->name, gpu ? "cuda" : "cpu");
    be->destroy(be);
    if (gpu)
        return;
    /* No usable device: asking for CUDA fails with one clear line. */
    be = NULL;
    CHECK(backend_create("cuda", &be, 0, &err) < 0);
    CHECK(be == NULL);
    CHECK_MSG(strncmp(err.msg, "cuda: ", 6) == 0, "got: %s", err.msg);
    CHECK_MSG(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
#ifdef FINSENT_HAVE_CUDA
    CHECK_MSG(strstr(err.msg, "no CUDA device") || strstr(err.msg, "cannot run"), "got: %s",
              err.msg);
#else
    CHECK_MSG(strstr(err.msg, "built without CUDA") != NULL, "got: %s", err.msg);
#endif
    printf("  # backend_create(\"cuda\"): %s\n", err.msg);
}

/* ---- memory ---------------------------------------------------------------------- */

static void test_cuda_transfers(void)
{
    NEED_GPU();
    struct fs_error err;
    /* alloc is zero-filled */
    size_t n = 1000;
    float *d = gpu->alloc(gpu, n * sizeof(float)), *h = xmalloc(n * sizeof(float));
    CHECK(d != NULL);
    gpu->download(gpu, h, d, n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        CHECK(h[i] == 0.0f);
    /* many small uploads in a row (staging wraps), then one download each */
    enum { K = 3000 };
    int32_t *small = gpu->alloc(gpu, K * sizeof(int32_t));
    for (int32_t i = 0; i < K; i++)
        gpu->upload(gpu, small + i, &i, sizeof i);
    int32_t *back = xmalloc(K * sizeof(int32_t));
    gpu->download(gpu, back, small, K * sizeof(int32_t));
    for (int32_t i = 0; i < K; i++)
        CHECK_INT_EQ(back[i], i);
    /* a transfer larger than the staging buffer goes in chunks */
    size_t big = (size_t)6 << 20; /* floats: 24 MiB */
    float *hb = xmalloc(big * sizeof(float)), *hb2 = xmalloc(big * sizeof(float));
    for (size_t i = 0; i < big; i++)
        hb[i] = (float)(i % 100003) - 5.0f;
    float *db = gpu->alloc(gpu, big * sizeof(float)), *db2 = gpu->alloc(gpu, big * sizeof(float));
    CHECK(db && db2);
    gpu->upload(gpu, db, hb, big * sizeof(float));
    gpu->copy(gpu, db2, db, big * sizeof(float));
    gpu->zero(gpu, db, 16 * sizeof(float));
    gpu->download(gpu, hb2, db2, big * sizeof(float));
    CHECK(memcmp(hb, hb2, big * sizeof(float)) == 0);
    gpu->download(gpu, hb2, db, big * sizeof(float));
    CHECK(hb2[0] == 0.0f && hb2[15] == 0.0f && hb2[16] == hb[16]);
    CHECK(gpu->check(gpu, &err) == 0);
    gpu->free(gpu, d);
    gpu->free(gpu, small);
    gpu->free(gpu, db);
    gpu->free(gpu, db2);
    free(h);
    free(back);
    free(hb);
    free(hb2);
}

/* A failing call is recorded, reported once by check(), and stops later ops. */
static void test_cuda_error_is_recorded(void)
{
    NEED_GPU();
    struct backend *be;
    struct fs_error err;
    CHECK(backend_cuda_create(&be, &err) == 0);
    float *a = be->alloc(be, 64 * sizeof(float));
    CHECK(be->check(be, &err) == 0);
    /* lda smaller than the row length: cuBLAS rejects it */
    be->matmul(be, 0, 0, 4, 4, 4, 1.0f, a, 1, a, 4, 0.0f, a + 32, 4);
    CHECK(be->check(be, &err) < 0);
    CHECK_MSG(strstr(err.msg, "cuda: cublasSgemm") == err.msg, "got: %s", err.msg);
    CHECK(be->alloc(be, 16) == NULL); /* later ops are no-ops */
    be->free(be, a);
    be->destroy(be);
}

/* ---- matrix products --------------------------------------------------------------- */

/* op(A) m x k, op(B) k x n, padded leading dimensions, alpha and beta. */
static int matmul_case(int ta, int tb, int m, int n, int k, char *why, size_t why_len)
{
    int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 2, ldc = n + 1;
    struct pair a = pair_rand((size_t)(ta ? k : m) * lda, -1, 1);
    struct pair b = pair_rand((size_t)(tb ? n : k) * ldb, -1, 1);
    struct pair c = pair_rand((size_t)m * ldc, -1, 1);
    BOTH BE->matmul(BE, ta, tb, m, n, k, 0.75f, F(a), lda, F(b), ldb, 0.5f, F(c), ldc);
    int ok = close_enough(&c, 1e-4, 1e-4, "matmul", why, why_len);
    pair_free(&a);
    pair_free(&b);
    pair_free(&c);
    return ok;
}

static void test_cuda_matmul(void)
{
    NEED_GPU();
    char why[512];
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            CHECK_MSG(matmul_case(ta, tb, 37, 53, 29, why, sizeof why), "ta %d tb %d: %s", ta, tb,
                      why);
            CHECK_MSG(matmul_case(ta, tb, 1, 7, 130, why, sizeof why), "ta %d tb %d: %s", ta, tb,
                      why);
        }
}

/* The attention products: scores = q k^T, y = att v, and their gradients. */
static void test_cuda_matmul_batched(void)
{
    NEED_GPU();
    int BH = 6, T = 11, D = 8;
    long sq = (long)T * D, ss = (long)T * T;
    struct pair q = pair_rand((size_t)BH * T * D, -1, 1), k = pair_rand((size_t)BH * T * D, -1, 1);
    struct pair att = pair_rand((size_t)BH * T * T, -1, 1), y = pair_zero((size_t)BH * T * D);
    struct pair dq = pair_rand((size_t)BH * T * D, -1, 1);
    BOTH BE->matmul_batched(BE, 0, 1, T, T, D, 0.5f, F(q), D, sq, F(k), D, sq, 0.0f, F(att), T, ss,
                            BH);
    CHECK_CLOSE(att, 1e-4, 1e-4);
    BOTH BE->matmul_batched(BE, 0, 0, T, D, T, 1.0f, F(att), T, ss, F(k), D, sq, 0.0f, F(y), D, sq,
                            BH);
    CHECK_CLOSE(y, 1e-4, 1e-4);
    BOTH BE->matmul_batched(BE, 1, 0, T, D, T, 1.0f, F(att), T, ss, F(q), D, sq, 1.0f, F(dq), D, sq,
                            BH);
    CHECK_CLOSE(dq, 1e-4, 1e-4);
    pair_free(&q);
    pair_free(&k);
    pair_free(&att);
    pair_free(&y);
    pair_free(&dq);
}

/* ---- embedding, layer norm, GELU, bias, residual ------------------------------------- */

static void test_cuda_embedding(void)
{
    NEED_GPU();
    int V = 17, B = 3, T = 7, C = 40;
    int32_t ids[3 * 7];
    for (int i = 0; i < B * T; i++)
        ids[i] = (i * 7) % 5 == 0 ? 3 : (i * 11) % V; /* repeated ids */
    struct pair id = pair_ints(ids, (size_t)B * T);
    struct pair wte = pair_rand((size_t)V * C, -1, 1), wpe = pair_rand((size_t)T * C, -1, 1);
    struct pair out = pair_zero((size_t)B * T * C), dout = pair_rand((size_t)B * T * C, -1, 1);
    struct pair dwte = pair_rand((size_t)V * C, -1, 1), dwpe = pair_rand((size_t)T * C, -1, 1);
    BOTH BE->embedding_forward(BE, F(out), I(id), F(wte), F(wpe), B, T, C);
    CHECK_CLOSE(out, 1e-5, 0);
    BOTH BE->embedding_backward(BE, F(dwte), F(dwpe), F(dout), I(id), B, T, C);
    CHECK_CLOSE(dwte, 1e-5, 1e-5);
    CHECK_CLOSE(dwpe, 1e-5, 1e-5);
    struct pair *all[] = {&id, &wte, &wpe, &out, &dout, &dwte, &dwpe};
    for (size_t i = 0; i < FS_ARRAY_LEN(all); i++)
        pair_free(all[i]);
}

static void layernorm_pass(float eps)
{
    int N = 150, C = 70; /* C not a multiple of 32, N over one block column */
    struct pair x = pair_rand((size_t)N * C, -2, 3), w = pair_rand(C, 0.5f, 1.5f);
    struct pair bias = pair_rand(C, -1, 1), out = pair_zero((size_t)N * C);
    struct pair mean = pair_zero(N), rstd = pair_zero(N), dout = pair_rand((size_t)N * C, -1, 1);
    struct pair dx = pair_rand((size_t)N * C, -1, 1), dw = pair_rand(C, -1, 1);
    struct pair db = pair_rand(C, -1, 1);
    BOTH BE->layernorm_forward(BE, F(out), F(mean), F(rstd), F(x), F(w), F(bias), N, C, eps);
    CHECK_CLOSE(mean, 1e-5, 1e-5);
    CHECK_CLOSE(rstd, 1e-5, 1e-5);
    CHECK_CLOSE(out, 1e-5, 1e-5);
    BOTH BE->layernorm_backward(BE, F(dx), F(dw), F(db), F(dout), F(x), F(w), F(mean), F(rstd), N,
                                C);
    CHECK_CLOSE(dx, 1e-5, 1e-5);
    CHECK_CLOSE(dw, 1e-4, 1e-4);
    CHECK_CLOSE(db, 1e-4, 1e-4);
    struct pair *all[] = {&x, &w, &bias, &out, &mean, &rstd, &dout, &dx, &dw, &db};
    for (size_t i = 0; i < FS_ARRAY_LEN(all); i++)
        pair_free(all[i]);
}

static void test_cuda_layernorm(void)
{
    NEED_GPU();
    layernorm_pass(1e-5f);  /* finsent's encoder */
    layernorm_pass(1e-12f); /* BERT's */
    layernorm_pass(0.05f);  /* large enough that a kernel ignoring eps fails */
}

static void test_cuda_gelu(void)
{
    NEED_GPU();
    size_t n = 3001;
    struct pair x = pair_rand(n, -6, 6), out = pair_zero(n), dout = pair_rand(n, -1, 1);
    struct pair dx = pair_rand(n, -1, 1);
    BOTH BE->gelu_forward(BE, F(out), F(x), n);
    /* fs_erff is good to about 1e-7 absolute, and nvcc contracts its Horner steps
     * into FMAs where the host does not: the two erf values differ by a few 1e-7,
     * which 0.5 x (1 + erf) scales by up to 3 for |x| <= 6 (an H200 gave 1.0e-6
     * at x near -5.3, where GELU is -3e-7). */
    CHECK_CLOSE(out, 1e-5, 3e-6);
    BOTH BE->gelu_backward(BE, F(dx), F(x), F(dout), n);
    CHECK_CLOSE(dx, 1e-5, 1e-6);
    pair_free(&x);
    pair_free(&out);
    pair_free(&dout);
    pair_free(&dx);
}

static void test_cuda_bias_residual(void)
{
    NEED_GPU();
    int N = 300, OC = 45;
    size_t n = (size_t)N * OC;
    struct pair out = pair_rand(n, -1, 1), bias = pair_rand(OC, -1, 1), dout = pair_rand(n, -1, 1);
    struct pair dbias = pair_rand(OC, -1, 1), a = pair_rand(n, -1, 1), da = pair_rand(n, -1, 1);
    struct pair db = pair_rand(n, -1, 1);
    BOTH BE->bias_forward(BE, F(out), F(bias), N, OC);
    CHECK_CLOSE(out, 1e-5, 1e-6);
    BOTH BE->bias_backward(BE, F(dbias), F(dout), N, OC);
    CHECK_CLOSE(dbias, 1e-4, 1e-4);
    BOTH BE->residual_forward(BE, F(out), F(out), F(a), n); /* out aliases a */
    CHECK_CLOSE(out, 1e-5, 1e-6);
    BOTH BE->residual_backward(BE, F(da), F(db), F(dout), n);
    CHECK_CLOSE(da, 1e-5, 1e-6);
    CHECK_CLOSE(db, 1e-5, 1e-6);
    struct pair *all[] = {&out, &bias, &dout, &dbias, &a, &da, &db};
    for (size_t i = 0; i < FS_ARRAY_LEN(all); i++)
        pair_free(all[i]);
}

/* ---- attention ------------------------------------------------------------------------ */

static void test_cuda_heads(void)
{
    NEED_GPU();
    int B = 2, T = 5, C = 12, H = 3;
    size_t n = (size_t)B * T * C;
    struct pair qkv = pair_rand(3 * n, -1, 1), q = pair_zero(n), k = pair_zero(n), v = pair_zero(n);
    struct pair dqkv = pair_rand(3 * n, -1, 1), out = pair_zero(n), dy = pair_rand(n, -1, 1);
    BOTH BE->split_heads_forward(BE, F(q), F(k), F(v), F(qkv), B, T, C, H);
    CHECK_CLOSE(q, 0, 0);
    CHECK_CLOSE(k, 0, 0);
    CHECK_CLOSE(v, 0, 0);
    BOTH BE->split_heads_backward(BE, F(dqkv), F(q), F(k), F(v), B, T, C, H);
    CHECK_CLOSE(dqkv, 1e-5, 1e-6);
    BOTH BE->merge_heads_forward(BE, F(out), F(q), B, T, C, H);
    CHECK_CLOSE(out, 0, 0);
    BOTH BE->merge_heads_backward(BE, F(dy), F(out), B, T, C, H);
    CHECK_CLOSE(dy, 1e-5, 1e-6);
    struct pair *all[] = {&qkv, &q, &k, &v, &dqkv, &out, &dy};
    for (size_t i = 0; i < FS_ARRAY_LEN(all); i++)
        pair_free(all[i]);
}

static void test_cuda_softmax(void)
{
    NEED_GPU();
    int B = 3, H = 2, T = 45; /* rows longer than a warp */
    int32_t lens[] = {45, 33, 1};
    size_t n = (size_t)B * H * T * T;
    float scale = 0.35f;
    struct pair len = pair_ints(lens, 3), scores = pair_rand(n, -8, 8), att = pair_rand(n, -1, 1);
    struct pair datt = pair_rand(n, -1, 1), dscores = pair_rand(n, -1, 1);
    BOTH BE->softmax_forward(BE, F(att), F(scores), I(len), B, H, T, scale);
    CHECK_CLOSE(att, 1e-5, 1e-6);
    BOTH BE->softmax_backward(BE, F(dscores), F(datt), F(att), I(len), B, H, T, scale);
    CHECK_CLOSE(dscores, 1e-5, 1e-5);
    BOTH BE->softmax_forward(BE, F(scores), F(scores), I(len), B, H, T, scale); /* in place */
    CHECK_CLOSE(scores, 1e-5, 1e-6);
    struct pair *all[] = {&len, &scores, &att, &datt, &dscores};
    for (size_t i = 0; i < FS_ARRAY_LEN(all); i++)
        pair_free(all[i]);
}

static void test_cuda_attnpool(void)
{
    NEED_GPU();
    int B = 3, T = 40, C = 70;
    int32_t lens[] = {40, 17, 1};
    struct pair len = pair_ints(lens, 3), x = pair_rand((size_t)B * T * C, -1, 1);
    struct pair q = pair_rand(C, -1, 1), pooled = pair_zero((size_t)B * C);
    struct pair w = pair_rand((size_t)B * T, -1, 1), dpooled = pair_rand((size_t)B * C, -1, 1);
    struct pair dx = pair_rand((size_t)B * T * C, -1, 1), dq = pair_rand(C, -1, 1);
    BOTH BE->attnpool_forward(BE, F(pooled), F(w), F(x), F(q), I(len), B, T, C);
    CHECK_CLOSE(w, 1e-5, 1e-6);
    CHECK_CLOSE(pooled, 1e-5, 1e-5);
    BOTH BE->attnpool_backward(BE, F(dx), F(dq), F(dpooled), F(x), F(q), F(w), I(len), B, T, C);
    CHECK_CLOSE(dx, 1e-5, 1e-5);
    CHECK_CLOSE(dq, 1e-4, 1e-4);
    struct pair *all[] = {&len, &x, &q, &pooled, &w, &dpooled, &dx, &dq};
    for (size_t i = 0; i < FS_ARRAY_LEN(all); i++)
        pair_free(all[i]);
}

/* ---- heads, dropout, optimiser ---------------------------------------------------------- */

static void test_cuda_crossentropy(void)
{
    NEED_GPU();
    enum { B = 8 };
    int sizes[] = {20, 3}, K = 23;
    int32_t task[B] = {0, 1, -1, 1, 0, 2, 1, 0}, label[B] = {5, 2, 0, 1, 19, 0, 3, 0};
    struct pair tk = pair_ints(task, B), lb = pair_ints(label, B);
    struct pair logits = pair_rand((size_t)B * K, -4, 4), probs = pair_zero((size_t)B * K);
    struct pair losses = pair_rand(B, -1, 1), dlogits = pair_rand((size_t)B * K, -1, 1);
    BOTH BE->crossentropy_forward(BE, F(losses), F(probs), F(logits), I(tk), I(lb), B, 2, sizes,
                                  0.1f);
    CHECK_CLOSE(probs, 1e-5, 1e-6);
    CHECK_CLOSE(losses, 1e-5, 1e-5);
    BOTH BE->crossentropy_backward(BE, F(dlogits), F(probs), I(tk), I(lb), B, 2, sizes, 0.1f,
                                   0.125f);
    CHECK_CLOSE(dlogits, 1e-5, 1e-6);
    struct pair *all[] = {&tk, &lb, &logits, &probs, &losses, &dlogits};
    for (size_t i = 0; i < FS_ARRAY_LEN(all); i++)
        pair_free(all[i]);
}

static void test_cuda_dropout(void)
{
    NEED_GPU();
    size_t n = 5000;
    struct pair x = pair_rand(n, -1, 1), out = pair_zero(n), dx = pair_rand(n, -1, 1);
    struct pair dout = pair_rand(n, -1, 1);
    BOTH BE->dropout_forward(BE, F(out), F(x), n, 0.1f, 42);
    CHECK_CLOSE(out, 0, 0); /* same mask, same arithmetic: identical */
    BOTH BE->dropout_backward(BE, F(dx), F(dout), n, 0.1f, 42);
    /* dx += dout * scale: the device fuses it into one FMA, the host rounds the
     * product first; the half-ulp of a product up to 1.1 (6e-8) is all that may
     * differ, large next to a sum that cancels (an H200: 2.6e-8 on -0.00616). */
    CHECK_CLOSE(dx, 1e-6, 1.2e-7);
    BOTH BE->dropout_forward(BE, F(out), F(x), n, 0.0f, 42); /* p = 0: a copy */
    CHECK_CLOSE(out, 0, 0);
    BOTH BE->dropout_forward(BE, F(x), F(x), n, 0.3f, 7); /* in place */
    CHECK_CLOSE(x, 0, 0);
    pair_free(&x);
    pair_free(&out);
    pair_free(&dx);
    pair_free(&dout);
}

static void test_cuda_optimiser(void)
{
    NEED_GPU();
    size_t n = 100003;
    struct pair p = pair_rand(n, -1, 1), g = pair_rand(n, -1, 1), m = pair_rand(n, -0.1f, 0.1f);
    struct pair v = pair_rand(n, 0, 0.01f);
    double sc = cpu->sum_squares(cpu, (const float *)g.c, n);
    double sg = gpu->sum_squares(gpu, (const float *)g.g, n);
    CHECK_MSG(fabs(sg - sc) <= 1e-9 * sc, "sum_squares gpu %.12g cpu %.12g", sg, sc);
    CHECK(gpu->sum_squares(gpu, (const float *)g.g, 0) == 0.0);
    for (int t = 1; t <= 3; t++)
        BOTH BE->adamw(BE, F(p), F(g), F(m), F(v), n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.5f, t);
    CHECK_CLOSE(m, 1e-5, 1e-7);
    CHECK_CLOSE(v, 1e-5, 1e-9);
    CHECK_CLOSE(p, 1e-5, 1e-6);
    pair_free(&p);
    pair_free(&g);
    pair_free(&m);
    pair_free(&v);
}

/* ---- the whole model ------------------------------------------------------------------------- */

/* One AdamW step (lr 1e-3) from the same parameters `before`: the steps
 * after - before of the CPU (hc) and the GPU (hg) agree. Adam's first step is
 * about lr * sign(grad): where both gradients (gc, gg) clearly share a sign it
 * must match to 1e-6 + 1e-3 relative, and nearly all parameters are of that
 * kind; where a gradient is ~0 the step may go either way (2 lr allowed). A
 * GPU step that is missing, halved or without weight decay fails. */
static int optimiser_steps_agree(const float *before, const float *hc, const float *hg,
                                 const float *gc, const float *gg, size_t n, char *why,
                                 size_t why_len)
{
    size_t strict = 0;
    double moved = 0;
    for (size_t i = 0; i < n; i++) {
        double dc = (double)hc[i] - before[i], dg = (double)hg[i] - before[i];
        moved += fabs(dc);
        int clear = fabs(gc[i]) > 1e-5 && (double)gc[i] * gg[i] > 0 &&
                    fabs((double)gg[i] - gc[i]) < 0.1 * fabs(gc[i]);
        double lim = clear ? 1e-6 + 1e-3 * fabs(dc) : 2.1e-3;
        strict += clear;
        if (!(fabs(dg - dc) <= lim)) {
            snprintf(why, why_len, "param %zu: step gpu %.9g cpu %.9g (grad gpu %.6g cpu %.6g)", i,
                     dg, dc, gg[i], gc[i]);
            return 0;
        }
    }
    if (strict * 2 < n || moved < 1e-4 * (double)n) {
        snprintf(why, why_len, "only %zu of %zu steps checked strictly, mean |step| %.3g", strict,
                 n, moved / (double)n);
        return 0;
    }
    return 1;
}

static void small_config(struct model_config *cfg, int pool)
{
    model_config_default(cfg);
    cfg->vocab = 61;
    cfg->max_len = 16;
    cfg->width = 48;
    cfg->layers = 2;
    cfg->heads = 4;
    cfg->ffn = 96;
    cfg->pool = pool;
    cfg->dropout = 0.1f;
}

/* Host arrays a and b of n floats agree within rtol and atol_rel * max|a|. */
static int arrays_close(const float *a, const float *b, size_t n, double rtol, double atol_rel,
                        char *why, size_t why_len)
{
    double maxabs = 0.0;
    for (size_t i = 0; i < n; i++)
        maxabs = fmax(maxabs, fabs(a[i]));
    double atol = atol_rel * maxabs;
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)b[i] - a[i]) <= atol + rtol * fabs(a[i]))) {
            snprintf(why, why_len, "[%zu]: gpu %.9g vs cpu %.9g (max|cpu| %g)", i, b[i], a[i],
                     maxabs);
            return 0;
        }
    return 1;
}

static void model_pass(int pool, int arch)
{
    struct model_config cfg;
    small_config(&cfg, pool);
    if (arch == ARCH_POST_LN) {
        cfg.arch = ARCH_POST_LN;
        cfg.type_vocab = 2;
        cfg.ln_eps = 1e-12f;
    }
    struct model *mc, *mg;
    struct fs_error err;
    CHECK(model_create(&cfg, cpu, 1234, &mc, &err) == 0);
    CHECK(model_create(&cfg, gpu, 1234, &mg, &err) == 0);
    mc->label_smoothing = mg->label_smoothing = 0.1f;
    CHECK(model_train_alloc(mc, &err) == 0 && model_train_alloc(mg, &err) == 0);
    enum { B = 5, T = 12 };
    int32_t ids[B * T] = {0}, lengths[B] = {12, 7, 1, 12, 3};
    int32_t task[B] = {0, 1, 1, -1, 0}, label[B] = {4, 2, 0, 0, 19};
    for (int b = 0; b < B; b++)
        for (int t = 0; t < lengths[b]; t++)
            ids[b * T + t] = t == 0 ? 1 : (b * 31 + t * 17) % cfg.vocab;
    struct model_batch batch = {B, T, ids, lengths, task, label};
    float lc = 0, lg = 0;
    CHECK(model_forward(mc, &batch, 1, 99, &lc, &err) == 0);
    CHECK_MSG(model_forward(mg, &batch, 1, 99, &lg, &err) == 0, "%s", err.msg);
    CHECK_MSG(fabs(lg - lc) <= 1e-4 * fabs(lc), "loss gpu %.9g cpu %.9g", lg, lc);

    int K = model_config_logits(&cfg);
    size_t np = mc->n_params;
    float *hc = xmalloc(np * sizeof(float)), *hg = xmalloc(np * sizeof(float));
    char why[512];
    model_get_probs(mc, hc);
    model_get_probs(mg, hg);
    CHECK_MSG(arrays_close(hc, hg, (size_t)B * K, 1e-4, 1e-5, why, sizeof why), "probs%s", why);
    model_get_attention(mc, hc);
    model_get_attention(mg, hg);
    CHECK_MSG(arrays_close(hc, hg, (size_t)B * T, 1e-4, 1e-5, why, sizeof why), "attention%s", why);

    model_backward(mc);
    model_backward(mg);
    CHECK(mg->be->check(mg->be, &err) == 0);
    for (int i = 0; i < mc->n_tensors; i++) { /* per tensor, so a failure names it */
        const struct model_tensor *t = &mc->tensors[i];
        cpu->download(cpu, hc, mc->grads + t->offset, t->size * sizeof(float));
        gpu->download(gpu, hg, mg->grads + t->offset, t->size * sizeof(float));
        CHECK_MSG(arrays_close(hc, hg, t->size, 1e-3, 1e-3, why, sizeof why), "grad %s%s", t->name,
                  why);
    }
    /* one optimiser step over every parameter, then the parameters agree */
    double nc = cpu->sum_squares(cpu, mc->grads, np), ng = gpu->sum_squares(gpu, mg->grads, np);
    CHECK_MSG(fabs(ng - nc) <= 1e-4 * nc, "grad norm^2 gpu %.9g cpu %.9g", ng, nc);
    float *before = xmalloc(np * sizeof(float)), *gc = xmalloc(np * sizeof(float));
    float *gg = xmalloc(np * sizeof(float));
    model_get_params(mc, before);
    cpu->download(cpu, gc, mc->grads, np * sizeof(float));
    gpu->download(gpu, gg, mg->grads, np * sizeof(float));
    cpu->adamw(cpu, mc->params, mc->grads, mc->adam_m, mc->adam_v, np, 1e-3f, 0.9f, 0.999f, 1e-8f,
               0.01f, 1.0f, 1);
    gpu->adamw(gpu, mg->params, mg->grads, mg->adam_m, mg->adam_v, np, 1e-3f, 0.9f, 0.999f, 1e-8f,
               0.01f, 1.0f, 1);
    model_get_params(mc, hc);
    model_get_params(mg, hg);
    CHECK_MSG(optimiser_steps_agree(before, hc, hg, gc, gg, np, why, sizeof why), "%s", why);
    CHECK(gpu->check(gpu, &err) == 0);
    free(before);
    free(gc);
    free(gg);
    free(hc);
    free(hg);
    model_free(mc);
    model_free(mg);
}

static void test_cuda_model_attention_pool(void)
{
    NEED_GPU();
    model_pass(POOL_ATTENTION, ARCH_PRE_LN);
}

/* BERT's arrangement: post-LN blocks, token types, embedding LayerNorm. */
static void test_cuda_model_post_ln(void)
{
    NEED_GPU();
    model_pass(POOL_CLS, ARCH_POST_LN);
}

static void test_cuda_model_cls_pool(void)
{
    NEED_GPU();
    model_pass(POOL_CLS, ARCH_PRE_LN);
}

static void test_cuda_on_device(void)
{
    SKIP("no CUDA device (the device tests run under emulation in tests/it_cuda_emu.sh)");
}

int main(void)
{
    struct fs_error err;
    if (backend_cpu_create(&cpu, &err) < 0) {
        printf("FAIL test_cuda: %s\n", err.msg);
        return 1;
    }
    if (backend_cuda_create(&gpu, &err) < 0) {
        gpu = NULL;
        printf("  # %s\n", err.msg);
    }
    RUN(test_device_fallback);
    if (gpu)
        printf("  # device: %s\n", backend_cuda_describe(gpu));
    if (!gpu) { /* one line instead of one per device test */
        RUN(test_cuda_on_device);
        cpu->destroy(cpu);
        return check_summary();
    }
    RUN(test_cuda_transfers);
    RUN(test_cuda_error_is_recorded);
    RUN(test_cuda_matmul);
    RUN(test_cuda_matmul_batched);
    RUN(test_cuda_embedding);
    RUN(test_cuda_layernorm);
    RUN(test_cuda_gelu);
    RUN(test_cuda_bias_residual);
    RUN(test_cuda_heads);
    RUN(test_cuda_softmax);
    RUN(test_cuda_attnpool);
    RUN(test_cuda_crossentropy);
    RUN(test_cuda_dropout);
    RUN(test_cuda_optimiser);
    RUN(test_cuda_model_attention_pool);
    RUN(test_cuda_model_cls_pool);
    RUN(test_cuda_model_post_ln);
    gpu->destroy(gpu);
    cpu->destroy(cpu);
    return check_summary();
}
