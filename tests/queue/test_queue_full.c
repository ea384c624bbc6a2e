/* A full file system (a small tmpfs, mounted in a private mount namespace,
 * well under max_disk_mb): an alarm still becomes durable as long as there
 * is telemetry on disk to drop for it; the failing disk is tried once a
 * second, not on every push, and reported once per change of state; what
 * was durable stays durable.
 *
 * Needs root (or CAP_SYS_ADMIN) for unshare + mount: without it the test
 * says why and exits 77, which ctest reports as skipped. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "common/clock.h"
#include "common/log.h"
#include "qtest.h"

#define SKIP 77

static char mnt[64], qdir[128], logp[128];

static void mount_small_fs(const char *size)
{
    snprintf(mnt, sizeof mnt, "/tmp/ef-queue-full-XXXXXX");
    CHECK(mkdtemp(mnt));
    if (unshare(CLONE_NEWNS) != 0 || mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        printf("SKIP: cannot make a private mount namespace (%s); needs root\n", strerror(errno));
        rmdir(mnt);
        exit(SKIP);
    }
    char opts[32];
    snprintf(opts, sizeof opts, "size=%s", size);
    if (mount("tmpfs", mnt, "tmpfs", 0, opts) != 0) {
        printf("SKIP: cannot mount a tmpfs (%s)\n", strerror(errno));
        rmdir(mnt);
        exit(SKIP);
    }
    snprintf(qdir, sizeof qdir, "%s/queue", mnt);
    /* The log lives outside the small file system, which must fill up. */
    snprintf(logp, sizeof logp, "%s.log", mnt);
    qt_log_to(logp);
}

static void unmount_small_fs(void)
{
    FILE *f = fopen(logp, "r");
    for (char line[1024]; f && fgets(line, sizeof line, f);)
        printf("log: %s", line);
    if (f)
        fclose(f);
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
    unlink(logp);
}

static struct ef_queue *open_q(void)
{
    struct ef_queue_cfg cfg = qt_cfg();
    cfg.memory_kb = 16;
    cfg.flush_ms = 100;
    struct ef_queue *q = NULL;
    CHECK_EQ(ef_queue_open(qdir, &cfg, &q), 0);
    return q;
}

/* Pushes telemetry (broker down) until the file system refuses writes.
 * Returns the next sequence number; *NOW is the queue clock. */
static long fill_with_telemetry(struct ef_queue *q, int64_t *now)
{
    struct ef_queue_stats st;
    long i = 0;
    do {
        for (int k = 0; k < 20; k++, i++)
            CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, i, 200), 0);
        ef_queue_tick(q, *now += 200);
        ef_queue_get_stats(q, &st);
        CHECK(i < 1000000);
    } while (st.disk_errors == 0);
    CHECK(st.spilled_msgs > 1000);
    printf("full after %ld messages, %llu on disk\n", i, (unsigned long long)st.disk_msgs);
    return i;
}

static void an_alarm_evicts_old_telemetry_when_the_file_system_is_full(void)
{
    mount_small_fs("1m");
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct ef_queue *q = open_q();
        int64_t now = ef_mono_ms();
        fill_with_telemetry(q, &now);
        for (long a = 0; a < 5; a++)
            CHECK_EQ(qt_push(q, EF_CLASS_ALARM, 900000 + a, 300), 0);
        struct ef_queue_stats st;
        ef_queue_get_stats(q, &st);
        CHECK(st.dropped_full[EF_CLASS_TELEMETRY] > 0);
        CHECK_EQ(st.dropped_full[EF_CLASS_ALARM], 0);
        _exit(0); /* like a power cut: no close, nothing more written */
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Every alarm is back after the "power cut", oldest first. */
    struct ef_queue *q = open_q();
    struct ef_qmsg *m;
    for (long a = 0; a < 5; a++) {
        CHECK_EQ(ef_queue_take(q, &m), 0);
        CHECK_EQ(m->cls, EF_CLASS_ALARM);
        CHECK_EQ(qt_seq(m), 900000 + a);
        ef_queue_ack(q, m);
    }
    /* The telemetry left is in order, the oldest being what was dropped. */
    long last = -1, n = 0;
    while (ef_queue_take(q, &m) == 0) {
        CHECK_EQ(m->cls, EF_CLASS_TELEMETRY);
        CHECK(qt_seq(m) > last);
        last = qt_seq(m);
        n++;
        ef_queue_ack(q, m);
    }
    CHECK(n > 0);
    CHECK_EQ(ef_queue_close(q), 0);
    unmount_small_fs();
}

