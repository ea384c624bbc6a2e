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

int ef_qdisk_finish(struct ef_queue *q, const struct qio *io)
{
    int rc = 0, failed = 0;
    for (int i = 0; i < 4; i++) {
        int fd = i < 2 ? io->retired[i] : io->sync[i - 2];
        if (fd < 0)
            continue;
        int r = sync_fd(fd);
        if (i < 2)
            close(fd);
        if (r < 0) {
            failed++;
            ef_qerr_fail(q, &q->e_sync, "syncing queue segments", -r);
            if (rc == 0)
                rc = r;
        } else {
            ef_qerr_ok(q, &q->e_sync, "syncing queue segments");
        }
    }
    if (failed) {
        pthread_mutex_lock(&q->lock);
        q->st.disk_errors += (uint64_t)failed;
        pthread_mutex_unlock(&q->lock);
    }
    return rc;
}

void ef_qdisk_retire(struct ef_queue *q, int cls)
{
    struct qclass *c = &q->c[cls];
    if (c->wfd < 0)
        return;
    /* Two roll-overs between housekeeping runs: rare, sync the older now. */
    if (q->retired[cls] >= 0) {
        if (sync_fd(q->retired[cls]) < 0)
            q->st.disk_errors++;
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
