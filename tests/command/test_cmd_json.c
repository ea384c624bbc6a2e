/* The command payload reader: every shape, every limit, and the inputs a
 * network can throw at it (empty, binary, deep, huge, odd numbers). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "gateway/command/cmd_json.h"

static struct ef_cmd_msg msg;
static char err[EF_CMD_ERROR_MAX];

static int parse_n(const char *s, size_t n, bool multi)
{
    err[0] = '\0';
    return ef_cmd_parse(s, n, multi, &msg, err, sizeof err);
}

static int parse(const char *s, bool multi) { return parse_n(s, strlen(s), multi); }

/* TEXT must be refused with an error containing WANT. */
#define REFUSED(text, multi, want)                                                             \
    do {                                                                                       \
        int rc_ = parse(text, multi);                                                          \
        EXPECT(rc_ == -1 && strstr(err, want), "%s: rc %d, error '%s', want '%s'", text, rc_,  \
               err, want);                                                                     \
    } while (0)

#define ACCEPTED(text, multi)                                                                  \
    do {                                                                                       \
        int rc_ = parse(text, multi);                                                          \
        EXPECT(rc_ == 0, "%s: refused: %s", text, err);                                        \
    } while (0)

static void bare_values(void)
{
    ACCEPTED("21.5", false);
    EXPECT(msg.nitems == 1 && msg.items[0].value.kind == EF_CMD_V_NUMBER, "kind");
    EXPECT(msg.items[0].value.d == 21.5 && !msg.items[0].value.integral_text, "21.5");
    EXPECT(!msg.has_id && !msg.has_ts && msg.items[0].name[0] == '\0', "no id/ts");
    ACCEPTED(" \t\r\n7 \n", false);
    EXPECT(msg.items[0].value.integral_text && strcmp(msg.items[0].value.text, "7") == 0, "7");
    ACCEPTED("true", false);
    EXPECT(msg.items[0].value.kind == EF_CMD_V_BOOL && msg.items[0].value.b, "true");
    ACCEPTED("false", false);
    EXPECT(msg.items[0].value.kind == EF_CMD_V_BOOL && !msg.items[0].value.b, "false");
    ACCEPTED("null", false);
    EXPECT(msg.items[0].value.kind == EF_CMD_V_NULL, "null");
    ACCEPTED("\"21.5\"", false); /* a string: the point check says "must be a number" */
    EXPECT(msg.items[0].value.kind == EF_CMD_V_STRING, "string");
    ACCEPTED("[1,2]", false);
    EXPECT(msg.items[0].value.kind == EF_CMD_V_OTHER, "array");
    ACCEPTED("-0", false);
    EXPECT(msg.items[0].value.d == 0 && !signbit(msg.items[0].value.d), "-0 is 0");
    ACCEPTED("-0.0e5", false);
    EXPECT(msg.items[0].value.d == 0 && !signbit(msg.items[0].value.d), "-0.0e5 is 0");
    ACCEPTED("18446744073709551615", false);
    EXPECT(msg.items[0].value.integral_text &&
               strcmp(msg.items[0].value.text, "18446744073709551615") == 0,
           "the literal is kept for exact 64-bit integers");
    ACCEPTED("4.9e-324", false); /* subnormal: kept */
    EXPECT(msg.items[0].value.d > 0, "subnormal");
}

