/* A few assertion macros for the Modbus unit tests: every failure is
 * printed with its line, and the test exits non-zero if any failed. */
#ifndef EF_TEST_CHECK_H
#define EF_TEST_CHECK_H

#include <stdio.h>

static int check_failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            check_failures++;                                                         \
        }                                                                             \
    } while (0)

#define CHECK_EQ_U(a, b)                                                                    \
    do {                                                                                    \
        unsigned long long va_ = (unsigned long long)(a), vb_ = (unsigned long long)(b);    \
        if (va_ != vb_) {                                                                   \
            fprintf(stderr, "%s:%d: %s == %llu, expected %llu\n", __FILE__, __LINE__, #a, \
                    va_, vb_);                                                              \
            check_failures++;                                                               \
        }                                                                                   \
    } while (0)

#define CHECK_DONE()                                                          \
    do {                                                                      \
        if (check_failures)                                                   \
            fprintf(stderr, "%d check(s) failed\n", check_failures);          \
        return check_failures ? 1 : 0;                                        \
    } while (0)

#endif
