/* Writes to the devices of a bus: the bounded queue that write() fills from
 * any thread, and their execution in the bus thread.
 *
 * Refused at once (write() returns -1, done is never called): a device of
 * another bus or a malformed request; a bus that is not running; a device
 * whose last offline_after polls all failed ("device D is offline": the
 * same count the gateway's offline alarm uses); a line that is down (its
 * last open failed or it was lost: "bus B is disconnected"); a full queue
 * (EF_MB_WRITE_SLOTS: a busy bus answers "busy" instead of building a
 * backlog); a deadline already past.
 *
 * Executed by the bus thread before its next request, so a write waits at
 * most for the request in progress: pace() keeps delay_ms and the RTU
 * silence, the deadline is checked just before sending, and a write is sent
 * at most once. A tcp connection found closed before sending (or whose
 * send() was refused) is reopened and the write sent on the new one; once
 * sent, a timeout or a broken line is reported as such ("may or may not
 * have applied it"), never retried. After an acknowledged write the point
 * is read back at once and decoded as it is polled; the read-back goes to
 * the sink as a forced reading (through the deadband), and replaces the
 * point's value in a poll of that device that is under way, so the poll's
 * sample cannot carry the value from before the write.
 *
 * Logging: debug only. The command layer logs the one info line per
 * command, because only it knows the command's id and published value. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "drivers/modbus/bus_priv.h"
#include "drivers/modbus/decode.h"

static void count(atomic_uint_fast64_t *c)
{
    atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

static void fail(struct ef_write_result *r, enum ef_write_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void fail(struct ef_write_result *r, enum ef_write_status st, const char *fmt, ...)
{
    r->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->error, sizeof r->error, fmt, ap);
    va_end(ap);
}

static struct ef_mb_dev *find_dev(struct ef_mb_bus *b, size_t source_index)
{
    for (size_t i = 0; i < b->ndevs; i++)
        if (b->devs[i].index == source_index)
            return &b->devs[i];
    return NULL;
}

static bool well_formed(const struct ef_write_req *w)
{
    if (!w->done)
        return false;
    switch (w->fc) {
    case EF_WRITE_FC_COIL:
    case EF_WRITE_FC_REGISTER:
    case EF_WRITE_FC_MASK:
        return true;
    case EF_WRITE_FC_REGISTERS:
        return w->count >= 1 && w->count <= 4;
    default:
        return false;
    }
}

/* The checks write() answers at once; 0 when the request may be queued. */
static int refuse_now(struct ef_mb_bus *b, const struct ef_write_req *req,
                      struct ef_write_result *now)
{
    struct ef_mb_dev *d = find_dev(b, req->source_index);
    if (!d || !well_formed(req)) {
        fail(now, EF_WRITE_INVALID, "bus %s: no such device or malformed write", b->bus->name);
        return -1;
    }
    if (atomic_load(&b->line_down)) {
        fail(now, EF_WRITE_DISCONNECTED, "bus %s is disconnected", b->bus->name);
        return -1;
    }
    if (atomic_load(&d->failed_polls) >= d->cfg->offline_after) {
        fail(now, EF_WRITE_OFFLINE, "device %s is offline", d->cfg->name);
        return -1;
    }
    if (ef_mono_ms() > req->deadline_mono_ms) {
        fail(now, EF_WRITE_EXPIRED, "expired before it could be sent to device %s",
             d->cfg->name);
        return -1;
    }
    return 0;
}

int ef_mb_write(struct ef_source *src, const struct ef_write_req *req,
                struct ef_write_result *now)
{
    struct ef_mb_bus *b = (struct ef_mb_bus *)src;
    struct ef_mb_writes *q = &b->writes;
    memset(now, 0, sizeof *now);
    if (refuse_now(b, req, now) < 0)
        return -1;
    pthread_mutex_lock(&q->lock);
    int rc = -1;
    if (!q->open) {
        fail(now, EF_WRITE_STOPPING, "bus %s is not running", b->bus->name);
    } else if (q->n == EF_MB_WRITE_SLOTS) {
        fail(now, EF_WRITE_BUSY, "bus %s is busy: %d writes already waiting", b->bus->name,
             EF_MB_WRITE_SLOTS);
    } else {
        q->slot[(q->head + q->n) % EF_MB_WRITE_SLOTS] = *req;
        q->n++;
        atomic_store(&q->pending, (unsigned)q->n);
        rc = 0;
    }
    pthread_mutex_unlock(&q->lock);
    if (rc == 0) {
        char one = 1;
        ssize_t w = write(b->wake[1], &one, 1);
        (void)w; /* a full pipe already wakes the thread */
    }
    return rc;
}

