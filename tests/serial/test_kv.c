/* kv: name=value pairs split by spaces, commas, semicolons; numbers and
 * booleans; bad pairs skipped and counted; garbage lines rejected. */
#include "drivers/serial/kv.h"
#include "drivers/serial/framing.h"
#include "expect.h"

static const struct {
    const char *line;
    int rc;
    unsigned skipped;
    struct expect want[EXPECT_MAX];
} cases[] = {
    {"T=21.5 H=40", EF_PARSE_OK, 0, {XD("T", 21.5), XI("H", 40)}},
    {"T=21.5,H=40;ok=true", EF_PARSE_OK, 0, {XD("T", 21.5), XI("H", 40), XB("ok", 1)}},
    {"  T=-3.25e2 ;; ,\tp_1-x=+7  ", EF_PARSE_OK, 0, {XD("T", -325.0), XI("p_1-x", 7)}},
    {"a=TRUE b=False", EF_PARSE_OK, 0, {XB("a", 1), XB("b", 0)}},
    {"a=.5 b=5. c=-0", EF_PARSE_OK, 0, {XD("a", 0.5), XD("b", 5.0), XI("c", 0)}},
    /* a big integer stays a number */
    {"n=99999999999999999999", EF_PARSE_OK, 0, {XD("n", 1e20)}},
    /* the later value of a repeated name wins */
    {"T=1 T=2", EF_PARSE_OK, 0, {XI("T", 2)}},
    /* an empty value is absent, not zero, and not an error */
    {"T= H=40", EF_PARSE_OK, 0, {XI("H", 40)}},
    /* bad pairs are skipped and counted, good ones kept */
    {"T=21.5 junk H=4O x.y=1 =3 z=nan w=inf v=0x10 u=1e999 H2=40", EF_PARSE_OK, 8,
     {XD("T", 21.5), XI("H2", 40)}},
    {"a=1=2 b=1", EF_PARSE_OK, 1, {XI("b", 1)}},
    {"name_that_is_far_too_long_for_edgeferry_names_which_stop_at_64_chars=1 ok=1",
     EF_PARSE_OK, 1, {XI("ok", 1)}},
    /* nothing good: rejected */
    {"hello world", EF_PARSE_REJECT, 2, {{0}}},
    {"", EF_PARSE_REJECT, 0, {{0}}},
    {" ,; ", EF_PARSE_REJECT, 0, {{0}}},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ef_parsed out;
        char what[32];
        snprintf(what, sizeof what, "case %zu", i);
        int rc = ef_kv_parse(cases[i].line, strlen(cases[i].line), &out);
        CHECK_MSG(rc == cases[i].rc, "%s: rc %d want %d", what, rc, cases[i].rc);
        CHECK_MSG(out.skipped == cases[i].skipped, "%s: skipped %u want %u", what, out.skipped,
                  cases[i].skipped);
        expect_values(what, &out, cases[i].want);
    }
}

/* More pairs than a result holds: the extra ones are counted, never written. */
static void test_too_many_pairs(void)
{
    char line[EF_PARSED_MAX * 12 + 64];
    size_t used = 0;
    for (int i = 0; i < EF_PARSED_MAX + 5; i++)
        used += (size_t)snprintf(line + used, sizeof line - used, "v%d=%d ", i, i);
    struct ef_parsed out;
    CHECK(ef_kv_parse(line, used, &out) == EF_PARSE_OK);
    CHECK(out.n == EF_PARSED_MAX);
    CHECK(out.skipped == 5);
}

/* A line with a control byte anywhere gives nothing, though its other
 * pairs are good: noise in front of "x=3" must not publish x=3. */
static void test_control_bytes(void)
{
    static const char good[] = "T=21.5 H=40";
    size_t len = sizeof good - 1;
    for (int c = 0; c < 256; c++) {
        if (ef_line_byte_ok((unsigned char)c))
            continue;
        static const size_t at[] = {0, 1, 6, 7, sizeof good - 1};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            char line[32];
            size_t n = with_byte(line, good, len, at[k], (unsigned char)c);
            struct ef_parsed out;
            int rc = ef_kv_parse(line, n, &out);
            CHECK_MSG(rc == EF_PARSE_REJECT && out.n == 0, "byte 0x%02x at %zu: rc %d, %zu values",
                      c, at[k], rc, out.n);
        }
    }
    struct ef_parsed out;
    CHECK(ef_kv_parse("T=1\tH=2", 7, &out) == EF_PARSE_OK && out.n == 2); /* TAB separates */
}

int main(void)
{
    test_table();
    test_control_bytes();
    test_too_many_pairs();
    return CHECK_DONE();
}
