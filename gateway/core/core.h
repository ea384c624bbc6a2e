/* The gateway core: turns samples from the sources into queued messages.
 *
 * It owns the topics of every device, applies report-by-exception
 * (deadband/heartbeat), runs the alarm state machines, encodes payloads and
 * pushes them into the queue. Its sink is handed to every source; sink calls
 * arrive concurrently from source threads and are serialised per device. */
#ifndef EF_CORE_H
#define EF_CORE_H

#include <stdint.h>

#include "drivers/source.h"
#include "gateway/queue/queue.h"

struct ef_core;
struct ef_sp_node;

struct ef_core_stats {
    uint64_t samples;       /* samples received */
    uint64_t readings;      /* point readings received */
    uint64_t messages;      /* telemetry messages queued */
    uint64_t suppressed;    /* samples with nothing past its deadband */
    uint64_t alarms;        /* alarm messages queued */
    uint64_t queue_errors;  /* pushes the queue refused */
    uint64_t clock_dropped; /* telemetry dropped: clock not synchronised (clock_unsynced = drop) */
};

/* Creates the core for CFG (which must outlive it). Device tables are
 * indexed by source_index: Modbus devices first (cfg->devices order), then
 * serial sensors. Alarms active in the state file carry over; those CFG no
 * longer has (device, point or limit gone, topics moved) are queued as
 * cleared. RELOAD says this replaces a running core (SIGHUP), for the log.
 * Returns NULL on allocation failure. */
struct ef_core *ef_core_new(const struct ef_config *cfg, struct ef_queue *q, bool reload);
void ef_core_free(struct ef_core *c);

/* Telemetry goes out as Sparkplug B DDATA through SP (which must outlive
 * the core) instead of JSON on P/G/telemetry/D. Call before the sources
 * start. */
void ef_core_set_sparkplug(struct ef_core *c, struct ef_sp_node *sp);

/* The sink to give every source. Valid while the core lives. */
const struct ef_sink *ef_core_sink(struct ef_core *c);

size_t ef_core_ndevices(const struct ef_core *c);
const char *ef_core_device_name(const struct ef_core *c, size_t index);

void ef_core_get_stats(struct ef_core *c, struct ef_core_stats *out);

/* The clock's state, which marks (or drops) what is made while it is not
 * synchronised (clockwatch.h). Set before the sources start; it must
 * outlive the core. NULL: never marked. */
struct ef_clock_watch;
void ef_core_set_clock(struct ef_core *c, struct ef_clock_watch *clock);

/* The P/G/availability/D topics of C's devices (*N of them), for a reload:
 * the caller frees the list with ef_core_topics_free(). NULL when out of
 * memory. */
char **ef_core_availability_topics(const struct ef_core *c, size_t *n);
void ef_core_topics_free(char **topics, size_t n);

/* Queues an empty retained message (which deletes it) on every topic of
 * PREV that none of C's devices publishes on: devices a reload removed, or
 * all of them when topic_prefix or the gateway id changed. */
void ef_core_retire_availability(struct ef_core *c, char *const *prev, size_t n);

/* What the core knows of one device now, for the local web view. Copies,
 * so they stay valid after the device's lock is released. */
struct ef_core_point_view {
    char name[EF_NAME_MAX + 1];
    char unit[33];
    struct ef_value value; /* a string points into text */
    char text[256];        /* a string's first bytes (cut at 256) */
    int64_t ts_ms; /* of the latest reading, 0 = never read */
    bool high_active, low_active;
};

struct ef_core_dev_view {
    bool offline;
    bool answered;        /* the latest poll */
    int64_t last_poll_ms; /* wall clock, 0 = not polled yet */
    size_t npoints;       /* values known; may exceed what was copied */
};

/* Fills DV and up to CAP points of device INDEX under its lock (held only
 * for the copy). Points in the configuration that were never read come
 * first with ts_ms = 0, so the page lists them from the start. */
void ef_core_view(struct ef_core *c, size_t index, struct ef_core_dev_view *dv,
                  struct ef_core_point_view *pts, size_t cap);

#endif
