/* Small helpers shared by the queue's unit tests: checks that stop the test
 * with a message, a private temporary directory, file-size sums and a
 * default configuration. Header-only (static inline) so each test is one
 * file. */
#ifndef EF_QTEST_H
#define EF_QTEST_H

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/queue/queue.h"

/* Where failed checks are reported: stderr, or stdout once qt_log_to()
 * took stderr for the daemon log. */
static FILE *qt_report;
#define QT_REPORT (qt_report ? qt_report : stderr)

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(QT_REPORT, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

#define CHECK_EQ(a, b)                                                                \
    do {                                                                              \
        long long va_ = (long long)(a), vb_ = (long long)(b);                         \
        if (va_ != vb_) {                                                             \
            fprintf(QT_REPORT, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__,  \
                    __LINE__, #a, va_, #b, vb_);                                      \
            exit(1);                                                                  \
        }                                                                             \
    } while (0)

static inline char *qt_mkdtemp(void)
{
    char *d = strdup("/tmp/ef-queue-test-XXXXXX");
    CHECK(d && mkdtemp(d));
    return d;
}

/* Removes DIR and the files in it (the queue makes no subdirectories). */
static inline void qt_rmdir(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char p[4096];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

/* Sum of the sizes of the files in DIR whose name starts with PREFIX
 * ("" for all); *COUNT gets how many. */
static inline uint64_t qt_dir_bytes(const char *dir, const char *prefix, int *count)
{
    DIR *d = opendir(dir);
    CHECK(d);
    uint64_t sum = 0;
    int n = 0;
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0) {
            sum += (uint64_t)st.st_size;
            n++;
        }
    }
    closedir(d);
    if (count)
        *count = n;
    return sum;
}

/* Path of the newest (highest id) segment of PREFIX ("alarm-"/"telem-"). */
static inline bool qt_newest_segment(const char *dir, const char *prefix, char *out, size_t n)
{
    DIR *d = opendir(dir);
    CHECK(d);
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof(best), "%s", e->d_name);
    closedir(d);
    if (!best[0])
        return false;
    snprintf(out, n, "%s/%s", dir, best);
    return true;
}

/* Sends the daemon log (stderr) to PATH from here on. */
static inline void qt_log_to(const char *path)
{
    fflush(stderr);
    qt_report = stdout;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
    CHECK(fd >= 0 && dup2(fd, 2) == 2);
    close(fd);
}

/* Lines of the file PATH that contain NEEDLE. */
static inline int qt_log_count(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    CHECK(f);
    char line[2048];
    int n = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

static inline struct ef_queue_cfg qt_cfg(void)
{
    struct ef_queue_cfg c = { .max_disk_mb = 64, .memory_kb = 256, .flush_ms = 1000,
                              .replay = EF_REPLAY_LIVE_FIRST };
    return c;
}

/* Pushes message SEQ of class CLS: payload "seq=<SEQ>" padded to PAD bytes. */
static inline int qt_push(struct ef_queue *q, enum ef_msg_class cls, long seq, size_t pad)
{
    char payload[8192];
    int n = snprintf(payload, sizeof(payload), "seq=%ld;", seq);
    size_t len = (size_t)n;
    while (len < pad && len < sizeof(payload))
        payload[len++] = 'x';
    char topic[64];
    snprintf(topic, sizeof(topic), "site/%s/%ld", cls == EF_CLASS_ALARM ? "alarm" : "tele", seq);
    return ef_queue_push(q, cls, topic, payload, len, cls == EF_CLASS_ALARM ? 1 : 0,
                         cls == EF_CLASS_ALARM, 1700000000000 + seq);
}

static inline long qt_seq(const struct ef_qmsg *m)
{
    CHECK(m->payload_len >= 5 && memcmp(m->payload, "seq=", 4) == 0);
    return strtol((const char *)m->payload + 4, NULL, 10);
}

/* Takes and acks everything; records each seq in SEEN (indexed by seq,
 * counts) if not NULL. Returns how many were taken. */
static inline long qt_drain(struct ef_queue *q, int *seen, long nseen)
{
    long n = 0;
    struct ef_qmsg *m;
    while (ef_queue_take(q, &m) == 0) {
        long s = qt_seq(m);
        if (seen) {
            CHECK(s >= 0 && s < nseen);
            seen[s]++;
        }
        ef_queue_ack(q, m);
        n++;
    }
    return n;
}

#endif
