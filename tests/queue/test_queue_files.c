/* Only regular files of our own are opened, cut, replaced or deleted in the
 * queue directory: a symlink, FIFO, directory or another user's file named
 * like a segment or the cursor is logged and left alone, and a segment is
 * created exclusively, never over a file that is already there. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/log.h"
#include "qtest.h"

#define SKIP 77

static struct ef_queue *open_q(const char *dir)
{
    struct ef_queue_cfg cfg = qt_cfg();
    cfg.flush_ms = 100;
    struct ef_queue *q = NULL;
    CHECK_EQ(ef_queue_open(dir, &cfg, &q), 0);
    return q;
}

/* A file of LEN bytes of junk (the record magic never appears in it). */
static void write_junk(const char *path, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f);
    for (size_t i = 0; i < len; i++)
        fputc('a' + (int)(i % 26), f);
    CHECK(fclose(f) == 0);
}

static bool same_junk(const char *path, size_t len)
{
    FILE *f = fopen(path, "rb");
    CHECK(f);
    size_t i = 0;
    int ch;
    bool ok = true;
    while ((ch = fgetc(f)) != EOF)
        ok &= ch == 'a' + (int)(i++ % 26);
    fclose(f);
    return ok && i == len;
}

static void path_in(char *out, size_t n, const char *dir, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

/* Queues N telemetry messages while disconnected, spills them, then takes
 * and acknowledges all of them (so segments are deleted and the cursor is
 * written) and closes. */
static void traffic(const char *dir, int n)
{
    struct ef_queue *q = open_q(dir);
    int64_t t = ef_mono_ms();
    for (long i = 0; i < n; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, i, 100), 0);
    CHECK_EQ(qt_push(q, EF_CLASS_ALARM, n, 50), 0);
    ef_queue_tick(q, t + 1000);
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.spilled_msgs, n);
    struct ef_qmsg *m;
    for (int i = 0; i < n / 2 && ef_queue_take(q, &m) == 0; i++)
        ef_queue_ack(q, m);
    ef_queue_tick(q, t + 3000); /* writes the cursor */
    CHECK_EQ(qt_drain(q, NULL, 0), n + 1 - n / 2);
    ef_queue_tick(q, t + 5000);
    ef_queue_close(q);
}

static void a_symlink_named_like_a_segment_or_the_cursor_is_left_alone(void)
{
    char *dir = qt_mkdtemp(), *outside = qt_mkdtemp();
    char log[4096], target[4096], p[4096];
    path_in(log, sizeof log, outside, "log");
    path_in(target, sizeof target, outside, "passwd");
    qt_log_to(log);
    write_junk(target, 1279);
    const char *names[] = { "telem-0000000000000005.q", "alarm-0000000000000001.q", "cursor",
                            "cursor.tmp" };
    for (size_t i = 0; i < 4; i++) {
        path_in(p, sizeof p, dir, names[i]);
        CHECK(symlink(target, p) == 0);
    }
    traffic(dir, 50);
    traffic(dir, 50);
    CHECK(same_junk(target, 1279));
    struct stat st;
    for (size_t i = 0; i < 4; i++) {
        path_in(p, sizeof p, dir, names[i]);
        CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
    }
    CHECK(qt_log_count(log, "telem-0000000000000005.q is a symbolic link") >= 1);
    CHECK(qt_log_count(log, "cursor is a symbolic link") >= 1);
    CHECK(qt_log_count(log, "cursor.tmp: a symbolic link") >= 1);
    unlink(log);
    unlink(target);
    qt_rmdir(outside);
    qt_rmdir(dir);
}

static void a_fifo_or_directory_named_like_a_segment_is_left_alone(void)
{
    char *dir = qt_mkdtemp();
    char log[4096], fifo[4096], sub[4096];
    path_in(log, sizeof log, dir, "log");
    path_in(fifo, sizeof fifo, dir, "alarm-0000000000000003.q");
    path_in(sub, sizeof sub, dir, "telem-0000000000000004.q");
    qt_log_to(log);
    CHECK(mkfifo(fifo, 0600) == 0);
    CHECK(mkdir(sub, 0700) == 0);
    traffic(dir, 30); /* opening the FIFO would block here for ever */
    traffic(dir, 30);
    struct stat st;
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    CHECK(lstat(sub, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(qt_log_count(log, "alarm-0000000000000003.q is not a regular file") >= 1);
    CHECK(qt_log_count(log, "telem-0000000000000004.q is not a regular file") >= 1);
    rmdir(sub);
    qt_rmdir(dir);
}

static void another_users_file_named_like_a_segment_is_left_alone(void)
{
    if (geteuid() != 0) {
        printf("SKIP: needs root to give a file to another user\n");
        exit(SKIP);
    }
    char *dir = qt_mkdtemp();
    char log[4096], p[4096];
    path_in(log, sizeof log, dir, "log");
    path_in(p, sizeof p, dir, "telem-0000000000000002.q");
    qt_log_to(log);
    write_junk(p, 700);
    CHECK(chown(p, 65534, 65534) == 0);
    traffic(dir, 20);
    CHECK(same_junk(p, 700));
    CHECK(qt_log_count(log, "telem-0000000000000002.q is owned by another user") >= 1);
    qt_rmdir(dir);
}

/* A file appears under the name of the next segment after the queue
 * opened (another process on the same directory): it is not truncated or
 * written; the queue takes the next number. */
static void a_segment_is_never_created_over_an_existing_file(void)
{
    char *dir = qt_mkdtemp();
    char log[4096], p[4096];
    path_in(log, sizeof log, dir, "log");
    qt_log_to(log);
    struct ef_queue *q = open_q(dir);
    path_in(p, sizeof p, dir, "telem-0000000000000001.q");
    write_junk(p, 333);
    for (long i = 0; i < 40; i++)
        CHECK_EQ(qt_push(q, EF_CLASS_TELEMETRY, i, 100), 0);
    ef_queue_tick(q, ef_mono_ms() + 1000);
    struct ef_queue_stats st;
    ef_queue_get_stats(q, &st);
    CHECK_EQ(st.spilled_msgs, 40);
    CHECK_EQ(st.disk_errors, 0);
    CHECK(same_junk(p, 333));
    char seg2[4096];
    path_in(seg2, sizeof seg2, dir, "telem-0000000000000002.q");
    CHECK(access(seg2, F_OK) == 0);
    int seen[40] = { 0 };
    CHECK_EQ(qt_drain(q, seen, 40), 40);
    CHECK_EQ(ef_queue_close(q), 0);
    CHECK(same_junk(p, 333));
    CHECK(qt_log_count(log, "telem-0000000000000001.q exists but is not one of") == 1);
    qt_rmdir(dir);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        { "a_symlink_named_like_a_segment_or_the_cursor_is_left_alone",
          a_symlink_named_like_a_segment_or_the_cursor_is_left_alone },
        { "a_fifo_or_directory_named_like_a_segment_is_left_alone",
          a_fifo_or_directory_named_like_a_segment_is_left_alone },
        { "another_users_file_named_like_a_segment_is_left_alone",
          another_users_file_named_like_a_segment_is_left_alone },
        { "a_segment_is_never_created_over_an_existing_file",
          a_segment_is_never_created_over_an_existing_file },
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
