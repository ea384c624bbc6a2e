/* The periodic P/G/stats message: counters of the whole gateway and of
 * every device. The fields are documented in docs/stats.md. */
#ifndef EF_STATS_H
#define EF_STATS_H

#include <stdint.h>

#include "drivers/source.h"
#include "gateway/commands.h"
#include "gateway/core/core.h"
#include "gateway/north/json.h"
#include "gateway/mqtt/publisher.h"
#include "gateway/queue/queue.h"
#include "gateway/sparkplug/sp_node.h"

struct ef_stats_input {
    int64_t ts_ms;
    int64_t uptime_s;
    uint64_t clock_jumps;
    bool clock_unsynced, disk_fault;
    struct ef_core_stats core;
    struct ef_queue_stats queue;
    struct ef_pub_stats pub;
    struct ef_cmd_stats commands;
    bool has_sparkplug;
    struct ef_sp_stats sparkplug;
    const struct ef_core *names;       /* device names by index */
    struct ef_dev_counters *devices;   /* by index */
    size_t ndevices;
};

/* Encodes the stats JSON into B. Pure. */
void ef_stats_encode(struct ef_buf *b, const struct ef_stats_input *in);

/* Counters count from the process start, while a reload replaces the core
 * and the device counters (and, for a new [mqtt], the publisher): these add
 * what a replaced part had counted to what its successor counts. */
void ef_stats_add_core(struct ef_core_stats *acc, const struct ef_core_stats *s);
void ef_stats_add_pub(struct ef_pub_stats *acc, const struct ef_pub_stats *s);
/* Atomic adds into DST, which may be in use by a running source. */
void ef_stats_add_device(struct ef_dev_counters *dst, struct ef_dev_counters *src);

#endif
