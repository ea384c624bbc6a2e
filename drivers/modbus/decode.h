/* Decoding of Modbus registers and bits into values: pure, no I/O.
 *
 * Multi-register values. Registers arrive as 16-bit words, each sent high
 * byte first. Write the value big-endian as bytes A B C D (32 bits) or
 * A B C D E F G H (64 bits); the order says where those bytes sit in the
 * registers r0, r1, ... as read from the device:
 *
 *   order  32-bit           64-bit                     meaning
 *   ABCD   r0=AB r1=CD      r0=AB r1=CD r2=EF r3=GH    big-endian
 *   DCBA   r0=DC r1=BA      r0=HG r1=FE r2=DC r3=BA    fully little-endian
 *   BADC   r0=BA r1=DC      r0=BA r1=DC r2=FE r3=HG    bytes swapped in each word
 *   CDAB   r0=CD r1=AB      r0=GH r1=EF r2=CD r3=AB    word order reversed
 *
 * Example: the uint32 0x12345678 in CDAB is r0=0x5678 r1=0x1234.
 * Single-register types (int16, uint16) ignore the order: the register is
 * the value.
 *
 * Kinds of result (struct ef_value, drivers/source.h):
 *   bool (coil, discrete input, or `bit` of a register)  EF_VAL_BOOL
 *   int16/int32/int64                                  EF_VAL_INT (exact)
 *   uint16/uint32/uint64                               EF_VAL_UINT (exact, also above 2^53)
 *   float32                                            EF_VAL_FLOAT
 *   float64                                            EF_VAL_DOUBLE
 * When the point is `scaled` (scale or offset set), every numeric type
 * becomes EF_VAL_DOUBLE raw * scale + offset. Booleans are never scaled. */
#ifndef EF_MODBUS_DECODE_H
#define EF_MODBUS_DECODE_H

#include <stdint.h>

#include "config/config.h"
#include "drivers/source.h"

/* Decodes P from REGS, which start at the point's own address and hold at
 * least ef_point_width(P) registers. Returns 0, or -1 if the point's
 * type is not a numeric register type (strings: decode_text.h). */
int ef_decode_regs(const uint16_t *regs, const struct ef_point *p, struct ef_value *out);

/* Decodes a coil or discrete-input point from one bit as returned by
 * libmodbus (one uint8_t per bit, 0 or 1). */
void ef_decode_bit(uint8_t bit, struct ef_value *out);

/* The raw 16/32/64-bit pattern of N registers (1, 2 or 4) in ORDER, as a
 * big-endian integer: exposed for tests and the simulator's self-check. */
uint64_t ef_decode_raw(const uint16_t *regs, unsigned n, enum ef_order order);

#endif
