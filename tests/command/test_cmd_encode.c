/* Value -> Modbus write, checked against the real decoder: for every type,
 * order and a set of scales, registers -> decode -> published text ->
 * parse -> encode gives the same registers back; then the cases a user
 * meets (the float32 CDAB case another gateway got wrong, scale reversal,
 * limits, ranges, exact 64-bit integers, coils and FC22 bits). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/modbus/decode.h"
#include "expect.h"
#include "gateway/command/cmd_encode.h"
#include "gateway/north/json.h"

static struct ef_point point(enum ef_value_type type, enum ef_order order)
{
    struct ef_point p;
    memset(&p, 0, sizeof p);
    strcpy(p.name, "p");
    p.has_register = true;
    p.kind = EF_REG_HOLDING;
    p.address = 100;
    p.type = type;
    p.order = order;
    p.bit = -1;
    p.scale = 1;
    p.writable = true;
    return p;
}

static struct ef_point scaled(enum ef_value_type type, double scale, double offset)
{
    struct ef_point p = point(type, EF_ORDER_ABCD);
    p.scale = scale;
    p.offset = offset;
    p.scaled = true;
    return p;
}

static char err[EF_CMD_ERROR_MAX];

/* Encodes the JSON text TEXT for P; returns the rc, the write in W. */
static int enc_ws(const struct ef_point *p, enum ef_write_single ws, const char *text,
                  struct ef_write *w)
{
    struct ef_cmd_msg m;
    err[0] = '\0';
    if (ef_cmd_parse(text, strlen(text), false, &m, err, sizeof err) != 0)
        return -2;
    return ef_cmd_encode(p, ws, &m.items[0].value, w, err, sizeof err);
}

static int enc(const struct ef_point *p, const char *text, struct ef_write *w)
{
    return enc_ws(p, EF_WRITE_SINGLE_FC6, text, w);
}

static void value_text(const struct ef_value *v, char *out, size_t cap)
{
    struct ef_buf b;
    ef_buf_init(&b, out, cap);
    ef_buf_value(&b, v);
}

static uint64_t rng_state = 88172645463325252u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Registers -> decode -> text -> encode must give REGS back, and the write's
 * value must be what decoding its registers gives. */
static void round_trip(const struct ef_point *p, const uint16_t *regs)
{
    unsigned n = ef_point_width(p);
    struct ef_value v, back;
    char text[64], again[64], want[64];
    struct ef_point plain = *p;
    plain.scaled = false;
    ef_decode_regs(regs, &plain, &v);
    double raw = ef_value_as_double(&v);
    ef_decode_regs(regs, p, &v);
    double d = ef_value_as_double(&v);
    if (!isfinite(d) || (raw == 0 && signbit(raw)))
        return; /* not writable as JSON (null), or -0, which is written as 0 */
    value_text(&v, text, sizeof text);
    struct ef_write w;
    int rc = enc(p, text, &w);
    EXPECT(rc == 0, "%s %s scale %g: %s refused: %s", ef_value_type_name(p->type),
           ef_order_name(p->order), p->scale, text, err);
    if (rc != 0)
        return;
    EXPECT(w.count == n && w.address == 100, "count %u", w.count);
    EXPECT(w.fc == (n == 1 ? EF_FC_WRITE_REGISTER : EF_FC_WRITE_REGISTERS), "fc %d", w.fc);
    EXPECT(memcmp(w.regs, regs, n * sizeof *regs) == 0,
           "%s %s scale %g offset %g: %s gave %04x %04x %04x %04x, want %04x %04x %04x %04x",
           ef_value_type_name(p->type), ef_order_name(p->order), p->scale, p->offset, text,
           w.regs[0], w.regs[1], w.regs[2], w.regs[3], regs[0], n > 1 ? regs[1] : 0,
           n > 2 ? regs[2] : 0, n > 3 ? regs[3] : 0);
    ef_decode_regs(w.regs, p, &back);
    value_text(&back, again, sizeof again);
    value_text(&w.value, want, sizeof want);
    EXPECT(back.kind == w.value.kind && strcmp(again, want) == 0, "value %s, decoded %s", want,
           again);
}

