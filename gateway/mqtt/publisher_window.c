/* The publisher's send window: messages taken from the queue, the tickets
 * of those in flight, and what paho says about each (acknowledged, failed,
 * lost with the connection). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/mqtt/publisher_priv.h"


/* Wakes the publisher thread, whichever of its two waits it is in: on the
 * queue (room in the window, waiting for messages) or on its own condition
 * (window full or paused, waiting for acknowledgements and events). */
void ef_pub_wake(struct ef_publisher *p)
{
    pthread_mutex_lock(&p->lock);
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    ef_queue_wake(p->q);
}

/* Sleeps until there may be work: with room in the window, until the queue
 * has a message; otherwise until an event (ack, failure, connection change).
 * Never longer than 100 ms, so timers (reconnect, stall check) run. */
void ef_pub_wait_for_work(struct ef_publisher *p)
{
    int64_t now = ef_mono_ms();
    pthread_mutex_lock(&p->lock);
    bool room = p->state == ST_UP && p->ready && p->inflight < EF_PUB_WINDOW &&
                now >= p->pause_until && !p->lost && !p->need_birth && !p->dialect_wait;
    if (ef_pub_inbox_waiting_locked(p) || ef_pub_replies_due_locked(p)) {
        pthread_mutex_unlock(&p->lock);
        return;
    }
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
     * while the window has room do not ef_pub_wake this thread (see settle). */
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
            t->written = true;
            if (t->qos > 0)
                ef_pub_proven_locked(p, t->size);
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
        ef_pub_wake(p);
}

static void on_sent(void *ctx, MQTTAsync_successData *r) { (void)r; settle(ctx, true); }
static void on_send_failed(void *ctx, MQTTAsync_failureData *r) { (void)r; settle(ctx, false); }
static void on_sent5(void *ctx, MQTTAsync_successData5 *r) { (void)r; settle(ctx, true); }
static void on_send_failed5(void *ctx, MQTTAsync_failureData5 *r) { (void)r; settle(ctx, false); }

/* Gives every message still in flight back to the queue. */
void ef_pub_reclaim(struct ef_publisher *p)
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

static int send_one(struct ef_publisher *p, struct ef_qmsg *m, const struct ef_pub_out *out,
                    size_t size)
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
    t->size = size;
    t->conn = p->conn;
    t->qos = m->qos;
    t->live = true;
    t->written = false;
    p->inflight++;
    pthread_mutex_unlock(&p->lock);

    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = (void *)out->payload;
    msg.payloadlen = (int)out->len;
    msg.qos = out->qos;
    msg.retained = out->retain;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    ro.context = t;
    if (p->mqtt.version == 5) {
        ro.onSuccess5 = on_sent5;
        ro.onFailure5 = on_send_failed5;
    } else {
        ro.onSuccess = on_sent;
        ro.onFailure = on_send_failed;
    }
    int rc = p->paho->sendMessage(p->client, out->topic, &msg, &ro);
    if (rc != MQTTASYNC_SUCCESS) {
        ef_debug("send refused by paho (%d): message kept in the queue", rc);
        pthread_mutex_lock(&p->lock);
        t->size = 0; /* never sent: nothing to learn from it */
        pthread_mutex_unlock(&p->lock);
        settle(t, false);
        /* paho knows the connection is gone before its connectionLost
         * callback runs: stop sending now instead of spinning on refusals. */
        if (rc == MQTTASYNC_DISCONNECTED)
            ef_pub_lost(p, "paho reports the connection closed", true);
        return -1;
    }
    return 0;
}

/* The silent-link check: acknowledgements stopped although QoS 1/2
 * messages are outstanding. paho notices a dead link only after ~2.6 x
 * keepalive; this gives up after one keepalive interval. */
bool ef_pub_acks_stalled(struct ef_publisher *p, int64_t now)
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

void ef_pub_pump(struct ef_publisher *p)
{
    for (;;) {
        pthread_mutex_lock(&p->lock);
        bool room = p->state == ST_UP && p->ready && p->inflight < EF_PUB_WINDOW &&
                    ef_mono_ms() >= p->pause_until;
        pthread_mutex_unlock(&p->lock);
        if (!room || atomic_load(&p->stop) || !ef_pub_dialect_control(p))
            return;
        struct ef_qmsg *m;
        if (ef_queue_take(p->q, &m) != 0)
            return;
        /* The session may rewrite it (Sparkplug: aliases, seq), hold it
         * back for a birth first, or drop it. */
        struct ef_pub_out out = {m->topic, m->payload, m->payload_len, m->qos, m->retain};
        int prep = p->has_dialect ? p->dialect.prepare(p->dialect.ctx, m, &out)
                                  : EF_PUB_PREPARE_SEND;
        if (prep == EF_PUB_PREPARE_LATER) {
            ef_queue_nack(p->q, m);
            continue;
        }
        if (prep == EF_PUB_PREPARE_SKIP) {
            ef_queue_ack(p->q, m);
            continue;
        }
        size_t size = ef_mqtt_publish_size(strlen(out.topic), out.len, out.qos, p->mqtt.version);
        if (ef_pub_set_aside_if_too_large(p, m, size))
            continue;
        if (send_one(p, m, &out, size) != 0)
            return;
    }
}

void ef_pub_send_direct(struct ef_publisher *p, const char *topic, const char *payload, size_t len)
{
    size_t size = ef_mqtt_publish_size(strlen(topic), len, 0, p->mqtt.version);
    pthread_mutex_lock(&p->lock);
    bool up = p->state == ST_UP;
    size_t lim = ef_pub_limit_locked(p, NULL);
    bool too_large = up && lim && size > lim;
    bool first = too_large && !p->stats.stats_too_large;
    if (!up)
        p->stats.direct_dropped++;
    else if (too_large)
        p->stats.stats_too_large++;
    else
        p->direct = (struct recent_send){.sent_ms = ef_mono_ms(), .size = size, .conn = p->conn};
    pthread_mutex_unlock(&p->lock);
    if (first)
        ef_warn("mqtt: the stats message on %s is %zu bytes, larger than the broker takes "
                "(%zu): not sent (counted in dropped.stats_too_large)", topic, size, lim);
    if (!up || too_large)
        return;
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = (void *)payload;
    msg.payloadlen = (int)len;
    msg.qos = 0;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    /* Another thread's send: the publisher thread may be replacing the client. */
    pthread_mutex_lock(&p->client_lock);
    p->paho->sendMessage(p->client, topic, &msg, &ro);
    pthread_mutex_unlock(&p->client_lock);
}
