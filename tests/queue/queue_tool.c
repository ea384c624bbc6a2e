/* ef-queue-tool: inspect and damage a queue directory, for people and for
 * the integration tests.
 *
 *   ef-queue-tool dump DIR
 *   ef-queue-tool corrupt DIR (--truncate N | --garbage N | --flip) [--class alarm|telemetry]
 *   ef-queue-tool fill DIR [--alarms N] [--telemetry N] [--payload BYTES] [--qos Q]
 *
 * dump is read-only (it does not cut torn tails, unlike opening the queue)
 * and ends with "records alarm=A telemetry=T corrupt_runs=C bytes=B".
 * corrupt damages the tail of the newest segment of the class (default:
 * telemetry if it has a segment, else alarm). fill queues messages as the
 * daemon would and closes the queue (so telemetry lands on disk). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gateway/queue/queue.h"
#include "gateway/queue/queue_seg.h"

static const char *const cls_name[2] = { "alarm", "telemetry" };

static int usage(void)
{
    fprintf(stderr, "usage: ef-queue-tool dump DIR\n"
                    "       ef-queue-tool corrupt DIR (--truncate N | --garbage N | --flip) "
                    "[--class alarm|telemetry]\n"
                    "       ef-queue-tool fill DIR [--alarms N] [--telemetry N] [--payload BYTES] [--qos Q]\n");
    return 2;
}

/* Prints every record of one segment; returns its valid record count. */
static uint64_t dump_segment(struct ef_qreader *r, const char *dir, int cls, uint64_t id,
                             uint64_t *bytes)
{
    char path[EF_QSEG_PATH_MAX];
    ef_qseg_path(path, sizeof(path), dir, cls, id);
    struct stat st;
    if (stat(path, &st) < 0 || ef_qreader_open(r, dir, cls, id, 0) < 0) {
        printf("%s: cannot read: %s\n", path, strerror(errno));
        return 0;
    }
    *bytes += (uint64_t)st.st_size;
    printf("segment %s (%lld bytes)\n", path, (long long)st.st_size);
    struct ef_qrec rec;
    uint64_t off, n = 0;
    uint32_t len;
    while (ef_qreader_next(r, (uint64_t)st.st_size, &rec, &off, &len) == 1) {
        int plen = rec.payload_len > 60 ? 60 : (int)rec.payload_len;
        printf("  @%" PRIu64 " len=%u %s qos=%u retain=%u ts=%" PRId64 " topic=%.*s payload(%zu)=%.*s\n",
               off, len, cls_name[rec.cls], rec.qos, rec.retain, rec.ts_ms, (int)rec.topic_len,
               rec.topic, rec.payload_len, plen, (const char *)rec.payload);
        n++;
    }
    if (r->tail_bad != UINT64_MAX)
        printf("  corrupt tail from offset %" PRIu64 "\n", r->tail_bad);
    ef_qreader_close(r);
    return n;
}

static int cmd_dump(const char *dir)
{
    struct ef_qpos cur[2];
    int rc = ef_qcursor_read(dir, cur);
    if (rc == 0)
        printf("cursor alarm=%" PRIx64 ":%" PRIu64 " telemetry=%" PRIx64 ":%" PRIu64 "\n",
               cur[0].seg, cur[0].off, cur[1].seg, cur[1].off);
    else
        printf("cursor none (%s)\n", strerror(-rc));
    struct ef_qreader r;
    if (ef_qreader_init(&r) < 0)
        return 1;
    uint64_t count[2] = { 0, 0 }, bytes = 0;
    for (int cls = 0; cls < 2; cls++) {
        uint64_t *ids;
        size_t n;
        if (ef_qseg_list(dir, cls, &ids, &n) < 0) {
            perror(dir);
            ef_qreader_free(&r);
            return 1;
        }
        for (size_t i = 0; i < n; i++)
            count[cls] += dump_segment(&r, dir, cls, ids[i], &bytes);
        free(ids);
    }
    printf("records alarm=%" PRIu64 " telemetry=%" PRIu64 " corrupt_runs=%" PRIu64
           " bytes=%" PRIu64 "\n", count[0], count[1], r.bad_regions, bytes);
    ef_qreader_free(&r);
    return 0;
}

/* Offset of the last valid record of PATH's segment, or -1. */
static long long last_record(const char *dir, int cls, uint64_t id, uint64_t size)
{
    struct ef_qreader r;
    if (ef_qreader_init(&r) < 0 || ef_qreader_open(&r, dir, cls, id, 0) < 0) {
        ef_qreader_free(&r);
        return -1;
    }
    struct ef_qrec rec;
    uint64_t off;
    uint32_t len;
    long long last = -1;
    while (ef_qreader_next(&r, size, &rec, &off, &len) == 1)
        last = (long long)(off + len / 2);
    ef_qreader_free(&r);
    return last;
}

