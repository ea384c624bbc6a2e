/* ef_paho_nudge_receiver: ends the idle sleep of a thread named like paho's
 * receive thread, and leaves such a thread alone while it waits in poll()
 * (where an EINTR would cost paho a 100 ms sleep) or runs. Stand-in threads
 * take paho's thread name; no broker is involved.
 *
 * Where /proc cannot show a sleeping thread's system call by this build's
 * numbers (qemu-user shows the host's), the nudge must know it is off, and
 * the waking part is skipped (exit 77) with the number seen. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "gateway/mqtt/paho_nudge.h"

#include "expect.h"

static atomic_int sleeps_cut;  /* nanosleeps that ended with EINTR */
static atomic_int polls_cut;   /* polls that ended with EINTR */
static atomic_bool stop;
static int pipefd[2];

static void *sleeper(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "MQTTAsync_rcv");
    while (!atomic_load(&stop)) {
        struct timespec ts = {.tv_sec = 5, .tv_nsec = 0}; /* far longer than the test */
        if (nanosleep(&ts, NULL) != 0 && errno == EINTR)
            atomic_fetch_add(&sleeps_cut, 1);
    }
    return NULL;
}

static void *poller(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "MQTTAsync_rcv");
    struct pollfd pfd = {.fd = pipefd[0], .events = POLLIN};
    while (!atomic_load(&stop)) {
        if (poll(&pfd, 1, -1) < 0 && errno == EINTR)
            atomic_fetch_add(&polls_cut, 1);
        char c;
        if (pfd.revents & POLLIN)
            (void)!read(pipefd[0], &c, 1);
    }
    return NULL;
}

static void ms_sleep(int ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static atomic_int probe_tid;
static atomic_bool probe_stop;

/* Sleeps in the nanosleep system call itself, not through glibc, so the
 * number /proc must show is exactly SYS_nanosleep. The kernel's old
 * timespec is two longs on every Linux ABI, whatever time_t is. */
static void *probe(void *arg)
{
    (void)arg;
    atomic_store(&probe_tid, (int)gettid());
    while (!atomic_load(&probe_stop)) {
        struct { long sec, nsec; } ts = {0, 20000000L};
        syscall(SYS_nanosleep, &ts, NULL);
    }
    return NULL;
}

/* The system call number /proc shows for a thread known to sleep in
 * nanosleep, or -1 if it never shows one (within ~5 s). */
static long observed_sleep_nr(void)
{
    pthread_t t;
    pthread_create(&t, NULL, probe, NULL);
    long nr = -1;
    for (int i = 0; i < 500 && nr < 0; i++) {
        char path[64], buf[128] = "";
        snprintf(path, sizeof path, "/proc/self/task/%d/syscall", atomic_load(&probe_tid));
        int fd = atomic_load(&probe_tid) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
        if (fd >= 0) {
            ssize_t got = read(fd, buf, sizeof buf - 1);
            buf[got > 0 ? got : 0] = '\0';
            close(fd);
        }
        char *end;
        long v = strtol(buf, &end, 10);
        if (end != buf && v >= 0) /* not "running", nor -1 (between calls) */
            nr = v;
        else
            ms_sleep(10);
    }
    atomic_store(&probe_stop, true);
    pthread_join(t, NULL);
    return nr;
}

int main(void)
{
    /* Tell "cannot observe here" from "the nudge is wrong": the nudge's own
     * check must agree with what this independent probe sees. */
    long seen = observed_sleep_nr();
    bool observable = seen == SYS_nanosleep;
    EXPECT(ef_paho_nudge_available() == observable,
           "the nudge says it is %s, but a thread in nanosleep shows %ld (this build: %d)",
           ef_paho_nudge_available() ? "on" : "off", seen, (int)SYS_nanosleep);

    /* Nothing named like paho's thread: nothing signalled. */
    EXPECT(ef_paho_nudge_receiver() == 0, "signalled a thread that is not paho's");

    /* A receive thread blocked in poll() is never signalled. */
    EXPECT(pipe(pipefd) == 0, "pipe");
    pthread_t pt;
    pthread_create(&pt, NULL, poller, NULL);
    ms_sleep(50);
    for (int i = 0; i < 20; i++) {
        EXPECT(ef_paho_nudge_receiver() == 0, "signalled a thread waiting in poll()");
        ms_sleep(2);
    }
    EXPECT(atomic_load(&polls_cut) == 0, "poll() was interrupted %d time(s)",
           atomic_load(&polls_cut));
    if (!observable) {
        atomic_store(&stop, true);
        (void)!write(pipefd[1], "x", 1);
        pthread_join(pt, NULL);
        if (failures) {
            fprintf(stderr, "%d failure(s)\n", failures);
            return 1;
        }
        printf("SKIP: waking a sleeping thread: /proc shows system call %ld for a thread in "
               "nanosleep, not this build's %d (qemu-user shows the host's numbers)\n",
               seen, (int)SYS_nanosleep);
        return 77;
    }

    /* A receive thread asleep in nanosleep is woken, and only once per nudge. */
    pthread_t st;
    pthread_create(&st, NULL, sleeper, NULL);
    int nudged = 0;
    for (int i = 0; i < 500 && nudged == 0; i++) { /* until it is asleep: <= 5 s */
        nudged = ef_paho_nudge_receiver();
        ms_sleep(10);
    }
    EXPECT(nudged == 1, "nudged %d sleeping thread(s), want 1", nudged);
    for (int i = 0; i < 500 && atomic_load(&sleeps_cut) == 0; i++)
        ms_sleep(10);
    EXPECT(atomic_load(&sleeps_cut) == 1, "the sleep was cut %d time(s), want 1",
           atomic_load(&sleeps_cut));
    EXPECT(atomic_load(&polls_cut) == 0, "poll() was interrupted");

    atomic_store(&stop, true);
    (void)!write(pipefd[1], "x", 1);
    pthread_join(pt, NULL);
    for (int i = 0; i < 500 && ef_paho_nudge_receiver() == 0; i++) /* wake the sleeper */
        ms_sleep(10);
    pthread_join(st, NULL);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