static void a_full_disk_is_tried_once_a_second_and_reported_once(void)
{
    mount_small_fs("512k");
    char filler[192];
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    FILE *f = fopen(filler, "wb");
    CHECK(f);
    for (int i = 0; i < 128 * 1024; i++)
        fputc('f', f);
    CHECK(fclose(f) == 0);
    struct ef_queue *q = open_q();
    int64_t now = ef_mono_ms();
    long seq = fill_with_telemetry(q, &now);
    struct ef_queue_stats st0, st;
    ef_queue_get_stats(q, &st0);
    /* Ten seconds of polls at 100/s with ticks every 100 ms: one attempt
     * per second at most, and no new error line. */
    for (int t = 0; t < 100; t++) {
        for (int k = 0; k < 10; k++)
            CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, seq++, 200), 0);
        ef_queue_tick(q, now += 100);
    }
    ef_queue_get_stats(q, &st);
    CHECK(st.disk_errors - st0.disk_errors <= 11);
    CHECK(st.dropped_memory > 0);
    CHECK_EQ(qt_log_count(logp, "writing telemetry in"), 1);
    /* Room again: telemetry is written again within about a second, and
     * the recovery is reported once, with the count. */
    CHECK(unlink(filler) == 0);
    for (int t = 0; t < 15; t++) {
        CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, seq++, 200), 0);
        ef_queue_tick(q, now += 100);
    }
    uint64_t spilled = st.spilled_msgs;
    ef_queue_get_stats(q, &st);
    CHECK(st.spilled_msgs > spilled);
    CHECK_EQ(qt_log_count(logp, "writing telemetry in"), 2);
    CHECK_EQ(qt_log_count(logp, "works again after"), 1);
    ef_queue_close(q);
    unmount_small_fs();
}

/* With no telemetry on disk, a new alarm cannot push out an older one:
 * it waits in memory, and is written once there is room. */
static void durable_alarms_are_never_dropped_for_a_full_file_system(void)
{
    mount_small_fs("256k");
    struct ef_queue *q = open_q();
    int64_t now = ef_mono_ms();
    long a = 0;
    int rc;
    while ((rc = qt_push(q, EF_CLASS_ALARM, a, 4000)) == 0)
        a++;
    CHECK(rc < 0);
    CHECK(a > 10);
    for (int t = 0; t < 30; t++)
        ef_queue_tick(q, now += 100);
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.dropped_full[EF_CLASS_ALARM], 0);
    CHECK_EQ(st.disk_msgs, a);
    CHECK_EQ(st.mem_msgs, 1);
    CHECK(qt_log_count(logp, "writing alarms in") <= 2);
    /* The oldest alarm is delivered: room for the one in memory. */
    struct ef_qmsg *m;
    ef_queue_set_connected(q, true);
    CHECK_EQ(ef_queue_take(q, &m), 0);
    CHECK_EQ(qt_seq(m), 0);
    ef_queue_ack(q, m);
    for (long i = 1; i < a / 2; i++) {
        CHECK_EQ(ef_queue_take(q, &m), 0);
        CHECK_EQ(qt_seq(m), i);
        ef_queue_ack(q, m);
    }
    for (int t = 0; t < 30; t++)
        ef_queue_tick(q, now += 100);
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.mem_msgs, 0);
    long expect = a / 2;
    while (ef_queue_take(q, &m) == 0) {
        CHECK_EQ(qt_seq(m), expect);
        expect++;
        ef_queue_ack(q, m);
    }
    CHECK_EQ(expect, a + 1);
    ef_queue_close(q);
    unmount_small_fs();
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        { "an_alarm_evicts_old_telemetry_when_the_file_system_is_full",
          an_alarm_evicts_old_telemetry_when_the_file_system_is_full },
        { "a_full_disk_is_tried_once_a_second_and_reported_once",
          a_full_disk_is_tried_once_a_second_and_reported_once },
        { "durable_alarms_are_never_dropped_for_a_full_file_system",
          durable_alarms_are_never_dropped_for_a_full_file_system },
    };
    ef_log_set_level(EF_LOG_INFO);
    int ran = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (argc < 2 || strcmp(argv[1], cases[i].name) == 0) {
            cases[i].fn();
            ran++;
        }
    CHECK(ran > 0);
    return 0;
}
