/* Internals shared by bus.c (thread, schedule), bus_conn.c (opening and
 * re-opening the line), bus_poll.c (one poll of one device) and bus_tcp.c
 * (one Modbus TCP read). */
#ifndef EF_MODBUS_BUS_PRIV_H
#define EF_MODBUS_BUS_PRIV_H

#include <modbus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "drivers/modbus/bus.h"
#include "drivers/modbus/plan.h"

#define EF_MB_BACKOFF_MIN_MS 500
#define EF_MB_BACKOFF_MAX_MS 30000
#define EF_MB_SLICE_MS 1000 /* longest sleep without refreshing alive_ms */

struct ef_mb_dev {
    const struct ef_device *cfg;
    size_t index; /* in cfg->devices: source_index and counters index */
    struct ef_plan plan;
    int64_t next_due_ms; /* monotonic */
    bool *have;          /* per point: read in the current poll */
    struct ef_value *values;
    struct ef_reading *readings;
    bool reply_warned; /* a refused tcp reply was logged in this streak */
};

struct ef_mb_bus {
    struct ef_source src; /* first: the gateway sees only this */
    const struct ef_config *cfg;
    const struct ef_bus *bus;
    struct ef_sink sink;
    struct ef_dev_counters *counters;
    struct ef_mb_dev *devs;
    size_t ndevs;

    modbus_t *ctx;        /* NULL while closed */
    int sock;             /* rtu-over-tcp: our own socket, else -1 */
    bool ever_opened;     /* a later open counts as a reopen */
    bool open_failing;    /* log the first failure of a streak only */
    int64_t reopen_at_ms; /* monotonic: no open attempt before this */
    int backoff_ms;
    int64_t last_io_us; /* end of the previous transaction, 0 if none */
    int64_t silence_us; /* RTU inter-frame gap */
    uint16_t tid;       /* tcp: transaction id of the last request */

    int wake[2]; /* stop() writes to wake[1] to cut sleeps short */
    atomic_bool stopping;
    pthread_t thread;
    bool running;

    uint16_t regs[EF_PLAN_MAX_REGS];
    uint8_t bits[EF_PLAN_MAX_BITS];
};

/* Sleeps up to MS, in slices that keep alive_ms fresh; returns false as
 * soon as the bus is stopping. */
bool ef_mb_wait_ms(struct ef_mb_bus *b, int64_t ms);

static inline void ef_mb_alive(struct ef_mb_bus *b)
{
    atomic_store_explicit(&b->src.alive_ms, ef_mono_ms(), memory_order_relaxed);
}

/* Opens the line if it is closed and its back-off has passed. Returns 0 when
 * a context is ready, -1 otherwise. DEV_COUNTERS gets the reopen count. */
int ef_mb_conn_ensure(struct ef_mb_bus *b, struct ef_dev_counters *dev_counters);

/* A TCP or rtu-over-tcp peer that closed the idle connection: poll() tells
 * without reading (bytes nobody asked for are flushed). False on RTU. */
bool ef_mb_conn_hung_up(struct ef_mb_bus *b);

/* Closes and opens the line again at once, without back-off (the peer
 * hung up; it has not failed). Returns 0, or -1 when the open failed (then
 * the back-off of ef_mb_conn_ensure applies). Counted in reopens. */
int ef_mb_conn_reopen(struct ef_mb_bus *b, struct ef_dev_counters *dev_counters);

/* Closes the line; with BACKOFF the next open waits (doubling up to 30 s). */
void ef_mb_conn_close(struct ef_mb_bus *b, bool backoff);

/* Discards whatever is pending on the line (a late answer must not become
 * the answer to the next request). */
void ef_mb_conn_flush(struct ef_mb_bus *b);

/* A successful transaction: the back-off starts again from its minimum. */
static inline void ef_mb_conn_ok(struct ef_mb_bus *b)
{
    b->backoff_ms = EF_MB_BACKOFF_MIN_MS;
}

/* Read R of device D on a tcp bus: the reply is checked (unit id, MBAP
 * header, function, byte count) and its data lands in b->regs or b->bits.
 * Returns r->count, or -1 with errno as libmodbus sets it; a rejected reply
 * is EMBBADSLAVE (another unit) or EMBBADDATA. */
int ef_mb_tcp_read(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_plan_read *r);

/* One poll of D: its reads, decoding, sink calls, counters. */
void ef_mb_poll_device(struct ef_mb_bus *b, struct ef_mb_dev *d);

#endif
