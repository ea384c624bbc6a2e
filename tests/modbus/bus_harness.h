/* Helpers for the bus tests and benchmarks: start the simulator and socat
 * pty pairs as child processes (stopped by pid), build configurations in C,
 * and a sink that records what a bus delivers. */
#ifndef EF_TEST_BUS_HARNESS_H
#define EF_TEST_BUS_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config/config.h"
#include "drivers/source.h"

/* A child process; for the simulator, PORT is what it printed (or 0). */
struct child {
    pid_t pid;
    int port;
};

/* Starts SIM_PATH with ARGV (NULL-terminated, without argv[0]) and waits for
 * its "ready" line. Returns 0 or -1. */
int sim_start(struct child *c, const char *sim_path, const char *const *args);

/* socat pty pair with links DIR/a and DIR/b; waits until both exist. */
int socat_start(struct child *c, const char *dir);

/* SIGTERM, then waitpid. */
void child_stop(struct child *c);

/* Reads "total N" from a simulator count file; -1 if unreadable. */
long sim_count(const char *path, int unit);

/* Configuration building: a config owns its arrays (free with cfg_free). */
struct ef_point mk_point(const char *name, enum ef_reg_kind k, unsigned addr,
                         enum ef_value_type t, enum ef_order o);
struct ef_bus mk_bus(const char *name, enum ef_bus_type type);
/* Adds a device with a copy of POINTS; returns its index. */
size_t cfg_add_device(struct ef_config *cfg, const char *name, size_t bus, int unit,
                      int interval_ms, const struct ef_point *points, size_t n);
size_t cfg_add_bus(struct ef_config *cfg, const struct ef_bus *bus);
void cfg_free(struct ef_config *cfg);

/* The recording sink: the latest sample per device, counts, and the
 * device's request counter at the end of every poll (exact requests per
 * poll without timing). */
#define REC_MAX_DEV 8
#define REC_MAX_POINTS 64
#define REC_MAX_POLLS 4096
struct rec_dev {
    size_t samples;
    size_t polls, answered;
    char names[REC_MAX_POINTS][EF_NAME_MAX + 1];
    struct ef_value values[REC_MAX_POINTS];
    bool forced[REC_MAX_POINTS];
    size_t nvalues;
    size_t forced_samples; /* samples with a forced reading (a write's read-back) */
    uint64_t req_at_poll[REC_MAX_POLLS];
};
struct rec {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct ef_dev_counters *counters;
    /* Optional: called on every sample; false counts it in `bad`. */
    bool (*valid)(const struct ef_sample *s);
    size_t bad;
    struct rec_dev dev[REC_MAX_DEV];
};

void rec_init(struct rec *r, struct ef_dev_counters *counters);
struct ef_sink rec_sink(struct rec *r);
/* Waits until device DEV has completed N polls; false after 30 s (a hang,
 * not a timing check). */
bool rec_wait_polls(struct rec *r, size_t dev, size_t n);
/* Waits until device DEV has had N answered polls; false after 30 s. */
bool rec_wait_answered(struct rec *r, size_t dev, size_t n);
/* The latest value of point NAME of DEV, or NULL if absent. */
const struct ef_value *rec_value(struct rec *r, size_t dev, const char *name);

#endif
