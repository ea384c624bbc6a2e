/* Internals shared by bus.c (thread, schedule), bus_conn.c (opening and
 * re-opening the line), bus_poll.c (one poll of one device), bus_tcp.c
 * (one Modbus TCP read or write) and bus_write.c (the write queue and its
 * execution). */
#ifndef EF_MODBUS_BUS_PRIV_H
#define EF_MODBUS_BUS_PRIV_H

#include <modbus.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/clock.h"
#include "drivers/modbus/bus.h"
#include "drivers/modbus/decode_text.h"
#include "drivers/modbus/plan_set.h"

#define EF_MB_BACKOFF_MIN_MS 500
#define EF_MB_BACKOFF_MAX_MS 30000
#define EF_MB_SLICE_MS 1000 /* longest sleep without refreshing alive_ms */

struct ef_mb_dev {
    const struct ef_device *cfg;
    size_t index; /* in cfg->devices: source_index and counters index */
    struct ef_plan_set plans; /* one per set of points due together */
    struct ef_plan *plan;     /* the plan of the poll in progress */
    uint64_t poll_no;         /* periods since the start, skipped ones included */
    int64_t next_due_ms; /* monotonic */
    bool *have;          /* per point: read in the current poll */
    struct ef_value *values;
    struct ef_reading *readings;
    char *text;       /* the text of string points, EF_TEXT_MAX bytes per string point */
    size_t *text_at;  /* per point: its offset in text */
    bool reply_warned; /* a refused tcp reply was logged in this streak */
    /* Consecutive failed polls (capped at offline_after): written by the bus
     * thread, read by write() on the caller's thread. */
    atomic_int failed_polls;
};

#define EF_MB_WRITE_SLOTS 8 /* queued writes per bus; more are refused at once */

/* The bounded queue between write() (any thread) and the bus thread. */
struct ef_mb_writes {
    pthread_mutex_t lock;
    bool open; /* accepting: from start until the thread's last drain */
    size_t head, n;
    struct ef_write_req slot[EF_MB_WRITE_SLOTS];
    atomic_uint pending; /* n, for the idle wait to look at without the lock */
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
    atomic_bool line_down; /* the last open failed or the line was lost */
    int backoff_ms;
    int64_t last_io_us; /* end of the previous transaction, 0 if none */
    int64_t silence_us; /* RTU inter-frame gap */
    uint16_t tid;       /* tcp: transaction id of the last request */

    struct ef_mb_writes writes;
    int wake[2]; /* stop() and write() write to wake[1] to wake the thread */
    atomic_bool stopping;
    pthread_t thread;
    bool running;

    uint16_t regs[EF_PLAN_MAX_REGS];
    uint8_t bits[EF_PLAN_MAX_BITS];
};

/* Sleeps up to MS, in slices that keep alive_ms fresh; returns false as
 * soon as the bus is stopping. A queued write does not cut it short: it
 * paces the line or lets a late answer arrive. */
bool ef_mb_wait_ms(struct ef_mb_bus *b, int64_t ms);

/* The wait between polls: like ef_mb_wait_ms, but returns at once when a
 * write is queued. */
bool ef_mb_idle_ms(struct ef_mb_bus *b, int64_t ms);

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
/* One read request of D's plan, the way every poll sends it (bus_poll.c):
 * the registers or bits land in B's buffers. Returns libmodbus's count, or
 * -1 with errno set. */
int ef_mb_issue(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_plan_read *r);

/* One poll of D: its reads, decoding, sink calls, counters. */
void ef_mb_poll_device(struct ef_mb_bus *b, struct ef_mb_dev *d);

/* Request helpers of bus_poll.c, shared with the writes. */
enum ef_mb_rq { EF_MB_RQ_OK, EF_MB_RQ_HOLE, EF_MB_RQ_FAILED, EF_MB_RQ_NO_ANSWER, EF_MB_RQ_STOP };
/* Keeps delay_ms and the RTU silence before the next request; false when
 * stopping. */
bool ef_mb_pace(struct ef_mb_bus *b);
/* After a timeout or garbled frame: waits a response timeout, flushes. */
bool ef_mb_settle(struct ef_mb_bus *b);
/* errno values meaning the line is gone, or (tcp) the peer hung up. */
bool ef_mb_link_error(int err);
bool ef_mb_hung_up_error(const struct ef_mb_bus *b, int err);
/* One attempt of read R of D, with its error handling and counters. */
enum ef_mb_rq ef_mb_read_once(struct ef_mb_bus *b, struct ef_mb_dev *d,
                              const struct ef_plan_read *r, struct ef_dev_counters *c);

/* Write W to D on a tcp bus, with the reply checks of mbap.h. Returns 0,
 * or -1 with errno as libmodbus sets it; *NOT_SENT is true when the
 * request never left (send() refused it: it may be sent again). */
int ef_mb_tcp_write(struct ef_mb_bus *b, struct ef_mb_dev *d, const struct ef_write_req *w,
                    bool *not_sent);

/* bus_write.c. The source's write op. */
int ef_mb_write(struct ef_source *src, const struct ef_write_req *req,
                struct ef_write_result *now);
/* Executes every queued write (the bus thread, between two requests). */
void ef_mb_serve_writes(struct ef_mb_bus *b);
/* Accepts writes from now on (start) / no longer, answering every queued
 * one EF_WRITE_STOPPING (the thread's end). */
void ef_mb_writes_open(struct ef_mb_bus *b);
void ef_mb_writes_close(struct ef_mb_bus *b);

#endif