static void random_regs(uint16_t regs[4])
{
    uint64_t r = rnd();
    for (int i = 0; i < 4; i++)
        regs[i] = (uint16_t)(r >> (16 * i));
    switch (rnd() % 8) { /* edges now and then */
    case 0:
        regs[0] = 0x8000, regs[1] = regs[2] = regs[3] = 0;
        break;
    case 1:
        regs[0] = regs[1] = regs[2] = regs[3] = 0xffff;
        break;
    case 2:
        regs[0] = 0x7fff, regs[1] = regs[2] = regs[3] = 0xffff;
        break;
    case 3: /* small values */
        regs[0] = regs[1] = regs[2] = 0, regs[3] = (uint16_t)rnd();
        break;
    default:
        break;
    }
}

static void every_type_and_order(void)
{
    for (int t = EF_T_INT16; t <= EF_T_FLOAT64; t++) {
        for (int o = EF_ORDER_ABCD; o <= EF_ORDER_CDAB; o++) {
            struct ef_point p = point((enum ef_value_type)t, (enum ef_order)o);
            for (int i = 0; i < 3000; i++) {
                uint16_t regs[4];
                random_regs(regs);
                round_trip(&p, regs);
            }
        }
    }
    /* Scaled points: the raw integer comes back exactly from the published
     * double for 16- and 32-bit types, and float32 after its rounding. */
    static const double scales[][2] = {{0.1, 0},  {0.01, 0},   {0.001, 273.15}, {0.5, 3},
                                       {2, -40},  {-0.1, 0},   {10, 0},         {0.1, 0.2},
                                       {1, 0.5},  {0.25, -1e3}};
    static const enum ef_value_type types[] = {EF_T_INT16, EF_T_UINT16, EF_T_INT32, EF_T_UINT32,
                                               EF_T_FLOAT32};
    for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++) {
        for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
            /* A float plus an offset loses the float's small digits in
             * the published double: nothing could write those back. */
            if (types[t] == EF_T_FLOAT32 && scales[s][1] != 0)
                continue;
            struct ef_point p = scaled(types[t], scales[s][0], scales[s][1]);
            for (int o = EF_ORDER_ABCD; o <= EF_ORDER_CDAB; o++) {
                p.order = (enum ef_order)o;
                for (int i = 0; i < 2000; i++) {
                    uint16_t regs[4];
                    random_regs(regs);
                    round_trip(&p, regs);
                }
            }
        }
    }
}

static void expect_regs(const struct ef_point *p, const char *text, const uint16_t *want)
{
    struct ef_write w;
    unsigned n = ef_point_width(p);
    int rc = enc(p, text, &w);
    EXPECT(rc == 0, "%s: %s", text, err);
    EXPECT(rc != 0 || memcmp(w.regs, want, n * sizeof *want) == 0,
           "%s %s %s: %04x %04x %04x %04x", ef_value_type_name(p->type),
           ef_order_name(p->order), text, w.regs[0], w.regs[1], w.regs[2], w.regs[3]);
}

static void expect_refused(const struct ef_point *p, const char *text, const char *want)
{
    struct ef_write w;
    int rc = enc(p, text, &w);
    EXPECT(rc == -1 && strstr(err, want), "%s: rc %d '%s', want '%s'", text, rc, err, want);
}

/* A user wrote the float32 with bits 0x3DA96D9E to a CDAB device and
 * another gateway's FC16 ignored the word order. */
