/* One poll of one device: issue the reads of its plan, classify failures,
 * decode, and hand the sample to the sink.
 *
 * Failure handling per read:
 *   illegal data address  the read is split (plan.h) and the halves are read
 *                         at once, so existing points still arrive in this
 *                         poll; a read that cannot be split becomes a hole
 *                         and is no longer issued.
 *   timeout, bad CRC      counted; wait about one response timeout and flush
 *                         (a late answer must not be taken as the answer to
 *                         the next request), then retry up to `retries`.
 *   other exception       counted, retried up to `retries`.
 *   peer hung up          a TCP device that closed the connection (idle, or
 *                         after every answer: many do) is found closed before
 *                         the request (poll) or by it (EOF, reset, EPIPE):
 *                         reconnected at once and the request sent again,
 *                         once, counted in reopens only (no error, no retry
 *                         spent, no failed poll).
 *   wrong unit, bad MBAP  (tcp, bus_tcp.c) counted as errors, never decoded;
 *                         flushed and retried like a garbled frame.
 *   EIO, ECONNRESET, ...  the line is gone (USB adapter pulled, a peer that
 *                         refuses the reconnection): closed, re-opened later
 *                         with back-off.
 * Queued writes (bus_write.c) are served before every request, retries
 * included: a write waits at most for the request in progress.
 * After a read has timed out on every retry, or the line is gone, the rest of
 * the device's reads in this poll are skipped: the device is not answering,
 * and asking again would only delay the other devices of the bus. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/log.h"
#include "drivers/modbus/bus_priv.h"
#include "drivers/modbus/decode.h"
#include "drivers/modbus/decode_text.h"

/* Short names in this file for the request outcomes of bus_priv.h. */
#define RQ_OK EF_MB_RQ_OK
#define RQ_HOLE EF_MB_RQ_HOLE
#define RQ_FAILED EF_MB_RQ_FAILED
#define RQ_NO_ANSWER EF_MB_RQ_NO_ANSWER
#define RQ_STOP EF_MB_RQ_STOP

