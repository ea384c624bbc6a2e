/* Replies: messages the gateway owes to someone who asked (command
 * results). They do not go through the queue: they are not readings, they
 * may carry MQTT 5 correlation data the queue's records cannot hold, and
 * they must not wait behind a backlog of telemetry. Each is sent at QoS 1,
 * kept in memory until the broker acknowledges it, and sent again after a
 * reconnect; at most EF_PUB_REPLIES wait at once (more are dropped and
 * counted: a flood of commands cannot grow memory). */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "gateway/mqtt/publisher_priv.h"

int ef_pub_reply(struct ef_publisher *p, const char *topic, const void *payload, size_t len,
                 const void *correlation, size_t correlation_len)
{
    size_t tl = strlen(topic);
    char *data = malloc(tl + 1 + len + correlation_len + 1);
    if (!data)
        return -1;
    memcpy(data, topic, tl + 1);
    if (len)
        memcpy(data + tl + 1, payload, len);
    if (correlation_len)
        memcpy(data + tl + 1 + len, correlation, correlation_len);
    pthread_mutex_lock(&p->lock);
    struct pub_reply *r = NULL;
    for (size_t i = 0; i < EF_PUB_REPLIES && !r; i++)
        if (p->replies[i].state == REPLY_FREE)
            r = &p->replies[i];
    if (r) {
        r->data = data;
        r->topic_len = tl;
        r->payload_len = len;
        r->corr_len = correlation_len;
        r->state = REPLY_PENDING;
    } else {
        p->stats.replies_dropped++;
    }
    pthread_mutex_unlock(&p->lock);
    if (!r) {
        free(data);
        ef_warn("mqtt: %zu replies already wait to be sent; the one for %s is dropped",
                (size_t)EF_PUB_REPLIES, topic);
        return -1;
    }
    ef_pub_wake(p);
    return 0;
}

bool ef_pub_replies_due_locked(const struct ef_publisher *p)
{
    if (p->state != ST_UP || !p->ready)
        return false;
    for (size_t i = 0; i < EF_PUB_REPLIES; i++)
        if (p->replies[i].state == REPLY_PENDING)
            return true;
    return false;
}

static void settle(struct reply_ticket *t, bool ok)
{
    struct ef_publisher *p = t->p;
    pthread_mutex_lock(&p->lock);
    if (t->live) {
        t->live = false;
        struct pub_reply *r = &p->replies[t->slot];
        if (ok) {
            free(r->data);
            memset(r, 0, sizeof *r);
            p->stats.replies_sent++;
        } else {
            r->state = REPLY_PENDING;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (!ok)
        ef_pub_wake(p);
}

static void on_sent(void *ctx, MQTTAsync_successData *r) { (void)r; settle(ctx, true); }
static void on_failed(void *ctx, MQTTAsync_failureData *r) { (void)r; settle(ctx, false); }
static void on_sent5(void *ctx, MQTTAsync_successData5 *r) { (void)r; settle(ctx, true); }
static void on_failed5(void *ctx, MQTTAsync_failureData5 *r) { (void)r; settle(ctx, false); }

/* Takes one pending reply and a ticket for it; false when none is due. */
static bool take(struct ef_publisher *p, struct reply_ticket **out, struct pub_reply *copy)
{
    bool found = false;
    pthread_mutex_lock(&p->lock);
    if (p->state == ST_UP && p->ready) {
        for (size_t i = 0; i < EF_PUB_REPLIES && !found; i++) {
            struct pub_reply *r = &p->replies[i];
            if (r->state != REPLY_PENDING)
                continue;
            struct reply_ticket *t = &p->reply_tickets[p->next_reply_ticket];
            if (t->live)
                break; /* every ticket in flight: wait for acknowledgements */
            p->next_reply_ticket = (p->next_reply_ticket + 1) % EF_PUB_REPLY_TICKETS;
            t->p = p;
            t->slot = i;
            t->live = true;
            r->state = REPLY_INFLIGHT;
            *copy = *r;
            *out = t;
            found = true;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return found;
}

void ef_pub_send_replies(struct ef_publisher *p)
{
    struct reply_ticket *t;
    struct pub_reply r;
    while (take(p, &t, &r)) {
        MQTTAsync_message msg = MQTTAsync_message_initializer;
        msg.payload = r.data + r.topic_len + 1;
        msg.payloadlen = (int)r.payload_len;
        msg.qos = 1;
        msg.retained = 0;
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        ro.context = t;
        MQTTProperties props = MQTTProperties_initializer;
        if (p->mqtt.version == 5) {
            ro.onSuccess5 = on_sent5;
            ro.onFailure5 = on_failed5;
            if (r.corr_len) {
                MQTTProperty cd = {.identifier = MQTTPROPERTY_CODE_CORRELATION_DATA};
                cd.value.data.len = (int)r.corr_len;
                cd.value.data.data = r.data + r.topic_len + 1 + r.payload_len;
                p->paho->addProperty(&props, &cd);
            }
            msg.properties = props;
        } else {
            ro.onSuccess = on_sent;
            ro.onFailure = on_failed;
        }
        /* paho copies the payload and the properties before it returns. */
        int rc = p->paho->sendMessage(p->client, r.data, &msg, &ro);
        if (p->mqtt.version == 5)
            p->paho->freeProperties(&props);
        if (rc != MQTTASYNC_SUCCESS) {
            settle(t, false);
            return; /* paho is busy or the link went: next turn */
        }
    }
}

void ef_pub_reclaim_replies(struct ef_publisher *p)
{
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < EF_PUB_REPLY_TICKETS; i++) {
        struct reply_ticket *t = &p->reply_tickets[i];
        if (t->live) {
            t->live = false;
            p->replies[t->slot].state = REPLY_PENDING;
        }
    }
    pthread_mutex_unlock(&p->lock);
}
