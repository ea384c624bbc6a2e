/* Delivery order and when telemetry touches the disk: alarms first,
 * live-first vs fifo, nack ordering, nothing on disk while the link keeps
 * up, spill after flush_ms while disconnected, acks from other threads. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "qtest.h"

static struct ef_queue *open_cfg(const char *dir, enum ef_replay replay, int flush_ms)
{
    struct ef_queue_cfg cfg = qt_cfg();
    cfg.replay = replay;
    cfg.flush_ms = flush_ms;
    struct ef_queue *q = NULL;
    CHECK_EQ(ef_queue_open(dir, &cfg, &q), 0);
    return q;
}

static long take_ack(struct ef_queue *q)
{
    struct ef_qmsg *m;
    CHECK_EQ(ef_queue_take(q, &m), 0);
    long s = qt_seq(m);
    ef_queue_ack(q, m);
    return s;
}

static void alarms_go_before_telemetry(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = open_cfg(dir, EF_REPLAY_FIFO, 1000);
    CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, 0, 10), 0);
    CHECK_EQ(qt_push(q, EF_CLASS_ALARM, 1, 10), 0);
    CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, 2, 10), 0);
    CHECK_EQ(qt_push(q, EF_CLASS_ALARM, 3, 10), 0);
    CHECK_EQ(take_ack(q), 1);
    CHECK_EQ(take_ack(q), 3);
    CHECK_EQ(take_ack(q), 0);
    CHECK_EQ(take_ack(q), 2);
    struct ef_qmsg *m;
    CHECK_EQ(ef_queue_take(q, &m), EF_QUEUE_EMPTY);
    CHECK_EQ(ef_queue_close(q), 0);
    qt_rmdir(dir);
}

/* 0..9 spilled during an outage, then 10..14 live in memory. */
static struct ef_queue *backlog_and_live(const char *dir, enum ef_replay replay)
{
    struct ef_queue *q = open_cfg(dir, replay, 1000);
    ef_queue_tick(q, 1000);
    for (long i = 0; i < 10; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, i, 50), 0);
    ef_queue_tick(q, 2000);
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.spilled_msgs, 10);
    ef_queue_set_connected(q, true);
    for (long i = 10; i < 15; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, i, 50), 0);
    return q;
}

static void fifo_sends_backlog_before_live(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = backlog_and_live(dir, EF_REPLAY_FIFO);
    for (long i = 0; i < 15; i++)
        CHECK_EQ(take_ack(q), i);
    CHECK_EQ(ef_queue_close(q), 0);
    qt_rmdir(dir);
}

static void live_first_sends_fresh_telemetry_first_without_starving_backlog(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = backlog_and_live(dir, EF_REPLAY_LIVE_FIRST);
    long order[15];
    for (int i = 0; i < 15; i++)
        order[i] = take_ack(q);
    CHECK_EQ(order[0], 10); /* fresh first */
    long next_live = 10, next_old = 0;
    int first_old = -1;
    for (int i = 0; i < 15; i++) {
        if (order[i] >= 10) {
            CHECK_EQ(order[i], next_live++);
        } else {
            CHECK_EQ(order[i], next_old++); /* backlog oldest first */
            if (first_old < 0)
                first_old = i;
        }
    }
    /* The backlog gets a turn while live messages are still waiting. */
    CHECK(first_old >= 1 && first_old <= 4);
    CHECK_EQ(next_live, 15);
    CHECK_EQ(next_old, 10);
    CHECK_EQ(ef_queue_close(q), 0);
    qt_rmdir(dir);
}

static void nack_puts_a_message_back_before_newer_ones(void)
{
    char *dir = qt_mkdtemp();
    for (int disk = 0; disk < 2; disk++) {
        struct ef_queue *q = open_cfg(dir, EF_REPLAY_FIFO, 1000);
        ef_queue_tick(q, 0);
        for (long i = 0; i < 5; i++)
            CHECK_EQ(qt_push(q, disk ? EF_CLASS_ALARM : EF_CLASS_TELEMETRY, i, 20), 0);
        struct ef_qmsg *m[3];
        for (int i = 0; i < 3; i++)
            CHECK_EQ(ef_queue_take(q, &m[i]), 0);
        ef_queue_nack(q, m[2]);
        ef_queue_nack(q, m[1]);
        ef_queue_ack(q, m[0]);
        CHECK_EQ(take_ack(q), 1);
        CHECK_EQ(take_ack(q), 2);
        CHECK_EQ(take_ack(q), 3);
        CHECK_EQ(take_ack(q), 4);
        CHECK_EQ(ef_queue_close(q), 0);
    }
    qt_rmdir(dir);
}

