#include "drivers/serial/framing.h"

#include <string.h>

void ef_framer_reset(struct ef_framer *f)
{
    f->len = 0;
    f->overlong = false;
    f->tainted = false;
}

bool ef_line_clean(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!ef_line_byte_ok((unsigned char)line[i]))
            return false;
    return true;
}

static void end_line(struct ef_framer *f, ef_frame_fn fn, void *ctx)
{
    if (f->overlong) {
        fn(ctx, EF_FRAME_OVERLONG, NULL, 0);
    } else if (f->tainted) {
        fn(ctx, EF_FRAME_JUNK, NULL, 0);
    } else if (f->len > 0) {
        f->buf[f->len] = '\0';
        fn(ctx, EF_FRAME_LINE, f->buf, f->len);
    }
    ef_framer_reset(f);
}

void ef_framer_push(struct ef_framer *f, const void *data, size_t len, ef_frame_fn fn,
                    void *ctx)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == '\r' || c == '\n') {
            end_line(f, fn, ctx);
            continue;
        }
        if (f->overlong)
            continue;
        if (!ef_line_byte_ok(c)) {
            f->tainted = true;
            continue;
        }
        if (f->len >= EF_FRAME_LINE_MAX) {
            f->overlong = true;
            continue;
        }
        f->buf[f->len++] = (char)c;
    }
}
