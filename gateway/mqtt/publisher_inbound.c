/* The way in: subscriptions made after every connect, and messages that
 * arrive on them handed to their handlers on the publisher's own thread
 * (never on paho's, which holds its lock during the callback). And the
 * replies to them (command results), sent at QoS 1 outside the queue and
 * kept until the broker acknowledges them, so a reconnect does not lose one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/mqtt/publisher_priv.h"

bool ef_mqtt_topic_matches(const char *filter, const char *topic)
{
    while (*filter) {
        if (filter[0] == '#')
            return filter[1] == '\0';
        if (filter[0] == '+') {
            while (*topic && *topic != '/')
                topic++;
            filter++;
        } else {
            while (*filter && *filter != '/' && *filter == *topic) {
                filter++;
                topic++;
            }
            if (*filter && *filter != '/')
                return false;
            if (*topic && *topic != '/')
                return false;
        }
        if (*filter == '\0')
            return *topic == '\0';
        /* Both stand on a '/' now, or the topic has ended: "a/#" matches "a". */
        if (*topic == '\0')
            return strcmp(filter, "/#") == 0;
        filter++;
        topic++;
    }
    return *topic == '\0';
}

int ef_pub_subscribe(struct ef_publisher *p, const char *filter, int qos, ef_pub_handler fn,
                     void *ctx)
{
    if (p->nsubs >= EF_PUB_SUBS || strlen(filter) >= sizeof p->subs[0].filter || !fn ||
        qos < 0 || qos > 2)
        return -1;
    struct pub_sub *s = &p->subs[p->nsubs++];
    snprintf(s->filter, sizeof s->filter, "%s", filter);
    s->qos = qos;
    s->fn = fn;
    s->ctx = ctx;
    return 0;
}

void ef_pub_on_connected(struct ef_publisher *p, void (*fn)(void *ctx), void *ctx)
{
    p->connected_fn = fn;
    p->connected_ctx = ctx;
}

static void on_subscribed(void *ctx, MQTTAsync_successData *r) { (void)ctx; (void)r; }
static void on_subscribed5(void *ctx, MQTTAsync_successData5 *r) { (void)ctx; (void)r; }

static void on_subscribe_failed(void *ctx, MQTTAsync_failureData *r)
{
    struct ef_publisher *p = ctx;
    ef_warn("mqtt: %s refused the subscriptions (%d)", p->mqtt.uri, r ? r->code : 0);
}

static void on_subscribe_failed5(void *ctx, MQTTAsync_failureData5 *r)
{
    struct ef_publisher *p = ctx;
    ef_warn("mqtt: %s refused the subscriptions (reason %d)", p->mqtt.uri,
            r ? (int)r->reasonCode : 0);
}

void ef_pub_after_birth(struct ef_publisher *p)
{
    if (p->nsubs) {
        char *filters[EF_PUB_SUBS];
        int qos[EF_PUB_SUBS];
        for (size_t i = 0; i < p->nsubs; i++) {
            filters[i] = p->subs[i].filter;
            qos[i] = p->subs[i].qos;
        }
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        ro.context = p;
        if (p->mqtt.version == 5) {
            ro.onSuccess5 = on_subscribed5;
            ro.onFailure5 = on_subscribe_failed5;
        } else {
            ro.onSuccess = on_subscribed;
            ro.onFailure = on_subscribe_failed;
        }
        int rc = p->paho->subscribeMany(p->client, (int)p->nsubs, filters, qos, &ro);
        if (rc != MQTTASYNC_SUCCESS)
            ef_warn("mqtt: cannot subscribe (%d): commands wait for the next connection", rc);
    }
    if (p->connected_fn)
        p->connected_fn(p->connected_ctx);
}

static void copy_property(struct ef_publisher *p, MQTTProperties *props, enum MQTTPropertyCodes c,
                          char **out, size_t *len, bool text)
{
    MQTTProperty *pr = p->paho->getProperty(props, c);
    if (!pr || pr->value.data.len <= 0)
        return;
    size_t n = (size_t)pr->value.data.len;
    char *d = malloc(n + 1);
    if (!d)
        return;
    memcpy(d, pr->value.data.data, n);
    d[n] = '\0';
    if (text && strlen(d) != n) { /* a topic with a NUL in it is no topic */
        free(d);
        return;
    }
    *out = d;
    *len = n;
}

