#include "gateway/mqtt/publisher.h"

#include <MQTTAsync.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/thread.h"
#include "common/log.h"
#include "gateway/mqtt/mqtt_opts.h"
#include "gateway/mqtt/paho_dl.h"
#include "gateway/mqtt/paho_nudge.h"
#include "gateway/mqtt/pub_session.h"

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
    bool lost;       /* connection lost: reclaim tickets, reconnect */
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
    struct ef_session *session; /* its own lock; see pub_session.h */
};

/* Wakes the publisher thread, whichever of its two waits it is in: on the
 * queue (room in the window, waiting for messages) or on its own condition
 * (window full or paused, waiting for acknowledgements and events). */
static void wake(struct ef_publisher *p)
{
    pthread_mutex_lock(&p->lock);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    ef_queue_wake(p->q);
}

/* Sleeps until there may be work: with room in the window, until the queue
 * has a message; otherwise until an event (ack, failure, connection change).
 * Never longer than 100 ms, so timers (reconnect, stall check) run. */
static void wait_for_work(struct ef_publisher *p)
{
    int64_t now = ef_mono_ms();
    pthread_mutex_lock(&p->lock);
    bool room = p->state == ST_UP && p->ready && p->inflight < EF_PUB_WINDOW &&
                now >= p->pause_until && !p->lost && !p->need_birth;
    if (!room && !p->lost && !p->need_birth && !p->fail.pending && !atomic_load(&p->stop)) {
        int64_t ms = 100;
        if (p->pause_until > now && p->pause_until - now < ms)
            ms = p->pause_until - now;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)(ms * 1000000);
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&p->cond, &p->lock, &ts);
    }
    pthread_mutex_unlock(&p->lock);
    if (!room || !ef_queue_wait(p->q, 100))
        return;
    /* A bus polls its devices back to back, so messages come in bursts.
     * When a burst starts on an idle pipeline, linger a moment so the
     * whole burst goes out in one pass: paho's send thread is then woken
     * once per burst instead of once per message (8 -> 4 context switches
     * per message in bench/gateway), for at most EF_PUB_LINGER_MS latency.
     * Idle is judged now, not before the wait: acknowledgements that come
     * while the window has room do not wake this thread (see settle). */
    pthread_mutex_lock(&p->lock);
    bool idle = p->inflight == 0;
    pthread_mutex_unlock(&p->lock);
    if (idle)
        ef_sleep_ms(EF_PUB_LINGER_MS);
}

/* ---- paho callbacks: short, record the event, wake our thread ---- */