static bool pop(struct ef_mb_writes *q, struct ef_write_req *out)
{
    pthread_mutex_lock(&q->lock);
    bool got = q->n > 0;
    if (got) {
        *out = q->slot[q->head];
        q->head = (q->head + 1) % EF_MB_WRITE_SLOTS;
        q->n--;
        atomic_store(&q->pending, (unsigned)q->n);
    }
    pthread_mutex_unlock(&q->lock);
    return got;
}

void ef_mb_writes_open(struct ef_mb_bus *b)
{
    pthread_mutex_lock(&b->writes.lock);
    b->writes.open = true;
    pthread_mutex_unlock(&b->writes.lock);
}

void ef_mb_writes_close(struct ef_mb_bus *b)
{
    pthread_mutex_lock(&b->writes.lock);
    b->writes.open = false;
    pthread_mutex_unlock(&b->writes.lock);
    struct ef_write_req w;
    while (pop(&b->writes, &w)) {
        struct ef_write_result r = {0};
        fail(&r, EF_WRITE_STOPPING, "bus %s stopped before the write was sent", b->bus->name);
        w.done(w.ctx, &r);
    }
}

/* Sends W once on RTU or rtu-over-tcp, through libmodbus (which checks the
 * reply's unit id, CRC and echo). Returns 0 or -1 with errno. */
static int send_rtu(struct ef_mb_bus *b, const struct ef_write_req *w)
{
    int rc;
    switch (w->fc) {
    case EF_WRITE_FC_COIL:
        rc = modbus_write_bit(b->ctx, w->address, w->coil);
        break;
    case EF_WRITE_FC_REGISTER:
        rc = modbus_write_register(b->ctx, w->address, w->regs[0]);
        break;
    case EF_WRITE_FC_REGISTERS:
        rc = modbus_write_registers(b->ctx, w->address, w->count, w->regs);
        break;
    default:
        rc = modbus_mask_write_register(b->ctx, w->address, w->and_mask, w->or_mask);
        break;
    }
    return rc < 0 ? -1 : 0;
}

/* Sends W, at most once; returns 0 or -1 with errno in *ERR (0 with -1:
 * the line could not be reopened, nothing was sent). */
static int send_write(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_write_req *w,
                      int *err)
{
    struct ef_dev_counters *c = &b->counters[d->index];
    *err = 0;
    if (ef_mb_conn_hung_up(b) && ef_mb_conn_reopen(b, c) < 0)
        return -1;
    for (int attempt = 0;; attempt++) {
        modbus_set_slave(b->ctx, d->cfg->unit);
        count(&c->requests);
        bool not_sent = false;
        int rc = b->bus->type == EF_BUS_TCP ? ef_mb_tcp_write(b, d, w, &not_sent)
                                            : send_rtu(b, w);
        *err = errno;
        b->last_io_us = ef_mono_us();
        ef_mb_alive(b);
        if (rc == 0 || !not_sent || attempt > 0 || !ef_mb_hung_up_error(b, *err))
            return rc;
        ef_debug("bus %s: unit %d: connection closed before the write; reconnecting",
                 b->bus->name, d->cfg->unit);
        if (ef_mb_conn_reopen(b, c) < 0) {
            *err = 0;
            return -1;
        }
    }
}

/* A failed send, sorted into the result; the line is flushed or closed as
 * for a failed read. */
