/* --test's poll: the bus thread's plan, connection and decoding, run once
 * on the caller's thread, keeping the raw registers for the table. */
#include "drivers/modbus/bus_once.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drivers/modbus/bus_priv.h"
#include "drivers/modbus/decode.h"

static void pause_between(const struct ef_mb_bus *b)
{
    int64_t us = (int64_t)b->bus->delay_ms * 1000;
    if (b->silence_us > us)
        us = b->silence_us;
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* One read with the bus's retries: 0, or the errno of the last attempt. */
static int read_retried(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_plan_read *r)
{
    int err = ENOTCONN;
    for (int attempt = 0; attempt <= b->bus->retries; attempt++) {
        b->reopen_at_ms = 0; /* no back-off here: one attempt per retry */
        if (ef_mb_conn_ensure(b, &b->counters[d->index]) < 0) {
            err = errno ? errno : ENOTCONN;
            continue;
        }
        pause_between(b);
        modbus_set_slave(b->ctx, d->cfg->unit);
        /* The poll's own read: on TCP it checks the reply's unit id and
         * MBAP header (bus_tcp.c) like every poll does. */
        if (ef_mb_issue(b, d, r) == r->count)
            return 0;
        err = errno;
        if (err == EMBXILADD)
            return err; /* the device answered: asking again changes nothing */
        ef_mb_conn_flush(b);
    }
    return err;
}

static void report_read(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_plan_read *r,
                        int err, struct ef_mb_once_row *rows)
{
    bool bits = r->kind == EF_REG_COIL || r->kind == EF_REG_DISCRETE;
    for (size_t k = r->first; k < r->first + r->n; k++) {
        size_t idx = d->plan->order[k];
        struct ef_mb_once_row *row = &rows[idx];
        if (err) {
            row->error = modbus_strerror(err);
            continue;
        }
        unsigned off = ef_plan_offset(d->plan, r, k);
        if (bits) {
            ef_decode_bit(b->bits[off], &row->value);
            row->raw[0] = b->bits[off];
            row->nraw = 1;
            row->ok = true;
            continue;
        }
        const struct ef_point *p = &d->plan->points[idx];
        unsigned w = ef_point_width(p);
        row->nraw = w < 4 ? w : 4;
        memcpy(row->raw, &b->regs[off], row->nraw * sizeof row->raw[0]);
        row->ok = ef_decode_regs(&b->regs[off], p, &row->value) == 0;
        if (!row->ok)
            row->error = "cannot be decoded";
    }
}

static bool poll_device(struct ef_mb_bus *b, struct ef_mb_dev *d, ef_mb_once_fn *fn, void *ctx)
{
    size_t n = d->cfg->npoints;
    struct ef_mb_once_row *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows)
        return false;
    bool answered = false;
    /* Poll 0 is due for every point, whatever its own interval_ms. */
    d->plan = ef_plan_set_for(&d->plans, 0);
    int gone = 0; /* once a read went unanswered, the others would only wait as long */
    for (size_t i = 0; i < d->plan->nreads; i++) {
        int err = gone ? gone : read_retried(b, d, &d->plan->reads[i]);
        /* A hole in a merged read: split it as the bus thread does, so the
         * points around the hole are still read. */
        if (err == EMBXILADD && ef_plan_split(d->plan, i) == 1) {
            i--;
            continue;
        }
        answered |= err == 0 || err == EMBXILADD;
        if (err && err != EMBXILADD && (err == ETIMEDOUT || !b->ctx))
            gone = err;
        report_read(b, d, &d->plan->reads[i], err, rows);
    }
    for (size_t i = 0; i < n; i++) {
        rows[i].dev = d->cfg;
        rows[i].point = &d->cfg->points[i];
        if (!rows[i].ok && !rows[i].error)
            rows[i].error = "not read";
        fn(ctx, &rows[i]);
    }
    struct ef_mb_once_row done = {.dev = d->cfg, .ok = answered};
    fn(ctx, &done);
    free(rows);
    return answered;
}

int ef_modbus_poll_once(const struct ef_config *cfg, size_t bus_index, ef_mb_once_fn *fn,
                        void *ctx)
{
    static const struct ef_sink no_sink = {0};
    struct ef_dev_counters *counters = calloc(cfg->ndevices ? cfg->ndevices : 1,
                                              sizeof *counters);
    struct ef_source *src = counters ? ef_modbus_bus_new(cfg, bus_index, &no_sink, counters)
                                     : NULL;
    int silent = 0;
    if (!src) {
        free(counters);
        for (size_t i = 0; i < cfg->ndevices; i++)
            silent += cfg->devices[i].bus == bus_index;
        return silent;
    }
    struct ef_mb_bus *b = (struct ef_mb_bus *)src;
    for (size_t i = 0; i < b->ndevs; i++)
        silent += !poll_device(b, &b->devs[i], fn, ctx);
    ef_source_destroy(src);
    free(counters);
    return silent;
}
