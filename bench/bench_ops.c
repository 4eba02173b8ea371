/* bench_ops.c — time per call of the CPU backend's element-wise ops at the
 * fine-tuning shapes of the default base (2,048 tokens a batch, width 384, FFN
 * 1,536, 12 heads, 64 rows of 32 tokens), and the sum over one training step's
 * calls (printed, never asserted). The matrix products (OpenBLAS) are measured by
 * bench_blas.
 *
 *   bench_ops            best of 20 runs of each op, in microseconds of the
 *                        thread's CPU time
 */
#include "bench/bench_util.h"
#include "classify/backend.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The thread's CPU time: the figures hold while other jobs share the cores. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

enum { TOK = 2048, C = 384, FFN = 1536, H = 12, B = 64, T = 32, LAYERS = 6, RUNS = 20 };

struct ctx {
    struct backend *be;
    float *a, *b, *c, *d, *w, *bias, *mean, *rstd, *att, *datt, *m, *v;
    int32_t *len;
};

#define OP(name, per_step, call)                                                                   \
    static void name(struct ctx *x)                                                                \
    {                                                                                              \
        struct backend *be = x->be;                                                                \
        call;                                                                                      \
    }
OP(ln_fwd, 2, be->layernorm_forward(be, x->c, x->mean, x->rstd, x->a, x->w, x->bias, TOK, C, 1e-12f))
OP(ln_bwd, 2, be->layernorm_backward(be, x->d, x->w + C, x->bias + C, x->b, x->a, x->w, x->mean,
                                     x->rstd, TOK, C))
OP(gelu_fwd, 1, be->gelu_forward(be, x->c, x->a, (size_t)TOK * FFN))
OP(gelu_bwd, 1, be->gelu_backward(be, x->d, x->a, x->b, (size_t)TOK * FFN))
OP(bias_fwd, 4, be->bias_forward(be, x->c, x->bias, TOK, FFN))
OP(bias_bwd, 4, be->bias_backward(be, x->w, x->b, TOK, FFN))
OP(res_fwd, 2, be->residual_forward(be, x->c, x->a, x->b, (size_t)TOK * C))
OP(res_bwd, 2, be->residual_backward(be, x->c, x->d, x->b, (size_t)TOK * C))
OP(split_fwd, 1, be->split_heads_forward(be, x->c, x->d, x->m, x->a, B, T, C, H))
OP(split_bwd, 1, be->split_heads_backward(be, x->c, x->a, x->b, x->d, B, T, C, H))
OP(merge_fwd, 1, be->merge_heads_forward(be, x->c, x->a, B, T, C, H))
OP(merge_bwd, 1, be->merge_heads_backward(be, x->c, x->a, B, T, C, H))
OP(soft_fwd, 1, be->softmax_forward(be, x->att, x->c, x->len, B, H, T, 0.125f))
OP(soft_bwd, 1, be->softmax_backward(be, x->d, x->datt, x->att, x->len, B, H, T, 0.125f))
OP(drop_fwd, 3, be->dropout_forward(be, x->c, x->a, (size_t)TOK * C, 0.1f, 7))
OP(drop_bwd, 3, be->dropout_backward(be, x->d, x->b, (size_t)TOK * C, 0.1f, 7))

struct op {
    const char *name;
    int per_layer; /* calls per layer and training step (forward or backward) */
    void (*run)(struct ctx *);
};

static const struct op ops[] = {
    {"layernorm forward", 2, ln_fwd},      {"layernorm backward", 2, ln_bwd},
    {"gelu forward", 1, gelu_fwd},         {"gelu backward", 1, gelu_bwd},
    {"bias forward (ffn)", 4, bias_fwd},   {"bias backward (ffn)", 4, bias_bwd},
    {"residual forward", 2, res_fwd},      {"residual backward", 2, res_bwd},
    {"split heads forward", 1, split_fwd}, {"split heads backward", 1, split_bwd},
    {"merge heads forward", 1, merge_fwd}, {"merge heads backward", 1, merge_bwd},
    {"softmax forward", 1, soft_fwd},      {"softmax backward", 1, soft_bwd},
    {"dropout forward", 3, drop_fwd},      {"dropout backward", 3, drop_bwd},
};

static void adamw_run(struct ctx *x, size_t n)
{
    x->be->adamw(x->be, x->a, x->b, x->m, x->v, n, 1e-5f, 0.9f, 0.98f, 1e-8f, 0.01f, 1.0f, 3);
}

static volatile double sum_sink; /* keeps the sum of squares from being optimised away */

static void sum_squares_run(struct ctx *x, size_t n)
{
    sum_sink = x->be->sum_squares(x->be, x->b, n);
}

/* Best of five CPU times of one optimiser op over every parameter. */
static double optimizer_op_seconds(struct ctx *x, size_t n, void (*run)(struct ctx *, size_t))
{
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = cpu_seconds();
        run(x, n);
        double dt = cpu_seconds() - t0;
        best = dt < best ? dt : best;
    }
    return best;
}

int main(void)
{
    struct fs_error err;
    struct ctx x = {0};
    if (backend_create("cpu", &x.be, 0, &err) < 0) {
        fprintf(stderr, "bench_ops: %s\n", err.msg);
        return 1;
    }
    size_t big = (size_t)TOK * FFN * 3 > (size_t)B * H * T * T ? (size_t)TOK * FFN * 3
                                                                : (size_t)B * H * T * T;
    x.a = bench_random_floats(big, 1), x.b = bench_random_floats(big, 2), x.c = bench_random_floats(big, 3), x.d = bench_random_floats(big, 4);
    x.m = bench_random_floats(big, 5), x.v = bench_random_floats(big, 6), x.w = bench_random_floats(4 * FFN, 7), x.bias = bench_random_floats(4 * FFN, 8);
    x.att = bench_random_floats(big, 9), x.datt = bench_random_floats(big, 10);
    for (size_t i = 0; i < big; i++)
        x.v[i] = x.v[i] * x.v[i];
    x.mean = bench_random_floats(TOK, 11), x.rstd = bench_random_floats(TOK, 12);
    x.len = xmalloc(B * sizeof *x.len);
    for (int b = 0; b < B; b++)
        x.len[b] = T - (b % 8);
    printf("%-24s %10s %10s\n", "op (2,048 tokens)", "us/call", "ms/step");
    double step = 0;
    for (size_t i = 0; i < FS_ARRAY_LEN(ops); i++) {
        double best = 1e9;
        for (int r = 0; r < RUNS; r++) {
            double t0 = cpu_seconds();
            ops[i].run(&x);
            double dt = cpu_seconds() - t0;
            best = dt < best ? dt : best;
        }
        double per_step = best * ops[i].per_layer * LAYERS;
        step += per_step;
        printf("%-24s %10.1f %10.2f\n", ops[i].name, best * 1e6, per_step * 1e3);
    }
    size_t params = 22574231 < big ? 22574231 : big;
    double adamw = optimizer_op_seconds(&x, params, adamw_run);
    printf("%-24s %10.1f %10.2f\n", "adamw (22.6M params)", adamw * 1e6, adamw * 1e3);
    double norm = optimizer_op_seconds(&x, params, sum_squares_run);
    printf("%-24s %10.1f %10.2f\n", "clip norm (22.6M)", norm * 1e6, norm * 1e3);
    printf("%-24s %10s %10.2f\n", "element-wise per step", "", (step + adamw + norm) * 1e3);
    return 0;
}
