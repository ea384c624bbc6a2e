/* The disk's health: a queue directory that fails with I/O errors, turns
 * read-only or fills up never stops the gateway (queue_impl.h). While it
 * is faulty, memory holds what the disk cannot (bounded by memory_kb for
 * telemetry), and the disk is tried again every EF_QUEUE_PROBE_MS even when
 * nothing needs writing: a directory never opened is recovered, an opened
 * one gets a probe file written and synced. */
#include "gateway/queue/queue_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Forgets whatever a failed recovery put in the books. */
static void reset_books(struct ef_queue *q, uint64_t recovered0, uint64_t corrupt0)
{
    for (int cls = 0; cls < 2; cls++) {
        struct qclass *c = &q->c[cls];
        ef_qreader_close(&c->rd);
        c->nsegs = 0;
        c->disk_msgs = c->disk_bytes = 0;
        c->cursor = c->rdpos = (struct ef_qpos){ 0, 0 };
        c->next_id = 0;
    }
    q->disk_used = 0;
    q->st.recovered_msgs = recovered0;
    q->st.corrupt_records = corrupt0;
}

int ef_qfault_attach(struct ef_queue *q)
{
    /* state_dir may be missing because the disk failed to create it: its
     * mkdir gives the real reason (EIO, EROFS), the queue's only ENOENT. */
    char parent[EF_QSEG_PATH_MAX];
    snprintf(parent, sizeof parent, "%s", q->dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (mkdir(parent, 0750) < 0 && ef_file_is_fault(-errno))
            return -errno;
    }
    if (mkdir(q->dir, 0750) < 0 && errno != EEXIST)
        return -errno;
    /* The queue's own directory is never a symlink (state_dir may be). */
    struct stat dst;
    if (lstat(q->dir, &dst) < 0)
        return -errno;
    if (!S_ISDIR(dst.st_mode))
        return S_ISLNK(dst.st_mode) ? -ELOOP : -ENOTDIR;
    struct statvfs vfs;
    uint64_t fs_bytes = statvfs(q->dir, &vfs) == 0 ? (uint64_t)vfs.f_blocks * vfs.f_frsize : 0;
    /* At least 8 segments fit under the cap (or in a smaller file system),
     * so dropping the oldest one loses a small part of the backlog, and
     * deletion frees space often. */
    uint64_t room = fs_bytes && fs_bytes < q->cap_bytes ? fs_bytes : q->cap_bytes;
    q->seg_max = clamp_u64(room / 8, 64 * 1024, 4u << 20);
    uint64_t rec0 = q->st.recovered_msgs, bad0 = q->st.corrupt_records;
    int rc = ef_qrecover(q);
    if (rc < 0)
        reset_books(q, rec0, bad0);
    return rc;
}

void ef_qfault_fail(struct ef_queue *q, const char *what, int err)
{
    struct qfault *f = &q->fault;
    f->write_ok = f->sync_ok = false;
    f->ok_cls = 0;
    /* A real attempt just failed: the probe is for a disk nobody tries. */
    f->next_probe_ms = q->now_ms + EF_QUEUE_PROBE_MS;
    if (f->err == 0) {
        q->st.disk_faults++;
        f->err = err;
        snprintf(f->what, sizeof f->what, "%s: %s", what, strerror(err));
        ef_warn("queue: disk fault in %s (%s); going on in memory, trying the disk again "
                "every %d s", q->dir, f->what, EF_QUEUE_PROBE_MS / 1000);
    }
}

static void maybe_clear(struct ef_queue *q)
{
    struct qfault *f = &q->fault;
    if (f->err == 0 || f->down || !f->write_ok || !f->sync_ok || (f->failed_cls & ~f->ok_cls))
        return;
    ef_info("queue: the disk in %s works again (writes and syncs)", q->dir);
    f->err = 0;
    f->what[0] = '\0';
    f->failed_cls = f->ok_cls = 0;
}