static void object_forms(void)
{
    ACCEPTED("{\"value\":21.5,\"id\":\"op-17\",\"ts\":1764150000123}", false);
    EXPECT(msg.items[0].value.d == 21.5 && msg.has_id && strcmp(msg.id, "op-17") == 0, "id");
    EXPECT(msg.has_ts && msg.ts_ms == 1764150000123, "ts");
    ACCEPTED("{ \"ts\" : 1e3 , \"value\" : true }", false);
    EXPECT(msg.ts_ms == 1000 && msg.items[0].value.b && !msg.has_id, "ts 1e3");
    ACCEPTED("{\"values\":{\"mode\":2,\"setpoint\":21.5},\"id\":\"op-18\"}", true);
    EXPECT(msg.multi && msg.nitems == 2 && strcmp(msg.items[0].name, "mode") == 0, "values");
    EXPECT(strcmp(msg.items[1].name, "setpoint") == 0 && msg.items[1].value.d == 21.5, "order");
    ACCEPTED("{\"id\":\"a\\\"b\\\\c\\u0041\",\"value\":1}", false);
    EXPECT(strcmp(msg.id, "a\"b\\cA") == 0, "escapes decoded: %s", msg.id);
    ACCEPTED("{\"value\":{\"nested\":[1,{\"a\":null}]}}", false);
    EXPECT(msg.items[0].value.kind == EF_CMD_V_OTHER, "object value");
    char id64[128] = "{\"value\":1,\"id\":\"";
    memset(id64 + strlen(id64), 'x', 64);
    strcat(id64, "\"}");
    ACCEPTED(id64, false);
    EXPECT(strlen(msg.id) == 64, "64-character id");
}

static void refusals(void)
{
    REFUSED("", false, "empty payload");
    REFUSED("   ", false, "unexpected end");
    char *big = malloc(EF_CMD_PAYLOAD_MAX + 2);
    memset(big, ' ', EF_CMD_PAYLOAD_MAX + 1);
    big[0] = '1';
    EXPECT(parse_n(big, EF_CMD_PAYLOAD_MAX, false) == 0, "4096 bytes: %s", err);
    EXPECT(parse_n(big, EF_CMD_PAYLOAD_MAX + 1, false) == -1 && strstr(err, "larger than 4096"),
           "4097 bytes: %s", err);
    free(big);
    EXPECT(parse_n("\0\1\2", 3, false) == -1 && strstr(err, "unexpected byte 0x00 at byte 0"),
           "binary: %s", err);
    EXPECT(parse_n("1\0", 2, false) == -1 && strstr(err, "trailing"), "NUL after: %s", err);
    EXPECT(parse_n("\"a\0b\"", 5, false) == -1 && strstr(err, "control character"), "NUL in: %s",
           err);
    REFUSED("\xff", false, "unexpected byte 0xff");
    REFUSED("{\"value\":[[[[[[[[[[1]]]]]]]]]]}", false, "nested deeper than 8");
    REFUSED("[[[[[[[[[1]]]]]]]]]", false, "nested deeper than 8");
    ACCEPTED("[[[[[[[[1]]]]]]]]", false); /* exactly 8 levels */
    REFUSED("1e400", false, "beyond a double");
    REFUSED("-1e400", false, "beyond a double");
    REFUSED("1e-400", false, "underflows to 0");
    REFUSED("NaN", false, "unexpected byte 0x4e");
    REFUSED("Infinity", false, "unexpected byte");
    REFUSED("+1", false, "unexpected byte 0x2b");
    REFUSED(".5", false, "unexpected byte");
    REFUSED("1.", false, "digit expected after '.'");
    REFUSED("1e", false, "digit expected in the exponent");
    REFUSED("01", false, "trailing");
    REFUSED("0x10", false, "trailing");
    REFUSED("-", false, "digit expected");
    REFUSED("1234567890123456789012345678901234567890123456789012345678901234.5", false,
            "longer than 64");
    REFUSED("tru", false, "unknown word");
    REFUSED("truex", false, "trailing");
    REFUSED("21.5 x", false, "trailing");
    REFUSED("{\"value\":1}}", false, "trailing");
    REFUSED("{\"value\":1,}", false, "member name expected");
    REFUSED("{\"value\" 1}", false, "':' expected");
    REFUSED("{\"value\":1 \"id\":\"x\"}", false, "',' or '}' expected");
    REFUSED("{\"value\":1", false, "',' or '}' expected");
    REFUSED("[1,2", false, "',' or ']' expected");
    REFUSED("\"abc", false, "unterminated string");
    REFUSED("\"\\x\"", false, "unknown escape");
    REFUSED("\"\\u12\"", false, "four hex digits");
    REFUSED("\"\\ud83d\"", false, "without its low half");
    REFUSED("\"\\ude00\"", false, "lone low surrogate");
    ACCEPTED("\"\\ud83d\\ude00 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", false);
    REFUSED("\"\xc0\xaf\"", false, "invalid UTF-8");     /* overlong '/' */
    REFUSED("\"\xed\xa0\x80\"", false, "invalid UTF-8"); /* a surrogate */
    REFUSED("\"\xf4\x90\x80\x80\"", false, "invalid UTF-8"); /* above U+10FFFF */
    REFUSED("\"\xe2\x82\"", false, "invalid UTF-8");     /* cut short */
}