static void count(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

bool ef_mb_link_error(int err)
{
    return err == EIO || err == ECONNRESET || err == EBADF || err == ENXIO ||
           err == EPIPE || err == ENOTCONN || err == ECONNREFUSED || err == ENODEV;
}

static const char *kind_word(enum ef_reg_kind k)
{
    static const char *const w[] = {"coils", "discrete", "input", "holding"};
    return w[k];
}

/* Keeps delay_ms and, on RTU, the 3.5-character silence between frames
 * (libmodbus does not keep it). */
bool ef_mb_pace(struct ef_mb_bus *b)
{
    if (b->last_io_us == 0)
        return true;
    int64_t gap_us = (int64_t)b->bus->delay_ms * 1000;
    if (b->silence_us > gap_us)
        gap_us = b->silence_us;
    int64_t left = b->last_io_us + gap_us - ef_mono_us();
    if (left <= 0)
        return true;
    if (left >= 1000)
        return ef_mb_wait_ms(b, (left + 999) / 1000);
    struct timespec ts = {0, (long)left * 1000};
    nanosleep(&ts, NULL);
    return true;
}

/* The errors of a socket whose peer has closed it (libmodbus reports EOF
 * as ECONNRESET). */
bool ef_mb_hung_up_error(const struct ef_mb_bus *b, int err)
{
    return b->bus->type != EF_BUS_RTU &&
           (err == ECONNRESET || err == EPIPE || err == ENOTCONN || err == ECONNABORTED);
}

int ef_mb_issue(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_plan_read *r)
{
    if (b->bus->type == EF_BUS_TCP)
        return ef_mb_tcp_read(b, d, r);
    switch (r->kind) {
    case EF_REG_COIL:
        return modbus_read_bits(b->ctx, r->start, r->count, b->bits);
    case EF_REG_DISCRETE:
        return modbus_read_input_bits(b->ctx, r->start, r->count, b->bits);
    case EF_REG_INPUT:
        return modbus_read_input_registers(b->ctx, r->start, r->count, b->regs);
    default:
        return modbus_read_registers(b->ctx, r->start, r->count, b->regs);
    }
}

/* After a timeout or garbled frame: let a late answer arrive, then drop it. */
bool ef_mb_settle(struct ef_mb_bus *b)
{
    bool go_on = ef_mb_wait_ms(b, b->bus->timeout_ms);
    ef_mb_conn_flush(b);
    return go_on;
}

/* Sends R and waits for its reply; on a connection the peer closed, once
 * more on a new one. Returns ef_mb_issue()'s result (errno in *ERR), or -2 when
 * the line cannot be reopened. */
static int transact(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_plan_read *r,
                    struct ef_dev_counters *c, int *err)
{
    bool fresh = false;
    if (ef_mb_conn_hung_up(b)) {
        if (ef_mb_conn_reopen(b, c) < 0)
            return -2;
        fresh = true;
    }
    for (;;) {
        modbus_set_slave(b->ctx, d->cfg->unit);
        ef_debug("bus %s: unit %d read %s %u..%u", b->bus->name, d->cfg->unit,
                 kind_word(r->kind), (unsigned)r->start, (unsigned)r->start + r->count - 1);
        count(&c->requests, 1);
        int rc = ef_mb_issue(b, d, r);
        *err = errno;
        b->last_io_us = ef_mono_us();
        ef_mb_alive(b);
        if (rc == r->count || fresh || !ef_mb_hung_up_error(b, *err))
            return rc;
        ef_debug("bus %s: unit %d: %s: the device closed the connection", b->bus->name,
                 d->cfg->unit, modbus_strerror(*err));
        if (ef_mb_conn_reopen(b, c) < 0)
            return -2;
        fresh = true;
    }
}

enum ef_mb_rq ef_mb_read_once(struct ef_mb_bus *b, struct ef_mb_dev *d,
                              const struct ef_plan_read *r, struct ef_dev_counters *c)
{
    if (ef_mb_conn_ensure(b, c) < 0)
        return RQ_NO_ANSWER;
    if (!ef_mb_pace(b))
        return RQ_STOP;
    int err = 0;
    int rc = transact(b, d, r, c, &err);
    if (rc == -2)
        return RQ_NO_ANSWER;
    if (rc == r->count) {
        ef_mb_conn_ok(b);
        return RQ_OK;
    }
    ef_debug("bus %s: unit %d: %s", b->bus->name, d->cfg->unit, modbus_strerror(err));
    if (err == ETIMEDOUT) {
        count(&c->timeouts, 1);
        return ef_mb_settle(b) ? RQ_NO_ANSWER : RQ_STOP;
    }
    count(&c->errors, 1);
    if (err == EMBXILADD)
        return RQ_HOLE;
    if (ef_mb_link_error(err)) {
        ef_warn("bus %s: line lost (%s); re-opening with back-off", b->bus->name,
                modbus_strerror(err));
        ef_mb_conn_close(b, true);
        return RQ_NO_ANSWER;
    }
    if (err == EMBBADCRC || err == EMBBADDATA || err == EMBBADSLAVE || err == EMBMDATA)
        return ef_mb_settle(b) ? RQ_FAILED : RQ_STOP;
    return RQ_FAILED; /* an exception: the device answered */
}

static enum ef_mb_rq read_with_retries(struct ef_mb_bus *b, struct ef_mb_dev *d,
                                       const struct ef_plan_read *r)
{
    struct ef_dev_counters *c = &b->counters[d->index];
    enum ef_mb_rq res = RQ_FAILED;
    for (int attempt = 0; attempt <= b->bus->retries; attempt++) {
        ef_mb_serve_writes(b); /* writes go ahead of the next request */
        if (atomic_load(&b->stopping))
            return RQ_STOP;
        res = ef_mb_read_once(b, d, r, c);
        if (res == RQ_OK || res == RQ_HOLE || res == RQ_STOP)
            return res;
        if (!b->ctx) /* line gone: retrying now cannot work */
            return RQ_NO_ANSWER;
    }
    return res;
}

static void decode_read(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_plan_read *r)
{
    const struct ef_plan *plan = d->plan;
    bool bits = r->kind == EF_REG_COIL || r->kind == EF_REG_DISCRETE;
    for (size_t k = r->first; k < r->first + r->n; k++) {
        size_t idx = plan->order[k];
        unsigned off = ef_plan_offset(plan, r, k);
        if (bits) {
            ef_decode_bit(b->bits[off], &d->values[idx]);
            d->have[idx] = true;
        } else if (plan->points[idx].type == EF_T_STRING) {
            ef_decode_string(&b->regs[off], &plan->points[idx], d->text + d->text_at[idx],
                             EF_TEXT_MAX, &d->values[idx]);
            d->have[idx] = true;
        } else if (ef_decode_regs(&b->regs[off], &plan->points[idx], &d->values[idx]) == 0) {
            d->have[idx] = true;
        }
    }
}

static void mark_hole(struct ef_mb_bus *b, struct ef_mb_dev *d, struct ef_plan_read *r)
{
    r->hole = true;
    ef_warn("bus %s: device %s refuses %s %u..%u (illegal data address); point %s and any "
            "sharing its registers will not be read",
            b->bus->name, d->cfg->name, kind_word(r->kind), (unsigned)r->start,
            (unsigned)r->start + r->count - 1, d->plan->points[d->plan->order[r->first]].name);
}

/* Runs the reads; returns true if at least one succeeded. */
static bool run_reads(struct ef_mb_bus *b, struct ef_mb_dev *d, bool *stopped)
{
    struct ef_dev_counters *c = &b->counters[d->index];
    bool answered = false;
    bool give_up = false;
    for (size_t i = 0; i < d->plan->nreads; i++) {
        struct ef_plan_read *r = &d->plan->reads[i];
        if (r->hole || give_up) {
            count(&c->points_failed, r->n);
            continue;
        }
        enum ef_mb_rq res = read_with_retries(b, d, r);
        if (res == RQ_STOP) {
            *stopped = true;
            return answered;
        }
        if (res == RQ_OK) {
            decode_read(b, d, r);
            answered = true;
        } else if (res == RQ_HOLE) {
            int s = ef_plan_split(d->plan, i);
            if (s == 1) {
                ef_info("bus %s: device %s: illegal data address; read split in two",
                        b->bus->name, d->cfg->name);
                i--; /* read the first half now; the second follows */
                continue;
            }
            if (s == 0)
                mark_hole(b, d, &d->plan->reads[i]);
            count(&c->points_failed, d->plan->reads[i].n);
        } else {
            count(&c->points_failed, r->n);
            give_up = res == RQ_NO_ANSWER;
        }
    }
    return answered;
}

void ef_mb_poll_device(struct ef_mb_bus *b, struct ef_mb_dev *d)
{
    d->plan = ef_plan_set_for(&d->plans, d->poll_no);
    if (!d->plan)
        return; /* no point is due in this period: no poll at all */
    struct ef_dev_counters *c = &b->counters[d->index];
    int64_t ts = ef_wall_ms();
    memset(d->have, 0, d->cfg->npoints * sizeof *d->have);
    count(&c->polls, 1);
    bool stopped = false;
    bool answered = run_reads(b, d, &stopped);
    if (stopped)
        return; /* no sink call for an interrupted poll */
    size_t n = 0;
    for (size_t i = 0; i < d->cfg->npoints; i++) {
        if (!d->have[i])
            continue;
        d->readings[n].name = d->cfg->points[i].name;
        d->readings[n].point = &d->cfg->points[i];
        d->readings[n].value = d->values[i];
        n++;
    }
    count(&c->readings, n);
    if (!answered)
        count(&c->polls_failed, 1);
    int failed = answered ? 0 : atomic_load(&d->failed_polls) + 1;
    if (failed <= d->cfg->offline_after) /* capped: it only says "offline" */
        atomic_store(&d->failed_polls, failed);
    if (n > 0) {
        struct ef_sample s = {.device = d->cfg->name, .source_index = d->index, .ts_ms = ts,
                              .readings = d->readings, .nreadings = n};
        b->sink.sample(b->sink.ctx, &s);
    }
    if (b->sink.poll_result)
        b->sink.poll_result(b->sink.ctx, d->index, ts, answered);
}
