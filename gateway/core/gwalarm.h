/* The gateway's own alarms, on P/G/alarm/gateway/X (the device name
 * `gateway` is reserved for them): today X = queue, the queue's disk.
 *
 *   {"ts":...,"state":"active","kind":"disk","error":"writing alarms: Input/output error"}
 *   {"ts":...,"state":"cleared","kind":"disk"}
 *
 * Both are pushed like any alarm: "active" cannot be made durable while the
 * disk fails, so it waits in memory, is sent from there, and is written
 * once the disk works again; "cleared" comes once writes and syncs work,
 * so it is durable. One order for both: a flapping disk never leaves
 * "active" after "cleared" on the broker, nor the reverse.
 * Owned by the gateway for the life of the process (a reload keeps it). */
#ifndef EF_GWALARM_H
#define EF_GWALARM_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "gateway/core/clockwatch.h"
#include "gateway/queue/queue.h"

struct ef_gw_alarms {
    bool disk_active;
    char topic_disk[EF_STR_MAX + EF_NAME_MAX + 32];
    int qos;
    bool retain;
};

/* Topics and QoS from CFG (again after a reload). */
void ef_gw_alarms_config(struct ef_gw_alarms *a, const struct ef_config *cfg);

/* Raises or clears the disk alarm after the queue's disk state; the main
 * loop calls it after each ef_queue_tick(). CLOCK may be NULL. */
void ef_gw_alarms_tick(struct ef_gw_alarms *a, struct ef_queue *q, struct ef_clock_watch *clock);

/* Appends ,"clock":"unsynced" inside the JSON object in B. */
struct ef_buf;
void ef_payload_mark_unsynced(struct ef_buf *b);

#endif
