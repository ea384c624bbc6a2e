/* Payload encoding: numbers read back exactly and are the shortest such text;
 * the telemetry, alarm and offline payloads have the documented shape. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/round.h"
#include "gateway/north/json.h"

#include "expect.h"

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The reference: shortest %.Ng that reads back, by brute force. */
static size_t shortest_double_len(double v)
{
    char buf[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return strlen(buf);
    }
    return 99;
}

static size_t shortest_float_len(float v)
{
    char buf[64];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, (double)v);
        if (strtof(buf, NULL) == v)
            return strlen(buf);
    }
    return 99;
}

static void test_double_reads_back_shortest(void)
{
    char out[32];
    for (int i = 0; i < 200000; i++) {
        double v;
        if (i % 2) {
            uint64_t bits = next_rand();
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v))
                continue;
        } else { /* values like a scaled register: raw * 0.1, 0.01 ... */
            v = (double)(int64_t)(next_rand() % 2000001 - 1000000) * (i % 4 ? 0.1 : 0.01);
        }
        size_t n = ef_format_double(out, v);
        EXPECT(n == strlen(out), "length mismatch for %s", out);
        EXPECT(strtod(out, NULL) == v, "%.17g printed as %s does not read back", v, out);
        /* %g may use an exponent where fixed notation is longer, and the
         * fixed fast path may be longer than %g's exponent form only for
         * tiny or huge values it refuses; allow the sign of "0." forms. */
        EXPECT(n <= shortest_double_len(v) + 2, "%.17g printed as %s, longer than needed", v, out);
    }
}

static void test_float_reads_back_shortest(void)
{
    char out[32];
    for (int i = 0; i < 200000; i++) {
        float f;
        if (i % 2) {
            uint32_t bits = (uint32_t)next_rand();
            memcpy(&f, &bits, sizeof f);
            if (!isfinite(f))
                continue;
        } else {
            f = (float)((double)(int64_t)(next_rand() % 200001 - 100000) / 10.0);
        }
        size_t n = ef_format_float(out, f);
        EXPECT(strtof(out, NULL) == f, "%.9g printed as %s does not read back", (double)f, out);
        EXPECT(n <= shortest_float_len(f) + 2, "%.9g printed as %s, longer than needed",
               (double)f, out);
    }
}

static void test_known_numbers(void)
{
    static const struct {
        double v;
        const char *text;
    } dbl[] = {{230.1, "230.1"}, {-12.75, "-12.75"}, {0.05, "0.05"}, {1e21, "1e+21"},
               {250, "250"},     {0, "0"},           {0.1 + 0.2, "0.30000000000000004"}};
    char out[32];
    for (size_t i = 0; i < sizeof dbl / sizeof dbl[0]; i++) {
        ef_format_double(out, dbl[i].v);
        EXPECT(strcmp(out, dbl[i].text) == 0, "double %.17g: got %s want %s", dbl[i].v, out,
               dbl[i].text);
    }
    ef_format_float(out, 0.1f);
    EXPECT(strcmp(out, "0.1") == 0, "float 0.1: got %s", out);
    ef_format_float(out, 230.1f);
    EXPECT(strcmp(out, "230.1") == 0, "float 230.1: got %s", out);
    ef_format_float(out, 16777217.0f); /* rounds to 16777216 */
    EXPECT(strcmp(out, "16777216") == 0, "float 2^24: got %s", out);
    ef_format_double(out, NAN);
    EXPECT(strcmp(out, "null") == 0, "NaN must be null, got %s", out);
    ef_format_float(out, -INFINITY);
    EXPECT(strcmp(out, "null") == 0, "-inf must be null, got %s", out);
}

static void test_telemetry_payload_exact(void)
{
    struct ef_reading r[5] = {
        {.name = "voltage", .value = {.kind = EF_VAL_DOUBLE, .as.d = 230.1}},
        {.name = "relay", .value = {.kind = EF_VAL_BOOL, .as.b = true}},
        {.name = "energy", .value = {.kind = EF_VAL_UINT, .as.u = UINT64_MAX}},
        {.name = "delta", .value = {.kind = EF_VAL_INT, .as.i = INT64_MIN}},
        {.name = "f32", .value = {.kind = EF_VAL_FLOAT, .as.f = 1.5f}},
    };
    char data[512];
    struct ef_buf b;
    ef_buf_init(&b, data, sizeof data);
    ef_payload_telemetry(&b, 1764150000123, r, 5, NULL);
    EXPECT(ef_buf_ok(&b), "payload did not fit");
    const char *want = "{\"ts\":1764150000123,\"values\":{\"voltage\":230.1,\"relay\":true,"
                       "\"energy\":18446744073709551615,\"delta\":-9223372036854775808,"
                       "\"f32\":1.5}}";
    EXPECT(strcmp(data, want) == 0, "telemetry:\n got  %s\n want %s", data, want);

    bool include[5] = {false, true, false, false, true};
    ef_buf_init(&b, data, sizeof data);
    ef_payload_telemetry(&b, 5, r, 5, include);
    EXPECT(strcmp(data, "{\"ts\":5,\"values\":{\"relay\":true,\"f32\":1.5}}") == 0,
           "filtered telemetry: %s", data);
}