static void settle(struct ticket *t, bool ok)
{
    struct ef_publisher *p = t->p;
    pthread_mutex_lock(&p->lock);
    struct ef_qmsg *m = t->live ? t->m : NULL;
    bool was_full = false;
    if (m) {
        was_full = p->inflight >= EF_PUB_WINDOW;
        t->live = false;
        t->m = NULL;
        p->inflight--;
        if (ok) {
            p->stats.published++;
        } else {
            p->stats.resent++;
            p->pause_until = ef_mono_ms() + 100;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (!m)
        return;
    ef_debug("mqtt: message %llu on %s %s", (unsigned long long)m->id, m->topic,
             ok ? "delivered" : "failed, kept for resending");
    if (ok)
        ef_queue_ack(p->q, m);
    else
        ef_queue_nack(p->q, m);
    /* The thread waits for an acknowledgement only when the window was full
     * (or, after a failure, to resend). With room in the window it waits
     * for the queue instead, and waking it for every QoS 0 "sent" would
     * cost a context switch per message for nothing. */
    if (was_full || !ok)
        wake(p);
}

static void on_sent(void *ctx, MQTTAsync_successData *r) { (void)r; settle(ctx, true); }
static void on_send_failed(void *ctx, MQTTAsync_failureData *r) { (void)r; settle(ctx, false); }
static void on_sent5(void *ctx, MQTTAsync_successData5 *r) { (void)r; settle(ctx, true); }
static void on_send_failed5(void *ctx, MQTTAsync_failureData5 *r) { (void)r; settle(ctx, false); }

static void connected_ok(struct ef_publisher *p)
{
    pthread_mutex_lock(&p->lock);
    p->state = ST_UP;
    p->need_birth = true;
    p->ready = false;
    p->stats.connects++;
    p->connect_error = 0;
    pthread_mutex_unlock(&p->lock);
    ef_info("connected to %s", p->mqtt.uri);
    wake(p);
}

static void connect_failed(struct ef_publisher *p, int code, int reason, const char *msg)
{
    pthread_mutex_lock(&p->lock);
    bool changed = p->connect_error != (code ? code : reason);
    p->connect_error = code ? code : reason;
    p->state = ST_DOWN;
    p->stats.connect_failures++;
    /* Logged once per change of reason, not once per retry, and by the
     * publisher thread: finding the reason of a TLS failure takes a probe
     * connection, which must not run in paho's callback under its lock. */
    if (changed) {
        p->fail.pending = true;
        p->fail.code = code;
        p->fail.reason = reason;
        snprintf(p->fail.msg, sizeof p->fail.msg, "%s", msg ? msg : "");
    }
    pthread_mutex_unlock(&p->lock);
    if (!changed)
        ef_debug("connect to %s failed again", p->mqtt.uri);
    wake(p);
}

/* Publisher thread: logs a connect failure recorded by connect_failed. */
static void report_connect_failure(struct ef_publisher *p)
{
    pthread_mutex_lock(&p->lock);
    bool pending = p->fail.pending;
    int code = p->fail.code, reason = p->fail.reason;
    char msg[sizeof p->fail.msg];
    memcpy(msg, p->fail.msg, sizeof msg);
    p->fail.pending = false;
    pthread_mutex_unlock(&p->lock);
    if (pending)
        ef_warn("cannot connect to %s: %s", p->mqtt.uri,
                ef_mqtt_describe_connect_failure(&p->opts, code, reason, msg[0] ? msg : NULL));
}

static void on_connect(void *ctx, MQTTAsync_successData *r) { (void)r; connected_ok(ctx); }
static void on_connect5(void *ctx, MQTTAsync_successData5 *r) { (void)r; connected_ok(ctx); }

static void on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    connect_failed(ctx, r ? r->code : -1, 0, r ? r->message : NULL);
}

static void on_connect_failed5(void *ctx, MQTTAsync_failureData5 *r)
{
    connect_failed(ctx, r ? r->code : -1, r ? (int)r->reasonCode : 0, r ? r->message : NULL);
}

static void on_connection_lost(void *ctx, char *cause)
{
    struct ef_publisher *p = ctx;
    pthread_mutex_lock(&p->lock);
    bool was_up = p->state == ST_UP;
    if (was_up) {
        p->state = ST_DOWN;
        p->ready = false;
        p->lost = true;
        p->stats.connection_lost++;
    }
    pthread_mutex_unlock(&p->lock);
    if (!was_up)
        return; /* our own disconnect at shutdown, or already handled */
    ef_warn("connection to %s lost%s%s", p->mqtt.uri, cause ? ": " : "", cause ? cause : "");
    ef_queue_set_connected(p->q, false);
    wake(p);
}

static int on_message(void *ctx, char *topic, int len, MQTTAsync_message *m)
{
    struct ef_publisher *p = ctx;
    (void)len;
    if (ef_session_match(p->session, topic, m->payload, (size_t)m->payloadlen, m->retained))
        wake(p);
    p->paho->freeMessage(&m);
    p->paho->free(topic);
    return 1;
}

/* ---- the publisher thread ---- */

/* Gives every message still in flight back to the queue. */
static void reclaim(struct ef_publisher *p)
{
    struct ef_qmsg *back[EF_PUB_TICKETS];
    size_t n = 0;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < EF_PUB_TICKETS; i++) {
        if (p->tickets[i].live) {
            back[n++] = p->tickets[i].m;
            p->tickets[i].live = false;
            p->tickets[i].m = NULL;
        }
    }
    p->inflight = 0;
    p->stats.resent += n;
    pthread_mutex_unlock(&p->lock);
    if (n)
        ef_debug("mqtt: %zu message(s) in flight given back to the queue", n);
    for (size_t i = 0; i < n; i++)
        ef_queue_nack(p->q, back[i]);
}

static int start_connect(struct ef_publisher *p)
{
    MQTTAsync_connectOptions co;
    ef_mqtt_fill_connect(&p->opts, &co, p->status_topic);
    co.context = p;
    if (p->mqtt.version == 5) {
        co.onSuccess5 = on_connect5;
        co.onFailure5 = on_connect_failed5;
    } else {
        co.onSuccess = on_connect;
        co.onFailure = on_connect_failed;
    }
    ef_mqtt_warn_insecure(&p->opts);
    return p->paho->connect(p->client, &co);
}