static void float32_word_order_case(void)
{
    uint32_t bits = 0x3DA96D9E;
    float f;
    memcpy(&f, &bits, sizeof f);
    char text[32];
    ef_format_float(text, f);
    struct ef_point p = point(EF_T_FLOAT32, EF_ORDER_CDAB);
    expect_regs(&p, text, (const uint16_t[]){0x6D9E, 0x3DA9});
    p.order = EF_ORDER_ABCD;
    expect_regs(&p, text, (const uint16_t[]){0x3DA9, 0x6D9E});
    p.order = EF_ORDER_DCBA;
    expect_regs(&p, text, (const uint16_t[]){0x9E6D, 0xA93D});
    p.order = EF_ORDER_BADC;
    expect_regs(&p, text, (const uint16_t[]){0xA93D, 0x9E6D});
    struct ef_write w;
    p.order = EF_ORDER_CDAB;
    EXPECT(enc(&p, text, &w) == 0 && w.fc == EF_FC_WRITE_REGISTERS && w.count == 2, "FC16 x2");
    EXPECT(w.value.kind == EF_VAL_FLOAT && w.value.as.f == f, "value echo");
    /* the documented examples of decode.h */
    struct ef_point u = point(EF_T_UINT32, EF_ORDER_CDAB);
    expect_regs(&u, "305419896", (const uint16_t[]){0x5678, 0x1234});
    static const uint16_t orders64[4][4] = {{0x0102, 0x0304, 0x0506, 0x0708},
                                            {0x0807, 0x0605, 0x0403, 0x0201},
                                            {0x0201, 0x0403, 0x0605, 0x0807},
                                            {0x0708, 0x0506, 0x0304, 0x0102}};
    for (int o = 0; o < 4; o++) {
        struct ef_point q = point(EF_T_UINT64, (enum ef_order)o);
        expect_regs(&q, "72623859790382856", orders64[o]); /* 0x0102030405060708 */
    }
}

static void scale_and_offset_reversal(void)
{
    struct ef_point p = scaled(EF_T_INT16, 0.1, 0);
    struct ef_write w;
    EXPECT(enc(&p, "21.5", &w) == 0 && w.regs[0] == 215 && w.fc == EF_FC_WRITE_REGISTER,
           "21.5 -> 215: %s", err);
    EXPECT(w.value.kind == EF_VAL_DOUBLE && w.value.as.d == 21.5, "echo 21.5");
    expect_refused(&p, "21.55", "not an integer after scale and offset: 21.55 gives raw 215.5");
    expect_regs(&p, "-3276.8", (const uint16_t[]){0x8000});
    expect_regs(&p, "3276.7", (const uint16_t[]){0x7fff});
    expect_refused(&p, "3276.8", "out of range for int16 after scale and offset (raw 32768, "
                                 "allowed -32768..32767)");
    expect_refused(&p, "-3276.9", "out of range for int16");
    expect_refused(&p, "1e300", "out of range for int16");
    struct ef_point o = scaled(EF_T_INT16, 0.5, 3);
    expect_regs(&o, "4", (const uint16_t[]){2});
    expect_regs(&o, "-1", (const uint16_t[]){0xfff8});
    expect_refused(&o, "4.25", "not an integer after scale");
    /* 0.1 + 0.2 is published as 0.30000000000000004; "0.3" means the same raw 1 */
    struct ef_point t = scaled(EF_T_UINT16, 0.1, 0.2);
    expect_regs(&t, "0.3", (const uint16_t[]){1});
    expect_regs(&t, "0.30000000000000004", (const uint16_t[]){1});
    expect_refused(&t, "0.35", "not an integer after scale");
    struct ef_point z = scaled(EF_T_UINT16, 0, 5);
    expect_refused(&z, "5", "scale is 0");
    struct ef_point f = scaled(EF_T_FLOAT32, 0.1, 0);
    expect_regs(&f, "1", (const uint16_t[]){0x4120, 0x0000}); /* 10.0f */
    struct ef_point fo = scaled(EF_T_FLOAT32, 1, 0.5);
    expect_regs(&fo, "10.5", (const uint16_t[]){0x4120, 0x0000});
    expect_regs(&fo, "0.5", (const uint16_t[]){0, 0});
}

