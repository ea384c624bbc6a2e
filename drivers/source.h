/* The interface between data sources (Modbus buses, serial sensors) and the
 * gateway core. A driver never includes a gateway header: the gateway hands it
 * a sink (callbacks + context) and a counters block per device, and drives it
 * through the source ops table. The core cannot tell whether a sample came
 * from RS-485, TCP or a GPS line. */
#ifndef EF_SOURCE_H
#define EF_SOURCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* One decoded value. */
enum ef_value_kind {
    EF_VAL_BOOL,
    EF_VAL_INT,    /* exact signed integer */
    EF_VAL_UINT,   /* exact unsigned integer (uint64 above 2^53 stays exact) */
    EF_VAL_FLOAT,  /* a float32 reading: printed in its shortest float32 form */
    EF_VAL_DOUBLE, /* scaled values, float64, parsed decimal numbers */
    EF_VAL_STRING, /* text, always valid UTF-8 (as.s); may hold NULs */
};

struct ef_value {
    enum ef_value_kind kind;
    union {
        bool b;
        int64_t i;
        uint64_t u;
        float f;
        double d;
        struct {
            const char *p; /* LEN bytes, not NUL-terminated; owned by the source
                            * and valid during the sink call only: copy to keep */
            size_t len;
        } s;
    } as;
};

/* The value as a double, for deadbands and alarm limits (NaN for a string,
 * which has neither: the configuration refuses them on string points). */
double ef_value_as_double(const struct ef_value *v);

/* raw * scale + offset, exact where it can be: a scale of 1/k (0.1, 0.01)
 * divides by k, so 2301 with scale 0.1 is the double nearest 230.1. */
double ef_value_scale(double raw, double scale, double offset);

struct ef_reading {
    const char *name;             /* point name; valid during the callback */
    const struct ef_point *point; /* its configuration, or NULL (unconfigured serial value) */
    struct ef_value value;
};

/* One poll of one device. A point whose read failed is simply absent. */
struct ef_sample {
    const char *device;  /* device or serial sensor name */
    size_t source_index; /* the device's index in the gateway's device table */
    int64_t ts_ms;       /* wall clock at acquisition, ms since the epoch */
    const struct ef_reading *readings;
    size_t nreadings;
};

/* Called from the source's own thread. The sample and everything it points to
 * is only valid during the call: the sink copies what it keeps. */
struct ef_sink {
    void (*sample)(void *ctx, const struct ef_sample *s);
    /* After every poll (or streaming interval): answered == false when the
     * device gave nothing usable. The gateway derives offline alarms from it. */
    void (*poll_result)(void *ctx, size_t source_index, int64_t ts_ms, bool answered);
    void *ctx;
};

/* Counters per device, written by the source thread, read by the stats
 * timer. Relaxed atomics: figures, not synchronisation. */
struct ef_dev_counters {
    atomic_uint_fast64_t polls;          /* polls attempted */
    atomic_uint_fast64_t polls_failed;   /* polls where nothing was read */
    atomic_uint_fast64_t requests;       /* Modbus requests sent / serial queries */
    atomic_uint_fast64_t errors;         /* exceptions, CRC errors, bad lines */
    atomic_uint_fast64_t timeouts;       /* requests or queries with no answer */
    atomic_uint_fast64_t points_failed;  /* point readings left out of samples */
    atomic_uint_fast64_t skipped;        /* poll cycles skipped (bus too slow) */
    atomic_uint_fast64_t readings;       /* point readings delivered */
    atomic_uint_fast64_t lines_rejected; /* serial: bad checksum, bad field count */
    atomic_uint_fast64_t lines_overlong; /* serial: discarded over-long lines */
    atomic_uint_fast64_t reopens;        /* port/connection re-opened */
};

/* A running source: one Modbus bus (all its devices) or one serial sensor. */
struct ef_source;

struct ef_source_ops {
    /* Starts the source's thread. Returns 0 or -1 (logged). */
    int (*start)(struct ef_source *src);
    /* Asks the thread to stop and joins it; no sink call happens after it. */
    void (*stop)(struct ef_source *src);
    void (*destroy)(struct ef_source *src);
};

/* Common head of every source; drivers embed it as their first member. */
struct ef_source {
    const struct ef_source_ops *ops;
    char name[EF_NAME_MAX + 1];
    /* Monotonic ms of the thread's last sign of life (each loop turn); the
     * service watchdog is fed only while every source keeps this fresh. */
    atomic_int_fast64_t alive_ms;
};

static inline int ef_source_start(struct ef_source *s) { return s->ops->start(s); }
static inline void ef_source_stop(struct ef_source *s) { s->ops->stop(s); }
static inline void ef_source_destroy(struct ef_source *s) { s->ops->destroy(s); }

#endif
