/* Helpers for the sensor driver test: the simulator process, a sink that
 * records what it gets, and waiting for conditions (never fixed sleeps). */
#ifndef EF_TEST_SENSOR_UTIL_H
#define EF_TEST_SENSOR_UTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "drivers/source.h"

#define REC_VALUES 16
#define REC_SAMPLES 4096

struct rec_value {
    char name[EF_NAME_MAX + 1];
    struct ef_value v;
    const struct ef_point *point;
};

struct rec_sample {
    char device[EF_NAME_MAX + 1];
    size_t source_index;
    int64_t ts_ms;
    size_t n;
    struct rec_value values[REC_VALUES];
};

struct recorder {
    pthread_mutex_t lock;
    struct rec_sample *samples; /* REC_SAMPLES of them */
    size_t nsamples;
    size_t answered, failed; /* poll_result calls */
    size_t bad_index;        /* poll_result calls with an unexpected index */
    size_t want_index;
    struct ef_sink sink;
};

void recorder_init(struct recorder *r, size_t want_index);
void recorder_free(struct recorder *r);
size_t recorder_count(struct recorder *r);
size_t recorder_failed(struct recorder *r);
/* Copies sample I out under the lock. */
struct rec_sample recorder_get(struct recorder *r, size_t i);
const struct rec_value *rec_find(const struct rec_sample *s, const char *name);

struct sim {
    pid_t pid;
    int out_fd; /* the simulator's stdout */
    char dir[64];
    char link[128];
    char stats[128];
};

/* Makes a temp dir with the link and stats paths (does not start anything). */
int sim_prepare(struct sim *s);
/* Starts serial_sim.py with --link and --stats plus ARGS (NULL-terminated)
 * and waits for "ready". Returns 0 or -1. */
int sim_start(struct sim *s, const char *const *args);
/* Waits for a line equal to WANT on the simulator's stdout. */
int sim_expect(struct sim *s, const char *want, int timeout_ms);
/* Reads NAME=N from the stats file; -1 when absent. */
long sim_stat(const struct sim *s, const char *name);
/* SIGTERM, wait, remove the temp dir. */
void sim_stop(struct sim *s);

/* Polls COND every 10 ms for up to MS milliseconds; OKVAR says if it held. */
#define WAIT_FOR(okvar, cond, ms)                                                          \
    do {                                                                                   \
        (okvar) = false;                                                                   \
        for (int t_ = 0; t_ <= (ms) / 10; t_++) {                                          \
            if (cond) {                                                                    \
                (okvar) = true;                                                            \
                break;                                                                     \
            }                                                                              \
            ef_sleep_ms(10);                                                               \
        }                                                                                  \
    } while (0)

#endif
