/* SIGKILL at random moments: a child pushes alarms and telemetry (spilled
 * with flush_ms 0 at every tick) and reports through a pipe every alarm
 * whose push returned and every telemetry batch whose spill tick returned.
 * The parent kills it, reopens the queue and checks each reported message
 * is there. Duplicates are allowed, loss is not. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "qtest.h"

#define ROUNDS 12
#define PER_ROUND 1000000L

static void child(const char *dir, int fd, long base)
{
    struct ef_queue_cfg cfg = qt_cfg();
    cfg.flush_ms = 0;
    cfg.max_disk_mb = 64;
    struct ef_queue *q = NULL;
    if (ef_queue_open(dir, &cfg, &q) != 0)
        _exit(2);
    ef_queue_tick(q, 0); /* stamps pushes with the fake clock below */
    char line[64];
    long t_first = base + 500000;
    for (long i = 0;; i++) {
        if (qt_push(q, EF_CLASS_ALARM, base + i, 100) == 0) {
            int n = snprintf(line, sizeof(line), "A %ld\n", base + i);
            if (write(fd, line, (size_t)n) != n)
                _exit(3);
        }
        for (int k = 0; k < 20; k++)
            qt_push(q, EF_CLASS_TELEMETRY, base + 500000 + i * 20 + k, 200);
        ef_queue_tick(q, i + 1);
        /* Everything pushed before the tick is on disk now. */
        int n = snprintf(line, sizeof(line), "T %ld %ld\n", t_first, base + 500000 + i * 20 + 20);
        if (write(fd, line, (size_t)n) != n)
            _exit(3);
    }
}

static void sigkill_at_random_moments_loses_no_durable_message(void)
{
    char *dir = qt_mkdtemp();
    srand((unsigned)time(NULL));
    static unsigned char seen[ROUNDS * PER_ROUND];
    static char want[ROUNDS * PER_ROUND];
    for (int r = 0; r < ROUNDS; r++) {
        long base = r * PER_ROUND;
        int p[2];
        CHECK(pipe(p) == 0);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(dir, p[1], base);
        }
        close(p[1]);
        struct timespec d = { 0, (long)(rand() % 150 + 5) * 1000000L };
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status));
        /* Read what the child reported before it died. */
        FILE *f = fdopen(p[0], "r");
        CHECK(f);
        char line[128];
        long nalarms = 0;
        while (fgets(line, sizeof(line), f)) {
            long a, b;
            if (sscanf(line, "A %ld", &a) == 1) {
                want[a] = 1;
                nalarms++;
            } else if (sscanf(line, "T %ld %ld", &a, &b) == 2 && strchr(line, '\n')) {
                for (long s = a; s < b; s++)
                    want[s] = 1;
            }
        }
        fclose(f);
        /* Reopen: every reported message must come back. */
        struct ef_queue_cfg cfg = qt_cfg();
        struct ef_queue *q = NULL;
        CHECK_EQ(ef_queue_open(dir, &cfg, &q), 0);
        struct ef_qmsg *m;
        while (ef_queue_take(q, &m) == 0) {
            long s = qt_seq(m);
            CHECK(s >= base && s < base + PER_ROUND);
            seen[s] = 1;
            ef_queue_ack(q, m);
        }
        for (long s = base; s < base + PER_ROUND; s++)
            if (want[s] && !seen[s]) {
                fprintf(stderr, "round %d: message %ld lost\n", r, s);
                CHECK(0);
            }
        fprintf(stderr, "round %d: %ld alarms reported, all back\n", r, nalarms);
        CHECK_EQ(ef_queue_close(q), 0);
    }
    qt_rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "sigkill_at_random_moments_loses_no_durable_message") == 0) {
        sigkill_at_random_moments_loses_no_durable_message();
        return 0;
    }
    return 1;
}
