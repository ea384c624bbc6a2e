/* Deferred syncs of the queue's write fds, and disk failures reported once
 * per change of state (see queue_impl.h).
 *
 * Syncs run with only io_lock held and never on a producer's behalf: a
 * poll that pushes telemetry does not wait for the disk. Failures are
 * reported on their first occurrence, when the errno changes, by a summary
 * every EF_QERR_REPEAT_MS, and on recovery, each with a count, so a full
 * disk gives a handful of lines instead of one per poll. */
#include "gateway/queue/queue_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"

void ef_qdisk_pending(struct ef_queue *q, struct qio *io)
{
    for (int cls = 0; cls < 2; cls++) {
        io->sync[cls] = q->unsynced[cls] && q->c[cls].wfd >= 0 ? q->c[cls].wfd : -1;
        q->unsynced[cls] = false;
        io->retired[cls] = q->retired[cls];
        q->retired[cls] = -1;
    }
}

static int sync_fd(int fd)
{
    return fdatasync(fd) < 0 ? -errno : 0;
}

/* Alarms written since the last finish: their copies go once synced, or
 * back to the front of memory to be written again (into a new segment)
 * when a sync failed; a duplicate is better than a lost alarm. Lock held. */
static void settle_synwait(struct ef_queue *q, bool failed)
{
    struct qclass *c = &q->c[EF_CLASS_ALARM];
    while (q->synwait.tail) {
        struct qmsg *m = q->synwait.tail;
        ef_ql_remove(&q->synwait, m);
        if (!failed) {
            free(m);
            continue;
        }
        m->state = QST_QUEUED;
        ef_ql_push_head(&c->mem, m);
        q->mem_bytes += m->bytes;
    }
    q->synfail = false;
}

int ef_qdisk_finish(struct ef_queue *q, const struct qio *io)
{
    int rc = 0, failed = 0, synced = 0;
    for (int i = 0; i < 4; i++) {
        int cls = i % 2, fd = i < 2 ? io->retired[cls] : io->sync[cls];
        if (fd < 0)
            continue;
        int r = sync_fd(fd);
        if (i < 2)
            close(fd);
        if (r < 0) {
            failed++;
            q->synfail |= cls == EF_CLASS_ALARM;
            /* After a failed sync the kernel may have dropped the pages and
             * a second fsync on that fd would say nothing: never write
             * through it again, the next write starts a new segment. */
            if (i >= 2 && q->c[cls].wfd == fd) {
                close(fd);
                q->c[cls].wfd = -1;
            }
            ef_qerr_fail(q, &q->e_sync, "syncing queue segments", -r);
            if (rc == 0)
                rc = r;
        } else {
            synced++;
            ef_qerr_ok(q, &q->e_sync, "syncing queue segments");
        }
    }
    pthread_mutex_lock(&q->lock);
    q->st.disk_errors += (uint64_t)failed;
    if (failed)
        ef_qfault_fail(q, "syncing queue segments", -rc);
    else if (synced)
        ef_qfault_sync_ok(q);
    settle_synwait(q, q->synfail);
    pthread_mutex_unlock(&q->lock);
    return rc;
}

void ef_qdisk_retire(struct ef_queue *q, int cls)
{
    struct qclass *c = &q->c[cls];
    if (c->wfd < 0)
        return;
    /* Two roll-overs between housekeeping runs: rare, sync the older now. */
    if (q->retired[cls] >= 0) {
        int r = sync_fd(q->retired[cls]);
        if (r < 0) {
            q->st.disk_errors++;
            q->synfail |= cls == EF_CLASS_ALARM;
            ef_qfault_fail(q, "syncing queue segments", -r);
        }
        close(q->retired[cls]);
        q->retired[cls] = -1;
    }
    if (q->unsynced[cls])
        q->retired[cls] = c->wfd;
    else
        close(c->wfd);
    c->wfd = -1;
    q->unsynced[cls] = false;
}

void ef_qerr_fail(struct ef_queue *q, struct qerr *e, const char *what, int err)
{
    int64_t now = q->now_ms;
    if (e->err == 0 || e->err != err) {
        if (e->err)
            ef_err("queue: %s in %s now fails with: %s (%" PRIu64 " failure(s) before with: %s)",
                   what, q->dir, ef_file_strerror(-err), e->count, ef_file_strerror(-e->err));
        else
            ef_err("queue: %s in %s failed: %s (reported again once a minute while it lasts)",
                   what, q->dir, ef_file_strerror(-err));
        if (e->err == 0) {
            e->since_ms = now;
            e->count = 0;
        }
        e->err = err;
        e->last_log_ms = now;
        e->since_count = e->count;
    } else if (now - e->last_log_ms >= EF_QERR_REPEAT_MS) {
        ef_err("queue: %s in %s still fails: %s (%" PRIu64 " failure(s) in %" PRId64 " s)", what,
               q->dir, ef_file_strerror(-err), e->count + 1 - e->since_count, (now - e->last_log_ms) / 1000);
        e->last_log_ms = now;
        e->since_count = e->count + 1;
    }
    e->count++;
}

void ef_qerr_ok(struct ef_queue *q, struct qerr *e, const char *what)
{
    if (e->err == 0)
        return;
    ef_info("queue: %s in %s works again after %" PRIu64 " failure(s) over %" PRId64 " s", what,
            q->dir, e->count, (q->now_ms - e->since_ms) / 1000);
    e->err = 0;
    e->count = 0;
}

int ef_qdisk_write_cursor(struct ef_queue *q, const struct ef_qpos cur[2])
{
    int rc = ef_qcursor_write(q->dir, cur);
    if (rc < 0) {
        ef_qerr_fail(q, &q->e_cursor, "writing the cursor", -rc);
        pthread_mutex_lock(&q->lock);
        q->st.disk_errors++;
        q->cursor_dirty = true;
        if (ef_file_is_fault(rc))
            ef_qfault_fail(q, "writing the cursor", -rc);
        pthread_mutex_unlock(&q->lock);
    } else {
        ef_qerr_ok(q, &q->e_cursor, "writing the cursor");
        pthread_mutex_lock(&q->lock);
        ef_qfault_write_ok(q, 2); /* small: says nothing of a full disk's room */
        ef_qfault_sync_ok(q);
        pthread_mutex_unlock(&q->lock);
    }
    return rc;
}
