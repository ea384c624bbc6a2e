/* max_disk_mb is a hard cap: the files never exceed it, the oldest
 * telemetry goes first, alarms only when no telemetry is left, and every
 * drop is counted. Memory stays bounded by memory_kb. */
#include <stdio.h>
#include <string.h>

#include "qtest.h"

#define CAP (1u << 20)

static struct ef_queue *open_small(const char *dir, int memory_kb)
{
    struct ef_queue_cfg cfg = qt_cfg();
    cfg.max_disk_mb = 1;
    cfg.memory_kb = memory_kb;
    cfg.flush_ms = 100;
    struct ef_queue *q = NULL;
    CHECK_EQ(ef_queue_open(dir, &cfg, &q), 0);
    return q;
}

static void disk_cap_is_never_exceeded_and_oldest_telemetry_goes_first(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = open_small(dir, 16);
    enum { T = 30000 }; /* ~7 MB of 200-byte readings into a 1 MB cap */
    int64_t now = 0;
    for (long i = 0; i < T; i++) {
        CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, i, 200), 0);
        if (i % 50 == 49) {
            ef_queue_tick(q, now += 100);
            CHECK(qt_dir_bytes(dir, "", NULL) <= CAP);
        }
    }
    ef_queue_tick(q, now += 1000);
    CHECK(qt_dir_bytes(dir, "", NULL) <= CAP);
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    CHECK(st.dropped_full[EF_CLASS_TELEMETRY] > 0);
    CHECK_EQ(st.dropped_full[EF_CLASS_ALARM], 0);
    CHECK(st.disk_used_bytes <= CAP);
    CHECK_EQ(st.disk_used_bytes, qt_dir_bytes(dir, "telem-", NULL));
    uint64_t dropped = st.dropped_full[EF_CLASS_TELEMETRY];
    CHECK_EQ(st.disk_msgs + st.mem_msgs + dropped, T);
    /* What is left is exactly the newest T - dropped, oldest first. */
    struct ef_qmsg *m;
    long expect = (long)dropped, n = 0;
    while (ef_queue_take(q, &m) == 0) {
        CHECK_EQ(qt_seq(m), expect);
        expect++;
        n++;
        ef_queue_ack(q, m);
    }
    CHECK_EQ(n, T - (long)dropped);
    CHECK_EQ(ef_queue_close(q), 0);
    qt_rmdir(dir);
}

static void alarms_are_dropped_last_and_counted(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = open_small(dir, 16);
    enum { A1 = 50, PAD = 4000 };
    for (long i = 0; i < A1; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_ALARM, i, PAD), 0);
    /* Telemetry fills the rest and overflows: only telemetry is dropped. */
    int64_t now = 0;
    for (long i = 0; i < 20000; i++) {
        CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, 1000000 + i, 200), 0);
        if (i % 100 == 99)
            ef_queue_tick(q, now += 200);
    }
    ef_queue_tick(q, now += 1000);
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    CHECK(st.dropped_full[EF_CLASS_TELEMETRY] > 0);
    CHECK_EQ(st.dropped_full[EF_CLASS_ALARM], 0);
    CHECK(qt_dir_bytes(dir, "", NULL) <= CAP);
    /* Alarms keep coming: telemetry on disk goes first, then old alarms. */
    long a = A1;
    bool telemetry_seen_empty = false;
    for (; a < 1000; a++) {
        CHECK_EQ(qt_push(q, EF_CLASS_ALARM, a, PAD), 0);
        CHECK(qt_dir_bytes(dir, "", NULL) <= CAP);
        ef_queue_get_stats(q, &st);
        int tfiles;
        qt_dir_bytes(dir, "telem-", &tfiles);
        if (st.dropped_full[EF_CLASS_ALARM] > 0) {
            telemetry_seen_empty = tfiles == 0;
            break;
        }
    }
    CHECK(telemetry_seen_empty);
    CHECK(a < 1000);
    /* The alarms left are the newest, in order, none missing between. */
    uint64_t adrop = st.dropped_full[EF_CLASS_ALARM];
    struct ef_qmsg *m;
    long expect = (long)adrop;
    while (ef_queue_take(q, &m) == 0 && m->cls == EF_CLASS_ALARM) {
        CHECK_EQ(qt_seq(m), expect);
        expect++;
        ef_queue_ack(q, m);
    }
    CHECK_EQ(expect, a + 1);
    CHECK_EQ(ef_queue_close(q), 0);
    qt_rmdir(dir);
}

static void memory_stays_bounded_when_the_publisher_falls_behind(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = open_small(dir, 16);
    ef_queue_set_connected(q, true);
    struct ef_queue_stats st;
    for (long i = 0; i < 2000; i++) {
        CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, i, 200), 0);
        ef_queue_get_stats(q, &st);
        CHECK(st.mem_bytes <= 16 * 1024);
    }
    CHECK(st.spilled_msgs > 0);
    CHECK_EQ(st.spilled_msgs + st.mem_msgs, 2000);
    /* Nothing lost, oldest first even across disk and memory. */
    int seen[2000] = { 0 };
    CHECK_EQ(qt_drain(q, seen, 2000), 2000);
    for (int i = 0; i < 2000; i++)
        CHECK_EQ(seen[i], 1);
    CHECK_EQ(ef_queue_close(q), 0);
    qt_rmdir(dir);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        { "disk_cap_is_never_exceeded_and_oldest_telemetry_goes_first",
          disk_cap_is_never_exceeded_and_oldest_telemetry_goes_first },
        { "alarms_are_dropped_last_and_counted", alarms_are_dropped_last_and_counted },
        { "memory_stays_bounded_when_the_publisher_falls_behind",
          memory_stays_bounded_when_the_publisher_falls_behind },
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (argc < 2 || strcmp(argv[1], cases[i].name) == 0) {
            cases[i].fn();
            ran++;
        }
    CHECK(ran > 0);
    return 0;
}
