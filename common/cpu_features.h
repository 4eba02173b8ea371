/*
 * cpu_features.h — which OpenBLAS kernel this CPU supports, and making
 * OpenBLAS use it.
 *
 * Debian's OpenBLAS (0.3.21, DYNAMIC_ARCH) picks its kernels from the CPU's
 * family and model numbers. On a CPU it does not recognise (a new model, or a
 * cloud VM whose cpuid reports a model the library predates) it falls back to
 * its oldest x86-64 kernel, "Prescott" (SSE3), several times slower than the
 * AVX2 or AVX-512 kernels the CPU can run. The fix OpenBLAS offers is the
 * environment variable OPENBLAS_CORETYPE, but the library reads it in its
 * constructor, when libopenblas.so loads — before main. A setenv() in main is
 * too late (checked: openblas_get_corename() still answers the first kernel),
 * so finsent re-executes itself once with the variable set:
 *
 *   int main(int argc, char **argv)
 *   {
 *       cpu_blas_select_and_reexec(argv);   // first statement; returns when
 *       ...                                 // nothing is to be done
 *
 * It does nothing (and returns) when OPENBLAS_CORETYPE is already set (a user's
 * or this workplace's choice is respected: some older OpenBLAS builds compute
 * wrong results on some CPUs), when it already re-executed (FINSENT_BLAS_REEXEC
 * is set; it holds the kernel OpenBLAS had picked on its own), when OpenBLAS's
 * own pick is at least as good as what the features allow (or is a name this
 * file does not know, such as a non-x86 core), and when exec fails.
 *
 * Features -> kernel:
 *   AVX-512 F+BW+VL+DQ, and the OS saves zmm/opmask state (XCR0) -> "SkylakeX"
 *   AVX2 + FMA, and the OS saves ymm state                      -> "Haswell"
 *   AVX, and the OS saves ymm state                              -> "Sandybridge"
 *   anything else, or not x86                                    -> none
 *
 * Figures (bench/bench_blas, sgemm GFLOP/s, best of several runs, on this
 * project's 2-core "Intel Xeon Processor" VM: AVX-512 incl. AMX/FP16 flags,
 * cpuid family 6 model 167; OpenBLAS 0.3.21 itself detects SkylakeX here, so
 * Prescott is forced to show what an undetected CPU gets):
 *
 *   OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Prescott build/bench/bench_blas
 *   OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX build/bench/bench_blas
 *   (and the same with OPENBLAS_NUM_THREADS=2)
 *
 *                                    1 thread            2 threads
 *   M x N x K                      Prescott SkylakeX    Prescott SkylakeX
 *   1024 x 1024 x 1024                 42.0    169.0        82.2    340.1
 *   2048 x  384 x  384 (attn proj)     42.9    171.0        82.2    316.2
 *   2048 x 1536 x  384 (ffn up)        42.2    166.4        79.7    330.4
 *   2048 x  384 x 1536 (ffn down)      42.6    154.0        78.8    325.6
 *
 * About 4x at every shape and thread count (the machine was shared with
 * builds, load about 2). Results under either kernel agree within float
 * rounding: sgemm relative difference ~5e-7 (tests/test_cpu_features.c),
 * 'finsent predict' probabilities ~6e-8 (tests/it_blas_kernel.py). The
 * re-exec, where it happens, costs about 10 ms per start ('finsent help':
 * 11 ms plain, 21 ms with one re-exec).
 */
#ifndef FINSENT_CPU_FEATURES_H
#define FINSENT_CPU_FEATURES_H

#include <stddef.h>

/* The marker set before re-executing; its value is the kernel OpenBLAS had picked. */
#define CPU_BLAS_REEXEC_ENV "FINSENT_BLAS_REEXEC"

/* The CPU features that decide the kernel. Each field is 0 or 1. os_ymm: the OS
 * saves SSE and AVX state (XCR0 bits 1-2); os_zmm: it also saves the opmask and
 * both ZMM state components (XCR0 bits 5-7). */
struct cpu_features {
    int avx, fma, avx2;
    int avx512f, avx512bw, avx512vl, avx512dq;
    int os_ymm, os_zmm;
};

/* Fills *f from cpuid and xgetbv. On a build for another architecture every
 * field is 0. */
void cpu_features_detect(struct cpu_features *f);

/* The OpenBLAS core name (a value for OPENBLAS_CORETYPE) that the features
 * support best: "SkylakeX", "Haswell", "Sandybridge", or NULL for none. Pure. */
const char *cpu_blas_kernel_for(const struct cpu_features *f);

/* How capable an OpenBLAS core name is: 0 pre-AVX (Prescott, Core2, Nehalem,
 * "Unknown" ...), 1 AVX (Sandybridge, Bulldozer ...), 2 AVX2 (Haswell, Zen,
 * Excavator), 3 AVX-512 (SkylakeX, Cooperlake, SapphireRapids); -1 for a name
 * not listed (a newer or non-x86 core), which is never overridden. Case-blind. */
int cpu_blas_kernel_tier(const char *name);

/* The decision, pure: the kernel to force given the features, the kernel
 * OpenBLAS runs now and the values of OPENBLAS_CORETYPE and the marker (NULL
 * when unset; an empty OPENBLAS_CORETYPE counts as unset). NULL: leave it. */
const char *cpu_blas_kernel_wanted(const struct cpu_features *f, const char *current,
                                   const char *env_coretype, const char *env_marker);

/* The kernel OpenBLAS runs in this process (openblas_get_corename()). Static
 * storage; never NULL. */
const char *cpu_blas_kernel_name(void);

/* One line for --verbose into buf: the kernel and who chose it, e.g.
 * "OpenBLAS kernel SkylakeX (chosen by finsent from the CPU's features;
 * OpenBLAS alone picked Prescott)". Always NUL-terminated, cut to size. */
void cpu_blas_describe(char *buf, size_t size);

/* Sets OPENBLAS_CORETYPE=kernel and the marker, then execv("/proc/self/exe",
 * argv). Returns only when exec failed: -1, with both variables unset again. */
int cpu_blas_reexec_as(char **argv, const char *kernel);

/* Detects, decides (cpu_blas_kernel_wanted on this process's environment) and,
 * when a better kernel is known, re-executes. Returns when nothing is to be
 * done or exec failed; callable first thing from any main (argv as main got
 * it, NULL-terminated). */
void cpu_blas_select_and_reexec(char **argv);

#endif
