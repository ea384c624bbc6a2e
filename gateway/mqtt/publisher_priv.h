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
#include "gateway/mqtt/pub_session.h"
#include "gateway/mqtt/publisher.h"

/* Every send gets a ticket from a ring much larger than the window. The
 * ticket, not the message, is paho's callback context: a callback for a
 * ticket that was already reclaimed (connection lost) finds it dead and does
 * nothing, and a ticket is reused only after EF_PUB_TICKETS later sends. */
#define EF_PUB_TICKETS 1024
#define EF_PUB_LINGER_MS 3

enum pub_state { ST_DOWN, ST_CONNECTING, ST_UP, ST_CLOSING };

/* A ticket keeps the size, time and connection of its send after it is
 * settled, until reused: learning a broker's packet size limit looks back
 * at what was sent just before a connection broke (publisher_limit.c). */
struct ticket {
    struct ef_publisher *p;
    struct ef_qmsg *m;
    int64_t sent_ms;
    size_t size; /* the PUBLISH packet's size in bytes */
    unsigned conn; /* the connection it was sent on (ef_publisher.conn) */
    int qos;
    bool live;
    bool written; /* settled as sent (QoS 0) or acknowledged */
};

/* A recent send outside the window (stats), for the same look-back. */
struct recent_send {
    int64_t sent_ms;
    size_t size;
    unsigned conn;
};

/* What is known of the broker's largest packet (publisher_limit.c). */
struct pub_limit {
    size_t connack; /* MQTT 5 Maximum Packet Size of this connection; 0: none said */
    size_t learned; /* largest size still sent after learning; 0: nothing learned */
    size_t proven;  /* largest packet the broker is known to have taken */
    int strikes;    /* consecutive connection losses right after a record-size send */
    size_t strike_size; /* smallest size of those sends */
    int64_t logged_ms;  /* last set-aside telemetry logged at warning level */
};

/* A subscription made after every connect, and who handles its messages. */
struct pub_sub {
    char filter[EF_STR_MAX + EF_NAME_MAX + 32];
    int qos;
    ef_pub_handler fn;
    void *ctx;
};

/* A message that arrived, copied out of paho's callback (publisher_inbound.c). */
struct pub_inbox_msg {
    struct ef_pub_inbound m; /* its pointers are filled in when delivered */
    char *topic, *payload;   /* in the same allocation, after the struct */
    char *response_topic, *correlation; /* MQTT 5, malloc'd, or NULL */
};

#define EF_PUB_INBOX 64
#define EF_PUB_REPLIES 64
#define EF_PUB_REPLY_TICKETS 256

enum reply_state { REPLY_FREE, REPLY_PENDING, REPLY_INFLIGHT };

/* A reply owed (publisher_reply.c): topic, NUL, payload, correlation data. */
struct pub_reply {
    char *data;
    size_t topic_len, payload_len, corr_len;
    enum reply_state state;
};

struct reply_ticket {
    struct ef_publisher *p;
    size_t slot;
    bool live;
};

struct ef_publisher {
    struct ef_mqtt mqtt; /* a copy: a reload may free the config it came from */
    struct ef_queue *q;
    const struct ef_paho *paho; /* the paho build for these uris: every call goes through it */
    /* A new client for every connection attempt (ef_pub_make_client), made
     * by the publisher thread only; client_lock keeps it alive while another
     * thread sends through it (ef_pub_send_direct). */
    MQTTAsync client;
    pthread_mutex_t client_lock;
    bool client_used; /* connect was called on it: paho may hold commands of it */
    size_t client_uri; /* the broker it was made for */
    struct ef_mqtt_opts opts; /* uris, TLS, password: see mqtt_opts.h */
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;

    pthread_mutex_t lock; /* guards everything below; never held across paho calls */
    pthread_cond_t cond;  /* signalled on every event the thread waits for */
    enum pub_state state;
    bool lost;       /* connection lost: reclaim tickets, reconnect */
    bool need_birth; /* connected: publish "online" first */
    bool ready;      /* birth sent on this connection: the queue may drain */
    int64_t pause_until; /* after a failed send, wait a moment before the next */
    struct {              /* a connect failure waiting to be logged */
        bool pending;
        size_t uri;
        int code, reason;
        char msg[256];
    } fail;
    /* Brokers: an attempt walks opts.uris from the first, going on at once
     * to the next when one fails; back-off comes after the whole list. */
    size_t uri;      /* broker of the attempt in progress or connection up */
    size_t next_uri; /* where the next attempt starts */
    bool walk_on;    /* a broker of the list failed: try next_uri without back-off */
    int used_uri;    /* broker of the last established connection; -1 none yet */
    int connect_error[EF_MQTT_URIS_MAX]; /* last failure per broker, to log once per change */
    unsigned conn;      /* counts connections: tells tickets of this one from older ones */
    int64_t lost_ms;    /* when the connection broke */
    bool lost_evidence; /* the broker (not our own check) closed it: see ef_pub_learn */
    struct pub_limit limit;
    struct recent_send direct;
    struct ticket tickets[EF_PUB_TICKETS];
    size_t next_ticket;
    size_t inflight;
    struct ef_pub_stats stats;

