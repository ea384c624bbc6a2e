/* Private to the publisher (gateway/mqtt/publisher*.c): its state and the
 * functions its parts share. Three parts along the seams of the job:
 * publisher.c owns the thread and the object's life; publisher_conn.c the
 * connection (connect, back-off, will and birth, paho's connection
 * callbacks); publisher_window.c the send window (taking from the queue,
 * tickets in flight, acknowledgements, giving messages back). The lock
 * rules are in struct ef_publisher. */
#ifndef EF_PUBLISHER_PRIV_H
#define EF_PUBLISHER_PRIV_H

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdatomic.h>

#include "gateway/mqtt/mqtt_opts.h"
#include "gateway/mqtt/paho_dl.h"
#include "gateway/mqtt/publisher.h"

/* Every send gets a ticket from a ring much larger than the window. The
 * ticket, not the message, is paho's callback context: a callback for a
 * ticket that was already reclaimed (connection lost) finds it dead and does
 * nothing, and a ticket is reused only after EF_PUB_TICKETS later sends. */
#define EF_PUB_TICKETS 1024
#define EF_PUB_LINGER_MS 3

enum pub_state { ST_DOWN, ST_CONNECTING, ST_UP, ST_CLOSING };

struct ticket {
    struct ef_publisher *p;
    struct ef_qmsg *m;
    int64_t sent_ms;
    bool live;
};

struct ef_publisher {
    struct ef_mqtt mqtt; /* a copy: a reload may free the config it came from */
    struct ef_queue *q;
    const struct ef_paho *paho; /* the paho build for this uri: every call goes through it */
    MQTTAsync client;
    struct ef_mqtt_opts opts; /* uri, TLS, password: see mqtt_opts.h */
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;

    pthread_mutex_t lock; /* guards everything below; never held across paho calls */
    pthread_cond_t cond;  /* signalled on every event the thread waits for */
    enum pub_state state;
    bool lost;       /* connection lost: ef_pub_reclaim tickets, reconnect */
    bool need_birth; /* connected: publish "online" first */
    bool ready;      /* birth sent on this connection: the queue may drain */
    int64_t pause_until; /* after a failed send, wait a moment before the next */
    struct {              /* a connect failure waiting to be logged */
        bool pending;
        int code, reason;
        char msg[256];
    } fail;
    int connect_error;  /* last connect failure code, for logging once per change */
    struct ticket tickets[EF_PUB_TICKETS];
    size_t next_ticket;
    size_t inflight;
    struct ef_pub_stats stats;

    char status_topic[EF_STR_MAX + EF_NAME_MAX + 16];
    atomic_int_fast64_t alive_ms;
};

/* ---- publisher_window.c ---- */

/* Wakes the publisher thread from either of its waits. */
void ef_pub_wake(struct ef_publisher *p);
/* Sleeps until there may be work (at most ~100 ms). */
void ef_pub_wait_for_work(struct ef_publisher *p);
/* Sends from the queue while connected and the window has room. */
void ef_pub_pump(struct ef_publisher *p);
/* Gives every message still in flight back to the queue. */
void ef_pub_reclaim(struct ef_publisher *p);
/* True when a QoS 1/2 message waits for its acknowledgement longer than keepalive. */
bool ef_pub_acks_stalled(struct ef_publisher *p, int64_t now);

/* ---- publisher_conn.c ---- */

/* paho's connectionLost callback; also called by the thread for a loss it
 * found itself. */
void ef_pub_connection_lost(void *ctx, char *cause);
/* paho's messageArrived callback. */
int ef_pub_on_message(void *ctx, char *topic, int len, MQTTAsync_message *m);
/* Starts one connection attempt; returns paho's code. */
int ef_pub_start_connect(struct ef_publisher *p);
/* Records a failed attempt (logged later by ef_pub_report_connect_failure). */
void ef_pub_connect_failed(struct ef_publisher *p, int code, int reason, const char *msg);
void ef_pub_report_connect_failure(struct ef_publisher *p);
void ef_pub_hasten_connect(struct ef_publisher *p);
int64_t ef_pub_backoff_ms(int attempt);
int ef_pub_send_status(struct ef_publisher *p, const char *text, bool wait);

#endif
