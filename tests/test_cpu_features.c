/* test_cpu_features.c — tests for common/cpu_features.c: the mapping from
 * feature bits to OpenBLAS kernel, the decision to re-execute, detection
 * against /proc/cpuinfo, the re-execution itself, and that sgemm under the
 * selected kernel equals sgemm under the fallback (Prescott) within rounding.
 *
 * The program runs itself as a child (/proc/self/exe) in two extra modes:
 *   test_cpu_features --reexec-probe        prints "kernel=K marker=M" after
 *                                           cpu_blas_select_and_reexec
 *   test_cpu_features --sgemm OUT           writes encoder-shaped sgemm results
 *                                           to OUT, prefixed by the kernel name
 */
#include "check.h"
#include "common/cpu_features.h"

#include <cblas.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- pure logic ----------------------------------------------------------------------------- */

static struct cpu_features feats(int avx, int fma, int avx2, int avx512, int os_ymm, int os_zmm)
{
    struct cpu_features f = {avx, fma, avx2, avx512, avx512, avx512, avx512, os_ymm, os_zmm};
    return f;
}

static void test_kernel_for_mapping(void)
{
    struct cpu_features f = feats(1, 1, 1, 1, 1, 1);
    CHECK_STR_EQ(cpu_blas_kernel_for(&f), "SkylakeX");
    f.avx512bw = 0; /* Knights Landing-like: F without BW/VL */
    CHECK_STR_EQ(cpu_blas_kernel_for(&f), "Haswell");
    f = feats(1, 1, 1, 1, 1, 0); /* the OS does not save zmm state */
    CHECK_STR_EQ(cpu_blas_kernel_for(&f), "Haswell");
    f = feats(1, 1, 1, 0, 1, 0);
    CHECK_STR_EQ(cpu_blas_kernel_for(&f), "Haswell");
    f = feats(1, 0, 1, 0, 1, 0); /* AVX2 without FMA */
    CHECK_STR_EQ(cpu_blas_kernel_for(&f), "Sandybridge");
    f = feats(1, 0, 0, 0, 1, 0);
    CHECK_STR_EQ(cpu_blas_kernel_for(&f), "Sandybridge");
    f = feats(1, 1, 1, 1, 0, 0); /* the OS saves no ymm state: nothing beyond SSE */
    CHECK(cpu_blas_kernel_for(&f) == NULL);
    f = feats(0, 0, 0, 0, 1, 1);
    CHECK(cpu_blas_kernel_for(&f) == NULL);
}

static void test_kernel_tier(void)
{
    CHECK_INT_EQ(cpu_blas_kernel_tier("Prescott"), 0);
    CHECK_INT_EQ(cpu_blas_kernel_tier("Unknown"), 0);
    CHECK_INT_EQ(cpu_blas_kernel_tier("Nehalem"), 0);
    CHECK_INT_EQ(cpu_blas_kernel_tier("Sandybridge"), 1);
    CHECK_INT_EQ(cpu_blas_kernel_tier("Haswell"), 2);
    CHECK_INT_EQ(cpu_blas_kernel_tier("Zen"), 2);
    CHECK_INT_EQ(cpu_blas_kernel_tier("SkylakeX"), 3);
    CHECK_INT_EQ(cpu_blas_kernel_tier("skylakex"), 3);
    CHECK_INT_EQ(cpu_blas_kernel_tier("Cooperlake"), 3);
    CHECK_INT_EQ(cpu_blas_kernel_tier("NEOVERSEN1"), -1);
    CHECK_INT_EQ(cpu_blas_kernel_tier(NULL), -1);
}

static void test_wanted_decision(void)
{
    struct cpu_features x = feats(1, 1, 1, 1, 1, 1), h = feats(1, 1, 1, 0, 1, 0);
    struct cpu_features old = feats(0, 0, 0, 0, 0, 0);
    CHECK_STR_EQ(cpu_blas_kernel_wanted(&x, "Prescott", NULL, NULL), "SkylakeX");
    CHECK_STR_EQ(cpu_blas_kernel_wanted(&x, "Haswell", NULL, NULL), "SkylakeX");
    CHECK_STR_EQ(cpu_blas_kernel_wanted(&h, "Unknown", NULL, NULL), "Haswell");
    CHECK_STR_EQ(cpu_blas_kernel_wanted(&x, "Prescott", "", NULL), "SkylakeX");
    /* a set OPENBLAS_CORETYPE is respected, the marker stops a second exec */
    CHECK(cpu_blas_kernel_wanted(&x, "Prescott", "Prescott", NULL) == NULL);
    CHECK(cpu_blas_kernel_wanted(&x, "Prescott", NULL, "Prescott") == NULL);
    CHECK(cpu_blas_kernel_wanted(&x, "Prescott", NULL, "") == NULL);
    /* OpenBLAS's own pick is as good or better, or unknown to us: left alone */
    CHECK(cpu_blas_kernel_wanted(&x, "SkylakeX", NULL, NULL) == NULL);
    CHECK(cpu_blas_kernel_wanted(&x, "Cooperlake", NULL, NULL) == NULL);
    CHECK(cpu_blas_kernel_wanted(&h, "Zen", NULL, NULL) == NULL);
    CHECK(cpu_blas_kernel_wanted(&h, "SkylakeX", NULL, NULL) == NULL);
    CHECK(cpu_blas_kernel_wanted(&x, "ARMV8", NULL, NULL) == NULL);
    CHECK(cpu_blas_kernel_wanted(&old, "Prescott", NULL, NULL) == NULL);
}