static void str_value(const char *s, size_t n, const char *want)
{
    struct ef_reading r = {.name = "sn", .value = {.kind = EF_VAL_STRING, .as.s = {s, n}}};
    char data[4096];
    struct ef_buf b;
    ef_buf_init(&b, data, sizeof data);
    ef_payload_telemetry(&b, 1, &r, 1, NULL);
    char full[4200];
    snprintf(full, sizeof full, "{\"ts\":1,\"values\":{\"sn\":%s}}", want);
    EXPECT(ef_buf_ok(&b) && strcmp(data, full) == 0, "string:\n got  %s\n want %s", data, full);
}

static void test_string_values_are_escaped_valid_json(void)
{
    str_value("EDGE-01", 7, "\"EDGE-01\"");
    str_value("", 0, "\"\"");
    str_value("a\"b\\c/", 6, "\"a\\\"b\\\\c/\"");
    str_value("A\0B", 3, "\"A\\u0000B\"");
    str_value("\t\n\x1f\x7f", 4, "\"\\u0009\\u000a\\u001f\x7f\"");
    str_value("Z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x98\x80", 16,
              "\"Z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    /* Bytes that are not UTF-8 (never from the decoder, but the encoder does
     * not trust its input): each becomes U+FFFD. */
    str_value("\xFF" "a\xC3", 3, "\"\xEF\xBF\xBD" "a\xEF\xBF\xBD\"");
    str_value("\xED\xA0\x80", 3, "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    str_value("\xC0\xAF", 2, "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
    struct ef_value v = {.kind = EF_VAL_STRING, .as.s = {"1", 1}};
    EXPECT(isnan(ef_value_as_double(&v)), "a string has no number");
}

static void test_alarm_payloads_exact(void)
{
    char data[256];
    struct ef_buf b;
    struct ef_value v = {.kind = EF_VAL_DOUBLE, .as.d = 251.2};
    ef_buf_init(&b, data, sizeof data);
    ef_payload_alarm(&b, 42, true, true, &v, 250);
    EXPECT(strcmp(data, "{\"ts\":42,\"state\":\"active\",\"kind\":\"high\",\"value\":251.2,"
                        "\"limit\":250}") == 0,
           "alarm: %s", data);
    ef_buf_init(&b, data, sizeof data);
    ef_payload_offline(&b, 43, false);
    EXPECT(strcmp(data, "{\"ts\":43,\"state\":\"cleared\",\"kind\":\"offline\"}") == 0,
           "offline: %s", data);
    ef_buf_init(&b, data, sizeof data);
    ef_payload_alarm_removed(&b, 44, "low");
    EXPECT(strcmp(data, "{\"ts\":44,\"state\":\"cleared\",\"kind\":\"low\","
                        "\"reason\":\"removed\"}") == 0,
           "removed: %s", data);
}

static void test_buffer_overflow_is_detected(void)
{
    char data[16];
    struct ef_buf b;
    ef_buf_init(&b, data, sizeof data);
    ef_buf_puts(&b, "0123456789abcdefXYZ");
    EXPECT(!ef_buf_ok(&b), "overflow not reported");
    EXPECT(b.len == 19, "overflow length %zu", b.len);
}

/* The telemetry payload as the piecewise ef_buf_* functions write it: the
 * reference for ef_payload_telemetry's direct-write fast path. */
static void telemetry_reference(struct ef_buf *b, int64_t ts, const struct ef_reading *r,
                                size_t n, const bool *include)
{
    ef_buf_puts(b, "{\"ts\":");
    ef_buf_int(b, ts);
    ef_buf_puts(b, ",\"values\":{");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (include && !include[i])
            continue;
        if (!first)
            ef_buf_put(b, ",", 1);
        first = false;
        ef_buf_put(b, "\"", 1);
        ef_buf_puts(b, r[i].name);
        ef_buf_put(b, "\":", 2);
        ef_buf_value(b, &r[i].value);
    }
    ef_buf_puts(b, "}}");
}

