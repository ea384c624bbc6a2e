/* Disk side of the queue: batched appends, the disk cap, spilling, reading
 * back, acknowledgement and deletion of segments (see queue_impl.h). */
#include "gateway/queue/queue_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
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

/* The disk is full (WHY): the oldest segment of class VC goes; unacknowledged
 * records in it are counted as dropped (those in flight may still arrive). */
static void drop_oldest(struct ef_queue *q, int vc, const char *why)
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
    ef_warn("queue: %s: dropped %" PRIu64 " %s messages", why, lost,
            vc == EF_CLASS_ALARM ? "alarm" : "telemetry");
    remove_first_seg(q, vc);
}

/* The file system is full: an alarm gets the room of the oldest telemetry
 * on disk. Returns false when there is no telemetry left to drop. */
static bool evict_for_alarm(struct ef_queue *q, int cls, int err)
{
    if (cls != EF_CLASS_ALARM || (err != ENOSPC && err != EDQUOT) ||
        q->c[EF_CLASS_TELEMETRY].nsegs == 0)
        return false;
    drop_oldest(q, EF_CLASS_TELEMETRY, "file system full, making room for an alarm");
    return true;
}

static const char *write_what(int cls)
{
    return cls == EF_CLASS_ALARM ? "writing alarms" : "writing telemetry";
}

/* A write of CLS failed with ERR: reported once per change; telemetry
 * leaves the disk alone for a while (memory holds it meanwhile). */
static void write_failed(struct ef_queue *q, int cls, int err)
{
    q->st.disk_errors++;
    ef_qerr_fail(q, &q->e_write[cls], write_what(cls), err);
    if (cls == EF_CLASS_TELEMETRY)
        q->tretry_ms = q->now_ms + EF_QRETRY_MS;
}

bool ef_qdisk_telemetry_ok(const struct ef_queue *q)
{
    return q->now_ms >= q->tretry_ms;
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

/* One attempt at writing the batch at the end of the active segment.
 * Returns 0 or an errno, the file cut back to whole records. */
static int write_once(struct ef_queue *q)
{
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
                ef_debug("queue: cannot cut a failed write: %s", strerror(errno));
            return err;
        }
        done += (size_t)n;
    }
    return 0;
}

static int write_batch(struct ef_queue *q)
{
    if (q->wlen == 0)
        return 0;
    int cls = q->wcls;
    struct qclass *c = &q->c[cls];
    /* An alarm batch only drops telemetry, never its own segment. */
    for (int err; (err = write_once(q)) != 0;) {
        if (!evict_for_alarm(q, cls, err)) {
            write_failed(q, cls, err);
            batch_back_to_memory(q);
            return -err;
        }
    }
    ef_qerr_ok(q, &q->e_write[cls], write_what(cls));
    struct qseg *s = &c->segs[c->nsegs - 1];
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
 * an alarm and only when no telemetry is left on disk. Returns 0, 1 when
 * nothing is left to drop, or -errno. */
static int ensure_room(struct ef_queue *q, int cls, uint64_t need)
{
    while (q->disk_used + q->wlen + need + EF_QCURSOR_RESERVE > q->cap_bytes) {
        int vc = q->c[EF_CLASS_TELEMETRY].nsegs ? EF_CLASS_TELEMETRY
                 : (cls == EF_CLASS_ALARM && q->c[EF_CLASS_ALARM].nsegs) ? EF_CLASS_ALARM
                                                                         : -1;
        if (vc < 0)
            return 1;
        /* The batch may be headed for the victim: write it so it is
         * accounted in that segment. */
        int rc = write_batch(q);
        if (rc < 0)
            return rc;
        char why[64];
        snprintf(why, sizeof why, "disk cap of %d MB reached", q->cfg.max_disk_mb);
        drop_oldest(q, vc, why);
    }
    return 0;
}

/* Creates the next segment of CLS. A name taken by a file not in the books
 * (left alone) costs its number; a full file system makes room for an
 * alarm. Returns the fd or -errno. */
static int create_seg(struct ef_queue *q, int cls)
{
    struct qclass *c = &q->c[cls];
    for (int taken = 0;;) {
        int fd = ef_qseg_create(q->dir, cls, c->next_id);
        if (fd >= 0)
            return fd;
        if (fd == -EEXIST && taken++ < 64) {
            char path[EF_QSEG_PATH_MAX];
            ef_qseg_path(path, sizeof path, q->dir, cls, c->next_id++);
            ef_warn("queue: %s exists but is not one of this queue's segments: left alone", path);
            continue;
        }
        if (evict_for_alarm(q, cls, -fd))
            continue;
        write_failed(q, cls, -fd);
        return fd;
    }
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
        ef_qdisk_retire(q, cls); /* synced later, outside the lock */
    }
    if (c->nsegs == c->segs_cap) {
        size_t ncap = c->segs_cap ? c->segs_cap * 2 : 16;
        struct qseg *ns = realloc(c->segs, ncap * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        c->segs = ns;
        c->segs_cap = ncap;
    }
    int fd = create_seg(q, cls);
    if (fd < 0)
        return fd;
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
    if (rc == 1) {
        q->st.dropped_full[cls]++;
        free(m);
        return EF_QDISK_DROPPED;
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

/* Puts M back into memory before AT (at the tail when NULL): after the
 * messages of a failed batch, which went back to the front, and before
 * anything newer. */
static void put_back(struct ef_queue *q, struct qlist *l, struct qmsg *at, struct qmsg *m)
{
    if (!at) {
        ef_ql_push_tail(l, m);
    } else {
        m->prev = at->prev;
        m->next = at;
        if (at->prev)
            at->prev->next = m;
        else
            l->head = m;
        at->prev = m;
        l->n++;
    }
    q->mem_bytes += m->bytes;
}

int ef_qdisk_spill(struct ef_queue *q, int cls, bool inflight)
{
    struct qclass *c = &q->c[cls];
    int rc = 0;
    bool dropped = false;
    while (inflight && c->memfly.head) {
        struct qmsg *m = c->memfly.head;
        ef_ql_remove(&c->memfly, m);
        int r = ef_qdisk_add(q, cls, m);
        if (r < 0) {
            ef_ql_push_head(&c->mem, m); /* kept: close frees it */
            return r;
        }
        dropped |= r == EF_QDISK_DROPPED;
    }
    while (c->mem.head) {
        struct qmsg *m = c->mem.head, *after = m->next;
        ef_ql_remove(&c->mem, m);
        q->mem_bytes -= m->bytes;
        rc = ef_qdisk_add(q, cls, m);
        if (rc < 0) {
            put_back(q, &c->mem, after, m);
            break;
        }
        dropped |= rc == EF_QDISK_DROPPED;
        rc = 0;
    }
    int r = write_batch(q);
    if (rc < 0 || r < 0)
        return rc < 0 ? rc : r;
    return dropped ? EF_QDISK_DROPPED : 0;
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
        ef_qerr_fail(q, &q->e_cursor, "writing the cursor", -rc);
        pthread_mutex_lock(&q->lock);
        q->st.disk_errors++;
        q->cursor_dirty = true;
        pthread_mutex_unlock(&q->lock);
    } else {
        ef_qerr_ok(q, &q->e_cursor, "writing the cursor");
    }
    return rc;
}
