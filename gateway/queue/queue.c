/* The store-and-forward queue: API, memory lists and delivery order.
 * Disk work lives in queue_disk.c and start-up in queue_recover.c; the
 * locking and ordering rules are in queue_impl.h. */
#include "gateway/queue/queue_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"

void ef_ql_push_tail(struct qlist *l, struct qmsg *m)
{
    m->next = NULL;
    m->prev = l->tail;
    if (l->tail)
        l->tail->next = m;
    else
        l->head = m;
    l->tail = m;
    l->n++;
}

void ef_ql_push_head(struct qlist *l, struct qmsg *m)
{
    m->prev = NULL;
    m->next = l->head;
    if (l->head)
        l->head->prev = m;
    else
        l->tail = m;
    l->head = m;
    l->n++;
}

void ef_ql_remove(struct qlist *l, struct qmsg *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        l->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        l->tail = m->prev;
    m->prev = m->next = NULL;
    l->n--;
}

static void ql_free_all(struct qlist *l)
{
    while (l->head) {
        struct qmsg *m = l->head;
        ef_ql_remove(l, m);
        free(m);
    }
}

int ef_qpos_cmp(struct ef_qpos a, struct ef_qpos b)
{
    if (a.seg != b.seg)
        return a.seg < b.seg ? -1 : 1;
    return a.off < b.off ? -1 : a.off > b.off;
}

struct qmsg *ef_qmsg_new(int cls, const char *topic, size_t topic_len, const void *payload,
                         size_t len, int qos, bool retain, int64_t ts_ms)
{
    size_t bytes = sizeof(struct qmsg) + topic_len + 1 + len;
    struct qmsg *m = malloc(bytes);
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    memcpy(m->data, topic, topic_len);
    m->data[topic_len] = '\0';
    if (len)
        memcpy(m->data + topic_len + 1, payload, len);
    m->bytes = bytes;
    m->pub.cls = (enum ef_msg_class)cls;
    m->pub.qos = qos;
    m->pub.retain = retain;
    m->pub.ts_ms = ts_ms;
    m->pub.topic = m->data;
    m->pub.payload = m->data + topic_len + 1;
    m->pub.payload_len = len;
    return m;
}

static void queue_free(struct ef_queue *q)
{
    for (int cls = 0; cls < 2; cls++) {
        struct qclass *c = &q->c[cls];
        ql_free_all(&c->mem);
        ql_free_all(&c->memfly);
        ql_free_all(&c->outst);
        ef_qreader_free(&c->rd);
        if (c->wfd >= 0)
            close(c->wfd);
        if (q->retired[cls] >= 0)
            close(q->retired[cls]);
        free(c->segs);
    }
    ql_free_all(&q->wpend);
    pthread_cond_destroy(&q->cond);
    pthread_mutex_destroy(&q->lock);
    pthread_mutex_destroy(&q->io_lock);
    free(q->wbuf);
    free(q->dir);
    free(q);
}

