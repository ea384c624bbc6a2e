/* The command unit tests' check: counts and reports a failure, goes on. */
#ifndef EF_TEST_COMMAND_EXPECT_H
#define EF_TEST_COMMAND_EXPECT_H

#include <stdio.h>

static int failures;

#define EXPECT(cond, ...)                                                                      \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            failures++;                                                                        \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                    \
            fprintf(stderr, __VA_ARGS__);                                                      \
            fputc('\n', stderr);                                                               \
        }                                                                                      \
    } while (0)

#endif
