/*
 * cpu_features.c — CPU feature detection and the choice of OpenBLAS kernel
 * (common/cpu_features.h says why and how).
 */
#include "common/cpu_features.h"

#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* XCR0 via the xgetbv instruction (no -mxsave needed, unlike _xgetbv). Only
 * valid when cpuid reports OSXSAVE. */
static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

#define XCR0_YMM 0x06u /* SSE (bit 1) + AVX (bit 2) state */
#define XCR0_ZMM 0xE0u /* opmask (5), ZMM_Hi256 (6), Hi16_ZMM (7) */

void cpu_features_detect(struct cpu_features *f)
{
    unsigned a, b, c, d;
    memset(f, 0, sizeof *f);
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    int osxsave = (c >> 27) & 1;
    f->avx = (c >> 28) & 1;
    f->fma = (c >> 12) & 1;
    if (osxsave) {
        uint64_t xcr0 = read_xcr0();
        f->os_ymm = (xcr0 & XCR0_YMM) == XCR0_YMM;
        f->os_zmm = f->os_ymm && (xcr0 & XCR0_ZMM) == XCR0_ZMM;
    }
    if (__get_cpuid_max(0, NULL) < 7)
        return;
    __cpuid_count(7, 0, a, b, c, d);
    f->avx2 = (b >> 5) & 1;
    f->avx512f = (b >> 16) & 1;
    f->avx512dq = (b >> 17) & 1;
    f->avx512bw = (b >> 30) & 1;
    f->avx512vl = (b >> 31) & 1;
}
#else
void cpu_features_detect(struct cpu_features *f)
{
    memset(f, 0, sizeof *f);
}
#endif

const char *cpu_blas_kernel_for(const struct cpu_features *f)
{
    if (!f->os_ymm || !f->avx)
        return NULL;
    if (f->os_zmm && f->avx512f && f->avx512bw && f->avx512vl && f->avx512dq)
        return "SkylakeX";
    if (f->avx2 && f->fma)
        return "Haswell";
    return "Sandybridge";
}

/* OpenBLAS 0.3.21's x86 core names (driver/others/dynamic.c), by capability. */
static const struct {
    const char *name;
    int tier;
} core_tiers[] = {
    {"Unknown", 0},     {"Katmai", 0},       {"Coppermine", 0},     {"Northwood", 0},
    {"Prescott", 0},    {"Banias", 0},       {"Atom", 0},           {"Core2", 0},
    {"Penryn", 0},      {"Dunnington", 0},   {"Nehalem", 0},        {"Athlon", 0},
    {"Opteron", 0},     {"Opteron_SSE3", 0}, {"Barcelona", 0},      {"Nano", 0},
    {"Bobcat", 0},      {"Sandybridge", 1},  {"Bulldozer", 1},      {"Piledriver", 1},
    {"Steamroller", 1}, {"Haswell", 2},      {"Excavator", 2},      {"Zen", 2},
    {"SkylakeX", 3},    {"Cooperlake", 3},   {"SapphireRapids", 3},
};

int cpu_blas_kernel_tier(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof core_tiers / sizeof core_tiers[0]; i++)
        if (!strcasecmp(name, core_tiers[i].name))
            return core_tiers[i].tier;
    return -1;
}

const char *cpu_blas_kernel_wanted(const struct cpu_features *f, const char *current,
                                   const char *env_coretype, const char *env_marker)
{
    if ((env_coretype && *env_coretype) || env_marker)
        return NULL;
    const char *want = cpu_blas_kernel_for(f);
    if (!want)
        return NULL;
    int now = cpu_blas_kernel_tier(current);
    if (now < 0 || now >= cpu_blas_kernel_tier(want))
        return NULL;
    return want;
}

const char *cpu_blas_kernel_name(void)
{
    const char *name = openblas_get_corename();
    return name ? name : "unknown";
}

void cpu_blas_describe(char *buf, size_t size)
{
    const char *kernel = cpu_blas_kernel_name();
    const char *env = getenv("OPENBLAS_CORETYPE");
    const char *marker = getenv(CPU_BLAS_REEXEC_ENV);
    struct cpu_features f;
    cpu_features_detect(&f);
    const char *best = cpu_blas_kernel_for(&f);
    if (marker) /* set only by cpu_blas_reexec_as */
        snprintf(buf, size,
                 "OpenBLAS kernel %s (chosen by finsent from the CPU's features; "
                 "OpenBLAS alone picked %.40s)",
                 kernel, marker);
    else if (env && *env)
        snprintf(buf, size,
                 "OpenBLAS kernel %s (OPENBLAS_CORETYPE=%.40s set in the "
                 "environment; the CPU's features support %s)",
                 kernel, env, best ? best : "none");
    else
        snprintf(buf, size,
                 "OpenBLAS kernel %s (OpenBLAS's own detection; the CPU's "
                 "features support %s)",
                 kernel, best ? best : "none");
}

int cpu_blas_reexec_as(char **argv, const char *kernel)
{
    char was[64];
    snprintf(was, sizeof was, "%s", cpu_blas_kernel_name());
    if (setenv("OPENBLAS_CORETYPE", kernel, 1) == 0 && setenv(CPU_BLAS_REEXEC_ENV, was, 1) == 0)
        execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE");
    unsetenv(CPU_BLAS_REEXEC_ENV);
    return -1;
}

void cpu_blas_select_and_reexec(char **argv)
{
    if (!argv || !argv[0])
        return;
    struct cpu_features f;
    cpu_features_detect(&f);
    const char *want = cpu_blas_kernel_wanted(
        &f, cpu_blas_kernel_name(), getenv("OPENBLAS_CORETYPE"), getenv(CPU_BLAS_REEXEC_ENV));
    if (want)
        cpu_blas_reexec_as(argv, want);
}