/* ---- this machine --------------------------------------------------------------------------- */

static int has_flag(const char *flags, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = flags; (p = strstr(p, name)) != NULL; p += n)
        if ((p == flags || p[-1] == ' ' || p[-1] == '\t') &&
            (p[n] == ' ' || p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

/* The kernel the "flags" line of /proc/cpuinfo implies (Linux lists a feature
 * only where the kernel also saves its state), or "" when none; -1 without one. */
static int kernel_from_cpuinfo(const char **kernel)
{
    FILE *fp = fopen("/proc/cpuinfo", "r");
    if (!fp)
        return -1;
    char line[8192];
    int found = 0;
    while (!found && fgets(line, sizeof line, fp))
        found = !strncmp(line, "flags", 5);
    fclose(fp);
    if (!found)
        return -1;
    if (has_flag(line, "avx512f") && has_flag(line, "avx512bw") && has_flag(line, "avx512vl") &&
        has_flag(line, "avx512dq"))
        *kernel = "SkylakeX";
    else if (has_flag(line, "avx2") && has_flag(line, "fma"))
        *kernel = "Haswell";
    else if (has_flag(line, "avx"))
        *kernel = "Sandybridge";
    else
        *kernel = "";
    return 0;
}

static void test_detect_matches_proc_cpuinfo(void)
{
    const char *expect;
    if (kernel_from_cpuinfo(&expect) < 0)
        SKIP("no x86 flags line in /proc/cpuinfo");
    struct cpu_features f;
    cpu_features_detect(&f);
    const char *got = cpu_blas_kernel_for(&f);
    CHECK_STR_EQ(got ? got : "", expect);
    char line[256];
    cpu_blas_describe(line, sizeof line);
    CHECK(strstr(line, cpu_blas_kernel_name()) != NULL);
    printf("  # %s\n", line);
}

/* Why finsent re-executes: OpenBLAS read OPENBLAS_CORETYPE before main. */
static void test_setenv_after_load_is_too_late(void)
{
    char before[64];
    snprintf(before, sizeof before, "%s", cpu_blas_kernel_name());
    const char *other = strcmp(before, "Prescott") ? "Prescott" : "Haswell";
    const char *saved = getenv("OPENBLAS_CORETYPE");
    char keep[64];
    snprintf(keep, sizeof keep, "%s", saved ? saved : "");
    setenv("OPENBLAS_CORETYPE", other, 1);
    const char *after = cpu_blas_kernel_name();
    if (saved)
        setenv("OPENBLAS_CORETYPE", keep, 1);
    else
        unsetenv("OPENBLAS_CORETYPE");
    CHECK_STR_EQ(after, before);
}

/* ---- child processes ------------------------------------------------------------------------ */

/* This workplace sets OPENBLAS_CORETYPE on processors where some kernels are
 * wrong or crash; then no other kernel is run here. */
static const char *coretype_preset(void)
{
    const char *v = getenv("OPENBLAS_CORETYPE");
    return v && *v ? v : NULL;
}

/* Runs /proc/self/exe MODE [ARG] with OPENBLAS_CORETYPE=coretype (unset when
 * NULL) and no marker; its stdout goes to out. Returns the exit status or -1. */
static int run_child(const char *mode, const char *arg, const char *coretype, char *out,
                     size_t size)
{
    int fds[2];
    if (pipe(fds) < 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDOUT_FILENO);
        if (coretype)
            setenv("OPENBLAS_CORETYPE", coretype, 1);
        else
            unsetenv("OPENBLAS_CORETYPE");
        unsetenv(CPU_BLAS_REEXEC_ENV);
        execl("/proc/self/exe", "test_cpu_features", mode, arg, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(fds[0], out + n, size - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* The child starts under Prescott with OPENBLAS_CORETYPE then removed, as on a
 * CPU OpenBLAS does not recognise: it must re-execute once, into the kernel the
 * features support, and the marker alone must stop a second exec. */
static void test_reexec_switches_kernel_once(void)
{
    if (coretype_preset())
        SKIP("OPENBLAS_CORETYPE=%s is set in the environment", coretype_preset());
    struct cpu_features f;
    cpu_features_detect(&f);
    const char *want = cpu_blas_kernel_for(&f);
    if (!want)
        SKIP("this CPU supports no kernel above Prescott");
    char out[256], expect[256];
    int rc = run_child("--reexec-probe", NULL, "Prescott", out, sizeof out);
    CHECK_INT_EQ(rc, 0);
    snprintf(expect, sizeof expect, "kernel=%s marker=Prescott runs=2\n", want);
    CHECK_STR_EQ(out, expect);
}

static int reexec_probe(char **argv)
{
    const char *runs = getenv("FINSENT_TEST_RUNS");
    char buf[16];
    snprintf(buf, sizeof buf, "%d", (runs ? atoi(runs) : 0) + 1);
    setenv("FINSENT_TEST_RUNS", buf, 1);
    if (atoi(buf) > 5)
        return 3; /* a loop */
    unsetenv("OPENBLAS_CORETYPE");
    cpu_blas_select_and_reexec(argv);
    const char *marker = getenv(CPU_BLAS_REEXEC_ENV);
    printf("kernel=%s marker=%s runs=%s\n", cpu_blas_kernel_name(), marker ? marker : "(none)",
           buf);
    return 0;
}

/* Encoder-like shapes (rows x out x in), both layouts the CPU backend uses. */
static const int shapes[][4] = {
    {256, 384, 384, 0}, {256, 1536, 384, 0}, {256, 384, 1536, 1}, {96, 96, 64, 1}};

static float lcg_uniform(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((*s >> 40) & 0xFFFFFF) / (float)0x800000 - 1.0f;
}

static int sgemm_child(const char *path)
{
    FILE *fp = fopen(path, "wb");
    if (!fp)
        return 2;
    char name[32] = {0};
    snprintf(name, sizeof name, "%s", cpu_blas_kernel_name());
    fwrite(name, 1, sizeof name, fp);
    uint64_t seed = 42;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2], tb = shapes[s][3];
        float *a = malloc(sizeof(float) * (size_t)m * k),
              *b = malloc(sizeof(float) * (size_t)k * n);
        float *c = malloc(sizeof(float) * (size_t)m * n);
        if (!a || !b || !c)
            return 2;
        for (size_t i = 0; i < (size_t)m * k; i++)
            a[i] = lcg_uniform(&seed);
        for (size_t i = 0; i < (size_t)k * n; i++)
            b[i] = lcg_uniform(&seed);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.0f, a,
                    k, b, tb ? k : n, 0.0f, c, n);
        fwrite(c, sizeof(float), (size_t)m * n, fp);
        free(a);
        free(b);
        free(c);
    }
    return fclose(fp) ? 2 : 0;
}

/* Reads a --sgemm result: kernel name, then the floats. Caller frees *out. */
static long read_result(const char *path, char name[32], float **out)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    size_t cap = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        cap += (size_t)shapes[s][0] * shapes[s][1];
    *out = malloc(cap * sizeof(float));
    long n = -1;
    if (*out && fread(name, 1, 32, fp) == 32 && fread(*out, sizeof(float), cap, fp) == cap)
        n = (long)cap;
    name[31] = '\0';
    fclose(fp);
    return n;
}

static void test_sgemm_selected_equals_fallback(void)
{
    if (coretype_preset())
        SKIP("OPENBLAS_CORETYPE=%s is set in the environment", coretype_preset());
    struct cpu_features f;
    cpu_features_detect(&f);
    const char *want = cpu_blas_kernel_for(&f);
    if (!want)
        SKIP("this CPU supports no kernel above Prescott");
    char p1[] = "/tmp/finsent-sgemm-XXXXXX", p2[] = "/tmp/finsent-sgemm-XXXXXX", out[64];
    int fd1 = mkstemp(p1), fd2 = mkstemp(p2);
    CHECK(fd1 >= 0 && fd2 >= 0);
    close(fd1);
    close(fd2);
    int rc1 = run_child("--sgemm", p1, "Prescott", out, sizeof out);
    int rc2 = run_child("--sgemm", p2, want, out, sizeof out);
    char k1[32], k2[32];
    float *r1 = NULL, *r2 = NULL;
    long n1 = read_result(p1, k1, &r1), n2 = read_result(p2, k2, &r2);
    unlink(p1);
    unlink(p2);
    double maxdiff = 0, maxabs = 0;
    for (long i = 0; n1 > 0 && n1 == n2 && i < n1; i++) {
        maxdiff = fmax(maxdiff, fabs((double)r1[i] - r2[i]));
        maxabs = fmax(maxabs, fabs((double)r1[i]));
    }
    free(r1);
    free(r2);
    CHECK(rc1 == 0 && rc2 == 0 && n1 > 0 && n1 == n2);
    CHECK_STR_EQ(k1, "Prescott");
    CHECK_STR_EQ(k2, want);
    CHECK(maxabs > 1.0);
    CHECK_MSG(maxdiff / maxabs < 1e-5, "max |diff| %g against max |c| %g", maxdiff, maxabs);
    printf("  # %s vs Prescott: max |diff| %.3g, max |c| %.3g\n", want, maxdiff, maxabs);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--reexec-probe"))
        return reexec_probe(argv);
    if (argc > 2 && !strcmp(argv[1], "--sgemm"))
        return sgemm_child(argv[2]);
    RUN(test_kernel_for_mapping);
    RUN(test_kernel_tier);
    RUN(test_wanted_decision);
    RUN(test_detect_matches_proc_cpuinfo);
    RUN(test_setenv_after_load_is_too_late);
    RUN(test_reexec_switches_kernel_once);
    RUN(test_sgemm_selected_equals_fallback);
    return check_summary();
}
