/* Modbus TCP read requests and the checks of their replies (mbap.h). */
#include "drivers/modbus/mbap.h"

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void ef_mbap_read_request(uint8_t req[EF_MBAP_READ_REQ_LEN], uint16_t tid, uint8_t unit,
                          uint8_t function, uint16_t start, uint16_t count)
{
    put16(req, tid);
    put16(req + 2, 0);
    put16(req + 4, EF_MBAP_READ_REQ_LEN - 6);
    req[6] = unit;
    req[7] = function;
    put16(req + 8, start);
    put16(req + 10, count);
}

/* Data bytes a correct reply to REQ carries. */
static unsigned reply_bytes(const uint8_t *req)
{
    unsigned count = be16(req + 10);
    return req[7] <= 2 ? (count + 7) / 8 : 2 * count;
}

enum ef_mbap_verdict ef_mbap_check_reply(const uint8_t *req, const uint8_t *rsp, size_t len,
                                         bool check_unit, uint8_t *exception)
{
    if (len < 9 || be16(rsp) != be16(req) || be16(rsp + 2) != 0 || be16(rsp + 4) != len - 6)
        return EF_MBAP_BAD_HEADER;
    if (check_unit && rsp[6] != req[6])
        return EF_MBAP_WRONG_UNIT;
    if (rsp[7] == (req[7] | 0x80) && len == 9) {
        *exception = rsp[8];
        return EF_MBAP_EXCEPTION;
    }
    if (rsp[7] != req[7] || rsp[8] != reply_bytes(req) || len != 9 + (size_t)rsp[8])
        return EF_MBAP_BAD_PDU;
    return EF_MBAP_OK;
}

void ef_mbap_regs(const uint8_t *rsp, unsigned count, uint16_t *regs)
{
    for (unsigned i = 0; i < count; i++)
        regs[i] = be16(rsp + 9 + 2 * i);
}

void ef_mbap_bits(const uint8_t *rsp, unsigned count, uint8_t *bits)
{
    for (unsigned i = 0; i < count; i++)
        bits[i] = (uint8_t)(rsp[9 + i / 8] >> (i % 8) & 1);
}