static void integer_ranges_and_exactness(void)
{
    struct ef_point p = point(EF_T_INT16, EF_ORDER_ABCD);
    expect_regs(&p, "7", (const uint16_t[]){7});
    expect_regs(&p, "7.0", (const uint16_t[]){7});
    expect_regs(&p, "1e2", (const uint16_t[]){100});
    expect_regs(&p, "-1", (const uint16_t[]){0xffff});
    expect_regs(&p, "-32768", (const uint16_t[]){0x8000});
    expect_refused(&p, "7.5", "not an integer: 7.5");
    expect_refused(&p, "2.0000000000001", "not an integer");
    expect_refused(&p, "32768", "out of range for int16 (-32768..32767)");
    expect_refused(&p, "-32769", "out of range for int16");
    expect_refused(&p, "\"7\"", "value must be a number");
    expect_refused(&p, "true", "value must be a number");
    expect_refused(&p, "null", "value must be a number");
    expect_refused(&p, "[7]", "value must be a number");
    struct ef_point u = point(EF_T_UINT16, EF_ORDER_ABCD);
    expect_regs(&u, "-0", (const uint16_t[]){0});
    expect_regs(&u, "65535", (const uint16_t[]){0xffff});
    expect_refused(&u, "-1", "out of range for uint16 (0..65535)");
    expect_refused(&u, "65536", "out of range for uint16");
    struct ef_point i64 = point(EF_T_INT64, EF_ORDER_ABCD);
    expect_regs(&i64, "9223372036854775807", (const uint16_t[]){0x7fff, 0xffff, 0xffff, 0xffff});
    expect_regs(&i64, "-9223372036854775808", (const uint16_t[]){0x8000, 0, 0, 0});
    expect_regs(&i64, "9007199254740993", (const uint16_t[]){0x0020, 0, 0, 1}); /* 2^53 + 1 */
    expect_refused(&i64, "9223372036854775808", "out of range for int64");
    expect_refused(&i64, "-9223372036854775809", "out of range for int64");
    expect_refused(&i64, "9007199254740993.0", "beyond 2^53 must be written without fraction");
    expect_refused(&i64, "1e19", "beyond 2^53");
    struct ef_point u64 = point(EF_T_UINT64, EF_ORDER_DCBA);
    expect_regs(&u64, "18446744073709551615", (const uint16_t[]){0xffff, 0xffff, 0xffff, 0xffff});
    expect_regs(&u64, "18446744073709551614", (const uint16_t[]){0xfeff, 0xffff, 0xffff, 0xffff});
    expect_refused(&u64, "18446744073709551616", "out of range for uint64");
    expect_refused(&u64, "99999999999999999999999", "out of range for uint64");
    struct ef_write w;
    EXPECT(enc(&u64, "18446744073709551615", &w) == 0 && w.value.kind == EF_VAL_UINT &&
               w.value.as.u == UINT64_MAX, "exact uint64 echo");
    EXPECT(enc(&i64, "-9223372036854775808", &w) == 0 && w.value.kind == EF_VAL_INT &&
               w.value.as.i == INT64_MIN, "exact int64 echo");
    struct ef_point f32 = point(EF_T_FLOAT32, EF_ORDER_ABCD);
    expect_regs(&f32, "-0", (const uint16_t[]){0, 0});
    expect_regs(&f32, "3.4028234663852886e38", (const uint16_t[]){0x7f7f, 0xffff});
    expect_refused(&f32, "3.5e38", "out of range for float32");
    expect_refused(&f32, "\"1.5\"", "value must be a number");
    struct ef_point f64 = point(EF_T_FLOAT64, EF_ORDER_ABCD);
    expect_regs(&f64, "-0.0", (const uint16_t[]){0, 0, 0, 0});
    expect_regs(&f64, "1.7976931348623157e308", (const uint16_t[]){0x7fef, 0xffff, 0xffff, 0xffff});
    expect_regs(&f64, "4.9e-324", (const uint16_t[]){0, 0, 0, 1});
}

static void limits_in_published_units(void)
{
    struct ef_point p = scaled(EF_T_INT16, 0.1, 0);
    p.has_write_min = p.has_write_max = true;
    p.write_min = 5;
    p.write_max = 30;
    struct ef_write w;
    EXPECT(enc(&p, "30", &w) == 0 && w.regs[0] == 300, "30 is allowed: %s", err);
    EXPECT(enc(&p, "5", &w) == 0 && w.regs[0] == 50, "5 is allowed: %s", err);
    expect_refused(&p, "30.1", "above write_max 30");
    expect_refused(&p, "4.9", "below write_min 5");
    expect_refused(&p, "\"20\"", "value must be a number");
    p.write_max = 22.25;
    expect_refused(&p, "22.3", "above write_max 22.25");
}

