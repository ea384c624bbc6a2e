/* ef_paho_nudge_receiver: ends the idle sleep of a thread named like paho's
 * receive thread, and leaves such a thread alone while it waits in poll()
 * (where an EINTR would cost paho a 100 ms sleep) or runs. Stand-in threads
 * take paho's thread name; no broker is involved. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
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

int main(void)
{
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
