/*
 * testlib.h - the smallest test harness that does the job: CHECK records a
 * failure and goes on, TEST_MAIN runs each test function and exits non-zero
 * if any check failed. Include from exactly one file per test binary.
 */
#ifndef CIVIC_TESTLIB_H
#define CIVIC_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int testlib_failures;
static const char *testlib_current;

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            testlib_failures++;                                                                \
            fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__, __LINE__,               \
                    testlib_current, #cond);                                                   \
        }                                                                                      \
    } while (0)

#define CHECK_STR(got, want)                                                                   \
    do {                                                                                       \
        const char *g_ = (got), *w_ = (want);                                                  \
        if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0) {                       \
            testlib_failures++;                                                                \
            fprintf(stderr, "%s:%d: %s: got \"%s\", want \"%s\"\n", __FILE__, __LINE__,        \
                    testlib_current, g_ ? g_ : "(null)", w_ ? w_ : "(null)");                  \
        }                                                                                      \
    } while (0)

#define CHECK_INT(got, want)                                                                   \
    do {                                                                                       \
        long long g_ = (long long)(got), w_ = (long long)(want);                               \
        if (g_ != w_) {                                                                        \
            testlib_failures++;                                                                \
            fprintf(stderr, "%s:%d: %s: got %lld, want %lld\n", __FILE__, __LINE__,            \
                    testlib_current, g_, w_);                                                  \
        }                                                                                      \
    } while (0)

/* Aborts the current test (not the binary) when a precondition fails. */
#define REQUIRE(cond)                                                                          \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            testlib_failures++;                                                                \
            fprintf(stderr, "%s:%d: %s: REQUIRE failed: %s\n", __FILE__, __LINE__,             \
                    testlib_current, #cond);                                                   \
            return;                                                                            \
        }                                                                                      \
    } while (0)

typedef void (*testlib_fn)(void);
typedef struct {
    const char *name;
    testlib_fn fn;
} testlib_case;

#define TEST(name) {#name, name}

static inline int testlib_run(const testlib_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        testlib_current = cases[i].name;
        int before = testlib_failures;
        cases[i].fn();
        printf("%s %s\n", testlib_failures == before ? "ok  " : "FAIL", cases[i].name);
    }
    if (testlib_failures != 0) {
        fprintf(stderr, "%d check(s) failed\n", testlib_failures);
        return 1;
    }
    return 0;
}

#define TEST_MAIN(...)                                                                         \
    int main(void)                                                                             \
    {                                                                                          \
        static const testlib_case cases_[] = {__VA_ARGS__};                                    \
        return testlib_run(cases_, sizeof cases_ / sizeof cases_[0]);                          \
    }

#endif
