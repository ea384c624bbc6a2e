/* The publisher: drains the queue into one MQTT connection (paho MQTTAsync).
 *
 * Its thread connects to a broker of [mqtt] uri (tried in order at each
 * attempt) with the retained "offline" will on
 * P/G/status, publishes the retained "online" birth after every connect,
 * then takes messages from the queue while connected with at most
 * EF_PUB_WINDOW in flight. paho's success callback acknowledges a queue
 * entry (PUBACK/PUBCOMP, or written for QoS 0); a failure, or a connection
 * lost with messages in flight, gives them back to the queue, to be sent
 * again after reconnecting (duplicates are possible, loss is not). A
 * message larger than the broker takes is never sent (publisher_limit.c
 * says how the limit is known, and what happens to the message). paho's
 * own persistence and offline buffering are off: the queue is the only
 * buffer. Reconnects use exponential back-off with jitter. */
#ifndef EF_PUBLISHER_H
#define EF_PUBLISHER_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "gateway/queue/queue.h"

#define EF_PUB_WINDOW 16

struct ef_publisher;

/* A message of the dialect below, outside the queue or in place of a queued one. */
struct ef_pub_out {
    const char *topic;
    const void *payload;
    size_t len;
    int qos;
    bool retain;
};

#define EF_PUB_CONTROL_SEND 1         /* send OUT (outside the queue), then ask again */
#define EF_PUB_CONTROL_READY 0        /* queue messages may go */
#define EF_PUB_CONTROL_WAIT (-1)      /* hold the queue (asked again on every turn) */
#define EF_PUB_CONTROL_DISCONNECT (-2) /* drop the connection and reconnect */
#define EF_PUB_PREPARE_SEND 1         /* send OUT in place of the queue message */
#define EF_PUB_PREPARE_SKIP 0         /* do not send it: acknowledge it to the queue */
#define EF_PUB_PREPARE_LATER (-1)     /* give it back: control messages first */

/* A session protocol layered on the connection (Sparkplug B: its will,
 * births and sequence numbers); what it receives comes through
 * ef_pub_subscribe. Called on the publisher thread. Messages returned stay
 * valid until the next call of the same hook. */
struct ef_pub_dialect {
    void *ctx;
    void (*will)(void *ctx, struct ef_pub_out *will); /* before each CONNECT */
    void (*death)(void *ctx, struct ef_pub_out *out); /* graceful stop, before DISCONNECT */
    void (*link)(void *ctx, bool up);                 /* CONNACK, or the connection ended */
    int (*control)(void *ctx, struct ef_pub_out *out);                      /* EF_PUB_CONTROL_* */
    int (*prepare)(void *ctx, const struct ef_qmsg *m, struct ef_pub_out *out); /* EF_PUB_PREPARE_* */
};

struct ef_pub_stats {
    uint64_t connects;          /* successful connections */
    uint64_t connect_failures;  /* refused or failed attempts */
    uint64_t connection_lost;   /* established connections that dropped */
    uint64_t published;         /* queue messages acknowledged */
    uint64_t resent;            /* messages given back to the queue for resending */
    uint64_t direct_dropped;    /* stats messages not sent (not connected) */
    uint64_t too_large;         /* telemetry larger than the broker takes, dropped */
    uint64_t alarm_too_large;   /* alarms larger than the broker takes, set aside */
    uint64_t stats_too_large;   /* stats messages larger than the broker takes */
    uint64_t switches;          /* connections made to another broker than the last one */
    uint64_t inbound_dropped;   /* arrived messages dropped: the inbox was full */
    uint64_t replies_sent;      /* replies (command results) acknowledged */
    uint64_t replies_dropped;   /* replies dropped: too many waiting */
    bool connected;
    char broker[EF_STR_MAX];    /* the uri in use, as configured; "" when not connected */
};

/* A message that arrived on a subscription. Pointers are valid during the
 * handler's call only. */