    /* The way in (publisher_inbound.c): subscriptions are set before the
     * thread starts and only read after; the inbox and the replies are
     * guarded by lock. */
    struct pub_sub subs[EF_PUB_SUBS];
    size_t nsubs;
    void (*connected_fn)(void *ctx);
    void *connected_ctx;
    struct pub_inbox_msg *inbox[EF_PUB_INBOX];
    size_t inbox_head, inbox_n;
    struct pub_reply replies[EF_PUB_REPLIES];
    struct reply_ticket reply_tickets[EF_PUB_REPLY_TICKETS];
    size_t next_reply_ticket;

    char status_topic[EF_STR_MAX + EF_NAME_MAX + 16];
    atomic_int_fast64_t alive_ms;
    struct ef_session *session; /* retained state re-sent per connection; own lock */
    bool has_dialect;
    struct ef_pub_dialect dialect; /* publisher.h (Sparkplug B); set before the thread starts */
    bool dialect_wait;             /* the dialect holds the queue (no session yet) */
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

/* ---- publisher_limit.c: the broker's packet size limit ---- */

/* Bytes of an MQTT PUBLISH packet of a TOPIC_LEN topic and PAYLOAD_LEN
 * payload at QOS, MQTT VERSION 4 (3.1.1) or 5 without properties: fixed
 * header, remaining length, topic, packet id, properties length, payload. */
size_t ef_mqtt_publish_size(size_t topic_len, size_t payload_len, int qos, int version);
/* The largest packet the broker takes, as far as known; 0 when unknown.
 * Call with p->lock held. SRC, if given, names where it comes from. */
size_t ef_pub_limit_locked(const struct ef_publisher *p, const char **src);
/* For the pump: true when M is larger than the broker takes; then M has
 * been set aside (acknowledged out of the queue, counted, logged). */
bool ef_pub_set_aside_if_too_large(struct ef_publisher *p, struct ef_qmsg *m, size_t size);
/* The thread, after a connection loss, before reclaiming: maybe learn a limit. */
void ef_pub_learn(struct ef_publisher *p);
/* settle: the broker acknowledged a packet of SIZE (lock held). */
void ef_pub_proven_locked(struct ef_publisher *p, size_t size);
/* MQTT 5 CONNACK properties: the Maximum Packet Size, or 0. */
size_t ef_pub_connack_limit(const MQTTProperties *props);

/* ---- publisher_dialect.c: a dialect's session layered on the connection ---- */

/* Before a CONNECT: the dialect's will replaces "offline" in P->opts. */
void ef_pub_dialect_will(struct ef_publisher *p);
/* After CONNACK: the dialect's session starts (its subscriptions are ef_pub_subscribe's). */
void ef_pub_dialect_up(struct ef_publisher *p);
/* The pump: sends the dialect's control messages; true when queue
 * messages may go now (always true without a dialect). */
bool ef_pub_dialect_control(struct ef_publisher *p);
/* Graceful stop or the dialect's own disconnect: its death message first. */
void ef_pub_dialect_death(struct ef_publisher *p);

/* ---- publisher_inbound.c, publisher_reply.c: the way in, and replies ---- */

/* After the birth on a new connection: subscribe, then the connected hook. */
void ef_pub_after_birth(struct ef_publisher *p);
/* Hands every message that arrived to its handler (publisher thread). */
void ef_pub_deliver_inbound(struct ef_publisher *p);
bool ef_pub_inbox_waiting_locked(const struct ef_publisher *p);
void ef_pub_inbound_free(struct ef_publisher *p);
/* Sends the replies that wait (publisher thread, while ready). */
void ef_pub_send_replies(struct ef_publisher *p);
bool ef_pub_replies_due_locked(const struct ef_publisher *p);
/* The connection ended: replies in flight wait to be sent again. */
void ef_pub_reclaim_replies(struct ef_publisher *p);

/* ---- publisher_conn.c ---- */

/* paho's connectionLost callback. */
void ef_pub_connection_lost(void *ctx, char *cause);
/* A loss found by the publisher itself; EVIDENCE: the broker closed the
 * connection (not our own silent-link check), so it may teach a limit. */
void ef_pub_lost(struct ef_publisher *p, const char *cause, bool evidence);
/* paho's messageArrived callback. */
int ef_pub_on_message(void *ctx, char *topic, int len, MQTTAsync_message *m);
/* The broker in use or being tried, as configured (for messages). */
const char *ef_pub_uri(const struct ef_publisher *p);
/* Replaces the client with a new one for broker I (publisher thread, or
 * before it starts). Returns paho's code. */
int ef_pub_make_client(struct ef_publisher *p, size_t i);
/* Starts one connection attempt to broker p->uri on a new client; returns paho's code. */
int ef_pub_start_connect(struct ef_publisher *p);
/* Records a failed attempt (logged later by ef_pub_report_connect_failure). */
void ef_pub_connect_failed(struct ef_publisher *p, int code, int reason, const char *msg);
void ef_pub_report_connect_failure(struct ef_publisher *p);
void ef_pub_hasten_connect(struct ef_publisher *p);
int64_t ef_pub_backoff_ms(int attempt);
int ef_pub_send_status(struct ef_publisher *p, const char *text, bool wait);

#endif
