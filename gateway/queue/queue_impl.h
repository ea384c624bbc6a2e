/* The queue's internal state, shared by queue.c (API, memory, ordering),
 * queue_disk.c (appends, capacity, spill, housekeeping), queue_sync.c
 * (deferred syncs, failure reports) and queue_recover.c (start-up).
 * Private to gateway/queue*.c.
 *
 * Locking: `lock` guards every field below. `io_lock` serialises everything
 * that writes, rolls, drops or deletes segment files and is taken BEFORE
 * `lock`; holding only io_lock, a writer may fdatasync the active segment
 * with `lock` released, so take/ack/nack (paho's threads) never wait for a
 * sync: only io_lock holders close write fds.
 *
 * Ordering invariant per class: everything on disk is older than everything
 * queued in memory (spills move the oldest memory messages to the end of the
 * disk log). Messages taken from disk stay on `outst` in disk order until
 * acknowledged; the cursor is the end of the acknowledged prefix. */
#ifndef EF_QUEUE_IMPL_H
#define EF_QUEUE_IMPL_H

#include <pthread.h>

#include "gateway/queue/queue.h"
#include "gateway/queue/queue_format.h"
#include "gateway/queue/queue_seg.h"

enum qsrc { QSRC_MEM, QSRC_DISK };
enum qstate { QST_QUEUED, QST_INFLIGHT, QST_RETRY, QST_ACKED };

struct qmsg {
    struct ef_qmsg pub; /* first: ef_qmsg pointers convert back */
    struct qmsg *prev, *next;
    uint8_t src, state;
    int64_t born_ms;  /* queue clock at push (memory messages) */
    struct ef_qpos pos; /* disk messages: where the record starts */
    uint32_t rec_len;
    size_t bytes;     /* memory accounted for this message */
    char data[];      /* topic, NUL, payload */
};

struct qlist {
    struct qmsg *head, *tail;
    size_t n;
};

struct qseg {
    uint64_t id;
    uint64_t size;        /* bytes written (whole records, plus corrupt runs found at open) */
    uint64_t nrec, nacked; /* valid records; those before the cursor */
    uint64_t rec_bytes, acked_bytes;
};

struct qclass {
    struct qseg *segs; /* ascending id; the last one is written when wfd >= 0 */
    size_t nsegs, segs_cap;
    int wfd;
    uint64_t next_id;
    struct ef_qpos cursor; /* first position not acknowledged */
    struct ef_qpos rdpos;  /* next record to read for take */
    struct ef_qreader rd;
    struct qlist mem;    /* queued in memory, oldest first */
    struct qlist memfly; /* taken from memory, not yet acked */
    struct qlist outst;  /* taken from disk, not yet acked, disk order */
    uint64_t disk_msgs, disk_bytes; /* unacknowledged records on disk */
};

/* One kind of disk failure, reported once per change of state: the first
 * failure, a different errno, a summary every EF_QERR_REPEAT_MS while it
 * lasts, and the recovery, each with the count (queue_sync.c). */
struct qerr {
    int err;        /* errno of the episode; 0 while things work */
    uint64_t count; /* failures since the episode began */
    uint64_t since_count;
    int64_t since_ms, last_log_ms;
};

/* Write fds to sync outside `lock` (io_lock held): SYNC stay open, RETIRED
 * (segments rolled over) are closed once synced. -1 when none. */
struct qio {
    int sync[2];
    int retired[2];
};

struct ef_queue {
    char *dir;
    struct ef_queue_cfg cfg;
    uint64_t cap_bytes, seg_max, mem_max;
    pthread_mutex_t lock, io_lock;
    pthread_cond_t cond;
    struct qclass c[2];
    uint64_t mem_bytes, disk_used;
    bool connected, woken, cursor_dirty;
    bool unsynced[2]; /* written to the class's wfd since the last sync */
    int retired[2];   /* rolled-over write fd not synced yet, or -1 */
    int64_t tretry_ms; /* telemetry writes failed: no new attempt before this */
    struct qerr e_write[2], e_sync, e_cursor; /* guarded by io_lock */
    int64_t now_ms, last_cursor_ms;
    unsigned live_streak;
    uint64_t next_msg_id;
    struct ef_queue_stats st;
    uint8_t *wbuf; /* batch encode buffer, EF_QWBUF bytes */
    size_t wlen;
    struct qlist wpend; /* messages encoded in wbuf, freed once written */
    int wcls;           /* class wbuf belongs to */
};

