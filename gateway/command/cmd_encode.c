/* Commanded value -> Modbus write: checks and register encoding (see
 * cmd_encode.h for the rules). */
#include "gateway/command/cmd_encode.h"

#include <errno.h>
#include <float.h> /* DBL_EPSILON */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/round.h"
#include "gateway/north/json.h"

#define TWO53 9007199254740992.0
#define TWO64 18446744073709551616.0

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static uint16_t swap16(uint16_t w) { return (uint16_t)((w >> 8) | (w << 8)); }

void ef_cmd_encode_raw(uint64_t raw, unsigned n, enum ef_order order, uint16_t *regs)
{
    if (n == 1) {
        regs[0] = (uint16_t)raw;
        return;
    }
    /* ef_decode_raw reads word i of the value from register i (or n-1-i when
     * the order reverses words), byte-swapped when the order swaps bytes. */
    bool reverse = order == EF_ORDER_DCBA || order == EF_ORDER_CDAB;
    bool swap = order == EF_ORDER_DCBA || order == EF_ORDER_BADC;
    for (unsigned i = 0; i < n; i++) {
        uint16_t w = (uint16_t)(raw >> (16 * (n - 1 - i)));
        regs[reverse ? n - 1 - i : i] = swap ? swap16(w) : w;
    }
}

/* (value - offset) / scale, with the 1/k trick of ef_value_scale(). */
static double unscale(double v, double scale, double offset)
{
    double x = v - offset;
    if (fabs(scale) < 1) {
        double inv = 1.0 / scale;
        double k = ef_round(inv);
        if (k != 0 && fabs(inv - k) <= 1e-9 * fabs(k))
            return x * k;
    }
    return x / scale;
}

static const char *num(char buf[32], double v)
{
    ef_format_double(buf, v);
    return buf;
}

struct int_range {
    uint64_t neg_max; /* largest magnitude of a negative raw value */
    uint64_t max;
    const char *text;
};

static struct int_range int_range(enum ef_value_type t)
{
    switch (t) {
    case EF_T_INT16:
        return (struct int_range){32768u, 32767u, "-32768..32767"};
    case EF_T_UINT16:
        return (struct int_range){0, 65535u, "0..65535"};
    case EF_T_INT32:
        return (struct int_range){2147483648u, 2147483647u, "-2147483648..2147483647"};
    case EF_T_UINT32:
        return (struct int_range){0, 4294967295u, "0..4294967295"};
    case EF_T_INT64:
        return (struct int_range){9223372036854775808u, 9223372036854775807u,
                                  "-9223372036854775808..9223372036854775807"};
    default:
        return (struct int_range){0, UINT64_MAX, "0..18446744073709551615"};
    }
}

/* The raw integer of an unscaled point: exact from the literal when it is
 * written as a plain integer, else from the double when that is whole. */
static int raw_plain(const struct ef_cmd_value *v, bool *neg, uint64_t *mag, char *err,
                     size_t errlen)
{
    if (v->integral_text) {
        *neg = v->text[0] == '-';
        errno = 0;
        *mag = strtoull(v->text + (*neg ? 1 : 0), NULL, 10);
        if (errno == ERANGE)
            return 1; /* beyond every type: the caller's range error */
        if (*mag == 0)
            *neg = false; /* -0 */
        return 0;
    }
    if (v->d != ef_round(v->d))
        return fail(err, errlen, "not an integer: %s", v->text);
    if (fabs(v->d) >= TWO53)
        return fail(err, errlen, "an integer beyond 2^53 must be written without fraction or "
                                 "exponent: %s", v->text);
    *neg = v->d < 0;
    *mag = (uint64_t)fabs(v->d);
    return 0;
}

/* The raw integer of a scaled point: the nearest whole number, refused when
 * the value is further from it than the arithmetic's own rounding error. */
static int raw_scaled(const struct ef_point *p, double d, bool *neg, uint64_t *mag, char *err,
                      size_t errlen)
{
    char a[32], b[32];
    double q = unscale(d, p->scale, p->offset);
    if (!isfinite(q) || fabs(q) >= TWO64)
        return 1;
    double r = ef_round(q);
    double tol = 4 * DBL_EPSILON * ((fabs(d) + fabs(p->offset)) / fabs(p->scale) + fabs(q)) + 1e-9;
    if (ef_value_scale(r, p->scale, p->offset) != d && fabs(q - r) > tol)
        return fail(err, errlen, "not an integer after scale and offset: %s gives raw %s",
                    num(a, d), num(b, q));
    *neg = r < 0;
    *mag = (uint64_t)fabs(r);
    return 0;
}