/* paho's messageArrived callback (its thread, its lock held): copy, queue,
 * wake the publisher thread. A full inbox drops the message and counts it:
 * the sender of a command then gets no result, but nothing blocks paho. */
int ef_pub_on_message(void *ctx, char *topic, int tlen, MQTTAsync_message *m)
{
    struct ef_publisher *p = ctx;
    size_t tl = tlen > 0 ? (size_t)tlen : strlen(topic);
    size_t plen = m->payloadlen > 0 ? (size_t)m->payloadlen : 0;
    bool oversize = plen > EF_PUB_INBOUND_MAX;
    struct pub_inbox_msg *im = calloc(1, sizeof *im + tl + 1 + (oversize ? 0 : plen) + 1);
    if (im) {
        im->topic = (char *)(im + 1);
        memcpy(im->topic, topic, tl);
        im->payload = im->topic + tl + 1;
        if (!oversize && plen)
            memcpy(im->payload, m->payload, plen);
        im->m.len = plen;
        im->m.oversize = oversize;
        im->m.retained = m->retained != 0;
        im->m.dup = m->dup != 0;
        im->m.qos = m->qos;
        im->m.arrived_mono_ms = ef_mono_ms();
        if (p->mqtt.version == 5) {
            copy_property(p, &m->properties, MQTTPROPERTY_CODE_RESPONSE_TOPIC, &im->response_topic,
                          &(size_t){0}, true);
            copy_property(p, &m->properties, MQTTPROPERTY_CODE_CORRELATION_DATA,
                          &im->correlation, &im->m.correlation_len, false);
        }
    }
    pthread_mutex_lock(&p->lock);
    if (im && p->inbox_n < EF_PUB_INBOX) {
        p->inbox[(p->inbox_head + p->inbox_n++) % EF_PUB_INBOX] = im;
        im = NULL;
    } else {
        p->stats.inbound_dropped++;
    }
    pthread_mutex_unlock(&p->lock);
    ef_pub_wake(p);
    if (im) {
        free(im->response_topic);
        free(im->correlation);
        free(im);
    }
    p->paho->freeMessage(&m);
    p->paho->free(topic);
    return 1;
}

static void free_inbox_msg(struct pub_inbox_msg *im)
{
    free(im->response_topic);
    free(im->correlation);
    free(im);
}

bool ef_pub_inbox_waiting_locked(const struct ef_publisher *p) { return p->inbox_n > 0; }

void ef_pub_deliver_inbound(struct ef_publisher *p)
{
    for (;;) {
        pthread_mutex_lock(&p->lock);
        struct pub_inbox_msg *im = NULL;
        if (p->inbox_n) {
            im = p->inbox[p->inbox_head];
            p->inbox_head = (p->inbox_head + 1) % EF_PUB_INBOX;
            p->inbox_n--;
        }
        pthread_mutex_unlock(&p->lock);
        if (!im)
            return;
        im->m.topic = im->topic;
        im->m.payload = im->m.oversize ? NULL : im->payload;
        im->m.response_topic = im->response_topic;
        im->m.correlation = im->correlation;
        bool handled = false;
        for (size_t i = 0; i < p->nsubs && !handled; i++)
            if (ef_mqtt_topic_matches(p->subs[i].filter, im->topic)) {
                p->subs[i].fn(p->subs[i].ctx, &im->m);
                handled = true;
            }
        if (!handled)
            ef_debug("mqtt: a message on %s matches no subscription", im->topic);
        free_inbox_msg(im);
    }
}

void ef_pub_inbound_free(struct ef_publisher *p)
{
    while (p->inbox_n) {
        free_inbox_msg(p->inbox[p->inbox_head]);
        p->inbox_head = (p->inbox_head + 1) % EF_PUB_INBOX;
        p->inbox_n--;
    }
    for (size_t i = 0; i < EF_PUB_REPLIES; i++)
        free(p->replies[i].data);
}
