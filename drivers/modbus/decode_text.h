/* Decoding of string points (type = string, length = N registers): pure.
 *
 * Each register holds two bytes of text, its high byte first (order AB, the
 * usual one) or its low byte first (order BA, as some meters store it):
 * "AB" in one register is 0x4142 in AB and 0x4241 in BA. The text is all
 * 2N bytes, minus trailing NULs and spaces (the padding of a fixed-size
 * field); NULs between other characters are kept (JSON writes them as
 * \u0000). Bytes that are not well-formed UTF-8 each become U+FFFD, so the
 * result is always valid UTF-8 and at most 3 * 2N bytes long. */
#ifndef EF_MODBUS_DECODE_TEXT_H
#define EF_MODBUS_DECODE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/source.h"

/* Most bytes the text of one string point can take (125 registers). */
#define EF_TEXT_MAX (6 * 125)

/* Writes the text of NREGS registers REGS in ORDER (EF_ORDER_BA: low byte
 * first, any other: high byte first) into OUT, which holds CAP >= 6 * NREGS
 * bytes (no terminating NUL is written). Returns its length. */
size_t ef_decode_text(const uint16_t *regs, unsigned nregs, enum ef_order order, char *out,
                      size_t cap);

/* Decodes string point P from REGS (its own address on, p->length
 * registers) into BUF (CAP bytes, at least 6 * p->length): OUT becomes an
 * EF_VAL_STRING pointing into BUF. */
void ef_decode_string(const uint16_t *regs, const struct ef_point *p, char *buf, size_t cap,
                      struct ef_value *out);

#endif
