/* The Sparkplug B edge node: edgeferry's devices as Sparkplug devices.
 *
 * It keeps what a session needs beyond the queue: the alias table (one
 * alias per point, unique over the node), the last value of every point
 * (DBIRTH lists them all), the session state machine (sp_session.h) and the
 * bdSeq file in state_dir. The core feeds it values from the source threads;
 * the publisher asks it, on its own thread, for the will, the messages to
 * send before the queue (births, deaths) and the wire form of each queued
 * DDATA (aliases, is_historical, seq), and hands it what arrives (STATE,
 * NCMD, DCMD). One mutex, never held while calling out.
 *
 * Messages it returns (struct ef_sp_out) point into the node's buffers and
 * stay valid until the next call of the same function. */
#ifndef EF_SP_NODE_H
#define EF_SP_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "drivers/source.h"

struct ef_sp_node;

struct ef_sp_out {
    const char *topic;
    const void *payload;
    size_t len;
    int qos;
    bool retain;
};

struct ef_sp_stats {
    uint64_t bdseq;            /* bdSeq of the current (or last) connection */
    uint64_t nbirths, dbirths, ddeaths;
    uint64_t rebirth_requests; /* NCMD Node Control/Rebirth = true */
    uint64_t historical;       /* DDATA sent from the backlog */
    uint64_t dropped;          /* DDATA of a device that was not born (offline) */
    uint64_t unknown_metrics;  /* queued metrics no longer configured */
    uint64_t dcmd_received, dcmd_refused;
    uint64_t dcmd_writes;      /* DCMD metrics handed to the commands path */
    uint64_t bad_messages;     /* NCMD/DCMD/STATE that could not be decoded */
    bool host_online;
};

/* Reads the bdSeq file (state_dir/sparkplug-bdseq) and builds the device
 * table of CFG (copied: CFG need not outlive the node). NULL when out of
 * memory (logged). */
struct ef_sp_node *ef_sp_node_new(const struct ef_config *cfg);
void ef_sp_node_free(struct ef_sp_node *n);

/* A reload: new device table and aliases; a running session is reborn
 * (NBIRTH, DBIRTHs) with the same bdSeq. Returns 0 or -1 (kept the old). */
int ef_sp_node_configure(struct ef_sp_node *n, const struct ef_config *cfg);

/* The topic DDATA of device DEV is queued under. */
const char *ef_sp_node_ddata_topic(struct ef_sp_node *n, size_t dev);

/* The I-th metric of device DEV as DBIRTH will list it (for --check):
 * false when there is none. NAME points into the node. */
bool ef_sp_node_metric(struct ef_sp_node *n, size_t dev, size_t i, const char **name,
                       uint64_t *alias, const char **type);
/* The bdSeq of the last CONNECT (the state file), or -1 if none yet. */
int ef_sp_node_last_bdseq(struct ef_sp_node *n);

/* ---- the core (source threads) ---- */

/* The values of a sample of device DEV (index as in the core). */
void ef_sp_node_sample(struct ef_sp_node *n, size_t dev, const struct ef_sample *smp);
/* The device's offline state changed (offline_after failed polls / answers). */
void ef_sp_node_device_online(struct ef_sp_node *n, size_t dev, bool online);

/* ---- the publisher ---- */

/* Before each CONNECT: the next bdSeq (persisted) and its NDEATH as the will. */
void ef_sp_node_will(struct ef_sp_node *n, struct ef_sp_out *out);
/* Graceful stop: the NDEATH of the current connection, sent before DISCONNECT. */
void ef_sp_node_death(struct ef_sp_node *n, struct ef_sp_out *out);
/* Topics to subscribe after each connect (QoS 1); returns how many. */
size_t ef_sp_node_topics(struct ef_sp_node *n, const char **topics, size_t max);
/* The connection came up or went down. */
void ef_sp_node_link(struct ef_sp_node *n, bool up);

#define EF_SP_CONTROL_SEND 1        /* send OUT, then ask again */
#define EF_SP_CONTROL_READY 0       /* nothing to send: queue messages may go */
#define EF_SP_CONTROL_WAIT (-1)     /* queue messages must wait (no session yet) */
#define EF_SP_CONTROL_DISCONNECT (-2) /* the primary host went offline: reconnect */
int ef_sp_node_control(struct ef_sp_node *n, struct ef_sp_out *out);

#define EF_SP_PREPARE_SEND 1  /* send OUT */
#define EF_SP_PREPARE_SKIP 0  /* not to be sent: acknowledge it (counted) */
#define EF_SP_PREPARE_LATER (-1) /* give it back: control messages first */
/* A queue message about to be sent. Messages that are not Sparkplug DDATA
 * (alarms, status) come back unchanged. */
int ef_sp_node_prepare(struct ef_sp_node *n, const char *topic, const void *payload, size_t len,
                       int qos, bool retain, int64_t ts_ms, struct ef_sp_out *out);

/* DCMD writes, mapped to point names: N values of DEVICE, in the DCMD's
 * order; TS is the DCMD's timestamp (0 if none). Called on the thread that
 * delivers arrivals, without the node's lock; string values point into the
 * DCMD and live only during the call. */
typedef void (*ef_sp_write_fn)(void *ctx, const char *device, const char *const *points,
                               const struct ef_value *values, size_t n, int64_t ts_ms);
/* Before the publisher starts. Without a writer, DCMD is refused (logged). */
void ef_sp_node_set_writer(struct ef_sp_node *n, ef_sp_write_fn fn, void *ctx);

/* A message arrived (the publisher thread). Returns true when the publisher
 * should wake up (a rebirth or a host state change). */
bool ef_sp_node_arrived(struct ef_sp_node *n, const char *topic, const void *payload, size_t len,
                        bool retained);

void ef_sp_node_get_stats(struct ef_sp_node *n, struct ef_sp_stats *out);

#endif
