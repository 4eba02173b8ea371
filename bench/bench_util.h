/*
 * bench_util.h — small helpers the benchmarks share: a seeded generator, random
 * float buffers, and the process's CPU time and peak RSS (figures that hold up
 * better than wall time on a shared machine). Header-only; benchmarks only.
 */
#ifndef FINSENT_BENCH_UTIL_H
#define FINSENT_BENCH_UTIL_H

#include "common/common.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

/* Next value (24 bits) of a linear congruential generator with state *s. */
static inline uint32_t bench_lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

/* n floats in [-1, 1) from seed (xmalloc'd; the caller frees). */
static inline float *bench_random_floats(size_t n, unsigned seed)
{
    float *x = xmalloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) & 0xFFFF) / 32768.0f - 1.0f;
    }
    return x;
}

/* CPU seconds of this process (user + system). */
static inline double bench_process_cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Peak resident set size of this process so far, in MiB. */
static inline long bench_peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024;
}

#endif