static int send_one(struct ef_publisher *p, struct ef_qmsg *m)
{
    pthread_mutex_lock(&p->lock);
    /* Never reuse a live ticket: its message would be forgotten, neither
     * acknowledged nor given back (at most EF_PUB_WINDOW are live). */
    while (p->tickets[p->next_ticket].live)
        p->next_ticket = (p->next_ticket + 1) % EF_PUB_TICKETS;
    struct ticket *t = &p->tickets[p->next_ticket];
    p->next_ticket = (p->next_ticket + 1) % EF_PUB_TICKETS;
    t->p = p;
    t->m = m;
    t->sent_ms = ef_mono_ms();
    t->live = true;
    p->inflight++;
    pthread_mutex_unlock(&p->lock);

    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = (void *)m->payload;
    msg.payloadlen = (int)m->payload_len;
    msg.qos = m->qos;
    msg.retained = m->retain;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.context = t;
    if (p->mqtt.version == 5) {
        ro.onSuccess5 = on_sent5;
        ro.onFailure5 = on_send_failed5;
    } else {
        ro.onSuccess = on_sent;
        ro.onFailure = on_send_failed;
    }
    int rc = p->paho->sendMessage(p->client, m->topic, &msg, &ro);
    if (rc != MQTTASYNC_SUCCESS) {
        ef_debug("send refused by paho (%d): message kept in the queue", rc);
        settle(t, false);
        /* paho knows the connection is gone before its connectionLost
         * callback runs: stop sending now instead of spinning on refusals. */
        if (rc == MQTTASYNC_DISCONNECTED)
            on_connection_lost(p, "paho reports the connection closed");
        return -1;
    }
    return 0;
}

/* Returns paho's code: the caller retries the birth when it was refused. */
static int send_status(struct ef_publisher *p, const char *text, bool wait)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = (void *)text;
    msg.payloadlen = (int)strlen(text);
    msg.qos = 1;
    msg.retained = 1;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    int rc = p->paho->sendMessage(p->client, p->status_topic, &msg, &ro);
    if (rc == MQTTASYNC_SUCCESS && wait)
        p->paho->waitForCompletion(p->client, ro.token, 2000);
    return rc;
}

/* While a connect is in progress, end paho's receive thread's idle sleeps
 * (gateway/mqtt/paho_nudge.h says why), so CONNECT goes out as soon as the
 * socket is open rather than up to 100 ms later. At most ~100 ms, and only
 * while still connecting. */
static void hasten_connect(struct ef_publisher *p)
{
    for (int i = 0; i < 50 && !atomic_load(&p->stop); i++) {
        pthread_mutex_lock(&p->lock);
        bool connecting = p->state == ST_CONNECTING;
        pthread_mutex_unlock(&p->lock);
        if (!connecting)
            return;
        ef_paho_nudge_receiver();
        ef_sleep_ms(2);
    }
}

/* Milliseconds to wait before the next connection attempt: exponential
 * back-off from 0.5 s to 30 s, with +-50 % jitter so a fleet of gateways
 * does not reconnect in step after a broker restart. */
static int64_t backoff_ms(int attempt)
{
    int64_t base = 500;
    for (int i = 0; i < attempt && base < 30000; i++)
        base *= 2;
    if (base > 30000)
        base = 30000;
    return base / 2 + (int64_t)(rand() % (int)(base + 1));
}

/* The silent-link check: acknowledgements stopped although QoS 1/2
 * messages are outstanding. paho notices a dead link only after ~2.6 x
 * keepalive; this gives up after one keepalive interval. */
