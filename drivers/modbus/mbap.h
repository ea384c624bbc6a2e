/* Modbus TCP reply checks that libmodbus 3.1.6 leaves out: pure, no I/O.
 *
 * libmodbus's TCP backend matches a reply's transaction id, but not its unit
 * id, and it frames a reply by function code and byte count, never looking
 * at the MBAP length field. Behind a TCP-to-RTU gateway a reply from another
 * unit is another device's data, so the TCP bus builds its read requests
 * here, lets libmodbus receive the reply (modbus_receive_confirmation, the
 * same reads modbus_read_registers makes) and checks all of it here.
 *
 *   byte  0-1             2-3           4-5                  6
 *         transaction id  protocol (0)  length of 6.. (N-6)  unit id
 *   byte  7               8             9 ..
 *   read  function        byte count    data (registers big-endian; bits
 *                                       least significant first)
 *   error function|0x80   exception code                     (N = 9)
 *
 * Writes (bus_write.c) go the same way. Their requests and replies, from
 * byte 7 on:
 *   FC5, FC6  request  function, address, value (coil: 0xFF00 or 0)
 *             reply    the request echoed             (N = 12)
 *   FC16      request  function, address, count, byte count, registers
 *             reply    function, address, count       (N = 12)
 *   FC22      request  function, address, and mask, or mask
 *             reply    the request echoed             (N = 14)
 */
#ifndef EF_MODBUS_MBAP_H
#define EF_MODBUS_MBAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EF_MBAP_READ_REQ_LEN 12
#define EF_MBAP_WRITE_REQ_MAX (13 + 2 * 4) /* FC16 of four registers */

enum ef_mbap_verdict {
    EF_MBAP_OK,
    EF_MBAP_BAD_HEADER, /* transaction id, protocol id or length do not match */
    EF_MBAP_WRONG_UNIT, /* another unit id than the request's */
    EF_MBAP_BAD_PDU,    /* function code or byte count do not match the request */
    EF_MBAP_EXCEPTION,  /* a well-formed exception reply; the code is given */
};

/* Writes a read request (FUNCTION 1..4) for COUNT items from START. */
void ef_mbap_read_request(uint8_t req[EF_MBAP_READ_REQ_LEN], uint16_t tid, uint8_t unit,
                          uint8_t function, uint16_t start, uint16_t count);

/* Checks RSP (LEN bytes) as the reply to REQ (from ef_mbap_read_request).
 * CHECK_UNIT false accepts any unit id (a device answering with a fixed
 * one). On EF_MBAP_EXCEPTION, *EXCEPTION gets the exception code. */
enum ef_mbap_verdict ef_mbap_check_reply(const uint8_t *req, const uint8_t *rsp, size_t len,
                                         bool check_unit, uint8_t *exception);

/* The data of a reply that was EF_MBAP_OK for a request of COUNT items:
 * registers into REGS, or bits (0 or 1, one per byte) into BITS. */
void ef_mbap_regs(const uint8_t *rsp, unsigned count, uint16_t *regs);
void ef_mbap_bits(const uint8_t *rsp, unsigned count, uint8_t *bits);

/* Writes a write request and returns its length. FUNCTION 5 or 6: WORDS[0]
 * is the value (coil: 0xFF00 or 0); 16: NWORDS (1..4) registers; 22:
 * WORDS[0] the and mask, WORDS[1] the or mask. */
size_t ef_mbap_write_request(uint8_t req[EF_MBAP_WRITE_REQ_MAX], uint16_t tid, uint8_t unit,
                             uint8_t function, uint16_t address, const uint16_t *words,
                             unsigned nwords);

/* Checks RSP (LEN bytes) as the reply to the write request REQ (REQ_LEN
 * bytes): header and unit as for reads, then the echo the function calls
 * for. */
enum ef_mbap_verdict ef_mbap_check_write_reply(const uint8_t *req, size_t req_len,
                                               const uint8_t *rsp, size_t len, bool check_unit,
                                               uint8_t *exception);

#endif
