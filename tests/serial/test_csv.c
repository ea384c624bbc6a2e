/* csv: values in the order of fields; wrong field count rejected; empty
 * fields absent; non-numbers skipped and counted. */
#include "drivers/serial/csv.h"
#include "drivers/serial/framing.h"
#include "expect.h"

static const char fields[4][EF_NAME_MAX + 1] = {"temp", "hum", "wind", "count"};

static const struct {
    const char *line;
    int rc;
    unsigned skipped;
    struct expect want[EXPECT_MAX];
} cases[] = {
    {"21.5,40.2,3.0,7", EF_PARSE_OK, 0,
     {XD("temp", 21.5), XD("hum", 40.2), XD("wind", 3.0), XI("count", 7)}},
    {" 21.5 , 40.2 ,\t-1e-3\t,true", EF_PARSE_OK, 0,
     {XD("temp", 21.5), XD("hum", 40.2), XD("wind", -0.001), XB("count", 1)}},
    {"21.5,40.2,,7", EF_PARSE_OK, 0, {XD("temp", 21.5), XD("hum", 40.2), XI("count", 7)}},
    {",,,", EF_PARSE_OK, 0, {{0}}},
    {"21.5,ERR,,7", EF_PARSE_OK, 1, {XD("temp", 21.5), XI("count", 7)}},
    {"21.5,40.2,3.0", EF_PARSE_REJECT, 0, {{0}}},
    {"21.5,40.2,3.0,7,8", EF_PARSE_REJECT, 0, {{0}}},
    {"", EF_PARSE_REJECT, 0, {{0}}},
    {"21.5;40.2;3.0;7", EF_PARSE_REJECT, 0, {{0}}},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ef_parsed out;
        char what[32];
        snprintf(what, sizeof what, "case %zu", i);
        int rc = ef_csv_parse(cases[i].line, strlen(cases[i].line), fields, 4, &out);
        CHECK_MSG(rc == cases[i].rc, "%s: rc %d want %d", what, rc, cases[i].rc);
        CHECK_MSG(out.skipped == cases[i].skipped, "%s: skipped %u want %u", what, out.skipped,
                  cases[i].skipped);
        expect_values(what, &out, cases[i].want);
    }
}

static void test_single_field(void)
{
    static const char one[1][EF_NAME_MAX + 1] = {"level"};
    struct ef_parsed out;
    CHECK(ef_csv_parse("12", 2, one, 1, &out) == EF_PARSE_OK);
    struct expect want[EXPECT_MAX] = {XI("level", 12)};
    expect_values("single", &out, want);
    CHECK(ef_csv_parse("1,2", 3, one, 1, &out) == EF_PARSE_REJECT);
    CHECK(ef_csv_parse("1", 1, one, 0, &out) == EF_PARSE_REJECT);
}

/* A control byte anywhere rejects the line, even inside a field that
 * would only be skipped or next to one that is empty. */
static void test_control_bytes(void)
{
    static const char good[] = "21.5,40.2,,7";
    size_t len = sizeof good - 1;
    for (int c = 0; c < 256; c++) {
        if (ef_line_byte_ok((unsigned char)c))
            continue;
        static const size_t at[] = {0, 2, 5, 10, sizeof good - 1};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            char line[32];
            size_t n = with_byte(line, good, len, at[k], (unsigned char)c);
            struct ef_parsed out;
            int rc = ef_csv_parse(line, n, fields, 4, &out);
            CHECK_MSG(rc == EF_PARSE_REJECT && out.n == 0, "byte 0x%02x at %zu: rc %d, %zu values",
                      c, at[k], rc, out.n);
        }
    }
}

int main(void)
{
    test_table();
    test_control_bytes();
    test_single_field();
    return CHECK_DONE();
}