static bool acks_stalled(struct ef_publisher *p, int64_t now)
{
    int64_t limit = (int64_t)p->mqtt.keepalive_s * 1000;
    bool stalled = false;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < EF_PUB_TICKETS && p->inflight; i++) {
        const struct ticket *t = &p->tickets[i];
        if (t->live && t->m->qos > 0 && now - t->sent_ms > limit) {
            stalled = true;
            break;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return stalled;
}

static void pump(struct ef_publisher *p)
{
    for (;;) {
        pthread_mutex_lock(&p->lock);
        bool room = p->state == ST_UP && p->ready && p->inflight < EF_PUB_WINDOW &&
                    ef_mono_ms() >= p->pause_until;
        pthread_mutex_unlock(&p->lock);
        if (!room || atomic_load(&p->stop))
            return;
        struct ef_qmsg *m;
        if (ef_queue_take(p->q, &m) != 0)
            return;
        if (send_one(p, m) != 0)
            return;
    }
}

/* After the birth: the session set is due, and its trigger is subscribed
 * to again (a clean session forgets subscriptions). */
static void session_connected(struct ef_publisher *p)
{
    ef_session_connected(p->session);
    char topic[EF_STR_MAX + 16];
    if (!ef_session_trigger(p->session, topic, sizeof topic))
        return;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    int rc = p->paho->subscribe(p->client, topic, 1, &ro);
    if (rc != MQTTASYNC_SUCCESS)
        ef_warn("mqtt: cannot subscribe to %s (paho error %d)", topic, rc);
}

static void *pub_thread(void *arg)
{
    struct ef_publisher *p = arg;
    ef_thread_name("ef-publisher", NULL);
    int attempt = 0;
    int64_t next_attempt = 0;
    int64_t next_stall_check = 0; /* the check scans every ticket: 4 times a second */
    while (!atomic_load(&p->stop)) {
        int64_t now = ef_mono_ms();
        atomic_store(&p->alive_ms, now);
        report_connect_failure(p);
        pthread_mutex_lock(&p->lock);
        enum pub_state st = p->state;
        bool lost = p->lost, birth = p->need_birth;
        p->lost = false;
        p->need_birth = false;
        pthread_mutex_unlock(&p->lock);

        if (lost) {
            reclaim(p);
            next_attempt = now + backoff_ms(attempt++);
        }
        if (st == ST_DOWN && now >= next_attempt) {
            pthread_mutex_lock(&p->lock);
            p->state = ST_CONNECTING;
            pthread_mutex_unlock(&p->lock);
            int rc = start_connect(p);
            if (rc != MQTTASYNC_SUCCESS)
                connect_failed(p, rc, 0, NULL);
            else
                hasten_connect(p);
            next_attempt = now + backoff_ms(attempt++);
        }
        if (birth) {
            /* Nothing of this connection is in flight yet (the pump waits
             * for `ready`), so whatever is still live belongs to the old one. */
            attempt = 0;
            reclaim(p);
            int rc = send_status(p, "online", false);
            pthread_mutex_lock(&p->lock);
            if (rc == MQTTASYNC_SUCCESS)
                p->ready = p->state == ST_UP;
            else if (p->state == ST_UP)
                p->need_birth = true; /* refused (paho busy): again next turn */
            pthread_mutex_unlock(&p->lock);
            if (rc == MQTTASYNC_SUCCESS) {
                ef_queue_set_connected(p->q, true);
                session_connected(p);
            } else {
                ef_debug("mqtt: birth refused by paho (%d), retrying", rc);
            }
        }
        if (st == ST_UP && now >= next_stall_check && acks_stalled(p, now)) {
            ef_warn("no acknowledgement from %s for %d s: reconnecting", p->mqtt.uri,
                    p->mqtt.keepalive_s);
            MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
            dopt.timeout = 0;
            p->paho->disconnect(p->client, &dopt);
            on_connection_lost(p, "acknowledgements stalled");
            continue;
        }
        pthread_mutex_lock(&p->lock);
        bool up = p->state == ST_UP && p->ready;
        pthread_mutex_unlock(&p->lock);
        if (up)
            ef_session_step(p->session, p->paho, p->client);
        pump(p);
        if (now >= next_stall_check)
            next_stall_check = now + 250;
        wait_for_work(p);
    }
    return NULL;
}

struct ef_publisher *ef_pub_new(const struct ef_config *cfg, struct ef_queue *q)
{
    struct ef_publisher *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->mqtt = cfg->mqtt;
    p->q = q;
    p->session = ef_session_new();
    pthread_mutex_init(&p->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &ca);
    pthread_condattr_destroy(&ca);
    snprintf(p->status_topic, sizeof p->status_topic, "%s/%s/status", cfg->mqtt.topic_prefix,
             cfg->gateway.id);
    if (!p->session || ef_mqtt_opts_init(&p->opts, &p->mqtt) != 0) {
        ef_pub_free(p);
        return NULL;
    }
    /* paho's TLS build only for a TLS uri: it maps libssl and libcrypto. */
    p->paho = ef_paho_get(p->opts.tls);
    if (!p->paho) {
        ef_err("mqtt: cannot create a client for %s", cfg->mqtt.uri);
        ef_pub_free(p);
        return NULL;
    }
    MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
    cro.sendWhileDisconnected = 0; /* the queue is the only buffer */
    /* paho counts PUBLISH commands not yet written against this cap even while
     * connected (MQTTAsync_send), including those a dead connection left
     * behind: leave ample room. Our window bounds what we add; the cap only
     * has to never refuse the birth or a retry. */
    cro.maxBufferedMessages = 1000;
    cro.MQTTVersion = p->mqtt.version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    int rc = p->paho->createWithOptions(&p->client, p->opts.uri, cfg->mqtt.client_id,
                                        MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro);

    if (rc != MQTTASYNC_SUCCESS) {
        ef_err("mqtt: cannot create a client for %s (paho error %d)", cfg->mqtt.uri, rc);
        p->client = NULL;
        ef_pub_free(p);
        return NULL;
    }
    p->paho->setCallbacks(p->client, p, on_connection_lost, on_message, NULL);
    srand((unsigned)ef_mono_us() ^ (unsigned)getpid());
    return p;
}

int ef_pub_start(struct ef_publisher *p)
{
    atomic_store(&p->alive_ms, ef_mono_ms());
    if (pthread_create(&p->thread, NULL, pub_thread, p) != 0) {
        ef_err("mqtt: cannot start the publisher thread");
        return -1;
    }
    p->thread_started = true;
    return 0;
}

void ef_pub_stop(struct ef_publisher *p, int timeout_ms)
{
    if (!p->thread_started)
        return;
    atomic_store(&p->stop, true);
    wake(p);
    pthread_join(p->thread, NULL);
    p->thread_started = false;

    /* Let what is in flight be acknowledged, then say goodbye. */
    int64_t deadline = ef_mono_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t n = p->inflight;
        enum pub_state st = p->state;
        pthread_mutex_unlock(&p->lock);
        if (n == 0 || st != ST_UP || ef_mono_ms() >= deadline)
            break;
        ef_sleep_ms(10);
    }
    pthread_mutex_lock(&p->lock);
    bool up = p->state == ST_UP;
    p->state = ST_CLOSING;
    pthread_mutex_unlock(&p->lock);
    if (up) {
        send_status(p, "offline", true);
        MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
        dopt.timeout = 1000;
        p->paho->disconnect(p->client, &dopt);
        for (int i = 0; i < 100 && p->paho->isConnected(p->client); i++)
            ef_sleep_ms(10);
    }
    reclaim(p);
    ef_queue_set_connected(p->q, false);
}

