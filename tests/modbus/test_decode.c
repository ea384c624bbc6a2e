/* Decoding: every type in every order against hand-written register
 * patterns, bits, scale and offset, exact 64-bit integers. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "drivers/modbus/decode.h"

static struct ef_point pt(enum ef_value_type t, enum ef_order o)
{
    struct ef_point p;
    memset(&p, 0, sizeof p);
    p.has_register = true;
    p.kind = EF_REG_HOLDING;
    p.type = t;
    p.order = o;
    p.bit = -1;
    p.scale = 1;
    return p;
}

struct int_case {
    enum ef_value_type type;
    enum ef_order order;
    uint16_t regs[4];
    bool is_signed;
    int64_t i;
    uint64_t u;
};

/* uint32 0x12345678 = 305419896; int32 0xF8A432EB = -123456789;
 * uint64 0xF123456789ABCDEF = 17375808098319191535 (above 2^53);
 * int64 0xEEDDEF0B82167EEB = -1234567890123456789. */
static const struct int_case int_cases[] = {
    {EF_T_UINT32, EF_ORDER_ABCD, {0x1234, 0x5678}, false, 0, 305419896u},
    {EF_T_UINT32, EF_ORDER_DCBA, {0x7856, 0x3412}, false, 0, 305419896u},
    {EF_T_UINT32, EF_ORDER_BADC, {0x3412, 0x7856}, false, 0, 305419896u},
    {EF_T_UINT32, EF_ORDER_CDAB, {0x5678, 0x1234}, false, 0, 305419896u},
    {EF_T_INT32, EF_ORDER_ABCD, {0xF8A4, 0x32EB}, true, -123456789, 0},
    {EF_T_INT32, EF_ORDER_DCBA, {0xEB32, 0xA4F8}, true, -123456789, 0},
    {EF_T_INT32, EF_ORDER_BADC, {0xA4F8, 0xEB32}, true, -123456789, 0},
    {EF_T_INT32, EF_ORDER_CDAB, {0x32EB, 0xF8A4}, true, -123456789, 0},
    {EF_T_UINT64, EF_ORDER_ABCD, {0xF123, 0x4567, 0x89AB, 0xCDEF}, false, 0,
     17375808098319191535ull},
    {EF_T_UINT64, EF_ORDER_DCBA, {0xEFCD, 0xAB89, 0x6745, 0x23F1}, false, 0,
     17375808098319191535ull},
    {EF_T_UINT64, EF_ORDER_BADC, {0x23F1, 0x6745, 0xAB89, 0xEFCD}, false, 0,
     17375808098319191535ull},
    {EF_T_UINT64, EF_ORDER_CDAB, {0xCDEF, 0x89AB, 0x4567, 0xF123}, false, 0,
     17375808098319191535ull},
    {EF_T_INT64, EF_ORDER_ABCD, {0xEEDD, 0xEF0B, 0x8216, 0x7EEB}, true,
     -1234567890123456789ll, 0},
    {EF_T_INT64, EF_ORDER_DCBA, {0xEB7E, 0x1682, 0x0BEF, 0xDDEE}, true,
     -1234567890123456789ll, 0},
    {EF_T_INT64, EF_ORDER_BADC, {0xDDEE, 0x0BEF, 0x1682, 0xEB7E}, true,
     -1234567890123456789ll, 0},
    {EF_T_INT64, EF_ORDER_CDAB, {0x7EEB, 0x8216, 0xEF0B, 0xEEDD}, true,
     -1234567890123456789ll, 0},
    {EF_T_INT16, EF_ORDER_ABCD, {0xCFC7}, true, -12345, 0},
    {EF_T_INT16, EF_ORDER_DCBA, {0xCFC7}, true, -12345, 0}, /* order ignored */
    {EF_T_UINT16, EF_ORDER_ABCD, {0xD431}, false, 0, 54321},
    {EF_T_UINT16, EF_ORDER_CDAB, {0xD431}, false, 0, 54321},
    {EF_T_INT16, EF_ORDER_ABCD, {0x7FFF}, true, 32767, 0},
    {EF_T_INT16, EF_ORDER_ABCD, {0x8000}, true, -32768, 0},
};

static void test_integers_every_type_and_order_exact(void)
{
    for (size_t i = 0; i < sizeof int_cases / sizeof int_cases[0]; i++) {
        const struct int_case *c = &int_cases[i];
        struct ef_point p = pt(c->type, c->order);
        struct ef_value v;
        CHECK(ef_decode_regs(c->regs, &p, &v) == 0);
        if (c->is_signed) {
            CHECK(v.kind == EF_VAL_INT);
            if (v.as.i != c->i)
                fprintf(stderr, "case %zu: got %lld\n", i, (long long)v.as.i);
            CHECK(v.as.i == c->i);
        } else {
            CHECK(v.kind == EF_VAL_UINT);
            if (v.as.u != c->u)
                fprintf(stderr, "case %zu: got %llu\n", i, (unsigned long long)v.as.u);
            CHECK(v.as.u == c->u);
        }
    }
}

struct float_case {
    enum ef_value_type type;
    enum ef_order order;
    uint16_t regs[4];
};

