/* One read or write on a Modbus TCP bus, with the reply checks of mbap.h.
 *
 * The request is written here and the reply received by libmodbus
 * (modbus_receive_confirmation): the same send() and receive steps that
 * modbus_read_registers makes, so a reading costs what it did, but the
 * reply's unit id and MBAP length are checked before anything is decoded.
 * Writes take the same path, so their replies are checked the same way (a
 * write acknowledged by another unit is not taken as done), and a send()
 * refused by a closed connection is known not to have left. */
#include <errno.h>
#include <sys/socket.h>

#include "common/log.h"
#include "drivers/modbus/bus_priv.h"
#include "drivers/modbus/mbap.h"

static const uint8_t function_of[] = {
    [EF_REG_COIL] = MODBUS_FC_READ_COILS,
    [EF_REG_DISCRETE] = MODBUS_FC_READ_DISCRETE_INPUTS,
    [EF_REG_INPUT] = MODBUS_FC_READ_INPUT_REGISTERS,
    [EF_REG_HOLDING] = MODBUS_FC_READ_HOLDING_REGISTERS,
};

/* The first refused reply of a streak is worth a warning: the device stays
 * offline until it or its configuration changes. */
static void warn_refused(struct ef_mb_bus *b, struct ef_mb_dev *d, enum ef_mbap_verdict v,
                         const uint8_t *rsp, int len)
{
    if (d->reply_warned)
        return;
    d->reply_warned = true;
    if (v == EF_MBAP_WRONG_UNIT)
        ef_warn("bus %s: device %s answers as unit %u, not %d: its replies are refused (if "
                "it always answers with a fixed unit id, set check_unit = false)",
                b->bus->name, d->cfg->name, rsp[6], d->cfg->unit);
    else
        ef_warn("bus %s: device %s: reply refused (%s: transaction %u, protocol %u, MBAP "
                "length %u for %d bytes, function %u)",
                b->bus->name, d->cfg->name,
                v == EF_MBAP_BAD_HEADER ? "bad MBAP header" : "not an answer to the request",
                (unsigned)(rsp[0] << 8 | rsp[1]), (unsigned)(rsp[2] << 8 | rsp[3]),
                (unsigned)(rsp[4] << 8 | rsp[5]), len - 6, rsp[7]);
}

/* Maps a rejected reply to the errno libmodbus would use for it. */
static int verdict_errno(enum ef_mbap_verdict v, uint8_t exception)
{
    switch (v) {
    case EF_MBAP_WRONG_UNIT:
        return EMBBADSLAVE;
    case EF_MBAP_EXCEPTION:
        return exception > 0 && exception < MODBUS_EXCEPTION_MAX
                   ? (int)MODBUS_ENOBASE + exception
                   : EMBBADEXC;
    default:
        return EMBBADDATA;
    }
}

int ef_mb_tcp_read(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_plan_read *r)
{
    uint8_t req[EF_MBAP_READ_REQ_LEN];
    uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
    ef_mbap_read_request(req, ++b->tid, (uint8_t)d->cfg->unit, function_of[r->kind], r->start,
                         r->count);
    ssize_t n = send(modbus_get_socket(b->ctx), req, sizeof req, MSG_NOSIGNAL);
    if (n != (ssize_t)sizeof req) {
        if (n >= 0)
            errno = EMBBADDATA;
        return -1;
    }
    int len = modbus_receive_confirmation(b->ctx, rsp);
    if (len < 0)
        return -1;
    uint8_t exception = 0;
    enum ef_mbap_verdict v = ef_mbap_check_reply(req, rsp, (size_t)len, d->cfg->check_unit,
                                                 &exception);
    if (v != EF_MBAP_OK && v != EF_MBAP_EXCEPTION)
        warn_refused(b, d, v, rsp, len);
    if (v != EF_MBAP_OK) {
        errno = verdict_errno(v, exception);
        return -1;
    }
    d->reply_warned = false;
    if (r->kind == EF_REG_COIL || r->kind == EF_REG_DISCRETE)
        ef_mbap_bits(rsp, r->count, b->bits);
    else
        ef_mbap_regs(rsp, r->count, b->regs);
    return r->count;
}

int ef_mb_tcp_write(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_write_req *w,
                    bool *not_sent)
{
    uint8_t req[EF_MBAP_WRITE_REQ_MAX];
    uint8_t rsp[MODBUS_TCP_MAX_ADU_LENGTH];
    uint16_t words[4] = {0};
    unsigned nwords = 1;
    if (w->fc == EF_WRITE_FC_COIL) {
        words[0] = w->coil ? 0xFF00 : 0;
    } else if (w->fc == EF_WRITE_FC_MASK) {
        words[0] = w->and_mask;
        words[1] = w->or_mask;
        nwords = 2;
    } else {
        nwords = w->fc == EF_WRITE_FC_REGISTERS ? w->count : 1;
        for (unsigned i = 0; i < nwords; i++)
            words[i] = w->regs[i];
    }
    size_t len = ef_mbap_write_request(req, ++b->tid, (uint8_t)d->cfg->unit, w->fc, w->address,
                                       words, nwords);
    ssize_t n = send(modbus_get_socket(b->ctx), req, len, MSG_NOSIGNAL);
    *not_sent = n < 0;
    if (n != (ssize_t)len) {
        if (n >= 0)
            errno = EMBBADDATA; /* part of it left: treat as sent */
        return -1;
    }
    int got = modbus_receive_confirmation(b->ctx, rsp);
    if (got < 0)
        return -1;
    uint8_t exception = 0;
    enum ef_mbap_verdict v = ef_mbap_check_write_reply(req, len, rsp, (size_t)got,
                                                       d->cfg->check_unit, &exception);
    if (v != EF_MBAP_OK && v != EF_MBAP_EXCEPTION)
        warn_refused(b, d, v, rsp, got);
    if (v != EF_MBAP_OK) {
        errno = verdict_errno(v, exception);
        return -1;
    }
    return 0;
}
