/* The session a dialect layers on the connection (Sparkplug B: NDEATH as
 * the will, NBIRTH and DBIRTH before any data, seq and aliases per
 * message). The publisher only calls its hooks (publisher.h): it knows
 * nothing of the dialect. */
#include "common/log.h"
#include "gateway/mqtt/publisher_priv.h"

void ef_pub_dialect_will(struct ef_publisher *p)
{
    if (!p->has_dialect)
        return;
    struct ef_pub_out w;
    p->dialect.will(p->dialect.ctx, &w);
    p->opts.will.topicName = w.topic;
    p->opts.will.message = NULL;
    p->opts.will.payload.data = w.payload;
    p->opts.will.payload.len = (int)w.len;
    p->opts.will.qos = w.qos;
    p->opts.will.retained = w.retain;
}

void ef_pub_dialect_up(struct ef_publisher *p)
{
    if (p->has_dialect)
        p->dialect.link(p->dialect.ctx, true);
}

static int send_plain(struct ef_publisher *p, const struct ef_pub_out *m,
                      MQTTAsync_responseOptions *ro)
{
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    msg.payload = (void *)m->payload;
    msg.payloadlen = (int)m->len;
    msg.qos = m->qos;
    msg.retained = m->retain;
    return p->paho->sendMessage(p->client, m->topic, &msg, ro);
}

void ef_pub_dialect_death(struct ef_publisher *p)
{
    if (!p->has_dialect)
        return;
    /* A DISCONNECT of our own makes the broker discard the will. */
    struct ef_pub_out d;
    p->dialect.death(p->dialect.ctx, &d);
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    if (send_plain(p, &d, &ro) == MQTTASYNC_SUCCESS)
        p->paho->waitForCompletion(p->client, ro.token, 2000);
}

static void set_wait(struct ef_publisher *p, bool wait)
{
    pthread_mutex_lock(&p->lock);
    p->dialect_wait = wait;
    pthread_mutex_unlock(&p->lock);
}

bool ef_pub_dialect_control(struct ef_publisher *p)
{
    for (int i = 0; p->has_dialect && i < 1000; i++) {
        struct ef_pub_out out;
        int rc = p->dialect.control(p->dialect.ctx, &out);
        /* While the session waits (for its host), the thread sleeps on
         * events rather than on the queue, which has messages. */
        set_wait(p, rc == EF_PUB_CONTROL_WAIT);
        if (rc == EF_PUB_CONTROL_READY)
            return true;
        if (rc == EF_PUB_CONTROL_WAIT)
            return false;
        if (rc == EF_PUB_CONTROL_DISCONNECT) {
            ef_pub_dialect_death(p);
            MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
            dopt.timeout = 1000;
            p->paho->disconnect(p->client, &dopt);
            ef_pub_lost(p, "the session ended it", false);
            return false;
        }
        /* Births and deaths: QoS 0 outside the window, in call order, so
         * their seq and the data's stay in the order paho writes them. */
        MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
        if (send_plain(p, &out, &ro) != MQTTASYNC_SUCCESS) {
            ef_warn("mqtt: %s refused by paho", out.topic);
            return false;
        }
    }
    return !p->has_dialect;
}
