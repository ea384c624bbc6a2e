/* Start-up recovery: torn and corrupt tails are cut off and counted, never
 * replayed; a corrupt record in the middle is skipped; what was queued
 * comes back after close, and acknowledged messages do not. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "qtest.h"

#define N 5

static struct ef_queue *open_q(const char *dir)
{
    struct ef_queue_cfg cfg = qt_cfg();
    struct ef_queue *q = NULL;
    CHECK_EQ(ef_queue_open(dir, &cfg, &q), 0);
    return q;
}

/* N alarms 0..N-1 on disk in DIR's single alarm segment; returns its bytes. */
static uint8_t *make_segment(const char *dir, char *path, size_t pathlen, size_t *len)
{
    struct ef_queue *q = open_q(dir);
    for (long i = 0; i < N; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_ALARM, i, 40), 0);
    CHECK_EQ(ef_queue_close(q), 0);
    CHECK(qt_newest_segment(dir, "alarm-", path, pathlen));
    FILE *f = fopen(path, "rb");
    CHECK(f);
    uint8_t *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void write_file(const char *path, const uint8_t *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(buf, 1, len, f) == len);
    fclose(f);
}

/* Puts segment bytes back and forgets acknowledgements made since. */
static void reset_segment(const char *dir, const char *path, const uint8_t *buf, size_t len)
{
    write_file(path, buf, len);
    char cur[4096];
    snprintf(cur, sizeof(cur), "%s/cursor", dir);
    unlink(cur);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return (uint64_t)st.st_size;
}

/* Reopens, checks the expected seqs come back exactly once, and how many
 * corrupt runs were counted. EXPECT is a bitmask of seqs. */
static void expect_after_reopen(const char *dir, unsigned expect, uint64_t corrupt)
{
    struct ef_queue *q = open_q(dir);
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.corrupt_records, corrupt);
    CHECK_EQ(st.recovered_msgs, __builtin_popcount(expect));
    int seen[N] = { 0 };
    qt_drain(q, seen, N);
    for (int i = 0; i < N; i++)
        CHECK_EQ(seen[i], (expect >> i) & 1u);
    CHECK_EQ(ef_queue_close(q), 0);
}

static void truncated_tail_at_every_offset_is_cut(void)
{
    char *dir = qt_mkdtemp(), path[4096];
    size_t len;
    uint8_t *orig = make_segment(dir, path, sizeof(path), &len);
    size_t rec = len / N; /* all records have the same size */
    CHECK_EQ(rec * N, len);
    for (size_t k = 0; k < rec; k++) {
        reset_segment(dir, path, orig, len - rec + k);
        struct ef_queue *q = open_q(dir);
        /* Cut back to the last whole record, at open. */
        CHECK_EQ(file_size(path), len - rec);
        CHECK_EQ(ef_queue_close(q), 0);
        reset_segment(dir, path, orig, len - rec + k);
        expect_after_reopen(dir, (1u << (N - 1)) - 1, k > 0 ? 1 : 0);
    }
    free(orig);
    qt_rmdir(dir);
}

static void garbage_appended_is_cut(void)
{
    char *dir = qt_mkdtemp(), path[4096];
    size_t len;
    uint8_t *orig = make_segment(dir, path, sizeof(path), &len);
    uint8_t *buf = malloc(len + 70000);
    srand(42);
    static const size_t sizes[] = { 1, 3, 23, 24, 100, 4096, 70000 };
    for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
        memcpy(buf, orig, len);
        for (size_t i = 0; i < sizes[t]; i++)
            buf[len + i] = (uint8_t)rand();
        /* Make some garbage look like the start of a record. */
        if (sizes[t] >= 24)
            memcpy(buf + len, orig, 12);
        reset_segment(dir, path, buf, len + sizes[t]);
        struct ef_queue *q = open_q(dir);
        CHECK_EQ(file_size(path), len); /* cut back at open */
        CHECK_EQ(ef_queue_close(q), 0);
        reset_segment(dir, path, buf, len + sizes[t]);
        expect_after_reopen(dir, (1u << N) - 1, 1);
    }
    free(buf);
    free(orig);
    qt_rmdir(dir);
}

