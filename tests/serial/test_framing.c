/* Line framing: CR/LF/CRLF terminators, no empty lines, bounded buffer with
 * over-long lines counted, a control byte anywhere rejecting its line. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drivers/serial/framing.h"

struct events {
    char text[4096]; /* "L:line|" per line, "O|" over-long, "J|" junk */
};

static void record(void *ctx, enum ef_frame_kind kind, const char *line, size_t len)
{
    struct events *ev = ctx;
    size_t used = strlen(ev->text);
    if (kind == EF_FRAME_LINE) {
        CHECK(strlen(line) == len);
        snprintf(ev->text + used, sizeof ev->text - used, "L:%s|", line);
    } else {
        CHECK(line == NULL && len == 0);
        snprintf(ev->text + used, sizeof ev->text - used, "%s",
                 kind == EF_FRAME_OVERLONG ? "O|" : "J|");
    }
}

static void frame_all(const char *in, size_t len, size_t chunk, struct events *ev)
{
    struct ef_framer f;
    ef_framer_reset(&f);
    ev->text[0] = '\0';
    for (size_t i = 0; i < len; i += chunk)
        ef_framer_push(&f, in + i, len - i < chunk ? len - i : chunk, record, ev);
}

static const struct {
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *want;
} cases[] = {
    {"a\r\nb\n", 0, "L:a|L:b|"},
    {"a\rb\r", 0, "L:a|L:b|"},
    {"a\nb\n", 0, "L:a|L:b|"},
    {"\r\n\r\n\n\r", 0, ""},
    {"no terminator yet", 0, ""},
    {"a\r\n\r\nb\r\n", 0, "L:a|L:b|"},
    {"T=1\tH=2\n", 0, "L:T=1\tH=2|"},
    /* junk before a line is part of it: "\x01x=3" must not become "x=3" */
    {"\x01\x02\xff\xfe\x1b[0mT=1\n", 0, "J|"},
    {"\x01x=3\nx=4\n", 0, "J|L:x=4|"},
    {"\x00x=3\r\nx=4\r\n", 12, "J|L:x=4|"},
    {"T=2\x00" "1.5\nT=3\n", 12, "J|L:T=3|"},
    {"T=2\x7f\nok\n", 0, "J|L:ok|"},
    {"x=3\x80\n", 0, "J|"},
    /* noise alone up to a terminator is one rejected line */
    {"\xff\xff\r\n", 0, "J|"},
    {"\x02\x03\nok\n", 0, "J|L:ok|"},
    /* noise without a terminator joins the next line */
    {"\x1b\x07", 0, ""},
    {"$GPGGA,1*00\r\n$GPRMC*11\r\n", 0, "L:$GPGGA,1*00|L:$GPRMC*11|"},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);
        struct events ev;
        frame_all(cases[i].in, len, len, &ev);
        CHECK_MSG(strcmp(ev.text, cases[i].want) == 0, "case %zu: got \"%s\" want \"%s\"", i,
                  ev.text, cases[i].want);
        /* Byte by byte gives the same events: partial lines carry over. */
        frame_all(cases[i].in, len, 1, &ev);
        CHECK_MSG(strcmp(ev.text, cases[i].want) == 0, "case %zu bytewise: got \"%s\"", i,
                  ev.text);
    }
}

/* Every byte value before, inside and after a line: only printable ASCII
 * and TAB are kept; CR and LF end lines; every other byte rejects the line. */
static void test_every_byte(void)
{
    for (int c = 0; c < 256; c++) {
        if (c == '\r' || c == '\n')
            continue;
        bool ok = (c >= 0x20 && c < 0x7f) || c == '\t';
        CHECK_MSG(ef_line_byte_ok((unsigned char)c) == ok, "byte 0x%02x", c);
        static const char *const shapes[] = {"%cx=3\n", "x%c=3\n", "x=3%c\n"};
        for (size_t s = 0; s < 3; s++) {
            char in[8];
            int n = snprintf(in, sizeof in, shapes[s], c ? c : 'Z');
            char *at = s == 0 ? in : s == 1 ? in + 1 : in + 3;
            *at = (char)c; /* NUL too */
            struct events ev;
            frame_all(in, (size_t)n, 1, &ev);
            char want[16] = "J|";
            if (ok) {
                in[n - 1] = '\0';
                snprintf(want, sizeof want, "L:%s|", in);
            }
            CHECK_MSG(strcmp(ev.text, want) == 0, "byte 0x%02x shape %zu: got \"%s\"", c, s,
                      ev.text);
            CHECK(ef_line_clean(in, 4) == ok);
        }
    }
}

static void test_line_limit(void)
{
    char in[EF_FRAME_LINE_MAX + 8];
    struct events ev;
    /* Exactly the limit is a line. */
    memset(in, 'x', EF_FRAME_LINE_MAX);
    in[EF_FRAME_LINE_MAX] = '\n';
    frame_all(in, EF_FRAME_LINE_MAX + 1, 7, &ev);
    CHECK(strncmp(ev.text, "L:xxxx", 6) == 0 && strlen(ev.text) == EF_FRAME_LINE_MAX + 3);
    /* One more byte is over-long, reported once, and the next line is fine. */
    memset(in, 'x', EF_FRAME_LINE_MAX + 1);
    memcpy(in + EF_FRAME_LINE_MAX + 1, "\r\nok\r\n", 6);
    frame_all(in, EF_FRAME_LINE_MAX + 7, EF_FRAME_LINE_MAX + 7, &ev);
    CHECK_MSG(strcmp(ev.text, "O|L:ok|") == 0, "got %s", ev.text);
}

static void test_memory_is_bounded(void)
{
    /* A megabyte without a terminator never grows the framer. */
    size_t big = 1 << 20;
    char *junk = malloc(big);
    CHECK(junk != NULL);
    if (!junk)
        return;
    memset(junk, 'A', big);
    struct ef_framer f;
    struct events ev = {.text = ""};
    ef_framer_reset(&f);
    ef_framer_push(&f, junk, big, record, &ev);
    CHECK(f.len <= EF_FRAME_LINE_MAX);
    CHECK(strcmp(ev.text, "") == 0);
    ef_framer_push(&f, "\nA\n", 3, record, &ev);
    CHECK_MSG(strcmp(ev.text, "O|L:A|") == 0, "got %s", ev.text);
    free(junk);
}

int main(void)
{
    test_table();
    test_every_byte();
    test_line_limit();
    test_memory_is_bounded();
    return CHECK_DONE();
}
