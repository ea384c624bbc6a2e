/* Internal to gateway/command: the strict JSON reader under cmd_json.c.
 * Every function returns 0, or -1 after writing the reason into r->err. */
#ifndef EF_CMD_JSON_READ_H
#define EF_CMD_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>

#include "gateway/command/cmd_json.h"

struct ef_jr {
    const unsigned char *start, *p, *end;
    char *err;
    size_t errlen;
};

int ef_jr_fail(struct ef_jr *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "not JSON: WHAT at byte N" */
int ef_jr_syntax(struct ef_jr *r, const char *what);
void ef_jr_ws(struct ef_jr *r);
/* The next byte, or -1 at the end. */
int ef_jr_peek(const struct ef_jr *r);
/* Skips blanks, then requires the byte C. */
int ef_jr_expect(struct ef_jr *r, int c, const char *what);
/* A string at r->p (its opening quote), decoded into OUT (CAP bytes, NUL
 * added) unless OUT is NULL; *LEN is the decoded length, also when it did
 * not fit. */
int ef_jr_string(struct ef_jr *r, char *out, size_t cap, size_t *len);
/* A number at r->p; V (may be NULL: only checked) gets it (cmd_json.h). */
int ef_jr_number(struct ef_jr *r, struct ef_cmd_value *v);
/* Any value at container depth DEPTH; V (may be NULL) gets its kind and,
 * for a number or bool, its content. Containers are checked and skipped. */
int ef_jr_value(struct ef_jr *r, int depth, struct ef_cmd_value *v);

#endif
