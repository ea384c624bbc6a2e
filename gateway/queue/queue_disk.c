/* Disk side of the queue: batched appends, the disk cap, spilling, reading
 * back, acknowledgement and deletion of segments (see queue_impl.h). */
#include "gateway/queue/queue_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

struct qseg *ef_qdisk_find(struct qclass *c, uint64_t id)
{
    size_t lo = 0, hi = c->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->segs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->nsegs && c->segs[lo].id == id ? &c->segs[lo] : NULL;
}

/* Removes segs[0] of CLS from disk and from the books. */
static void remove_first_seg(struct ef_queue *q, int cls)
{
    struct qclass *c = &q->c[cls];
    struct qseg *s = &c->segs[0];
    if (c->nsegs == 1 && c->wfd >= 0) {
        close(c->wfd);
        c->wfd = -1;
        q->unsynced[cls] = false;
    }
    if (c->rd.fd >= 0 && c->rd.seg == s->id)
        ef_qreader_close(&c->rd);
    if (ef_qseg_unlink(q->dir, cls, s->id) < 0)
        q->st.disk_errors++;
    q->disk_used -= s->size;
    c->disk_msgs -= s->nrec - s->nacked;
    c->disk_bytes -= s->rec_bytes - s->acked_bytes;
    struct ef_qpos after = { s->id + 1, 0 };
    if (ef_qpos_cmp(c->rdpos, after) < 0)
        c->rdpos = after;
    if (ef_qpos_cmp(c->cursor, after) < 0) {
        c->cursor = after;
        q->cursor_dirty = true;
    }
    memmove(&c->segs[0], &c->segs[1], (c->nsegs - 1) * sizeof(*s));
    c->nsegs--;
}

/* The disk is full: the oldest segment of class VC goes, unacknowledged
 * records in it are counted as dropped (those in flight may still arrive). */
static void drop_oldest(struct ef_queue *q, int vc)
{
    struct qclass *c = &q->c[vc];
    struct qseg *s = &c->segs[0];
    uint64_t inflight = 0;
    for (struct qmsg *m = c->outst.head; m; m = m->next)
        if (m->pos.seg == s->id && m->state != QST_ACKED)
            inflight++;
    uint64_t lost = s->nrec - s->nacked;
    lost = lost > inflight ? lost - inflight : 0;
    q->st.dropped_full[vc] += lost;
    ef_warn("queue: disk cap of %d MB reached: dropped %" PRIu64 " %s messages", q->cfg.max_disk_mb,
            lost, vc == EF_CLASS_ALARM ? "alarm" : "telemetry");
    remove_first_seg(q, vc);
}

/* Returns the messages of a failed batch to the front of memory. */
static void batch_back_to_memory(struct ef_queue *q)
{
    struct qclass *c = &q->c[q->wcls];
    while (q->wpend.tail) {
        struct qmsg *m = q->wpend.tail;
        ef_ql_remove(&q->wpend, m);
        m->state = QST_QUEUED;
        ef_ql_push_head(&c->mem, m);
        q->mem_bytes += m->bytes;
    }
    q->wlen = 0;
}

