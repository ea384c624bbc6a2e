/* String points: register bytes to valid UTF-8 text. */
#include "drivers/modbus/decode_text.h"

#include <string.h>

#include "common/utf8.h"

size_t ef_decode_text(const uint16_t *regs, unsigned nregs, enum ef_order order, char *out,
                      size_t cap)
{
    unsigned char raw[2 * 125];
    if (nregs > 125)
        nregs = 125;
    size_t n = 0;
    for (unsigned i = 0; i < nregs; i++) {
        unsigned char hi = (unsigned char)(regs[i] >> 8), lo = (unsigned char)regs[i];
        raw[n++] = order == EF_ORDER_BA ? lo : hi;
        raw[n++] = order == EF_ORDER_BA ? hi : lo;
    }
    while (n > 0 && (raw[n - 1] == '\0' || raw[n - 1] == ' '))
        n--;
    size_t len = 0;
    for (size_t i = 0; i < n;) {
        size_t k = ef_utf8_seq(raw + i, n - i);
        const char *src = k ? (const char *)raw + i : EF_UTF8_REPLACEMENT;
        size_t w = k ? k : 3;
        if (len + w > cap)
            break; /* CAP too small for the contract: cut at a whole character */
        memcpy(out + len, src, w);
        len += w;
        i += k ? k : 1;
    }
    return len;
}

void ef_decode_string(const uint16_t *regs, const struct ef_point *p, char *buf, size_t cap,
                      struct ef_value *out)
{
    out->kind = EF_VAL_STRING;
    out->as.s.p = buf;
    out->as.s.len = ef_decode_text(regs, (unsigned)p->length, p->order, buf, cap);
}