/* Random readings of every kind (integers at their extremes too), names of
 * 1..32 characters, random include flags, and every buffer size from 1 to
 * past the payload's length: the bytes and the length (hence ef_buf_ok, and
 * the overflow count) must equal the reference's, whether the fast path or
 * the general one wrote each member. */
static void test_telemetry_fast_path_matches_reference(void)
{
    static const int64_t ints[] = {0, 1, -1, 9, 10, -10, 65535, -32768, INT64_MAX, INT64_MIN};
    static const uint64_t uints[] = {0, 7, 10, 99, 100, 65535, 4294967295u, UINT64_MAX};
    char names[12][40];
    struct ef_reading r[12];
    bool include[12];
    char got[512], want[512];
    for (int round = 0; round < 300; round++) {
        size_t n = 1 + next_rand() % 12;
        for (size_t i = 0; i < n; i++) {
            size_t len = 1 + next_rand() % 32;
            for (size_t k = 0; k < len; k++)
                names[i][k] = "abcxyz_-0129"[next_rand() % 12];
            names[i][len] = '\0';
            r[i].name = names[i];
            r[i].point = NULL;
            switch (next_rand() % 5) {
            case 0:
                r[i].value = (struct ef_value){.kind = EF_VAL_INT,
                                               .as.i = ints[next_rand() % 10]};
                break;
            case 1:
                r[i].value = (struct ef_value){.kind = EF_VAL_UINT,
                                               .as.u = uints[next_rand() % 8]};
                break;
            case 2:
                r[i].value = (struct ef_value){.kind = EF_VAL_UINT, .as.u = next_rand()};
                break;
            case 3:
                r[i].value = (struct ef_value){.kind = EF_VAL_DOUBLE,
                                               .as.d = (double)(next_rand() % 100000) / 100};
                break;
            default:
                r[i].value = (struct ef_value){.kind = EF_VAL_BOOL, .as.b = next_rand() & 1};
            }
            include[i] = next_rand() % 4 != 0;
        }
        const bool *inc = round % 2 ? include : NULL;
        struct ef_buf full;
        ef_buf_init(&full, want, sizeof want);
        telemetry_reference(&full, (int64_t)(next_rand() % 2000000000000), r, n, inc);
        size_t total = full.len;
        int64_t ts = (int64_t)(next_rand() % 2000000000000);
        for (size_t cap = 1; cap <= total + 40 && cap <= sizeof got; cap++) {
            struct ef_buf a, e;
            memset(got, 'F', sizeof got);
            memset(want, 'F', sizeof want);
            ef_buf_init(&a, got, cap);
            ef_buf_init(&e, want, cap);
            ef_payload_telemetry(&a, ts, r, n, inc);
            telemetry_reference(&e, ts, r, n, inc);
            bool same = a.len == e.len && ef_buf_ok(&a) == ef_buf_ok(&e);
            /* the same bytes within the capacity, truncated or not... */
            same = same && memcmp(got, want, cap) == 0;
            /* ...and nothing written past it */
            for (size_t k = cap; same && k < sizeof got; k++)
                same = got[k] == 'F';
            EXPECT(same, "round %d cap %zu: len %zu vs %zu\n got  %.*s\n want %.*s", round, cap,
                   a.len, e.len, (int)(a.len < cap ? a.len : 0), got,
                   (int)(e.len < cap ? e.len : 0), want);
            if (!same)
                return;
        }
    }
}

/* ef_round replaces libm's round(): same results, halfway away from zero. */
static void test_round_matches_libm(void)
{
    static const double cases[] = {0.0, 0.4999999999999999, 0.5, 1.5, 2.5, -0.5, -1.5, -2.4,
                                   1e15 + 0.5, 4503599627370495.5, 4503599627370497.0,
                                   9007199254740993.0, -1e300, 123456.789};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        EXPECT(ef_round(cases[i]) == round(cases[i]), "ef_round(%.17g) = %.17g, round = %.17g",
               cases[i], ef_round(cases[i]), round(cases[i]));
    for (int i = 0; i < 100000; i++) {
        double v = (double)(int64_t)(next_rand() % 2000000001 - 1000000000) / 1024.0;
        EXPECT(ef_round(v) == round(v), "ef_round(%.17g)", v);
    }
    EXPECT(isnan(ef_round(NAN)), "NaN must stay NaN");
}

int main(void)
{
    test_round_matches_libm();
    test_known_numbers();
    test_double_reads_back_shortest();
    test_float_reads_back_shortest();
    test_telemetry_payload_exact();
    test_telemetry_fast_path_matches_reference();
    test_alarm_payloads_exact();
    test_string_values_are_escaped_valid_json();
    test_buffer_overflow_is_detected();
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
