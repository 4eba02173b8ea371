/*
 * check.h — the tiny test harness every tests/test_<module>.c uses.
 *
 *   static void test_parse_dates(void) { CHECK(x == 1); CHECK_STR_EQ(a, b); }
 *   int main(void) { RUN(test_parse_dates); return check_summary(); }
 *
 * Each test prints "PASS file:test", "FAIL file:test: where and why" or
 * "SKIP file:test: reason"; tests/run.sh counts those lines across all test
 * programs and ends with "N passed, N failed, N skipped".
 *
 * A test that cannot run because something `make deps` installs is missing
 * says so with SKIP_MISSING("python3-torch"): a skip on a developer's machine,
 * a failure under CI=true, where every dependency must be there (tests/run.sh
 * holds every language's tests to the same rule).
 */
#ifndef FINSENT_CHECK_H
#define FINSENT_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed_now, check_skipped_now, check_n_pass, check_n_fail, check_n_skip;
static char check_skip_reason[256];

#define CHECK_FAIL_(...)                                                                   \
    do {                                                                                   \
        printf("  %s:%d: ", __FILE__, __LINE__);                                           \
        printf(__VA_ARGS__);                                                               \
        printf("\n");                                                                      \
        check_failed_now = 1;                                                              \
        return;                                                                            \
    } while (0)

#define CHECK(cond)                                                                        \
    do {                                                                                   \
        if (!(cond))                                                                       \
            CHECK_FAIL_("check failed: %s", #cond);                                        \
    } while (0)

#define CHECK_MSG(cond, ...)                                                               \
    do {                                                                                   \
        if (!(cond))                                                                       \
            CHECK_FAIL_(__VA_ARGS__);                                                      \
    } while (0)

#define CHECK_INT_EQ(a, b)                                                                 \
    do {                                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                                \
        if (a_ != b_)                                                                      \
            CHECK_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                         \
    } while (0)

#define CHECK_STR_EQ(a, b)                                                                 \
    do {                                                                                   \
        const char *a_ = (a), *b_ = (b);                                                   \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                             \
            CHECK_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",          \
                        b_ ? b_ : "(null)");                                               \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                              \
    do {                                                                                   \
        double a_ = (double)(a), b_ = (double)(b);                                         \
        if (!(fabs(a_ - b_) <= (tol)))                                                     \
            CHECK_FAIL_("%s ~ %s: %g vs %g (tolerance %g)", #a, #b, a_, b_, (double)(tol)); \
    } while (0)

/* Marks the current test skipped (with a reason) and leaves it. */
#define SKIP(...)                                                                          \
    do {                                                                                   \
        snprintf(check_skip_reason, sizeof check_skip_reason, __VA_ARGS__);                \
        check_skipped_now = 1;                                                             \
        return;                                                                            \
    } while (0)

/* 1 under CI=true (or CI=1): a missing dependency is then a failure. */
static inline int check_ci(void)
{
    const char *ci = getenv("CI");
    return ci && (strcmp(ci, "true") == 0 || strcmp(ci, "1") == 0);
}

/* Leaves the current test for lack of a dependency that `make deps` installs
 * (printf-style: what is missing): SKIP "missing dependency: ...", or under
 * CI=true FAIL. */
#define SKIP_MISSING(...)                                                                  \
    do {                                                                                   \
        char what_[200];                                                                   \
        snprintf(what_, sizeof what_, __VA_ARGS__);                                        \
        if (check_ci())                                                                    \
            CHECK_FAIL_("missing dependency: %s (CI=true)", what_);                        \
        SKIP("missing dependency: %s (make deps)", what_);                                 \
    } while (0)

#define RUN(fn)                                                                            \
    do {                                                                                   \
        check_failed_now = check_skipped_now = 0;                                          \
        fflush(stdout);                                                                    \
        fn();                                                                              \
        if (check_failed_now) {                                                            \
            printf("FAIL %s:%s\n", __FILE__, #fn);                                         \
            check_n_fail++;                                                                \
        } else if (check_skipped_now) {                                                    \
            printf("SKIP %s:%s: %s\n", __FILE__, #fn, check_skip_reason);                  \
            check_n_skip++;                                                                \
        } else {                                                                           \
            printf("PASS %s:%s\n", __FILE__, #fn);                                         \
            check_n_pass++;                                                                \
        }                                                                                  \
        fflush(stdout);                                                                    \
    } while (0)

static inline int check_summary(void)
{
    printf("# %d passed, %d failed, %d skipped\n", check_n_pass, check_n_fail,
           check_n_skip);
    return check_n_fail ? 1 : 0;
}

/* Path of a fixture relative to the repository root (tests run from there). */
#define FIXTURE(rel) ("tests/fixtures/" rel)

#endif