static void classify(struct ef_mb_bus *b, struct ef_mb_dev *d, int err,
                     struct ef_write_result *r)
{
    struct ef_dev_counters *c = &b->counters[d->index];
    const char *name = d->cfg->name;
    if (err == 0) {
        fail(r, EF_WRITE_DISCONNECTED, "bus %s is disconnected", b->bus->name);
        return;
    }
    if (err == ETIMEDOUT) {
        count(&c->timeouts);
        fail(r, EF_WRITE_TIMEOUT,
             "timeout: device %s did not answer within %d ms; it may or may not have "
             "applied the write", name, b->bus->timeout_ms);
        ef_mb_settle(b);
        return;
    }
    count(&c->errors);
    if (err > MODBUS_ENOBASE && err < MODBUS_ENOBASE + MODBUS_EXCEPTION_MAX) {
        r->exception = (uint8_t)(err - MODBUS_ENOBASE);
        fail(r, EF_WRITE_EXCEPTION, "device %s: Modbus exception %u (%s)", name,
             (unsigned)r->exception, modbus_strerror(err));
        return;
    }
    if (ef_mb_link_error(err) || ef_mb_hung_up_error(b, err)) {
        fail(r, EF_WRITE_FAILED,
             "bus %s: line lost during the write to device %s (%s); it may or may not "
             "have applied it", b->bus->name, name, modbus_strerror(err));
        ef_mb_conn_close(b, !ef_mb_hung_up_error(b, err));
        return;
    }
    fail(r, EF_WRITE_FAILED,
         "device %s: bad reply to the write (%s); it may or may not have applied it", name,
         modbus_strerror(err));
    ef_mb_settle(b);
}

/* Reads point P of D once and decodes it. Returns true with *OUT set. */
static bool read_back(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_point *p,
                      struct ef_value *out)
{
    struct ef_plan_read r = {.kind = p->kind, .start = p->address,
                             .count = (uint16_t)ef_point_width(p), .n = 1};
    if (ef_mb_read_once(b, d, &r, &b->counters[d->index]) != EF_MB_RQ_OK)
        return false;
    if (p->kind == EF_REG_COIL || p->kind == EF_REG_DISCRETE) {
        ef_decode_bit(b->bits[0], out);
        return true;
    }
    return ef_decode_regs(b->regs, p, out) == 0;
}

/* The read-back goes out as a forced reading of its own, and into a poll of
 * D in progress, which read the point before the write. */
static void publish_read_back(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_point *p,
                              const struct ef_value *v)
{
    size_t idx = (size_t)(p - d->cfg->points);
    if (idx < d->cfg->npoints && d->have[idx])
        d->values[idx] = *v;
    struct ef_reading rd = {.name = p->name, .point = p, .value = *v, .forced = true};
    struct ef_sample s = {.device = d->cfg->name, .source_index = d->index,
                          .ts_ms = ef_wall_ms(), .readings = &rd, .nreadings = 1};
    atomic_fetch_add_explicit(&b->counters[d->index].readings, 1, memory_order_relaxed);
    b->sink.sample(b->sink.ctx, &s);
}

static void execute(struct ef_mb_bus *b, const struct ef_write_req *w,
                    struct ef_write_result *r)
{
    struct ef_mb_dev *d = find_dev(b, w->source_index);
    const char *name = d->cfg->name;
    if (ef_mono_ms() > w->deadline_mono_ms) {
        fail(r, EF_WRITE_EXPIRED, "expired before it could be sent to device %s", name);
        return;
    }
    if (ef_mb_conn_ensure(b, &b->counters[d->index]) < 0) {
        fail(r, EF_WRITE_DISCONNECTED, "bus %s is disconnected", b->bus->name);
        return;
    }
    if (!ef_mb_pace(b)) {
        fail(r, EF_WRITE_STOPPING, "bus %s stopped before the write was sent", b->bus->name);
        return;
    }
    if (ef_mono_ms() > w->deadline_mono_ms) { /* pace() may have waited */
        fail(r, EF_WRITE_EXPIRED, "expired before it could be sent to device %s", name);
        return;
    }
    int err = 0;
    if (send_write(b, d, w, &err) < 0) {
        classify(b, d, err, r);
        return;
    }
    ef_mb_conn_ok(b);
    r->status = EF_WRITE_OK;
    if (!w->point)
        return;
    r->has_readback = read_back(b, d, w->point, &r->readback);
    if (r->has_readback)
        publish_read_back(b, d, w->point, &r->readback);
    else
        snprintf(r->error, sizeof r->error, "written, but reading point %s back failed",
                 w->point->name);
}

void ef_mb_serve_writes(struct ef_mb_bus *b)
{
    struct ef_write_req w;
    while (!atomic_load(&b->stopping) && pop(&b->writes, &w)) {
        struct ef_write_result r = {0};
        execute(b, &w, &r);
        ef_debug("bus %s: write fc %u at %u to unit %d: %s", b->bus->name, (unsigned)w.fc,
                 (unsigned)w.address, find_dev(b, w.source_index)->cfg->unit,
                 r.status == EF_WRITE_OK ? "done" : r.error);
        w.done(w.ctx, &r);
    }
}
