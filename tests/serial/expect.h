/* Table-test helper: the exact values a parser must produce. */
#ifndef EF_TEST_EXPECT_H
#define EF_TEST_EXPECT_H

#include <string.h>

#include "check.h"
#include "drivers/serial/parse.h"

#define EXPECT_MAX 8

struct expect {
    const char *name;
    enum ef_value_kind kind;
    double d;  /* EF_VAL_DOUBLE */
    long long i; /* EF_VAL_INT; EF_VAL_BOOL: 0 or 1 */
};

#define XD(n, v) {n, EF_VAL_DOUBLE, v, 0}
#define XI(n, v) {n, EF_VAL_INT, 0, v}
#define XB(n, v) {n, EF_VAL_BOOL, 0, v}

/* Checks that OUT holds exactly the N expected values (order-insensitive,
 * doubles compared exactly: the parsers promise the nearest double). */
static void expect_values(const char *what, const struct ef_parsed *out, const struct expect *e)
{
    size_t n = 0;
    while (n < EXPECT_MAX && e[n].name)
        n++;
    CHECK_MSG(out->n == n, "%s: %zu values, want %zu", what, out->n, n);
    for (size_t k = 0; k < n; k++) {
        const struct ef_value *v = ef_parsed_get(out, e[k].name);
        CHECK_MSG(v != NULL, "%s: no value %s", what, e[k].name);
        if (!v)
            continue;
        CHECK_MSG(v->kind == e[k].kind, "%s: %s has kind %d, want %d", what, e[k].name,
                  (int)v->kind, (int)e[k].kind);
        if (v->kind != e[k].kind)
            continue;
        if (v->kind == EF_VAL_DOUBLE)
            CHECK_MSG(v->as.d == e[k].d, "%s: %s = %.17g, want %.17g", what, e[k].name, v->as.d,
                      e[k].d);
        else if (v->kind == EF_VAL_INT)
            CHECK_MSG(v->as.i == e[k].i, "%s: %s = %lld, want %lld", what, e[k].name,
                      (long long)v->as.i, e[k].i);
        else if (v->kind == EF_VAL_BOOL)
            CHECK_MSG(v->as.b == (e[k].i != 0), "%s: %s = %d", what, e[k].name, (int)v->as.b);
    }
}

/* Every byte that ef_line_clean refuses, put at position AT of GOOD (LEN
 * bytes; AT == LEN appends), into BUF; returns the new length. */
static size_t with_byte(char *buf, const char *good, size_t len, size_t at, unsigned char c)
{
    memcpy(buf, good, at);
    buf[at] = (char)c;
    memcpy(buf + at + 1, good + at, len - at);
    return len + 1;
}

#endif
