/* One commanded value checked against its point and turned into the Modbus
 * write that puts it there. Pure: no I/O, no allocation.
 *
 * The value is in published units (what telemetry shows). The checks, in
 * this order, each with its own error text:
 *   kind     coil or bit: true/false, or the numbers 0 and 1
 *            ("value must be true or false (or 0 or 1)");
 *            any other point: a number ("value must be a number")
 *   limits   write_min/write_max of the point, on the value as sent
 *            ("below write_min 5", "above write_max 30")
 *   raw      scale and offset reversed: raw = (value - offset) / scale, as
 *            a division by k when scale is 1/k (0.1, 0.01), mirroring
 *            ef_value_scale(), so 21.5 with scale 0.1 gives exactly 215.
 *            Integer types need a whole raw number: a fraction beyond the
 *            rounding error of the arithmetic is refused ("not an integer
 *            after scale and offset: 21.55 gives raw 215.5"); unscaled
 *            points need the value itself to be whole ("not an integer"),
 *            and int64/uint64 literals without fraction or exponent are
 *            read exactly by strtoll/strtoull, also beyond 2^53
 *   range    the raw number must fit the type ("out of range for int16
 *            (-32768..32767)"; float32: finite after rounding to float)
 *
 * The write:
 *   coil                              FC5   coil = the state
 *   bit N of a holding register       FC22  and_mask = ~(1 << N), or_mask =
 *                                           (state << N): the device keeps
 *                                           every other bit of the register
 *   int16, uint16                     FC6   (FC16 of one register when the
 *                                           device has write_single = fc16)
 *   int32, uint32, float32            FC16  2 registers in the point's order
 *   int64, uint64, float64            FC16  4 registers in the point's order
 * The registers are the exact inverse of the decoder (drivers/modbus/
 * decode.h): decoding w.regs as the point gives back w.value.
 *
 * Executing a struct ef_write with libmodbus 3.1.6:
 *   FC5   modbus_write_bit(ctx, w.address, w.coil)
 *   FC6   modbus_write_register(ctx, w.address, w.regs[0])
 *   FC16  modbus_write_registers(ctx, w.address, w.count, w.regs)
 *   FC22  modbus_mask_write_register(ctx, w.address, w.and_mask, w.or_mask)
 * and reading it back: coil modbus_read_bits(ctx, w.address, 1, ...) then
 * ef_decode_bit(); registers modbus_read_registers(ctx, w.address,
 * ef_point_width(point), ...) then ef_decode_regs(). */
#ifndef EF_CMD_ENCODE_H
#define EF_CMD_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/source.h"
#include "gateway/command/cmd_json.h"

enum ef_write_fc {
    EF_FC_WRITE_COIL = 5,
    EF_FC_WRITE_REGISTER = 6,
    EF_FC_WRITE_REGISTERS = 16,
    EF_FC_MASK_WRITE = 22,
};

struct ef_write {
    enum ef_write_fc fc;
    uint16_t address;           /* the point's address */
    uint16_t count;             /* FC16: registers in regs (1, 2 or 4); otherwise 1 */
    uint16_t regs[4];           /* FC6: regs[0]; FC16: regs[0..count-1] as sent */
    bool coil;                  /* FC5 */
    uint16_t and_mask, or_mask; /* FC22 */
    /* The value the point will publish once the write took: what the result
     * reports as "value" (e.g. 21.1 on a float32 is the float nearest 21.1). */
    struct ef_value value;
};

/* Checks V against the writable point P (of a device with write_single WS)
 * and fills OUT. Returns 0, or -1 with the reason in ERR (EF_CMD_ERROR_MAX
 * bytes are enough). P must be writable: the caller checks that, because
 * only it knows the names for the message. */
int ef_cmd_encode(const struct ef_point *p, enum ef_write_single ws, const struct ef_cmd_value *v,
                  struct ef_write *out, char *err, size_t errlen);

/* The inverse of ef_decode_raw(): the big-endian pattern RAW of N registers
 * (1, 2 or 4) laid out in ORDER into REGS. One register ignores the order. */
void ef_cmd_encode_raw(uint64_t raw, unsigned n, enum ef_order order, uint16_t *regs);

#endif
