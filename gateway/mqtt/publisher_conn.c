/* The publisher's connection: connecting with the will, the birth, the
 * back-off between attempts, and paho's callbacks about the connection's
 * state. What is sent on a connection is publisher_window.c's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/mqtt/publisher_priv.h"
#include "gateway/mqtt/paho_nudge.h"

/* LIMIT: the Maximum Packet Size the broker announced (MQTT 5), or 0. */
static void connected_ok(struct ef_publisher *p, size_t limit)
{
    pthread_mutex_lock(&p->lock);
    p->state = ST_UP;
    p->conn++;
    p->limit.connack = limit;
    ef_pub_adopt_orphans_locked(p);
    p->need_birth = true;
    p->ready = false;
    p->stats.connects++;
    p->connect_error = 0;
    pthread_mutex_unlock(&p->lock);
    if (limit)
        ef_info("connected to %s (it takes packets of up to %zu bytes)", p->mqtt.uri, limit);
    else
        ef_info("connected to %s", p->mqtt.uri);
    ef_pub_wake(p);
}

void ef_pub_connect_failed(struct ef_publisher *p, int code, int reason, const char *msg)
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
    ef_pub_wake(p);
}

/* Publisher thread: logs a connect failure recorded by ef_pub_connect_failed. */
void ef_pub_report_connect_failure(struct ef_publisher *p)
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

static void on_connect(void *ctx, MQTTAsync_successData *r) { (void)r; connected_ok(ctx, 0); }

static void on_connect5(void *ctx, MQTTAsync_successData5 *r)
{
    connected_ok(ctx, r ? ef_pub_connack_limit(&r->properties) : 0);
}

static void on_connect_failed(void *ctx, MQTTAsync_failureData *r)
{
    ef_pub_connect_failed(ctx, r ? r->code : -1, 0, r ? r->message : NULL);
}

static void on_connect_failed5(void *ctx, MQTTAsync_failureData5 *r)
{
    ef_pub_connect_failed(ctx, r ? r->code : -1, r ? (int)r->reasonCode : 0, r ? r->message : NULL);
}

void ef_pub_connection_lost(void *ctx, char *cause) { ef_pub_lost(ctx, cause, true); }

void ef_pub_lost(struct ef_publisher *p, const char *cause, bool evidence)
{
    int64_t now = ef_mono_ms();
    pthread_mutex_lock(&p->lock);
    bool was_up = p->state == ST_UP;
    if (was_up) {
        p->state = ST_DOWN;
        p->ready = false;
        p->lost = true;
        p->lost_ms = now;
        p->lost_evidence = evidence;
        p->stats.connection_lost++;
    }
    pthread_mutex_unlock(&p->lock);
    if (!was_up)
        return; /* our own disconnect at shutdown, or already handled */
    ef_warn("connection to %s lost%s%s", p->mqtt.uri, cause ? ": " : "", cause ? cause : "");
    ef_queue_set_connected(p->q, false);
    ef_pub_wake(p);
}

int ef_pub_start_connect(struct ef_publisher *p)
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

/* Returns paho's code: the caller retries the birth when it was refused. */
int ef_pub_send_status(struct ef_publisher *p, const char *text, bool wait)
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
void ef_pub_hasten_connect(struct ef_publisher *p)
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
int64_t ef_pub_backoff_ms(int attempt)
{
    int64_t base = 500;
    for (int i = 0; i < attempt && base < 30000; i++)
        base *= 2;
    if (base > 30000)
        base = 30000;
    return base / 2 + (int64_t)(rand() % (int)(base + 1));
}
