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
    bool connected;
    char broker[EF_STR_MAX];    /* the uri in use, as configured; "" when not connected */
};

/* CFG and Q must outlive the publisher. Returns NULL (logged) if paho
 * refuses the client (e.g. a malformed uri). */
struct ef_publisher *ef_pub_new(const struct ef_config *cfg, struct ef_queue *q);

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

/* Monotonic ms of the publisher thread's last loop turn (watchdog). */
int64_t ef_pub_alive_ms(struct ef_publisher *p);

#endif
