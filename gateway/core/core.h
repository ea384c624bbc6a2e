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

/* The P/G/availability/D topics of C's devices (*N of them), for a reload:
 * the caller frees the list with ef_core_topics_free(). NULL when out of
 * memory. */
char **ef_core_availability_topics(const struct ef_core *c, size_t *n);
void ef_core_topics_free(char **topics, size_t n);

/* Queues an empty retained message (which deletes it) on every topic of
 * PREV that none of C's devices publishes on: devices a reload removed, or
 * all of them when topic_prefix or the gateway id changed. */
void ef_core_retire_availability(struct ef_core *c, char *const *prev, size_t n);

#endif