struct ef_pub_inbound {
    const char *topic;
    const void *payload; /* NULL when oversize */
    size_t len;          /* the payload's length as sent */
    bool oversize;       /* longer than EF_PUB_INBOUND_MAX: not copied */
    bool retained;       /* a retained message the broker kept, not a live one */
    bool dup;
    int qos;
    const char *response_topic;   /* MQTT 5 Response Topic, or NULL */
    const void *correlation;      /* MQTT 5 Correlation Data, or NULL */
    size_t correlation_len;
    int64_t arrived_mono_ms;      /* when paho handed it over */
};

/* Called on the publisher thread for each message on its subscription; it
 * must not block (hand work to another thread). */
typedef void (*ef_pub_handler)(void *ctx, const struct ef_pub_inbound *m);

#define EF_PUB_SUBS 8
#define EF_PUB_INBOUND_MAX 65536

/* True when TOPIC matches the MQTT topic FILTER (+ and # wildcards). */
bool ef_mqtt_topic_matches(const char *filter, const char *topic);

/* CFG and Q must outlive the publisher. Returns NULL (logged) if paho
 * refuses the client (e.g. a malformed uri). */
struct ef_publisher *ef_pub_new(const struct ef_config *cfg, struct ef_queue *q);

/* Before ef_pub_start: subscribe to FILTER at QOS after every connect and
 * hand its messages to FN (the first matching subscription wins). At most
 * EF_PUB_SUBS. Returns 0, or -1 when full or FILTER is too long. */
int ef_pub_subscribe(struct ef_publisher *p, const char *filter, int qos, ef_pub_handler fn,
                     void *ctx);

/* Before ef_pub_start: FN runs on the publisher thread after every
 * connect's birth and subscriptions, before the queue drains (births of
 * other dialects, discovery). */
void ef_pub_on_connected(struct ef_publisher *p, void (*fn)(void *ctx), void *ctx);

/* Any thread: a reply (QoS 1, not retained) to someone who asked, outside
 * the queue and ahead of it, with MQTT 5 CORRELATION data if given (ignored
 * at 3.1.1). Copied; kept until acknowledged, sent again after a reconnect.
 * Returns 0, or -1 when EF_PUB_REPLIES replies already wait (dropped,
 * counted in replies_dropped, logged). */
int ef_pub_reply(struct ef_publisher *p, const char *topic, const void *payload, size_t len,
                 const void *correlation, size_t correlation_len);

/* Layers session S (copied; its ctx must outlive the publisher) on the
 * connection. Call before ef_pub_start. */
void ef_pub_set_dialect(struct ef_publisher *p, const struct ef_pub_dialect *s);

/* Starts the connect-and-drain thread. Returns 0 or -1. */
int ef_pub_start(struct ef_publisher *p);

/* Graceful stop: stops taking from the queue, waits up to TIMEOUT_MS for
 * messages in flight, publishes the retained "offline" status, disconnects,
 * joins the thread. Whatever was not acknowledged is back in the queue. */
void ef_pub_stop(struct ef_publisher *p, int timeout_ms);

void ef_pub_free(struct ef_publisher *p);

/* Sends a message outside the queue (stats): QoS 0, dropped and counted
 * when not connected. */
void ef_pub_send_direct(struct ef_publisher *p, const char *topic, const char *payload,
                        size_t len);

void ef_pub_get_stats(struct ef_publisher *p, struct ef_pub_stats *out);

/* A retained message of the session set. */
struct ef_pub_msg {
    const char *topic;
    const char *payload; /* LEN bytes; an empty one deletes the retained message */
    size_t len;
};

/* The session set (gateway/mqtt/pub_session.h): retained messages sent at
 * QoS 1 after every connect's birth, outside the queue. Replaces the
 * previous set, copied; due at once when connected. Any thread. Returns 0
 * or -1 (out of memory; the previous set stays). */
int ef_pub_set_session(struct ef_publisher *p, const struct ef_pub_msg *msgs, size_t n);

/* Any thread (a subscription's handler too): send the session set again. */
void ef_pub_resend_session(struct ef_publisher *p);

/* Monotonic ms of the publisher thread's last loop turn (watchdog). */
int64_t ef_pub_alive_ms(struct ef_publisher *p);

#endif
