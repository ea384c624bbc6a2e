/* Modbus TCP read requests and the checks of their replies (mbap.h). */
#include "drivers/modbus/mbap.h"

#include <string.h>

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

/* What every reply shares: MBAP header, unit id, the exception form.
 * EF_MBAP_OK here means "go on checking the PDU". */
static enum ef_mbap_verdict check_common(const uint8_t *req, const uint8_t *rsp, size_t len,
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
    return EF_MBAP_OK;
}

enum ef_mbap_verdict ef_mbap_check_reply(const uint8_t *req, const uint8_t *rsp, size_t len,
                                         bool check_unit, uint8_t *exception)
{
    enum ef_mbap_verdict v = check_common(req, rsp, len, check_unit, exception);
    if (v != EF_MBAP_OK)
        return v;
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

size_t ef_mbap_write_request(uint8_t req[EF_MBAP_WRITE_REQ_MAX], uint16_t tid, uint8_t unit,
                             uint8_t function, uint16_t address, const uint16_t *words,
                             unsigned nwords)
{
    size_t n = 10;
    req[6] = unit;
    req[7] = function;
    put16(req + 8, address);
    if (function == 16) {
        if (nwords > 4)
            nwords = 4;
        put16(req + 10, (uint16_t)nwords);
        req[12] = (uint8_t)(2 * nwords);
        n = 13;
    } else {
        nwords = function == 22 ? 2 : 1;
    }
    for (unsigned i = 0; i < nwords; i++, n += 2)
        put16(req + n, words[i]);
    put16(req, tid);
    put16(req + 2, 0);
    put16(req + 4, (uint16_t)(n - 6));
    return n;
}

enum ef_mbap_verdict ef_mbap_check_write_reply(const uint8_t *req, size_t req_len,
                                               const uint8_t *rsp, size_t len, bool check_unit,
                                               uint8_t *exception)
{
    enum ef_mbap_verdict v = check_common(req, rsp, len, check_unit, exception);
    if (v != EF_MBAP_OK)
        return v;
    /* FC16 answers with function, address and count; the others echo. */
    size_t echo = req[7] == 16 ? 12 : req_len;
    if (len != echo || memcmp(rsp + 7, req + 7, echo - 7) != 0)
        return EF_MBAP_BAD_PDU;
    return EF_MBAP_OK;
}
