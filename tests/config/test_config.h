/* Shared helpers of the configuration loader tests. */
#ifndef EF_TEST_CONFIG_H
#define EF_TEST_CONFIG_H

#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"

extern int ef_test_failures;

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
            ef_test_failures++;                                                              \
        }                                                                                    \
    } while (0)

/* A minimal valid file to which tests append sections. */
#define BASE "[gateway]\nid = gw\n[mqtt]\nuri = tcp://127.0.0.1:1883\n"

/* Loads TEXT, expecting success; prints the errors otherwise. */
struct ef_config *load_ok(const char *text);

int test_bad_values(void);
int test_all_errors(void);
int test_unit_zero(void);
int test_duplicates_once(void);

#endif
