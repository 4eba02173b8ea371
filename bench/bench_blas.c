/* bench_blas.c — sgemm GFLOP/s of the OpenBLAS kernel in use (printed, never
 * asserted), at 1024^3 and the encoder's shapes (rows x out x in, B stored as
 * the CPU backend stores weights).
 *
 *   bench_blas                                   the kernel finsent selects
 *   OPENBLAS_CORETYPE=Prescott bench_blas        a given kernel (no re-exec)
 *   OPENBLAS_NUM_THREADS=1 bench_blas            one thread
 *
 * Like finsent, it re-executes itself first when OpenBLAS picked a kernel
 * below what the CPU supports (common/cpu_features.h).
 */
#include "bench/bench_util.h"
#include "common/cpu_features.h"
#include "common/util.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>

struct shape {
    int m, n, k, trans_b;
    const char *what;
};

static const struct shape shapes[] = {
    {1024, 1024, 1024, 0, "square"},
    {2048, 384, 384, 1, "attention projection"},
    {2048, 1536, 384, 1, "ffn up"},
    {2048, 384, 1536, 1, "ffn down"},
};

/* Best seconds per call over about 0.5 s of calls (after one warm-up call). */
static double time_sgemm(const struct shape *s, const float *a, const float *b, float *c)
{
    double best = 1e30, start = time_monotonic();
    for (int rep = 0; rep < 1000 && (rep < 3 || time_monotonic() - start < 0.5); rep++) {
        double t0 = time_monotonic();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, s->trans_b ? CblasTrans : CblasNoTrans, s->m, s->n,
                    s->k, 1.0f, a, s->k, b, s->trans_b ? s->k : s->n, 0.0f, c, s->n);
        double dt = time_monotonic() - t0;
        if (rep > 0 && dt < best)
            best = dt;
    }
    return best;
}

int main(int argc, char **argv)
{
    (void)argc;
    cpu_blas_select_and_reexec(argv);
    char line[256];
    cpu_blas_describe(line, sizeof line);
    printf("%s, %d thread(s)\n", line, openblas_get_num_threads());
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const struct shape *s = &shapes[i];
        float *a = bench_random_floats((size_t)s->m * s->k, 1);
        float *b = bench_random_floats((size_t)s->k * s->n, 2);
        float *c = xmalloc((size_t)s->m * s->n * sizeof *c);
        double sec = time_sgemm(s, a, b, c);
        printf("sgemm %4d x %4d x %4d (%-20s) %8.3f ms %8.1f GFLOP/s\n", s->m, s->n, s->k, s->what,
               sec * 1e3, 2.0 * s->m * s->n * s->k / sec / 1e9);
        free(a);
        free(b);
        free(c);
    }
    return 0;
}
