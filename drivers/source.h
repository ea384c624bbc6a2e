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
    /* Sent even inside its deadband: the read-back after a write, so the
     * telemetry shows what the device took. */
    bool forced;
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

/* Writing to a device (commands from MQTT).
 *
 * The caller (the command layer) has already checked the value against the
 * point and encoded it; the source only sends it, in its own thread, ahead
 * of its polls, and reads the point back. One request is one Modbus write
 * of one point; a command for several points chains them: the next one is
 * submitted from the previous one's done callback (write may be called from
 * done).
 *
 * Status of a write. The error text of the result says which, with names. */
enum ef_write_status {
    EF_WRITE_OK,           /* the device acknowledged the write */
    EF_WRITE_OFFLINE,      /* the device's last offline_after polls failed: not sent */
    EF_WRITE_DISCONNECTED, /* the bus's line is down (port gone, connection
                            * refused), or could not be reopened: not sent */
    EF_WRITE_EXCEPTION,    /* the device answered with a Modbus exception:
                            * not applied; the code is in `exception` */
    EF_WRITE_TIMEOUT,      /* sent, no answer: the device may or may not have
                            * applied it. Never sent again (at most once). */
    EF_WRITE_FAILED,       /* sent, the answer was garbled or the line broke
                            * while waiting: may or may not have been applied */
    EF_WRITE_EXPIRED,      /* its deadline passed before it could be sent */
    EF_WRITE_BUSY,         /* the bus's write queue is full: not sent */
    EF_WRITE_STOPPING,     /* the source stopped (or is not running): not sent */
    EF_WRITE_INVALID,      /* not writable here: a source without writes, a
                            * device of another source, a malformed request */
};

/* Modbus function codes of a write. */
#define EF_WRITE_FC_COIL 5       /* Write Single Coil: `coil` */
#define EF_WRITE_FC_REGISTER 6   /* Write Single Register: regs[0] */
#define EF_WRITE_FC_REGISTERS 16 /* Write Multiple Registers: regs[0..count-1] */
#define EF_WRITE_FC_MASK 22      /* Mask Write Register: and_mask, or_mask */

struct ef_write_result {
    enum ef_write_status status;
    uint8_t exception;  /* EF_WRITE_EXCEPTION: the Modbus exception code */
    char error[160];    /* "" on success; else the reason, naming the device or bus */
    /* After EF_WRITE_OK: the point read back at once and decoded as it is
     * polled. False when the read-back failed (error then says why; the
     * write itself still succeeded) or the request had no point. */
    bool has_readback;
    struct ef_value readback;
};

struct ef_write_req {
    size_t source_index;   /* the device: its index in cfg->devices */
    uint8_t fc;            /* EF_WRITE_FC_* */
    uint16_t address;      /* protocol address (0-based) */
    uint16_t count;        /* FC16: registers in regs, 1..4; ignored otherwise */
    uint16_t regs[4];
    bool coil;
    uint16_t and_mask, or_mask;
    /* Monotonic ms (ef_mono_ms): never sent after this; EF_WRITE_EXPIRED. */
    int64_t deadline_mono_ms;
    /* The point written (in the source's configuration), for the read-back
     * and the forced telemetry; NULL: no read-back. */
    const struct ef_point *point;
    /* Called exactly once for every accepted request, from the source's
     * thread (also when it stops: EF_WRITE_STOPPING). R is valid during the
     * call only. Never called for a request write() refused. */
    void (*done)(void *ctx, const struct ef_write_result *r);
    void *ctx;
};

struct ef_source_ops {
    /* Starts the source's thread. Returns 0 or -1 (logged). */
    int (*start)(struct ef_source *src);
    /* Asks the thread to stop and joins it; no sink call happens after it,
     * and every accepted write has had its done call. */
    void (*stop)(struct ef_source *src);
    void (*destroy)(struct ef_source *src);
    /* Optional (NULL: the source cannot write). Called from any thread.
     * Copies REQ into the source's small bounded queue and wakes its thread:
     * returns 0 (accepted: REQ->done follows), or -1 with *NOW filled (not
     * accepted, done is not called): EF_WRITE_OFFLINE, _DISCONNECTED, _BUSY,
     * _EXPIRED, _STOPPING or _INVALID. */
    int (*write)(struct ef_source *src, const struct ef_write_req *req,
                 struct ef_write_result *now);
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

/* The write op, or at once EF_WRITE_INVALID for a source without writes
 * (a serial sensor). */
int ef_source_write(struct ef_source *s, const struct ef_write_req *req,
                    struct ef_write_result *now);

#endif