void ef_qfault_write_ok(struct ef_queue *q, int cls)
{
    q->fault.ok_cls |= cls < 0 ? 3u : 1u << cls;
    q->fault.write_ok = true;
    maybe_clear(q);
}

void ef_qfault_sync_ok(struct ef_queue *q)
{
    q->fault.sync_ok = true;
    maybe_clear(q);
}

/* Writes, syncs and deletes a probe file as big as the write that failed.
 * Returns 0 or -errno, with WHAT set to the step that failed. */
static int probe(const char *dir, size_t len, const char **what)
{
    char path[EF_QSEG_PATH_MAX];
    snprintf(path, sizeof path, "%s/probe", dir);
    *what = "writing a probe file";
    int fd = ef_file_open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    if (fd < 0)
        return fd;
    char *buf = calloc(1, len);
    int rc = buf ? 0 : -ENOMEM;
    for (size_t done = 0; rc == 0 && done < len;) {
        ssize_t n = pwrite(fd, buf + done, len - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            rc = n < 0 ? -errno : -EIO;
        else
            done += (size_t)n;
    }
    free(buf);
    if (rc == 0 && fdatasync(fd) < 0) {
        rc = -errno;
        *what = "syncing a probe file";
    }
    close(fd);
    int urc = ef_file_unlink(path);
    if (rc == 0 && urc < 0) {
        rc = urc;
        *what = "deleting a probe file";
    }
    return rc;
}

static void try_attach(struct ef_queue *q)
{
    pthread_mutex_lock(&q->lock);
    int rc = ef_qfault_attach(q);
    if (rc == 0) {
        q->fault.down = false;
        ef_info("queue: %s is usable again; %llu messages found there", q->dir,
                (unsigned long long)(q->c[0].disk_msgs + q->c[1].disk_msgs));
        pthread_cond_broadcast(&q->cond);
    } else {
        ef_debug("queue: %s still unusable: %s", q->dir, ef_file_strerror(rc));
        q->fault.next_probe_ms = q->now_ms + EF_QUEUE_PROBE_MS;
    }
    pthread_mutex_unlock(&q->lock);
}

void ef_qfault_tick(struct ef_queue *q)
{
    pthread_mutex_lock(&q->lock);
    /* At open (next_probe_ms 0) the disk is tried once even when healthy:
     * a read-only card must be known before anything needs writing. */
    bool due = (q->fault.err != 0 || q->fault.next_probe_ms == 0) &&
               q->now_ms >= q->fault.next_probe_ms;
    bool down = q->fault.down;
    size_t len = q->fault.probe_len < 4096 ? 4096 : q->fault.probe_len;
    pthread_mutex_unlock(&q->lock);
    if (!due)
        return;
    if (down) {
        try_attach(q);
        pthread_mutex_lock(&q->lock);
        down = q->fault.down;
        pthread_mutex_unlock(&q->lock);
        if (down)
            return;
    }
    const char *what = "";
    int rc = probe(q->dir, len, &what);
    pthread_mutex_lock(&q->lock);
    q->fault.next_probe_ms = q->now_ms + EF_QUEUE_PROBE_MS;
    if (rc < 0 && q->fault.err == 0) {
        q->st.disk_errors++;
        ef_qfault_fail(q, what, -rc);
    } else if (rc < 0) {
        q->st.disk_errors++;
        ef_debug("queue: probe of %s: %s failed: %s", q->dir, what, ef_file_strerror(rc));
        q->fault.write_ok = q->fault.sync_ok = false;
    } else if (q->fault.err) {
        ef_qfault_write_ok(q, -1);
        ef_qfault_sync_ok(q);
    }
    pthread_mutex_unlock(&q->lock);
}

void ef_queue_disk_state(struct ef_queue *q, struct ef_queue_disk *out)
{
    pthread_mutex_lock(&q->lock);
    out->err = q->fault.err;
    snprintf(out->what, sizeof out->what, "%s", q->fault.what);
    pthread_mutex_unlock(&q->lock);
}