static int write_batch(struct ef_queue *q)
{
    if (q->wlen == 0)
        return 0;
    struct qclass *c = &q->c[q->wcls];
    struct qseg *s = &c->segs[c->nsegs - 1];
    size_t done = 0;
    while (done < q->wlen) {
        ssize_t n = pwrite(c->wfd, q->wbuf + done, q->wlen - done, (off_t)(s->size + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO;
            /* Cut the partial write so the file ends on a whole record. */
            if (ftruncate(c->wfd, (off_t)s->size) < 0)
                ef_warn("queue: cannot cut a failed write: %s", strerror(errno));
            ef_err("queue: writing %s segment failed: %s", q->wcls ? "telemetry" : "alarm",
                   strerror(err));
            q->st.disk_errors++;
            batch_back_to_memory(q);
            return -err;
        }
        done += (size_t)n;
    }
    s->size += q->wlen;
    s->rec_bytes += q->wlen;
    s->nrec += q->wpend.n;
    c->disk_msgs += q->wpend.n;
    c->disk_bytes += q->wlen;
    q->disk_used += q->wlen;
    if (q->wcls == EF_CLASS_TELEMETRY)
        q->st.spilled_msgs += q->wpend.n;
    q->unsynced[q->wcls] = true;
    while (q->wpend.head) {
        struct qmsg *m = q->wpend.head;
        ef_ql_remove(&q->wpend, m);
        free(m);
    }
    q->wlen = 0;
    return 0;
}

int ef_qdisk_flush(struct ef_queue *q)
{
    return write_batch(q);
}

/* Frees room for NEED more bytes: oldest telemetry first; alarms only for
 * an alarm and only when no telemetry is left on disk. */
static int ensure_room(struct ef_queue *q, int cls, uint64_t need)
{
    while (q->disk_used + q->wlen + need + EF_QCURSOR_RESERVE > q->cap_bytes) {
        int vc = q->c[EF_CLASS_TELEMETRY].nsegs ? EF_CLASS_TELEMETRY
                 : (cls == EF_CLASS_ALARM && q->c[EF_CLASS_ALARM].nsegs) ? EF_CLASS_ALARM
                                                                         : -1;
        if (vc < 0)
            return -ENOSPC;
        /* The batch may be headed for the victim: write it so it is
         * accounted in that segment. */
        int rc = write_batch(q);
        if (rc < 0)
            return rc;
        drop_oldest(q, vc);
    }
    return 0;
}

/* Starts a new segment for CLS when there is none or the current is full. */
static int roll(struct ef_queue *q, int cls, uint64_t need)
{
    struct qclass *c = &q->c[cls];
    if (c->wfd >= 0) {
        struct qseg *s = &c->segs[c->nsegs - 1];
        uint64_t pending = q->wcls == cls ? q->wlen : 0;
        if (s->size + pending == 0 || s->size + pending + need <= q->seg_max)
            return 0;
        int rc = write_batch(q);
        if (rc < 0)
            return rc;
        /* Rare (once per segment): sync the finished one under the lock. */
        if (q->unsynced[cls]) {
            q->unsynced[cls] = false;
            if (fdatasync(c->wfd) < 0) {
                q->st.disk_errors++;
                ef_err("queue: fdatasync: %s", strerror(errno));
            }
        }
        close(c->wfd);
        c->wfd = -1;
    }
    if (c->nsegs == c->segs_cap) {
        size_t ncap = c->segs_cap ? c->segs_cap * 2 : 16;
        struct qseg *ns = realloc(c->segs, ncap * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        c->segs = ns;
        c->segs_cap = ncap;
    }
    int fd = ef_qseg_create(q->dir, cls, c->next_id);
    if (fd < 0) {
        ef_err("queue: cannot create a segment in %s: %s", q->dir, strerror(-fd));
        return fd;
    }
    c->wfd = fd;
    c->segs[c->nsegs++] = (struct qseg){ .id = c->next_id++ };
    return 0;
}

int ef_qdisk_add(struct ef_queue *q, int cls, struct qmsg *m)
{
    struct ef_qrec rec = {
        .cls = (uint8_t)cls, .qos = (uint8_t)m->pub.qos, .retain = m->pub.retain,
        .ts_ms = m->pub.ts_ms, .topic = m->pub.topic, .topic_len = strlen(m->pub.topic),
        .payload = m->pub.payload, .payload_len = m->pub.payload_len,
    };
    size_t n = ef_qrec_size(&rec);
    if (q->wlen > 0 && (q->wcls != cls || q->wlen + n > EF_QWBUF)) {
        int rc = write_batch(q);
        if (rc < 0)
            return rc;
    }
    int rc = ensure_room(q, cls, n);
    if (rc == -ENOSPC) {
        q->st.dropped_full[cls]++;
        free(m);
        return rc;
    }
    if (rc == 0)
        rc = roll(q, cls, n);
    if (rc < 0)
        return rc;
    ef_qrec_encode(&rec, q->wbuf + q->wlen, EF_QWBUF - q->wlen);
    q->wlen += n;
    q->wcls = cls;
    ef_ql_push_tail(&q->wpend, m);
    return 0;
}

int ef_qdisk_spill(struct ef_queue *q, int cls, bool inflight)
{
    struct qclass *c = &q->c[cls];
    int rc = 0;
    while (inflight && c->memfly.head) {
        struct qmsg *m = c->memfly.head;
        ef_ql_remove(&c->memfly, m);
        int r = ef_qdisk_add(q, cls, m);
        if (r < 0 && r != -ENOSPC) {
            ef_ql_push_head(&c->mem, m); /* kept: close frees it */
            return r;
        }
    }
    while (c->mem.head) {
        struct qmsg *m = c->mem.head;
        ef_ql_remove(&c->mem, m);
        q->mem_bytes -= m->bytes;
        rc = ef_qdisk_add(q, cls, m);
        if (rc < 0 && rc != -ENOSPC) {
            ef_ql_push_head(&c->mem, m);
            q->mem_bytes += m->bytes;
            break;
        }
        rc = 0;
    }
    int r = write_batch(q);
    return rc < 0 ? rc : r;
}

void ef_qdisk_unsynced(struct ef_queue *q, int fds[2])
{
    for (int cls = 0; cls < 2; cls++) {
        fds[cls] = q->unsynced[cls] && q->c[cls].wfd >= 0 ? q->c[cls].wfd : -1;
        q->unsynced[cls] = false;
    }
}

int ef_qdisk_sync(struct ef_queue *q, int fd)
{
    if (fdatasync(fd) == 0)
        return 0;
    int err = errno;
    ef_err("queue: fdatasync: %s", strerror(err));
    pthread_mutex_lock(&q->lock);
    q->st.disk_errors++;
    pthread_mutex_unlock(&q->lock);
    return -err;
}

bool ef_qdisk_unread(const struct qclass *c)
{
    if (c->nsegs == 0)
        return false;
    const struct qseg *last = &c->segs[c->nsegs - 1];
    return c->rdpos.seg < last->id || (c->rdpos.seg == last->id && c->rdpos.off < last->size);
}

static struct qmsg *msg_from_rec(int cls, const struct ef_qrec *rec)
{
    return ef_qmsg_new(cls, rec->topic, rec->topic_len, rec->payload, rec->payload_len, rec->qos,
                       rec->retain, rec->ts_ms);
}

struct qmsg *ef_qdisk_read(struct ef_queue *q, int cls)
{
    struct qclass *c = &q->c[cls];
    for (;;) {
        size_t i = 0;
        while (i < c->nsegs && c->segs[i].id < c->rdpos.seg)
            i++;
        if (i == c->nsegs)
            return NULL;
        struct qseg *s = &c->segs[i];
        if (s->id != c->rdpos.seg)
            c->rdpos = (struct ef_qpos){ s->id, 0 };
        if (c->rd.fd < 0 || c->rd.seg != s->id) {
            int rc = ef_qreader_open(&c->rd, q->dir, cls, s->id, c->rdpos.off);
            if (rc < 0) {
                ef_err("queue: cannot read segment %" PRIx64 ": %s", s->id, strerror(-rc));
                q->st.disk_errors++;
                c->rdpos = (struct ef_qpos){ s->id + 1, 0 };
                continue;
            }
        }
        struct ef_qrec rec;
        uint64_t off;
        uint32_t len;
        int rc = ef_qreader_next(&c->rd, s->size, &rec, &off, &len);
        if (rc == 1) {
            struct qmsg *m = msg_from_rec(cls, &rec);
            if (!m)
                return NULL; /* the reader moved on: re-read it later */
            m->src = QSRC_DISK;
            m->pos = (struct ef_qpos){ s->id, off };
            m->rec_len = len;
            c->rdpos = (struct ef_qpos){ s->id, off + len };
            ef_ql_push_tail(&c->outst, m);
            return m;
        }
        if (rc < 0) {
            q->st.disk_errors++;
            return NULL;
        }
        if (i + 1 == c->nsegs) {
            c->rdpos.off = s->size;
            return NULL;
        }
        ef_qreader_close(&c->rd);
        c->rdpos = (struct ef_qpos){ c->segs[i + 1].id, 0 };
    }
}

void ef_qdisk_advance(struct ef_queue *q, int cls)
{
    struct qclass *c = &q->c[cls];
    while (c->outst.head && c->outst.head->state == QST_ACKED) {
        struct qmsg *m = c->outst.head;
        ef_ql_remove(&c->outst, m);
        struct qseg *s = ef_qdisk_find(c, m->pos.seg);
        if (s) { /* else dropped for the cap: already taken off the books */
            s->nacked++;
            s->acked_bytes += m->rec_len;
            c->disk_msgs--;
            c->disk_bytes -= m->rec_len;
        }
        struct ef_qpos end = { m->pos.seg, m->pos.off + m->rec_len };
        if (ef_qpos_cmp(end, c->cursor) > 0)
            c->cursor = end;
        q->cursor_dirty = true;
        free(m);
    }
    if (!c->outst.head && ef_qpos_cmp(c->rdpos, c->cursor) > 0)
        c->cursor = c->rdpos;
}

bool ef_qdisk_housekeep(struct ef_queue *q, bool force, struct ef_qpos cur[2])
{
    for (int cls = 0; cls < 2; cls++) {
        struct qclass *c = &q->c[cls];
        /* Segments wholly before the cursor are acknowledged. */
        while (c->nsegs > 0 && c->segs[0].id < c->cursor.seg &&
               !(c->nsegs == 1 && c->wfd >= 0))
            remove_first_seg(q, cls);
        /* Everything read and acknowledged: the last segment goes too, so a
         * drained queue holds no files. */
        bool pending = q->wlen > 0 && q->wcls == cls;
        if (c->nsegs > 0 && !c->outst.head && !ef_qdisk_unread(c) && !pending) {
            while (c->nsegs > 0)
                remove_first_seg(q, cls);
        }
    }
    if (!q->cursor_dirty)
        return false;
    /* With no segment left, the cursor has nothing to say: save the write. */
    if (q->c[0].nsegs == 0 && q->c[1].nsegs == 0) {
        q->cursor_dirty = false;
        return false;
    }
    if (!force && q->now_ms - q->last_cursor_ms < 1000)
        return false;
    q->cursor_dirty = false;
    q->last_cursor_ms = q->now_ms;
    cur[0] = q->c[0].cursor;
    cur[1] = q->c[1].cursor;
    return true;
}

int ef_qdisk_write_cursor(struct ef_queue *q, const struct ef_qpos cur[2])
{
    int rc = ef_qcursor_write(q->dir, cur);
    if (rc < 0) {
        ef_err("queue: writing the cursor in %s: %s", q->dir, strerror(-rc));
        pthread_mutex_lock(&q->lock);
        q->st.disk_errors++;
        q->cursor_dirty = true;
        pthread_mutex_unlock(&q->lock);
    }
    return rc;
}
