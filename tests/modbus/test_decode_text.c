/* String points: byte orders, odd lengths of text, padding, embedded NULs,
 * non-ASCII and invalid bytes, the longest string. */
#include <string.h>

#include "check.h"
#include "common/utf8.h"
#include "drivers/modbus/decode_text.h"

static char out[EF_TEXT_MAX];

/* The text of REGS as a C string (for strcmp; embedded NULs checked apart). */
static const char *text(const uint16_t *regs, unsigned n, enum ef_order o, size_t *len)
{
    static char z[EF_TEXT_MAX + 1];
    *len = ef_decode_text(regs, n, o, out, sizeof out);
    memcpy(z, out, *len);
    z[*len] = '\0';
    return z;
}

static void test_high_byte_first_and_low_byte_first(void)
{
    size_t len;
    const uint16_t ab[] = {0x4544, 0x4745, 0x2D31}; /* "EDGE-1" */
    CHECK(strcmp(text(ab, 3, EF_ORDER_AB, &len), "EDGE-1") == 0 && len == 6);
    const uint16_t ba[] = {0x4445, 0x4547, 0x312D};
    CHECK(strcmp(text(ba, 3, EF_ORDER_BA, &len), "EDGE-1") == 0 && len == 6);
    /* Any order but BA is high byte first (the config allows only AB and BA). */
    CHECK(strcmp(text(ab, 3, EF_ORDER_ABCD, &len), "EDGE-1") == 0);
}

static void test_odd_lengths_and_padding_are_trimmed(void)
{
    size_t len;
    const uint16_t odd[] = {0x4142, 0x4300}; /* "ABC" + NUL pad */
    CHECK(strcmp(text(odd, 2, EF_ORDER_AB, &len), "ABC") == 0 && len == 3);
    const uint16_t odd_ba[] = {0x4241, 0x0043};
    CHECK(strcmp(text(odd_ba, 2, EF_ORDER_BA, &len), "ABC") == 0 && len == 3);
    const uint16_t spaces[] = {0x4120, 0x2020, 0x0020, 0x0000}; /* "A   \0 \0\0" */
    CHECK(strcmp(text(spaces, 4, EF_ORDER_AB, &len), "A") == 0 && len == 1);
    const uint16_t lead[] = {0x2041, 0x2000}; /* leading spaces stay */
    CHECK(strcmp(text(lead, 2, EF_ORDER_AB, &len), " A") == 0);
    const uint16_t empty[] = {0, 0x2020, 0};
    CHECK(text(empty, 3, EF_ORDER_AB, &len) && len == 0);
}

static void test_embedded_nuls_are_kept(void)
{
    size_t len;
    const uint16_t regs[] = {0x4100, 0x4200, 0x0000}; /* "A\0B" then padding */
    text(regs, 3, EF_ORDER_AB, &len);
    CHECK(len == 3 && memcmp(out, "A\0B", 3) == 0);
}

static void test_non_ascii_kept_invalid_bytes_replaced(void)
{
    size_t len;
    const uint16_t zurich[] = {0x5AC3, 0xBC72, 0x6963, 0x6820}; /* "Zürich " */
    CHECK(strcmp(text(zurich, 4, EF_ORDER_AB, &len), "Z\xC3\xBCrich") == 0 && len == 7);
    const uint16_t bad[] = {0x41FF, 0x42C3}; /* 0xFF never, C3 cut short at the end */
    CHECK(strcmp(text(bad, 2, EF_ORDER_AB, &len), "A\xEF\xBF\xBD" "B\xEF\xBF\xBD") == 0);
    const uint16_t lone[] = {0xBC41, 0xEDA0, 0x8000}; /* continuation, surrogate */
    text(lone, 3, EF_ORDER_AB, &len);
    for (size_t i = 0; i < len;) { /* whatever it became, it is valid UTF-8 */
        size_t k = ef_utf8_seq((const unsigned char *)out + i, len - i);
        CHECK(k > 0);
        i += k ? k : 1;
    }
    CHECK(memcmp(out, "\xEF\xBF\xBD" "A", 4) == 0);
}

static void test_longest_string_of_invalid_bytes_fits(void)
{
    uint16_t regs[125];
    for (int i = 0; i < 125; i++)
        regs[i] = 0xFEFE;
    size_t len;
    text(regs, 125, EF_ORDER_AB, &len);
    CHECK_EQ_U(len, EF_TEXT_MAX); /* 250 bytes, each U+FFFD: 750 */
    struct ef_point p;
    memset(&p, 0, sizeof p);
    p.type = EF_T_STRING;
    p.length = 2;
    p.order = EF_ORDER_BA;
    const uint16_t two[] = {0x4B4F, 0x0021}; /* "OK!" low byte first */
    struct ef_value v;
    char buf[12];
    ef_decode_string(two, &p, buf, sizeof buf, &v);
    CHECK(v.kind == EF_VAL_STRING && v.as.s.p == buf && v.as.s.len == 3 &&
          memcmp(buf, "OK!", 3) == 0);
}

int main(void)
{
    test_high_byte_first_and_low_byte_first();
    test_odd_lengths_and_padding_are_trimmed();
    test_embedded_nuls_are_kept();
    test_non_ascii_kept_invalid_bytes_replaced();
    test_longest_string_of_invalid_bytes_fits();
    CHECK_DONE();
}
