/* Line framing: CR/LF/CRLF terminators, no empty lines, bounded buffer with
 * over-long lines counted, junk skipped between lines and rejecting lines. */
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
    {"\x01\x02\xff\xfe\x1b[0mT=1\n", 0, "L:[0mT=1|"},
    {"T=2\x00" "1.5\nT=3\n", 12, "J|L:T=3|"},
    {"T=2\x7f\nok\n", 0, "J|L:ok|"},
    {"\xff\xff\r\n", 0, ""},
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
    test_line_limit();
    test_memory_is_bounded();
    return CHECK_DONE();
}