static void flipped_byte_in_the_middle_is_skipped(void)
{
    char *dir = qt_mkdtemp(), path[4096];
    size_t len;
    uint8_t *orig = make_segment(dir, path, sizeof(path), &len);
    size_t rec = len / N;
    uint8_t *buf = malloc(len);
    /* Damage record 2 in its header, its topic and its payload in turn. */
    static const size_t where[] = { 0, 5, 9, 13, 22, 30, 60 };
    for (size_t t = 0; t < sizeof(where) / sizeof(where[0]); t++) {
        memcpy(buf, orig, len);
        buf[2 * rec + where[t]] ^= 0x41;
        reset_segment(dir, path, buf, len);
        expect_after_reopen(dir, 0x1Bu /* 0,1,3,4 */, 1);
    }
    free(buf);
    free(orig);
    qt_rmdir(dir);
}

static void close_then_reopen_brings_everything_back(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = open_q(dir);
    enum { T = 300, A = 20 };
    for (long i = 0; i < T; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, i, 100), 0);
    for (long i = 0; i < A; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_ALARM, T + i, 100), 0);
    /* Some in flight (taken, never acked), one nacked: all still owed. */
    struct ef_qmsg *m[8];
    for (int i = 0; i < 8; i++)
        CHECK_EQ(ef_queue_take(q, &m[i]), 0);
    ef_queue_nack(q, m[3]);
    CHECK_EQ(ef_queue_close(q), 0);
    q = open_q(dir);
    int seen[T + A] = { 0 };
    CHECK_EQ(qt_drain(q, seen, T + A), T + A);
    for (int i = 0; i < T + A; i++)
        CHECK_EQ(seen[i], 1);
    CHECK_EQ(ef_queue_close(q), 0);
    /* All acknowledged: nothing comes back and no segment is left. */
    q = open_q(dir);
    CHECK_EQ(qt_drain(q, NULL, 0), 0);
    CHECK_EQ(ef_queue_close(q), 0);
    int files;
    qt_dir_bytes(dir, "alarm-", &files);
    CHECK_EQ(files, 0);
    qt_dir_bytes(dir, "telem-", &files);
    CHECK_EQ(files, 0);
    qt_rmdir(dir);
}

static void out_of_order_acks_lose_nothing_after_reopen(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = open_q(dir);
    enum { A = 40, W = 16 };
    for (long i = 0; i < A; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_ALARM, i, 60), 0);
    struct ef_qmsg *m[W];
    for (int i = 0; i < W; i++) {
        CHECK_EQ(ef_queue_take(q, &m[i]), 0);
        CHECK_EQ(qt_seq(m[i]), i);
    }
    /* Acks arrive in reverse, and number 5 never does. */
    for (int i = W - 1; i >= 0; i--)
        if (i != 5)
            ef_queue_ack(q, m[i]);
    ef_queue_tick(q, 1000000); /* writes the cursor */
    CHECK_EQ(ef_queue_close(q), 0);
    q = open_q(dir);
    int seen[A] = { 0 };
    qt_drain(q, seen, A);
    for (int i = 0; i < A; i++) {
        if (i < 5)
            CHECK_EQ(seen[i], 0); /* the acknowledged prefix is not replayed */
        else if (i == 5 || i >= W)
            CHECK_EQ(seen[i], 1); /* never acknowledged: not lost */
        else
            CHECK(seen[i] <= 1);  /* acked after a gap: duplicates allowed */
    }
    CHECK_EQ(ef_queue_close(q), 0);
    qt_rmdir(dir);
}

static void corrupt_cursor_replays_everything(void)
{
    char *dir = qt_mkdtemp();
    struct ef_queue *q = open_q(dir);
    for (long i = 0; i < 10; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_ALARM, i, 60), 0);
    struct ef_qmsg *m;
    CHECK_EQ(ef_queue_take(q, &m), 0);
    ef_queue_ack(q, m);
    CHECK_EQ(ef_queue_close(q), 0);
    char path[4096];
    snprintf(path, sizeof(path), "%s/cursor", dir);
    write_file(path, (const uint8_t *)"garbage", 7);
    q = open_q(dir);
    int seen[10] = { 0 };
    CHECK_EQ(qt_drain(q, seen, 10), 10); /* duplicates, never loss */
    CHECK_EQ(ef_queue_close(q), 0);
    qt_rmdir(dir);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        { "truncated_tail_at_every_offset_is_cut", truncated_tail_at_every_offset_is_cut },
        { "garbage_appended_is_cut", garbage_appended_is_cut },
        { "flipped_byte_in_the_middle_is_skipped", flipped_byte_in_the_middle_is_skipped },
        { "close_then_reopen_brings_everything_back", close_then_reopen_brings_everything_back },
        { "out_of_order_acks_lose_nothing_after_reopen", out_of_order_acks_lose_nothing_after_reopen },
        { "corrupt_cursor_replays_everything", corrupt_cursor_replays_everything },
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
