/* The broker's packet size limit: what is known of it, setting aside what
 * is larger, and learning it from a broker that does not say.
 *
 * A limit comes from [mqtt] max_packet_size, from an MQTT 5 CONNACK
 * (Maximum Packet Size, per connection) or is learned; the smallest known
 * applies. A message larger than it is never sent: sending it would only
 * make the broker close the connection again and again, with the queue
 * stuck behind it. It is acknowledged out of the queue instead (it can
 * never be delivered to this broker) and counted: telemetry as
 * dropped.too_large, an alarm as dropped.alarm_too_large, logged as an
 * error every time. */
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/mqtt/publisher_priv.h"

/* A loss this soon after a send may have been caused by it: a broker that
 * refuses a packet closes the connection as soon as it reads its header. */
#define LEARN_WINDOW_MS 2000
/* Consecutive losses needed before a limit is learned. */
#define LEARN_STRIKES 3
/* Telemetry set aside is logged at warning level at most this often. */
#define TOO_LARGE_LOG_MS 60000

static size_t varint_len(size_t v)
{
    size_t n = 1;
    while (v >= 128) {
        v /= 128;
        n++;
    }
    return n;
}

size_t ef_mqtt_publish_size(size_t topic_len, size_t payload_len, int qos, int version)
{
    size_t rem = 2 + topic_len + (qos > 0 ? 2 : 0) + payload_len;
    if (version == 5)
        rem += varint_len(0); /* the properties' length: we send none */
    return 1 + varint_len(rem) + rem;
}

size_t ef_pub_limit_locked(const struct ef_publisher *p, const char **src)
{
    size_t lim = 0;
    const char *from = "none";
    if (p->mqtt.max_packet_size > 0) {
        lim = (size_t)p->mqtt.max_packet_size;
        from = "[mqtt] max_packet_size";
    }
    if (p->limit.connack && (!lim || p->limit.connack < lim)) {
        lim = p->limit.connack;
        from = "announced by the broker";
    }
    if (p->limit.learned && (!lim || p->limit.learned < lim)) {
        lim = p->limit.learned;
        from = "learned from the broker closing the connection";
    }
    if (src)
        *src = from;
    return lim;
}

size_t ef_pub_connack_limit(const MQTTProperties *props)
{
    for (int i = 0; props && i < props->count; i++)
        if (props->array[i].identifier == MQTTPROPERTY_CODE_MAXIMUM_PACKET_SIZE)
            return props->array[i].value.integer4;
    return 0;
}

bool ef_pub_set_aside_if_too_large(struct ef_publisher *p, struct ef_qmsg *m, size_t size)
{
    const char *src;
    int64_t now = ef_mono_ms();
    pthread_mutex_lock(&p->lock);
    size_t lim = ef_pub_limit_locked(p, &src);
    bool too_large = lim && size > lim;
    bool alarm = m->cls == EF_CLASS_ALARM;
    bool loud = alarm || now - p->limit.logged_ms >= TOO_LARGE_LOG_MS || !p->limit.logged_ms;
    uint64_t count = 0;
    if (too_large) {
        count = alarm ? ++p->stats.alarm_too_large : ++p->stats.too_large;
        if (loud && !alarm)
            p->limit.logged_ms = now;
    }
    pthread_mutex_unlock(&p->lock);
    if (!too_large)
        return false;
    if (alarm)
        ef_err("mqtt: alarm on %s is %zu bytes, larger than the broker takes (%zu, %s): "
               "set aside, it will not be delivered (%llu alarm(s) so far)",
               m->topic, size, lim, src, (unsigned long long)count);
    else if (loud)
        ef_warn("mqtt: telemetry on %s is %zu bytes, larger than the broker takes (%zu, %s): "
                "dropped (%llu so far; the next ones are logged at debug level for a minute)",
                m->topic, size, lim, src, (unsigned long long)count);
    else
        ef_debug("mqtt: telemetry on %s is %zu bytes (limit %zu): dropped", m->topic, size, lim);
    ef_queue_ack(p->q, m);
    return true;
}

void ef_pub_proven_locked(struct ef_publisher *p, size_t size)
{
    if (size > p->limit.proven)
        p->limit.proven = size;
    if (p->limit.strikes && size >= p->limit.strike_size)
        p->limit.strikes = 0; /* the broker took one that large: no limit there */
}

/* The rule, applied at each loss of a connection the broker closed:
 * - the suspect is the largest packet sent on that connection in the
 *   LEARN_WINDOW_MS before it broke (in flight or not: at QoS 0 a message
 *   is settled once written); what paho had not written dies with its
 *   client (ef_pub_make_client), so nothing older is written later;
 * - it counts as a strike only if it is larger than any packet the broker
 *   is known to have taken: acknowledged at QoS 1/2, or written on a
 *   connection that then stayed up for LEARN_WINDOW_MS;
 * - any other loss, or the broker taking a packet as large as the
 *   strikes', starts the count again; our own silent-link check neither
 *   counts nor resets;
 * - after LEARN_STRIKES strikes in a row, packets of the smallest struck
 *   size and larger are set aside until the gateway restarts.
 * So a broker killed or a link cut while a large message is on its way
 * teaches nothing unless it happens three times in a row, each time just
 * after a message larger than all the broker ever took. */
void ef_pub_learn(struct ef_publisher *p)
{
    pthread_mutex_lock(&p->lock);
    int64_t from = p->lost_ms - LEARN_WINDOW_MS;
    size_t suspect = 0;
    for (size_t i = 0; i < EF_PUB_TICKETS; i++) {
        const struct ticket *t = &p->tickets[i];
        if (t->conn != p->conn || !t->size)
            continue;
        if (t->sent_ms >= from) {
            if (t->size > suspect)
                suspect = t->size;
        } else if (t->written && t->size > p->limit.proven) {
            p->limit.proven = t->size;
        }
    }
    if (p->direct.conn == p->conn && p->direct.size) {
        if (p->direct.sent_ms >= from && p->direct.size > suspect)
            suspect = p->direct.size;
        else if (p->direct.sent_ms < from && p->direct.size > p->limit.proven)
            p->limit.proven = p->direct.size;
    }
    size_t learned = 0;
    int strikes = 0;
    if (!p->lost_evidence) {
        strikes = -1;
    } else if (!suspect || suspect <= p->limit.proven) {
        p->limit.strikes = 0;
    } else {
        if (!p->limit.strikes || suspect < p->limit.strike_size)
            p->limit.strike_size = suspect;
        strikes = ++p->limit.strikes;
        if (strikes >= LEARN_STRIKES) {
            learned = p->limit.strike_size - 1;
            if (!p->limit.learned || learned < p->limit.learned)
                p->limit.learned = learned;
            p->limit.strikes = 0;
        }
    }
    pthread_mutex_unlock(&p->lock);
    if (learned)
        ef_warn("mqtt: %s closed the connection %d times in a row right after a message of "
                "%zu bytes or more: taking %zu bytes as the largest packet it takes (until "
                "restart); larger messages are set aside",
                ef_pub_uri(p), LEARN_STRIKES, learned + 1, learned);
    else if (strikes > 0)
        ef_debug("mqtt: connection lost %d time(s) in a row right after a message of %zu bytes",
                 strikes, suspect);
}
