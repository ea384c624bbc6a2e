/* The Sparkplug B edge node session as a pure state machine: bdSeq per
 * CONNECT, seq over all node messages, births and deaths per device, the
 * primary host's STATE. No I/O, no locks, no clock: the caller (sp_node.c)
 * holds its lock around every call and passes the time in.
 *
 * Rules kept here (Sparkplug 3.0 tck-ids in docs/sparkplug.md):
 * - bdSeq starts at 0 and goes up by one on every CONNECT, 255 -> 0; the
 *   NBIRTH of a connection repeats the bdSeq of its CONNECT's will.
 * - NBIRTH has seq 0; every later message of the node takes the next seq,
 *   255 -> 0. A rebirth (NCMD, reconfiguration) is NBIRTH again, same bdSeq.
 * - No birth before the link is up and, with a primary host, before its
 *   STATE said online; an offline STATE at least as new as the last online
 *   one ends a session that was running (the caller disconnects).
 * - DBIRTH for a device that is online and has values, once per session;
 *   DDEATH when a born device goes offline. */
#ifndef EF_SP_SESSION_H
#define EF_SP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ef_sps_dev {
    bool online;     /* answering polls (the core's offline state) */
    bool has_values; /* at least one value known: a DBIRTH can list it */
    bool born;       /* DBIRTH sent in the current session, no DDEATH since */
};

struct ef_sps {
    bool primary;     /* a primary host is configured */
    bool have_bdseq;  /* bdseq holds the last CONNECT's (from the state file or this run) */
    uint8_t bdseq;
    bool up;          /* connected */
    bool in_session;  /* NBIRTH sent on this connection */
    bool rebirth;     /* NBIRTH again (NCMD Rebirth, reconfiguration) */
    bool drop;        /* the primary host went offline during the session */
    bool host_online;
    bool have_host_ts;
    int64_t host_ts;  /* timestamp of the last online STATE taken */
    uint8_t seq;      /* the next message's seq */
    int64_t session_start_ms; /* wall clock of the last NBIRTH */
    struct ef_sps_dev *dev;   /* the caller's array */
    size_t ndev;
};

enum ef_sps_action {
    EF_SPS_WAIT,       /* nothing may be sent (down, or waiting for the host) */
    EF_SPS_DISCONNECT, /* end the connection (host offline), then reconnect */
    EF_SPS_NBIRTH,
    EF_SPS_DBIRTH,     /* for device *DEV */
    EF_SPS_DDEATH,     /* for device *DEV */
    EF_SPS_READY,      /* births done: data may flow */
};

/* LAST_BDSEQ: the bdSeq of the previous CONNECT (state file), or -1. */
void ef_sps_init(struct ef_sps *s, bool primary, int last_bdseq);

/* Replaces the device array (a reload); a running session is reborn. */
void ef_sps_set_devices(struct ef_sps *s, struct ef_sps_dev *dev, size_t n);

/* A CONNECT is about to be sent: the bdSeq of its will. */
uint8_t ef_sps_connecting(struct ef_sps *s);

/* The connection is up (CONNACK) or gone. */
void ef_sps_link(struct ef_sps *s, bool up);

/* A STATE message of the primary host. Returns false when it was ignored
 * (older than the last online one). */
bool ef_sps_host_state(struct ef_sps *s, bool online, int64_t ts);

/* An NCMD Node Control/Rebirth = true. */
void ef_sps_request_rebirth(struct ef_sps *s);

/* What to send next; DEV receives the device of DBIRTH/DDEATH. */
enum ef_sps_action ef_sps_next(const struct ef_sps *s, size_t *dev);

/* The message of the action just taken is on its way: each returns the seq
 * it carries. */
uint8_t ef_sps_did_nbirth(struct ef_sps *s, int64_t now_ms);
uint8_t ef_sps_did_dbirth(struct ef_sps *s, size_t dev);
uint8_t ef_sps_did_ddeath(struct ef_sps *s, size_t dev);

enum ef_sps_data {
    EF_SPS_DATA_SEND,        /* born: send it (take a seq) */
    EF_SPS_DATA_CONTROL_FIRST, /* its DBIRTH (or DDEATH) must go first: see ef_sps_next */
    EF_SPS_DATA_DROP,        /* offline and not born: a host would reject it */
    EF_SPS_DATA_WAIT,        /* no session */
};

/* May DDATA of DEV go now? */
enum ef_sps_data ef_sps_data(const struct ef_sps *s, size_t dev);

/* The seq for a data message about to be sent. */
uint8_t ef_sps_take_seq(struct ef_sps *s);

/* Data acquired before the current session began is historical. */
bool ef_sps_historical(const struct ef_sps *s, int64_t ts_ms);

#endif
