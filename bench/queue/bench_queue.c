/* Figures for the store-and-forward queue, on the file system holding DIR:
 *
 *   spill     telemetry pushed while disconnected with memory full: batches
 *             of memory_kb written with one fdatasync each (msgs/s)
 *   replay    the spilled backlog, dropped from the page cache, taken and
 *             acked with 64 in flight (msgs/s)
 *   amplif.   bytes this process wrote (/proc/self/io write_bytes minus
 *             cancelled_write_bytes) per byte queued (topic + payload)
 *   healthy   the same traffic taken and acked as it comes: bytes written
 *   recovery  ef_queue_open() over a full 64 MB queue, page cache warm and
 *             after the files were dropped from it (posix_fadvise)
 *
 * usage: bench_queue DIR [MESSAGES] */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/queue/queue.h"

#define PAYLOAD 200
static const char topic[] = "edgeferry/gw1/plant/pump1/temp"; /* 30 bytes */

static void io_bytes(uint64_t *written, uint64_t *cancelled)
{
    FILE *f = fopen("/proc/self/io", "r");
    char line[128];
    *written = *cancelled = 0;
    while (f && fgets(line, sizeof(line), f)) {
        unsigned long long v;
        if (sscanf(line, "write_bytes: %llu", &v) == 1)
            *written = v;
        else if (sscanf(line, "cancelled_write_bytes: %llu", &v) == 1)
            *cancelled = v;
    }
    if (f)
        fclose(f);
}

static uint64_t io_net(void)
{
    uint64_t w, c;
    io_bytes(&w, &c);
    return w - c;
}

static void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4096];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
}

/* Drops DIR's files from the page cache (they were synced). */
static void evict(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[4096];
    while (d && (e = readdir(d)) != NULL) {
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        int fd = open(p, O_RDONLY);
        if (fd >= 0) {
            fdatasync(fd);
            posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
            close(fd);
        }
    }
    if (d)
        closedir(d);
}

static struct ef_queue *open_q(const char *dir, int disk_mb, enum ef_replay replay)
{
    struct ef_queue_cfg cfg = { .max_disk_mb = disk_mb, .memory_kb = 256, .flush_ms = 1000,
                                .replay = replay };
    struct ef_queue *q;
    if (ef_queue_open(dir, &cfg, &q) != 0) {
        fprintf(stderr, "cannot open a queue in %s\n", dir);
        exit(1);
    }
    return q;
}

static void push_n(struct ef_queue *q, long n, const char *payload)
{
    for (long i = 0; i < n; i++)
        if (ef_queue_push(q, EF_CLASS_TELEMETRY, topic, payload, PAYLOAD, 1, false, i) != 0) {
            fprintf(stderr, "push failed\n");
            exit(1);
        }
}

static long drain(struct ef_queue *q)
{
    struct ef_qmsg *win[64];
    long n = 0;
    for (;;) {
        int k = 0;
        while (k < 64 && ef_queue_take(q, &win[k]) == 0)
            k++;
        if (k == 0)
            return n;
        for (int i = 0; i < k; i++)
            ef_queue_ack(q, win[i]);
        n += k;
    }
}

static void bench_spill_replay(const char *dir, long n, const char *payload)
{
    double queued = (double)n * (double)(sizeof(topic) - 1 + PAYLOAD);
    struct ef_queue *q = open_q(dir, 1024, EF_REPLAY_FIFO);
    uint64_t w0 = io_net();
    int64_t t0 = ef_mono_us();
    push_n(q, n, payload);
    ef_queue_tick(q, INT64_MAX / 2); /* the rest of memory, synced */
    int64_t t1 = ef_mono_us();
    uint64_t w1 = io_net();
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    printf("spill:    %ld msgs of %d B in %.3f s = %.0f msgs/s (%" PRIu64 " spilled)\n", n,
           PAYLOAD, (double)(t1 - t0) / 1e6, (double)n * 1e6 / (double)(t1 - t0),
           st.spilled_msgs);
    printf("amplif.:  spilling wrote %.3f bytes per byte queued (%" PRIu64 " B for %.0f B)\n",
           (double)(w1 - w0) / queued, w1 - w0, queued);
    ef_queue_set_connected(q, true);
    evict(dir); /* read back from the device, as after a reboot */
    t0 = ef_mono_us();
    long got = drain(q);
    ef_queue_tick(q, INT64_MAX / 2 + 1000);
    t1 = ef_mono_us();
    printf("replay:   %ld msgs read back and acked in %.3f s = %.0f msgs/s (page cache dropped first)\n",
           got, (double)(t1 - t0) / 1e6, (double)got * 1e6 / (double)(t1 - t0));
    ef_queue_close(q);
    clear_dir(dir);
}

static void bench_healthy(const char *dir, long n, const char *payload)
{
    struct ef_queue *q = open_q(dir, 1024, EF_REPLAY_LIVE_FIRST);
    ef_queue_set_connected(q, true);
    uint64_t w0 = io_net();
    int64_t now = 0;
    struct ef_qmsg *win[20];
    for (long i = 0; i < n; i += 20) {
        for (int k = 0; k < 20; k++)
            ef_queue_push(q, EF_CLASS_TELEMETRY, topic, payload, PAYLOAD, 1, false, i + k);
        for (int k = 0; k < 20; k++)
            if (ef_queue_take(q, &win[k]) == 0)
                ef_queue_ack(q, win[k]);
        ef_queue_tick(q, now += 100);
    }
    uint64_t w1 = io_net();
    printf("healthy:  %ld msgs taken and acked as they came: %" PRIu64
           " bytes written (%.3f per byte queued)\n",
           n, w1 - w0, (double)(w1 - w0) / ((double)n * (double)(sizeof(topic) - 1 + PAYLOAD)));
    ef_queue_close(q);
    clear_dir(dir);
}

static void bench_recovery(const char *dir, const char *payload)
{
    struct ef_queue *q = open_q(dir, 64, EF_REPLAY_LIVE_FIRST);
    struct ef_queue_stats st;
    do {
        push_n(q, 10000, payload);
        ef_queue_get_stats(q, &st);
    } while (st.dropped_full[EF_CLASS_TELEMETRY] == 0);
    ef_queue_close(q);
    for (int cold = 0; cold < 2; cold++) {
        if (cold)
            evict(dir);
        int64_t t0 = ef_mono_us();
        q = open_q(dir, 64, EF_REPLAY_LIVE_FIRST);
        int64_t t1 = ef_mono_us();
        ef_queue_get_stats(q, &st);
        printf("recovery: full 64 MB queue (%" PRIu64 " msgs, %.1f MB on disk) opened in %.3f s"
               " (%s)\n", st.recovered_msgs, (double)st.disk_used_bytes / 1048576.0,
               (double)(t1 - t0) / 1e6, cold ? "page cache dropped" : "page cache warm");
        ef_queue_close(q);
    }
    clear_dir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_queue DIR [MESSAGES]\n");
        return 2;
    }
    ef_log_set_level(EF_LOG_ERROR); /* the cap's drop warnings are expected */
    long n = argc > 2 ? atol(argv[2]) : 500000;
    char payload[PAYLOAD];
    memset(payload, 'v', sizeof(payload));
    bench_spill_replay(argv[1], n, payload);
    bench_healthy(argv[1], n, payload);
    bench_recovery(argv[1], payload);
    return 0;
}