static int encode_int(const struct ef_point *p, const struct ef_cmd_value *v, uint64_t *bits,
                      struct ef_value *pub, char *err, size_t errlen)
{
    bool neg = false;
    uint64_t mag = 0;
    struct int_range range = int_range(p->type);
    int rc = p->scaled ? raw_scaled(p, v->d, &neg, &mag, err, errlen)
                       : raw_plain(v, &neg, &mag, err, errlen);
    if (rc < 0)
        return -1;
    if (rc > 0 || (neg ? mag > range.neg_max : mag > range.max)) {
        char a[32];
        if (p->scaled)
            return fail(err, errlen, "out of range for %s after scale and offset (raw %s, "
                        "allowed %s)", ef_value_type_name(p->type),
                        num(a, unscale(v->d, p->scale, p->offset)), range.text);
        return fail(err, errlen, "out of range for %s (%s)", ef_value_type_name(p->type),
                    range.text);
    }
    *bits = neg ? (uint64_t)0 - mag : mag;
    if (p->scaled) {
        pub->kind = EF_VAL_DOUBLE;
        pub->as.d = ef_value_scale(neg ? -(double)mag : (double)mag, p->scale, p->offset);
    } else if (range.neg_max) {
        pub->kind = EF_VAL_INT;
        pub->as.i = neg ? (int64_t)(mag - 1) * -1 - 1 : (int64_t)mag;
    } else {
        pub->kind = EF_VAL_UINT;
        pub->as.u = mag;
    }
    return 0;
}

static int encode_float(const struct ef_point *p, double d, uint64_t *bits, struct ef_value *pub,
                        char *err, size_t errlen)
{
    double x = p->scaled ? unscale(d, p->scale, p->offset) : d;
    if (x == 0)
        x = 0.0; /* never write a negative zero */
    if (p->type == EF_T_FLOAT32) {
        /* Below FLT_MAX plus half its last unit, the float nearest x is
         * finite: the shortest text of -FLT_MAX reads back just beyond it. */
        if (!(fabs(x) < 0x1.ffffffp+127))
            return fail(err, errlen, "out of range for float32%s",
                        p->scaled ? " after scale and offset" : "");
        float f = (float)x;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        *bits = u;
        pub->kind = p->scaled ? EF_VAL_DOUBLE : EF_VAL_FLOAT;
        if (p->scaled)
            pub->as.d = ef_value_scale((double)f, p->scale, p->offset);
        else
            pub->as.f = f;
        return 0;
    }
    if (!isfinite(x))
        return fail(err, errlen, "out of range for float64 after scale and offset");
    memcpy(bits, &x, sizeof x);
    pub->kind = EF_VAL_DOUBLE;
    pub->as.d = p->scaled ? ef_value_scale(x, p->scale, p->offset) : x;
    return 0;
}

static int encode_bool(const struct ef_point *p, const struct ef_cmd_value *v, struct ef_write *w,
                       char *err, size_t errlen)
{
    bool on;
    if (v->kind == EF_CMD_V_BOOL)
        on = v->b;
    else if (v->kind == EF_CMD_V_NUMBER && (v->d == 0 || v->d == 1))
        on = v->d == 1;
    else
        return fail(err, errlen, "value must be true or false (or 0 or 1)");
    w->count = 1;
    w->value.kind = EF_VAL_BOOL;
    w->value.as.b = on;
    if (p->kind == EF_REG_COIL) {
        w->fc = EF_FC_WRITE_COIL;
        w->coil = on;
    } else {
        uint16_t mask = (uint16_t)(1u << p->bit);
        w->fc = EF_FC_MASK_WRITE;
        w->and_mask = (uint16_t)~mask;
        w->or_mask = on ? mask : 0;
    }
    return 0;
}

int ef_cmd_encode(const struct ef_point *p, enum ef_write_single ws, const struct ef_cmd_value *v,
                  struct ef_write *out, char *err, size_t errlen)
{
    char a[32];
    memset(out, 0, sizeof *out);
    out->address = p->address;
    if (p->kind == EF_REG_COIL || p->bit >= 0 || p->type == EF_T_BOOL)
        return encode_bool(p, v, out, err, errlen);
    if (v->kind != EF_CMD_V_NUMBER)
        return fail(err, errlen, "value must be a number");
    if (p->has_write_min && v->d < p->write_min)
        return fail(err, errlen, "below write_min %s", num(a, p->write_min));
    if (p->has_write_max && v->d > p->write_max)
        return fail(err, errlen, "above write_max %s", num(a, p->write_max));
    if (p->scaled && p->scale == 0)
        return fail(err, errlen, "scale is 0: no raw value gives a chosen value");
    uint64_t bits = 0;
    int rc = p->type == EF_T_FLOAT32 || p->type == EF_T_FLOAT64
                 ? encode_float(p, v->d, &bits, &out->value, err, errlen)
                 : encode_int(p, v, &bits, &out->value, err, errlen);
    if (rc != 0)
        return -1;
    unsigned n = ef_point_width(p);
    ef_cmd_encode_raw(bits, n, p->order, out->regs);
    out->count = (uint16_t)n;
    out->fc = n == 1 && ws == EF_WRITE_SINGLE_FC6 ? EF_FC_WRITE_REGISTER : EF_FC_WRITE_REGISTERS;
    return 0;
}
