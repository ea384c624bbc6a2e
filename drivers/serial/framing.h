/* Line framing over a serial byte stream. Pure: no I/O, no allocation.
 *
 * Rules (the contract tests in tests/serial/test_framing.c check them):
 * - A line ends at CR, at LF, or at CR LF. Empty lines are never delivered, so
 *   the LF of a CR LF pair (and blank lines) produce nothing.
 * - A line holds at most EF_FRAME_LINE_MAX bytes. A longer line is discarded
 *   up to its terminator and reported once as EF_FRAME_OVERLONG; memory use
 *   is the fixed buffer inside struct ef_framer, whatever the input.
 * - Junk: control bytes (below 0x20 other than CR, LF and TAB, and DEL
 *   0x7f) and bytes 0x80..0xff, which no supported format uses (0x80..0x9f
 *   are the C1 controls). A line with junk anywhere in it, before its first
 *   printable byte too, is reported as EF_FRAME_JUNK instead of being
 *   delivered: noise glued to the front of a line ("\x01x=3") cannot be told
 *   from a reading, and a corrupted "T=2?1.5" must not become "T=21.5". A
 *   burst of noise up to a terminator is one EF_FRAME_JUNK.
 * - Delivered lines contain only 0x20..0x7e and TAB and are NUL-terminated. */
#ifndef EF_SERIAL_FRAMING_H
#define EF_SERIAL_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

#define EF_FRAME_LINE_MAX 256

enum ef_frame_kind {
    EF_FRAME_LINE,     /* a complete line: line/len valid during the callback */
    EF_FRAME_OVERLONG, /* a line longer than EF_FRAME_LINE_MAX was dropped */
    EF_FRAME_JUNK,     /* a line with junk bytes inside it was dropped */
};

/* Called once per event; LINE is NULL and LEN 0 for the dropped kinds. */
typedef void (*ef_frame_fn)(void *ctx, enum ef_frame_kind kind, const char *line, size_t len);

struct ef_framer {
    char buf[EF_FRAME_LINE_MAX + 1];
    size_t len;
    bool overlong; /* discarding until the next terminator */
    bool tainted;  /* junk seen in the current line */
};

/* True for a byte a delivered line may contain (see "Junk" above). */
static inline bool ef_line_byte_ok(unsigned char c)
{
    return (c >= 0x20 && c < 0x7f) || c == '\t';
}

/* True when all LEN bytes of LINE pass ef_line_byte_ok: the parsers check
 * it too, so no caller can hand them a line the framer would reject. */
bool ef_line_clean(const char *line, size_t len);

void ef_framer_reset(struct ef_framer *f);

/* Feeds LEN bytes; calls FN for every event they complete, in order. A
 * partial line is kept for the next call. */
void ef_framer_push(struct ef_framer *f, const void *data, size_t len, ef_frame_fn fn,
                    void *ctx);

#endif