/* float32 0x40490FDB = 3.14159274f; float64 0xC005BF0A8B145769 = -e. */
static const struct float_case float_cases[] = {
    {EF_T_FLOAT32, EF_ORDER_ABCD, {0x4049, 0x0FDB}},
    {EF_T_FLOAT32, EF_ORDER_DCBA, {0xDB0F, 0x4940}},
    {EF_T_FLOAT32, EF_ORDER_BADC, {0x4940, 0xDB0F}},
    {EF_T_FLOAT32, EF_ORDER_CDAB, {0x0FDB, 0x4049}},
    {EF_T_FLOAT64, EF_ORDER_ABCD, {0xC005, 0xBF0A, 0x8B14, 0x5769}},
    {EF_T_FLOAT64, EF_ORDER_DCBA, {0x6957, 0x148B, 0x0ABF, 0x05C0}},
    {EF_T_FLOAT64, EF_ORDER_BADC, {0x05C0, 0x0ABF, 0x148B, 0x6957}},
    {EF_T_FLOAT64, EF_ORDER_CDAB, {0x5769, 0x8B14, 0xBF0A, 0xC005}},
};

static void test_floats_every_order_bit_exact(void)
{
    for (size_t i = 0; i < sizeof float_cases / sizeof float_cases[0]; i++) {
        const struct float_case *c = &float_cases[i];
        struct ef_point p = pt(c->type, c->order);
        struct ef_value v;
        CHECK(ef_decode_regs(c->regs, &p, &v) == 0);
        if (c->type == EF_T_FLOAT32) {
            CHECK(v.kind == EF_VAL_FLOAT);
            CHECK(v.as.f == 3.14159274f);
        } else {
            CHECK(v.kind == EF_VAL_DOUBLE);
            CHECK(v.as.d == -2.718281828459045);
        }
    }
}

static void test_bits_of_registers_and_coils(void)
{
    uint16_t reg = 0xA5A5; /* 1010 0101 1010 0101 */
    struct ef_point p = pt(EF_T_BOOL, EF_ORDER_ABCD);
    struct ef_value v;
    static const bool want[16] = {1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1};
    for (int b = 0; b < 16; b++) {
        p.bit = b;
        CHECK(ef_decode_regs(&reg, &p, &v) == 0);
        CHECK(v.kind == EF_VAL_BOOL);
        CHECK(v.as.b == want[b]);
    }
    ef_decode_bit(1, &v);
    CHECK(v.kind == EF_VAL_BOOL && v.as.b);
    ef_decode_bit(0, &v);
    CHECK(v.kind == EF_VAL_BOOL && !v.as.b);
}

static void test_scale_and_offset_give_doubles(void)
{
    struct ef_value v;
    uint16_t r16 = 2301;
    struct ef_point p = pt(EF_T_UINT16, EF_ORDER_ABCD);
    p.scaled = true;
    p.scale = 0.1;
    CHECK(ef_decode_regs(&r16, &p, &v) == 0);
    CHECK(v.kind == EF_VAL_DOUBLE && fabs(v.as.d - 230.1) < 1e-9);

    uint16_t neg = 0xFF9C; /* int16 -100 */
    p = pt(EF_T_INT16, EF_ORDER_ABCD);
    p.scaled = true;
    p.scale = 0.5;
    p.offset = 10;
    CHECK(ef_decode_regs(&neg, &p, &v) == 0);
    CHECK(v.kind == EF_VAL_DOUBLE && v.as.d == -40.0);

    uint16_t f[2] = {0x4049, 0x0FDB};
    p = pt(EF_T_FLOAT32, EF_ORDER_ABCD);
    p.scaled = true;
    p.scale = 2;
    p.offset = -1;
    CHECK(ef_decode_regs(f, &p, &v) == 0);
    CHECK(v.kind == EF_VAL_DOUBLE && v.as.d == (double)3.14159274f * 2 - 1);

    /* A bit point ignores scale: it stays a bool. */
    uint16_t one = 1;
    p = pt(EF_T_BOOL, EF_ORDER_ABCD);
    p.bit = 0;
    p.scaled = true;
    p.scale = 10;
    CHECK(ef_decode_regs(&one, &p, &v) == 0);
    CHECK(v.kind == EF_VAL_BOOL && v.as.b);
}

static void test_unscaled_uint64_above_2_pow_53_is_exact(void)
{
    /* 2^53 + 1 is not representable as a double: it must survive. */
    uint16_t regs[4] = {0x0020, 0x0000, 0x0000, 0x0001};
    struct ef_point p = pt(EF_T_UINT64, EF_ORDER_ABCD);
    struct ef_value v;
    CHECK(ef_decode_regs(regs, &p, &v) == 0);
    CHECK(v.kind == EF_VAL_UINT && v.as.u == 9007199254740993ull);
    uint16_t max[4] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
    CHECK(ef_decode_regs(max, &p, &v) == 0);
    CHECK(v.as.u == UINT64_MAX);
    p.type = EF_T_INT64;
    CHECK(ef_decode_regs(max, &p, &v) == 0);
    CHECK(v.kind == EF_VAL_INT && v.as.i == -1);
}

int main(void)
{
    test_integers_every_type_and_order_exact();
    test_floats_every_order_bit_exact();
    test_bits_of_registers_and_coils();
    test_scale_and_offset_give_doubles();
    test_unscaled_uint64_above_2_pow_53_is_exact();
    CHECK_DONE();
}
