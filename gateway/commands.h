/* Commands in the running gateway: the downlink from MQTT to the devices.
 *
 *   publisher thread  a message on P/G/set/+ or P/G/set/+/+ (ef_pub_subscribe)
 *                     -> ef_cmd_prepare (gateway/command/: parse, check the
 *                        safety rules and every value, encode the registers)
 *                     -> refused: the result is sent at once
 *                     -> an id seen in the last 10 minutes: not executed; its
 *                        first result is sent again
 *                     -> else the first write goes to the bus's source
 *   bus thread        executes it ahead of its polls, reads the point back,
 *                     and from the done callback submits the next point's
 *                     write, or finishes: result JSON, one info line per
 *                     point, counters, the id cache
 *   any thread        the result leaves through ef_pub_reply (QoS 1, ahead of
 *                     the queue; the MQTT 5 Response Topic and Correlation
 *                     Data when the command had them)
 *
 * Lifetime: one ef_commands per process; the generation (configuration and
 * sources) it dispatches to is swapped by ef_commands_set() around a reload.
 * A source's stop answers every write it accepted (EF_WRITE_STOPPING), so no
 * command outlives the generation it was prepared against. */
#ifndef EF_COMMANDS_H
#define EF_COMMANDS_H

#include <stdint.h>

#include "config/config.h"
#include "drivers/source.h"
#include "gateway/mqtt/publisher.h"

struct ef_commands;

struct ef_cmd_stats {
    uint64_t received; /* messages on the command topics */
    uint64_t executed; /* every point written */
    uint64_t failed;   /* a write was attempted and failed (or expired on its way) */
    uint64_t refused;  /* nothing written: a rule or a value refused it */
    uint64_t repeated; /* a repeated id: not executed, its first result sent again */
};

/* NULL when out of memory. */
struct ef_commands *ef_commands_new(void);
void ef_commands_free(struct ef_commands *c);

/* Before ef_pub_start: when CFG has a writable point, PUB subscribes to the
 * command topics on behalf of C. Returns 0 or -1 (logged). */
int ef_commands_attach(struct ef_commands *c, const struct ef_config *cfg,
                       struct ef_publisher *pub);

/* The generation commands go to: CFG and its SOURCES (by bus index), and the
 * publisher results leave through. NULL CFG (during a reload): commands are
 * refused with "reloading". Waits for a command being dispatched. */
void ef_commands_set(struct ef_commands *c, const struct ef_config *cfg,
                     struct ef_source *const *sources, size_t nsources, struct ef_publisher *pub);

/* A command that came by another dialect (Sparkplug B DCMD), shaped as a
 * message on P/G/set/D: the same rules, execution and result. Publisher
 * thread. */
void ef_commands_submit(struct ef_commands *c, const struct ef_pub_inbound *m);

/* True when CFG has a writable point: only then are the command topics
 * subscribed to. */
bool ef_commands_wanted(const struct ef_config *cfg);

void ef_commands_get_stats(struct ef_commands *c, struct ef_cmd_stats *out);

#endif