static void healthy_link_writes_no_telemetry_to_disk(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = open_cfg(dir, EF_REPLAY_LIVE_FIRST, 1000);
    ef_queue_set_connected(q, true);
    int64_t now = 0;
    struct ef_qmsg *win[10];
    for (long i = 0; i < 20000; i += 10) {
        for (long k = 0; k < 10; k++)
            CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, i + k, 200), 0);
        for (int k = 0; k < 10; k++)
            CHECK_EQ(ef_queue_take(q, &win[k]), 0);
        for (int k = 9; k >= 0; k--) /* acks in any order */
            ef_queue_ack(q, win[k]);
        ef_queue_tick(q, now += 100);
    }
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.spilled_msgs, 0);
    CHECK_EQ(st.disk_bytes, 0);
    CHECK_EQ(st.disk_used_bytes, 0);
    CHECK_EQ(st.acked[EF_CLASS_TELEMETRY], 20000);
    CHECK_EQ(qt_dir_bytes(dir, "", NULL), 0);
    CHECK_EQ(ef_queue_close(q), 0);
    CHECK_EQ(qt_dir_bytes(dir, "", NULL), 0);
    qt_rmdir(dir);
}

static void telemetry_spills_after_flush_ms_while_disconnected(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = open_cfg(dir, EF_REPLAY_LIVE_FIRST, 1000);
    ef_queue_tick(q, 1000);
    for (long i = 0; i < 10; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, i, 100), 0);
    ef_queue_tick(q, 1500);
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.spilled_msgs, 0);
    CHECK_EQ(st.mem_msgs, 10);
    CHECK_EQ(qt_dir_bytes(dir, "telem-", NULL), 0);
    ef_queue_tick(q, 1999);
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.spilled_msgs, 0);
    ef_queue_tick(q, 2000);
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.spilled_msgs, 10);
    CHECK_EQ(st.mem_msgs, 0);
    CHECK_EQ(st.disk_msgs, 10);
    CHECK(qt_dir_bytes(dir, "telem-", NULL) > 0);
    CHECK_EQ(st.disk_used_bytes, qt_dir_bytes(dir, "telem-", NULL));
    int seen[10] = { 0 };
    CHECK_EQ(qt_drain(q, seen, 10), 10);
    ef_queue_tick(q, 2100);
    /* Drained: the segment is deleted. */
    CHECK_EQ(qt_dir_bytes(dir, "telem-", NULL), 0);
    CHECK_EQ(ef_queue_close(q), 0);
    qt_rmdir(dir);
}

struct consumer {
    struct ef_queue *q;
    long total;
    int *seen;
};

static void *consume(void *arg)
{
    struct consumer *c = arg;
    long got = 0;
    struct ef_qmsg *win[16];
    while (got < c->total) {
        int n = 0;
        while (n < 16 && ef_queue_take(c->q, &win[n]) == 0)
            n++;
        if (n == 0) {
            ef_queue_wait(c->q, 50);
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (i % 5 == 4) { /* some fail and come back */
                ef_queue_nack(c->q, win[i]);
                continue;
            }
            __atomic_fetch_add(&c->seen[qt_seq(win[i])], 1, __ATOMIC_RELAXED);
            ef_queue_ack(c->q, win[i]);
            got++;
        }
    }
    return NULL;
}

static void acks_from_another_thread_while_pushing(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue_cfg cfg = qt_cfg();
    cfg.memory_kb = 16; /* so that some telemetry spills and is read back */
    struct ef_queue *q = NULL;
    CHECK_EQ(ef_queue_open(dir, &cfg, &q), 0);
    ef_queue_set_connected(q, true);
    enum { T = 20000 };
    static int seen[T];
    struct consumer c = { q, T, seen };
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, consume, &c), 0);
    for (long i = 0; i < T; i++) {
        CHECK_EQ(qt_push(q, i % 100 == 0 ? EF_CLASS_ALARM : EF_CLASS_TELEMETRY, i, 150), 0);
        if (i % 500 == 0)
            ef_queue_tick(q, i);
    }
    CHECK_EQ(pthread_join(th, NULL), 0);
    for (long i = 0; i < T; i++)
        CHECK_EQ(seen[i], 1);
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.acked[0] + st.acked[1], T);
    CHECK_EQ(ef_queue_close(q), 0);
    qt_rmdir(dir);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        { "alarms_go_before_telemetry", alarms_go_before_telemetry },
        { "fifo_sends_backlog_before_live", fifo_sends_backlog_before_live },
        { "live_first_sends_fresh_telemetry_first_without_starving_backlog",
          live_first_sends_fresh_telemetry_first_without_starving_backlog },
        { "nack_puts_a_message_back_before_newer_ones", nack_puts_a_message_back_before_newer_ones },
        { "healthy_link_writes_no_telemetry_to_disk", healthy_link_writes_no_telemetry_to_disk },
        { "telemetry_spills_after_flush_ms_while_disconnected",
          telemetry_spills_after_flush_ms_while_disconnected },
        { "acks_from_another_thread_while_pushing", acks_from_another_thread_while_pushing },
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