void ef_pub_free(struct ef_publisher *p)
{
    if (!p)
        return;
    if (p->thread_started)
        ef_pub_stop(p, 0);
    if (p->client)
        p->paho->destroy(&p->client);
    ef_mqtt_opts_free(&p->opts);
    ef_session_free(p->session);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void ef_pub_send_direct(struct ef_publisher *p, const char *topic, const char *payload, size_t len)
{
    pthread_mutex_lock(&p->lock);
    bool up = p->state == ST_UP;
    if (!up)
        p->stats.direct_dropped++;
    pthread_mutex_unlock(&p->lock);
    if (!up)
        return;
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = (void *)payload;
    msg.payloadlen = (int)len;
    msg.qos = 0;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    p->paho->sendMessage(p->client, topic, &msg, &ro);
}

void ef_pub_get_stats(struct ef_publisher *p, struct ef_pub_stats *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->stats;
    out->connected = p->state == ST_UP;
    pthread_mutex_unlock(&p->lock);
}

int64_t ef_pub_alive_ms(struct ef_publisher *p) { return atomic_load(&p->alive_ms); }

int ef_pub_set_session(struct ef_publisher *p, const struct ef_pub_msg *msgs, size_t n,
                       const char *trigger_topic, const char *trigger_payload)
{
    if (ef_session_set(p->session, msgs, n, trigger_topic, trigger_payload) != 0)
        return -1;
    wake(p);
    return 0;
}