static void member_rules(void)
{
    REFUSED("{}", false, "missing member \"value\"");
    REFUSED("{\"id\":\"x\"}", false, "missing member \"value\"");
    REFUSED("{\"value\":1,\"value\":2}", false, "duplicate member 'value'");
    REFUSED("{\"id\":\"a\",\"value\":1,\"id\":\"b\"}", false, "duplicate member 'id'");
    REFUSED("{\"value\":1,\"foo\":2}", false, "unknown member 'foo'");
    REFUSED("{\"value\":1,\"f o\":2}", false, "unknown member");
    REFUSED("{\"val\\u0000ue\":1}", false, "unknown member");
    REFUSED("{\"value\":1,\"id\":5}", false, "id must be a string");
    REFUSED("{\"value\":1,\"id\":\"\"}", false, "id must be 1 to 64 printable ASCII");
    REFUSED("{\"value\":1,\"id\":\"a\\u0001\"}", false, "printable ASCII");
    REFUSED("{\"value\":1,\"id\":\"caf\xc3\xa9\"}", false, "printable ASCII");
    char id65[128] = "{\"value\":1,\"id\":\"";
    memset(id65 + strlen(id65), 'x', 65);
    strcat(id65, "\"}");
    REFUSED(id65, false, "printable ASCII");
    REFUSED("{\"value\":1,\"ts\":\"1764150000123\"}", false, "ts must be an integer");
    REFUSED("{\"value\":1,\"ts\":1.5}", false, "ts must be an integer");
    REFUSED("{\"value\":1,\"ts\":-1}", false, "ts must be an integer");
    REFUSED("{\"value\":1,\"ts\":9007199254740993}", false, "ts must be an integer");
    REFUSED("{\"value\":1,\"ts\":1e400}", false, "beyond a double");
    /* the id read before an error is kept for the refusal */
    REFUSED("{\"id\":\"op-9\",\"value\":1,\"bogus\":1}", false, "unknown member");
    EXPECT(msg.has_id && strcmp(msg.id, "op-9") == 0, "id kept on error");
    /* point topic vs device topic */
    REFUSED("{\"values\":{\"a\":1}}", false, "\"values\" is for a device topic");
    REFUSED("{\"value\":1}", true, "\"value\" is for a point topic");
    REFUSED("21.5", true, "must be an object {\"values\"");
    REFUSED("{\"id\":\"x\"}", true, "missing member \"values\"");
    REFUSED("{\"values\":{}}", true, "values is empty");
    REFUSED("{\"values\":[1]}", true, "values must be an object");
    REFUSED("{\"values\":{\"a\":1,\"a\":2}}", true, "point 'a' appears twice");
    REFUSED("{\"values\":{\"a b\":1}}", true, "not a point name");
    REFUSED("{\"values\":{\"\":1}}", true, "not a point name");
    char many[1024] = "{\"values\":{";
    for (int i = 0; i <= EF_CMD_VALUES_MAX; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"p%d\":%d", i ? "," : "", i, i);
    strcat(many, "}}");
    REFUSED(many, true, "more than 32 values");
    char *cut = strstr(many, ",\"p32\"");
    strcpy(cut, "}}");
    ACCEPTED(many, true);
    EXPECT(msg.nitems == 32 && strcmp(msg.items[31].name, "p31") == 0, "32 values");
}

int main(void)
{
    bare_values();
    object_forms();
    refusals();
    member_rules();
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