static void function_codes(void)
{
    struct ef_point p = point(EF_T_UINT16, EF_ORDER_ABCD);
    struct ef_write w;
    EXPECT(enc_ws(&p, EF_WRITE_SINGLE_FC16, "5", &w) == 0 && w.fc == EF_FC_WRITE_REGISTERS &&
               w.count == 1 && w.regs[0] == 5, "write_single fc16");
    EXPECT(enc_ws(&p, EF_WRITE_SINGLE_FC6, "5", &w) == 0 && w.fc == EF_FC_WRITE_REGISTER &&
               w.count == 1, "write_single fc6");
    struct ef_point q = point(EF_T_INT32, EF_ORDER_ABCD);
    EXPECT(enc_ws(&q, EF_WRITE_SINGLE_FC6, "5", &w) == 0 && w.fc == EF_FC_WRITE_REGISTERS &&
               w.count == 2, "two registers are always FC16");
}

static void coils_and_bits(void)
{
    struct ef_point c = point(EF_T_BOOL, EF_ORDER_ABCD);
    c.kind = EF_REG_COIL;
    c.address = 3;
    struct ef_write w;
    EXPECT(enc(&c, "true", &w) == 0 && w.fc == EF_FC_WRITE_COIL && w.coil && w.address == 3,
           "coil true");
    EXPECT(w.value.kind == EF_VAL_BOOL && w.value.as.b, "coil echo");
    EXPECT(enc(&c, "false", &w) == 0 && !w.coil, "coil false");
    EXPECT(enc(&c, "1", &w) == 0 && w.coil, "coil 1");
    EXPECT(enc(&c, "0", &w) == 0 && !w.coil, "coil 0");
    EXPECT(enc(&c, "1.0", &w) == 0 && w.coil, "coil 1.0");
    EXPECT(enc(&c, "-0", &w) == 0 && !w.coil, "coil -0");
    expect_refused(&c, "2", "value must be true or false (or 0 or 1)");
    expect_refused(&c, "0.5", "value must be true or false");
    expect_refused(&c, "\"true\"", "value must be true or false");
    expect_refused(&c, "null", "value must be true or false");
    expect_refused(&c, "[]", "value must be true or false");
    /* FC22 on bit N: whatever the register held, only bit N changes (the
     * device computes (current & and) | (or & ~and)). */
    for (int bit = 0; bit < 16; bit++) {
        struct ef_point b = point(EF_T_BOOL, EF_ORDER_ABCD);
        b.bit = bit;
        for (int on = 0; on < 2; on++) {
            EXPECT(enc(&b, on ? "true" : "false", &w) == 0 && w.fc == EF_FC_MASK_WRITE, "fc22");
            EXPECT(w.and_mask == (uint16_t)~(1u << bit) && w.or_mask == (on ? 1u << bit : 0),
                   "bit %d masks %04x %04x", bit, w.and_mask, w.or_mask);
            for (int k = 0; k < 50; k++) {
                uint16_t cur = (uint16_t)rnd();
                uint16_t now = (uint16_t)((cur & w.and_mask) | (w.or_mask & ~w.and_mask));
                struct ef_value v;
                ef_decode_regs(&now, &b, &v);
                EXPECT((now & ~(1u << bit)) == (cur & ~(1u << bit)), "other bits untouched");
                EXPECT(v.kind == EF_VAL_BOOL && v.as.b == (bool)on, "bit %d reads back", bit);
            }
        }
    }
}

int main(void)
{
    every_type_and_order();
    float32_word_order_case();
    scale_and_offset_reversal();
    integer_ranges_and_exactness();
    limits_in_published_units();
    function_codes();
    coils_and_bits();
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