static uint64_t clamp_u64(uint64_t v, uint64_t lo, uint64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

int ef_queue_open(const char *dir, const struct ef_queue_cfg *cfg, struct ef_queue **out)
{
    if (mkdir(dir, 0750) < 0 && errno != EEXIST)
        return -errno;
    /* The queue's own directory is never a symlink (state_dir may be). */
    struct stat dst;
    if (lstat(dir, &dst) < 0)
        return -errno;
    if (!S_ISDIR(dst.st_mode))
        return S_ISLNK(dst.st_mode) ? -ELOOP : -ENOTDIR;
    struct statvfs vfs;
    uint64_t fs_bytes = statvfs(dir, &vfs) == 0 ? (uint64_t)vfs.f_blocks * vfs.f_frsize : 0;
    struct ef_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return -ENOMEM;
    q->cfg = *cfg;
    q->cap_bytes = (uint64_t)(cfg->max_disk_mb > 0 ? cfg->max_disk_mb : 1) << 20;
    /* At least 8 segments fit under the cap (or in a smaller file system),
     * so dropping the oldest one loses a small part of the backlog, and
     * deletion frees space often. */
    uint64_t room = fs_bytes && fs_bytes < q->cap_bytes ? fs_bytes : q->cap_bytes;
    q->seg_max = clamp_u64(room / 8, 64 * 1024, 4u << 20);
    q->mem_max = (uint64_t)(cfg->memory_kb > 0 ? cfg->memory_kb : 16) * 1024;
    pthread_mutex_init(&q->lock, NULL);
    pthread_mutex_init(&q->io_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&q->cond, &ca);
    pthread_condattr_destroy(&ca);
    q->now_ms = q->last_cursor_ms = ef_mono_ms();
    q->next_msg_id = 1;
    int rc = 0;
    for (int cls = 0; cls < 2; cls++) {
        q->c[cls].wfd = q->retired[cls] = -1;
        if (ef_qreader_init(&q->c[cls].rd) < 0)
            rc = -ENOMEM;
    }
    q->dir = strdup(dir);
    q->wbuf = malloc(EF_QWBUF);
    if (!q->dir || !q->wbuf)
        rc = -ENOMEM;
    if (rc == 0)
        rc = ef_qrecover(q);
    if (rc < 0) {
        queue_free(q);
        return rc;
    }
    *out = q;
    return 0;
}

/* An alarm is written and synced before the call returns, behind any
 * alarm still waiting in memory for the disk; the sync runs with only
 * io_lock held so paho's threads can ack meanwhile. */
static int push_alarm(struct ef_queue *q, struct qmsg *m)
{
    pthread_mutex_lock(&q->io_lock);
    pthread_mutex_lock(&q->lock);
    q->st.pushed[EF_CLASS_ALARM]++;
    m->born_ms = q->now_ms;
    ef_ql_push_tail(&q->c[EF_CLASS_ALARM].mem, m);
    q->mem_bytes += m->bytes;
    int rc = ef_qdisk_spill(q, EF_CLASS_ALARM, false);
    if (rc == EF_QDISK_DROPPED)
        rc = -ENOSPC; /* the cap is full of alarms */
    struct qio io;
    ef_qdisk_pending(q, &io);
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    int src = ef_qdisk_finish(q, &io);
    pthread_mutex_unlock(&q->io_lock);
    return rc < 0 ? rc : src;
}

/* Memory is filling up: spill telemetry (the publisher falls behind or the
 * link is down). Never waits for the disk: when another thread is using it
 * (a sync may take long on an SD card), or it failed a moment ago, the
 * caller drops the oldest telemetry in memory instead; the sync of what is
 * written here is left to the next tick. */
static void make_room(struct ef_queue *q)
{
    if (pthread_mutex_trylock(&q->io_lock) != 0)
        return;
    pthread_mutex_lock(&q->lock);
    if (q->mem_bytes > q->mem_max / 2 && ef_qdisk_telemetry_ok(q))
        ef_qdisk_spill(q, EF_CLASS_TELEMETRY, false);
    pthread_mutex_unlock(&q->lock);
    pthread_mutex_unlock(&q->io_lock);
}

int ef_queue_push(struct ef_queue *q, enum ef_msg_class cls, const char *topic,
                  const void *payload, size_t len, int qos, bool retain, int64_t ts_ms)
{
    if ((cls != EF_CLASS_ALARM && cls != EF_CLASS_TELEMETRY) || !topic || qos < 0 || qos > 2 ||
        (len && !payload))
        return -EINVAL;
    struct ef_qrec probe = { .cls = (uint8_t)cls, .qos = (uint8_t)qos,
                             .topic_len = strlen(topic), .payload_len = len };
    if (ef_qrec_size(&probe) == 0)
        return -EMSGSIZE;
    struct qmsg *m = ef_qmsg_new(cls, topic, probe.topic_len, payload, len, qos, retain, ts_ms);
    if (!m)
        return -ENOMEM;
    if (cls == EF_CLASS_ALARM)
        return push_alarm(q, m);
    /* From half full on, each push tries to spill, so that a busy disk
     * seldom costs a reading. */
    pthread_mutex_lock(&q->lock);
    bool filling = q->mem_bytes + m->bytes > q->mem_max / 2;
    pthread_mutex_unlock(&q->lock);
    if (filling)
        make_room(q);
    pthread_mutex_lock(&q->lock);
    struct qclass *c = &q->c[EF_CLASS_TELEMETRY];
    /* Spilling failed or had to wait: the oldest telemetry in memory goes. */
    while (q->mem_bytes + m->bytes > q->mem_max && c->mem.head) {
        struct qmsg *old = c->mem.head;
        ef_ql_remove(&c->mem, old);
        q->mem_bytes -= old->bytes;
        q->st.dropped_memory++;
        free(old);
    }
    q->st.pushed[EF_CLASS_TELEMETRY]++;
    m->born_ms = q->now_ms;
    ef_ql_push_tail(&c->mem, m);
    q->mem_bytes += m->bytes;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
    return 0;
}

static struct qmsg *take_mem(struct ef_queue *q, struct qclass *c)
{
    struct qmsg *m = c->mem.head;
    if (!m)
        return NULL;
    ef_ql_remove(&c->mem, m);
    q->mem_bytes -= m->bytes;
    m->src = QSRC_MEM;
    ef_ql_push_tail(&c->memfly, m);
    return m;
}

/* A message nacked earlier goes before anything read anew. */
static struct qmsg *take_disk(struct ef_queue *q, int cls)
{
    for (struct qmsg *m = q->c[cls].outst.head; m; m = m->next)
        if (m->state == QST_RETRY)
            return m;
    return ef_qdisk_read(q, cls);
}

static struct qmsg *take_class(struct ef_queue *q, int cls)
{
    struct qclass *c = &q->c[cls];
    bool live = cls == EF_CLASS_TELEMETRY && q->cfg.replay == EF_REPLAY_LIVE_FIRST;
    /* live-first: fresh readings first, but the backlog gets a turn after a
     * streak so it drains even when live traffic never pauses. */
    if (live && c->mem.head && q->live_streak < EF_QLIVE_STREAK) {
        q->live_streak++;
        return take_mem(q, c);
    }
    struct qmsg *m = take_disk(q, cls);
    if (m) {
        if (live)
            q->live_streak = 0;
        return m;
    }
    return take_mem(q, c);
}

int ef_queue_take(struct ef_queue *q, struct ef_qmsg **out)
{
    pthread_mutex_lock(&q->lock);
    struct qmsg *m = take_class(q, EF_CLASS_ALARM);
    if (!m)
        m = take_class(q, EF_CLASS_TELEMETRY);
    if (m) {
        m->state = QST_INFLIGHT;
        m->pub.id = q->next_msg_id++;
        *out = &m->pub;
    }
    pthread_mutex_unlock(&q->lock);
    return m ? 0 : EF_QUEUE_EMPTY;
}

void ef_queue_ack(struct ef_queue *q, struct ef_qmsg *pub)
{
    struct qmsg *m = (struct qmsg *)pub;
    int cls = (int)pub->cls;
    pthread_mutex_lock(&q->lock);
    q->st.acked[cls]++;
    if (m->src == QSRC_MEM) {
        ef_ql_remove(&q->c[cls].memfly, m);
        free(m);
    } else {
        m->state = QST_ACKED;
        ef_qdisk_advance(q, cls);
    }
    pthread_mutex_unlock(&q->lock);
}

void ef_queue_nack(struct ef_queue *q, struct ef_qmsg *pub)
{
    struct qmsg *m = (struct qmsg *)pub;
    struct qclass *c = &q->c[pub->cls];
    pthread_mutex_lock(&q->lock);
    if (m->src == QSRC_MEM) {
        /* It was taken from the head, so it is older than all queued. */
        ef_ql_remove(&c->memfly, m);
        m->state = QST_QUEUED;
        ef_ql_push_head(&c->mem, m);
        q->mem_bytes += m->bytes;
    } else {
        m->state = QST_RETRY;
    }
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

void ef_queue_set_connected(struct ef_queue *q, bool connected)
{
    pthread_mutex_lock(&q->lock);
    q->connected = connected;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

static bool available(struct ef_queue *q)
{
    for (int cls = 0; cls < 2; cls++) {
        struct qclass *c = &q->c[cls];
        if (c->mem.head || ef_qdisk_unread(c))
            return true;
        for (struct qmsg *m = c->outst.head; m; m = m->next)
            if (m->state == QST_RETRY)
                return true;
    }
    return false;
}

bool ef_queue_wait(struct ef_queue *q, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&q->lock);
    bool ok;
    while (!(ok = available(q)) && !q->woken)
        if (pthread_cond_timedwait(&q->cond, &q->lock, &dl) == ETIMEDOUT)
            break;
    q->woken = false;
    pthread_mutex_unlock(&q->lock);
    return ok;
}

void ef_queue_wake(struct ef_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->woken = true;
    pthread_cond_broadcast(&q->cond);
    pthread_mutex_unlock(&q->lock);
}

void ef_queue_tick(struct ef_queue *q, int64_t now_mono_ms)
{
    pthread_mutex_lock(&q->io_lock);
    pthread_mutex_lock(&q->lock);
    q->now_ms = now_mono_ms;
    /* Alarms in memory are there because a write failed: try again. */
    if (q->c[EF_CLASS_ALARM].mem.head)
        ef_qdisk_spill(q, EF_CLASS_ALARM, false);
    /* Telemetry waiting in memory for flush_ms means the link is down or
     * the publisher is behind: put it all on disk in one synced batch. */
    struct qmsg *old = q->c[EF_CLASS_TELEMETRY].mem.head;
    if (old && now_mono_ms - old->born_ms >= q->cfg.flush_ms && ef_qdisk_telemetry_ok(q))
        ef_qdisk_spill(q, EF_CLASS_TELEMETRY, false);
    struct qio io;
    ef_qdisk_pending(q, &io);
    struct ef_qpos cur[2];
    bool write_cursor = ef_qdisk_housekeep(q, false, cur);
    pthread_mutex_unlock(&q->lock);
    ef_qdisk_finish(q, &io);
    if (write_cursor)
        ef_qdisk_write_cursor(q, cur);
    pthread_mutex_unlock(&q->io_lock);
}

void ef_queue_get_stats(struct ef_queue *q, struct ef_queue_stats *out)
{
    pthread_mutex_lock(&q->lock);
    *out = q->st;
    out->mem_bytes = q->mem_bytes;
    out->mem_msgs = 0;
    for (int cls = 0; cls < 2; cls++) {
        const struct qclass *c = &q->c[cls];
        out->mem_msgs += c->mem.n;
        for (const struct qmsg *m = c->memfly.head; m; m = m->next)
            out->mem_bytes += m->bytes;
        out->mem_msgs += c->memfly.n;
        out->disk_msgs += c->disk_msgs;
        out->disk_bytes += c->disk_bytes;
    }
    out->disk_used_bytes = q->disk_used;
    pthread_mutex_unlock(&q->lock);
}

int ef_queue_close(struct ef_queue *q)
{
    if (!q)
        return 0;
    pthread_mutex_lock(&q->io_lock);
    pthread_mutex_lock(&q->lock);
    int rc = 0;
    for (int cls = 0; cls < 2; cls++) {
        int r = ef_qdisk_spill(q, cls, true);
        if (r < 0 && rc == 0)
            rc = r;
    }
    struct qio io;
    ef_qdisk_pending(q, &io);
    pthread_mutex_unlock(&q->lock);
    int r = ef_qdisk_finish(q, &io);
    if (r < 0 && rc == 0)
        rc = r;
    pthread_mutex_lock(&q->lock);
    struct ef_qpos cur[2];
    bool write_cursor = ef_qdisk_housekeep(q, true, cur);
    pthread_mutex_unlock(&q->lock);
    if (write_cursor && (r = ef_qdisk_write_cursor(q, cur)) < 0 && rc == 0)
        rc = r;
    pthread_mutex_unlock(&q->io_lock);
    queue_free(q);
    return rc;
}
