/* Start-up recovery of the queue: read the cursor, scan every segment,
 * cut off torn or corrupt tails, and rebuild the books (queue_impl.h). A
 * damaged file is never a reason to refuse to start. */
#include "gateway/queue/queue_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"

static const char *cls_name(int cls)
{
    return cls == EF_CLASS_ALARM ? "alarm" : "telem";
}

/* Cuts segment ID of CLS at OFF, durably. */
static int cut_tail(const char *dir, int cls, uint64_t id, uint64_t off)
{
    char path[EF_QSEG_PATH_MAX];
    ef_qseg_path(path, sizeof(path), dir, cls, id);
    int fd = ef_file_open(path, O_WRONLY, 0);
    if (fd < 0)
        return fd;
    int rc = 0;
    if (ftruncate(fd, (off_t)off) < 0 || fdatasync(fd) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* Scans one segment into *S; records before CUR (same segment) count as
 * acknowledged. Returns 0 or -errno (the segment is then left alone). */
static int scan_segment(struct ef_queue *q, int cls, uint64_t id, struct ef_qpos cur,
                        struct qseg *s)
{
    struct ef_qreader *r = &q->c[cls].rd;
    int rc = ef_qreader_open(r, q->dir, cls, id, 0);
    if (rc < 0)
        return rc;
    struct stat st;
    if (fstat(r->fd, &st) < 0) {
        rc = -errno;
        ef_qreader_close(r);
        return rc;
    }
    *s = (struct qseg){ .id = id, .size = (uint64_t)st.st_size };
    uint64_t regions0 = r->bad_regions;
    struct ef_qrec rec;
    uint64_t off;
    uint32_t len;
    while ((rc = ef_qreader_next(r, s->size, &rec, &off, &len)) == 1) {
        s->nrec++;
        s->rec_bytes += len;
        if (id == cur.seg && off < cur.off) {
            s->nacked++;
            s->acked_bytes += len;
        }
    }
    uint64_t tail = r->tail_bad;
    uint64_t regions = r->bad_regions - regions0;
    ef_qreader_close(r);
    if (rc < 0)
        return rc;
    q->st.corrupt_records += regions;
    if (regions)
        ef_warn("queue: segment %s-%016" PRIx64 ": %" PRIu64 " corrupt run(s) skipped",
                cls_name(cls), id, regions);
    if (tail != UINT64_MAX) {
        ef_warn("queue: segment %s-%016" PRIx64 ": cutting %" PRIu64 " bytes of torn or corrupt "
                "tail at offset %" PRIu64, cls_name(cls), id, s->size - tail, tail);
        rc = cut_tail(q->dir, cls, id, tail);
        if (rc < 0) {
            ef_err("queue: cannot cut segment %016" PRIx64 ": %s", id, strerror(-rc));
            q->st.disk_errors++;
            /* The reader stops at the book size: the tail stays unread. */
        } else {
            s->size = tail;
        }
    }
    return 0;
}

/* Deletes a segment with nothing left to deliver; says so if it is not ours. */
static void delete_seg(struct ef_queue *q, int cls, uint64_t id)
{
    int rc = ef_qseg_unlink(q->dir, cls, id);
    if (rc < 0)
        ef_warn("queue: %s/%s-%016" PRIx64 ".q: cannot delete it: %s", q->dir, cls_name(cls), id,
                ef_file_strerror(rc));
}

static int add_seg(struct qclass *c, const struct qseg *s)
{
    if (c->nsegs == c->segs_cap) {
        size_t ncap = c->segs_cap ? c->segs_cap * 2 : 16;
        struct qseg *ns = realloc(c->segs, ncap * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        c->segs = ns;
        c->segs_cap = ncap;
    }
    c->segs[c->nsegs++] = *s;
    return 0;
}

static int recover_class(struct ef_queue *q, int cls, struct ef_qpos cur)
{
    struct qclass *c = &q->c[cls];
    uint64_t *ids = NULL;
    size_t n = 0;
    int rc = ef_qseg_list(q->dir, cls, &ids, &n);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct qseg s;
        if (ids[i] < cur.seg) { /* acknowledged; its deletion was cut short */
            delete_seg(q, cls, ids[i]);
            continue;
        }
        int r = scan_segment(q, cls, ids[i], cur, &s);
        if (ef_file_refused(r)) { /* a symlink, FIFO, directory or foreign file */
            ef_warn("queue: %s/%s-%016" PRIx64 ".q is %s", q->dir, cls_name(cls), ids[i],
                    ef_file_strerror(r));
            continue;
        }
        if (r < 0) {
            ef_err("queue: cannot read segment %016" PRIx64 ": %s", ids[i], strerror(-r));
            q->st.disk_errors++;
            continue;
        }
        if (s.nrec == s.nacked) { /* nothing left to deliver in it */
            delete_seg(q, cls, ids[i]);
            continue;
        }
        rc = add_seg(c, &s);
        q->disk_used += s.size;
        c->disk_msgs += s.nrec - s.nacked;
        c->disk_bytes += s.rec_bytes - s.acked_bytes;
    }
    uint64_t last = n ? ids[n - 1] : 0;
    free(ids);
    c->next_id = (last > cur.seg ? last : cur.seg) + 1;
    if (c->nsegs && c->segs[0].id == cur.seg)
        c->rdpos = (struct ef_qpos){ cur.seg, cur.off < c->segs[0].size ? cur.off : c->segs[0].size };
    else
        c->rdpos = (struct ef_qpos){ c->nsegs ? c->segs[0].id : c->next_id, 0 };
    c->cursor = c->rdpos;
    q->st.recovered_msgs += c->disk_msgs;
    return rc;
}

int ef_qrecover(struct ef_queue *q)
{
    struct ef_qpos cur[2] = { { 0, 0 }, { 0, 0 } };
    int rc = ef_qcursor_read(q->dir, cur);
    if (rc == -EILSEQ)
        ef_warn("queue: cursor file in %s is corrupt: replaying everything on disk", q->dir);
    else if (ef_file_refused(rc))
        ef_warn("queue: %s/cursor is %s: replaying everything on disk", q->dir,
                ef_file_strerror(rc));
    else if (rc < 0 && rc != -ENOENT)
        ef_warn("queue: cannot read the cursor in %s: %s", q->dir, strerror(-rc));
    if (rc < 0)
        memset(cur, 0, sizeof(cur));
    char tmp[EF_QSEG_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/cursor.tmp", q->dir);
    if ((rc = ef_file_unlink(tmp)) < 0)
        ef_warn("queue: %s: %s", tmp, ef_file_strerror(rc));
    for (int cls = 0; cls < 2; cls++) {
        rc = recover_class(q, cls, cur[cls]);
        if (rc < 0)
            return rc;
    }
    if (q->st.recovered_msgs || q->st.corrupt_records)
        ef_info("queue: recovered %" PRIu64 " messages (%" PRIu64 " alarms) from %s, %" PRIu64
                " corrupt run(s) cut off or skipped",
                q->st.recovered_msgs, q->c[EF_CLASS_ALARM].disk_msgs, q->dir,
                q->st.corrupt_records);
    return 0;
}