#define EF_QWBUF (256 * 1024)
/* Room kept for the cursor file and its temporary copy during rename. */
#define EF_QCURSOR_RESERVE (2 * EF_QCUR_SIZE)
/* Live-first: after this many live messages in a row, one from the backlog. */
#define EF_QLIVE_STREAK 3
/* After a failed telemetry write the disk is left alone this long, so a
 * full or broken disk costs one attempt per second, not one per poll. */
#define EF_QRETRY_MS 1000
#define EF_QERR_REPEAT_MS 60000

/* queue.c: lists and messages */
void ef_ql_push_tail(struct qlist *l, struct qmsg *m);
void ef_ql_push_head(struct qlist *l, struct qmsg *m);
void ef_ql_remove(struct qlist *l, struct qmsg *m);
struct qmsg *ef_qmsg_new(int cls, const char *topic, size_t topic_len, const void *payload,
                         size_t len, int qos, bool retain, int64_t ts_ms);
int ef_qpos_cmp(struct ef_qpos a, struct ef_qpos b);

/* queue_disk.c: all with lock and io_lock held unless said otherwise. */
/* Appends M (a message of class CLS, on no list) to the write batch; M is
 * freed once written, or put back in memory if writing fails. Returns 0,
 * EF_QDISK_DROPPED (no room under the cap even after dropping: M was
 * dropped and counted) or -errno (M untouched, still the caller's). */
#define EF_QDISK_DROPPED 1
int ef_qdisk_add(struct ef_queue *q, int cls, struct qmsg *m);
/* Writes the batch (no sync). Returns 0 or -errno (the batch's messages
 * went back to memory). */
int ef_qdisk_flush(struct ef_queue *q);
/* Moves the queued memory messages of CLS to disk, oldest first (with
 * INFLIGHT, the ones taken from memory and not acked go first). Returns 0,
 * EF_QDISK_DROPPED (written, but some dropped for the cap) or -errno (what
 * was not written is back in memory, in order). */
int ef_qdisk_spill(struct ef_queue *q, int cls, bool inflight);
/* Whether telemetry may be written now (not in the back-off of a failure). */
bool ef_qdisk_telemetry_ok(const struct ef_queue *q);
/* Deletes acknowledged segments. Returns true when the cursor should be
 * written now (FORCE: whenever it changed), with its value in CUR. */
bool ef_qdisk_housekeep(struct ef_queue *q, bool force, struct ef_qpos cur[2]);
/* Writes the cursor file; only io_lock held. Returns 0 or -errno. */
int ef_qdisk_write_cursor(struct ef_queue *q, const struct ef_qpos cur[2]);
struct qseg *ef_qdisk_find(struct qclass *c, uint64_t id);
/* Next record of CLS from disk (not a retry), as a new message on outst,
 * or NULL. Lock only. */
struct qmsg *ef_qdisk_read(struct ef_queue *q, int cls);
/* Whether records of C remain to be read. Lock only. */
bool ef_qdisk_unread(const struct qclass *c);
/* Pops the acknowledged prefix of outst and moves the cursor. Lock only. */
void ef_qdisk_advance(struct ef_queue *q, int cls);

/* queue_sync.c: deferred syncs, and disk failures reported once per change. */
/* Takes (and clears) the fds written and not yet synced, and the retired
 * ones, into IO. Lock held. */
void ef_qdisk_pending(struct ef_queue *q, struct qio *io);
/* fdatasyncs IO's fds and closes the retired ones; only io_lock held
 * (counts and reports errors). Returns 0 or the first -errno. */
int ef_qdisk_finish(struct ef_queue *q, const struct qio *io);
/* The write fd of CLS is done with (its segment rolled over): it is synced
 * and closed by the next ef_qdisk_finish(). Lock and io_lock held. */
void ef_qdisk_retire(struct ef_queue *q, int cls);
/* A failure of kind E (WHAT says what was being done) or its end. */
void ef_qerr_fail(struct ef_queue *q, struct qerr *e, const char *what, int err);
void ef_qerr_ok(struct ef_queue *q, struct qerr *e, const char *what);

/* queue_recover.c: scans DIR at open (no locks needed yet). */
int ef_qrecover(struct ef_queue *q);

#endif