static int damage(const char *path, const char *dir, int cls, uint64_t id, const char *how, long n)
{
    struct stat st;
    int fd = open(path, O_RDWR);
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror(path);
        return 1;
    }
    int rc = 0;
    if (strcmp(how, "--truncate") == 0) {
        off_t to = st.st_size > n ? st.st_size - n : 0;
        rc = ftruncate(fd, to);
        printf("%s: truncated from %lld to %lld bytes\n", path, (long long)st.st_size, (long long)to);
    } else if (strcmp(how, "--garbage") == 0) {
        srand((unsigned)time(NULL) ^ (unsigned)getpid());
        for (long i = 0; i < n && rc == 0; i++) {
            unsigned char b = (unsigned char)rand();
            rc = pwrite(fd, &b, 1, st.st_size + i) == 1 ? 0 : -1;
        }
        printf("%s: appended %ld random bytes\n", path, n);
    } else {
        long long at = last_record(dir, cls, id, (uint64_t)st.st_size);
        unsigned char b;
        if (at < 0 || pread(fd, &b, 1, at) != 1) {
            fprintf(stderr, "%s: no record to flip\n", path);
            close(fd);
            return 1;
        }
        b ^= 0x5A;
        rc = pwrite(fd, &b, 1, at) == 1 ? 0 : -1;
        printf("%s: flipped byte at offset %lld (last record)\n", path, at);
    }
    if (rc < 0)
        perror(path);
    close(fd);
    return rc < 0;
}

static int cmd_corrupt(const char *dir, int argc, char **argv)
{
    const char *how = NULL;
    long n = 0;
    int cls = -1;
    for (int i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "--truncate") == 0 || strcmp(argv[i], "--garbage") == 0) && i + 1 < argc) {
            how = argv[i];
            n = atol(argv[++i]);
        } else if (strcmp(argv[i], "--flip") == 0) {
            how = argv[i];
        } else if (strcmp(argv[i], "--class") == 0 && i + 1 < argc) {
            cls = strcmp(argv[++i], "alarm") == 0 ? 0 : 1;
        } else {
            return usage();
        }
    }
    if (!how)
        return usage();
    for (int c = 1; c >= 0; c--) {
        if (cls >= 0 && c != cls)
            continue;
        uint64_t *ids;
        size_t cnt;
        if (ef_qseg_list(dir, c, &ids, &cnt) < 0 || cnt == 0) {
            if (cnt == 0)
                free(ids);
            continue;
        }
        uint64_t id = ids[cnt - 1];
        free(ids);
        char path[EF_QSEG_PATH_MAX];
        ef_qseg_path(path, sizeof(path), dir, c, id);
        return damage(path, dir, c, id, how, n);
    }
    fprintf(stderr, "%s: no segment to damage\n", dir);
    return 1;
}

static int cmd_fill(const char *dir, int argc, char **argv)
{
    long na = 0, nt = 0, pad = 200;
    int qos = 1;
    for (int i = 0; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--alarms") == 0)
            na = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--telemetry") == 0)
            nt = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--payload") == 0)
            pad = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--qos") == 0)
            qos = atoi(argv[i + 1]);
        else
            return usage();
    }
    struct ef_queue_cfg cfg = { .max_disk_mb = 64, .memory_kb = 256, .flush_ms = 1000,
                                .replay = EF_REPLAY_LIVE_FIRST };
    struct ef_queue *q;
    int rc = ef_queue_open(dir, &cfg, &q);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", dir, strerror(-rc));
        return 1;
    }
    char *payload = malloc((size_t)pad + 32);
    if (!payload)
        return 1;
    for (long i = 0; i < na + nt && rc == 0; i++) {
        int len = snprintf(payload, (size_t)pad + 32, "seq=%ld;", i);
        while (len < pad)
            payload[len++] = 'x';
        rc = ef_queue_push(q, i < na ? EF_CLASS_ALARM : EF_CLASS_TELEMETRY,
                           i < na ? "edgeferry/test/alarm" : "edgeferry/test/telemetry", payload,
                           (size_t)len, qos, false, (int64_t)i);
    }
    free(payload);
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    printf("recovered=%" PRIu64 " corrupt_records=%" PRIu64 "\n", st.recovered_msgs,
           st.corrupt_records);
    if (ef_queue_close(q) < 0 || rc < 0)
        return 1;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return usage();
    if (strcmp(argv[1], "dump") == 0 && argc == 3)
        return cmd_dump(argv[2]);
    if (strcmp(argv[1], "corrupt") == 0)
        return cmd_corrupt(argv[2], argc - 3, argv + 3);
    if (strcmp(argv[1], "fill") == 0)
        return cmd_fill(argv[2], argc - 3, argv + 3);
    return usage();
}
