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

const char *ef_pub_uri(const struct ef_publisher *p) { return p->opts.uris[p->uri].text; }

/* LIMIT: the Maximum Packet Size the broker announced (MQTT 5), or 0. */
static void connected_ok(struct ef_publisher *p, size_t limit)
{
    pthread_mutex_lock(&p->lock);
    p->state = ST_UP;
    p->conn++;
    p->limit.connack = limit;
    p->need_birth = true;
    p->ready = false;
    p->stats.connects++;
    p->connect_error[p->uri] = 0;
    int was = p->used_uri;
    bool switched = was >= 0 && (size_t)was != p->uri;
    if (switched)
        p->stats.switches++;
    p->used_uri = (int)p->uri;
    p->next_uri = 0;
    p->walk_on = false;
    size_t n = p->opts.nuris, i = p->uri;
    pthread_mutex_unlock(&p->lock);
    char which[EF_STR_MAX + 64] = "";
    if (n > 1)
        snprintf(which, sizeof which, " (broker %zu of %zu%s%s)", i + 1, n,
                 switched ? ", switched from " : "", switched ? p->opts.uris[was].text : "");
    if (limit)
        ef_info("connected to %s%s; it takes packets of up to %zu bytes", p->opts.uris[i].text,
                which, limit);
    else
        ef_info("connected to %s%s", p->opts.uris[i].text, which);
    ef_pub_wake(p);
}

void ef_pub_connect_failed(struct ef_publisher *p, int code, int reason, const char *msg)
{
    pthread_mutex_lock(&p->lock);
    size_t i = p->uri;
    bool changed = p->connect_error[i] != (code ? code : reason);
    p->connect_error[i] = code ? code : reason;
    p->state = ST_DOWN;
    p->stats.connect_failures++;
    /* The rest of the list is tried at once; back-off only after the last. */
    p->walk_on = i + 1 < p->opts.nuris;
    p->next_uri = p->walk_on ? i + 1 : 0;
    /* Logged once per change of reason, not once per retry, and by the
     * publisher thread: finding the reason of a TLS failure takes a probe
     * connection, which must not run in paho's callback under its lock. */
    if (changed) {
        p->fail.pending = true;
        p->fail.uri = i;
        p->fail.code = code;
        p->fail.reason = reason;
        snprintf(p->fail.msg, sizeof p->fail.msg, "%s", msg ? msg : "");
    }
    pthread_mutex_unlock(&p->lock);
    if (!changed)
        ef_debug("connect to %s failed again", p->opts.uris[i].text);
    ef_pub_wake(p);
}

/* Publisher thread: logs a connect failure recorded by ef_pub_connect_failed. */
void ef_pub_report_connect_failure(struct ef_publisher *p)
{
    pthread_mutex_lock(&p->lock);
    bool pending = p->fail.pending;
    size_t i = p->fail.uri;
    int code = p->fail.code, reason = p->fail.reason;
    char msg[sizeof p->fail.msg];
    memcpy(msg, p->fail.msg, sizeof msg);
    p->fail.pending = false;
    pthread_mutex_unlock(&p->lock);
    if (pending)
        ef_warn("cannot connect to %s: %s%s", p->opts.uris[i].text,
                ef_mqtt_describe_connect_failure(&p->opts, i, code, reason, msg[0] ? msg : NULL),
                i + 1 < p->opts.nuris ? "; trying the next broker" : "");
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
        p->next_uri = 0; /* the next attempt walks the list from the first */
        p->walk_on = false;
    }
    pthread_mutex_unlock(&p->lock);
    if (!was_up)
        return; /* our own disconnect at shutdown, or already handled */
    ef_warn("connection to %s lost%s%s", ef_pub_uri(p), cause ? ": " : "", cause ? cause : "");
    ef_queue_set_connected(p->q, false);
    ef_pub_wake(p);
}

/* A new client per connection, for two reasons. paho keeps the PUBLISH
 * commands it had not written when a connection broke and writes them on
 * the next one, although the publisher has given those messages back to
 * the queue and sends them again: a duplicate of each. Destroying the old
 * client fails them instead (their tickets are dead by then: nothing
 * happens). And paho 1.3.12 sets a client's TLS and WebSocket flags from a
 * uri but never clears them, so one client cannot serve ssl:// and then
 * tcp:// (nor paho's own list of server uris): a client made for its uri
 * has the right ones. */
int ef_pub_make_client(struct ef_publisher *p, size_t i)
{
    MQTTAsync_createOptions cro = MQTTAsync_createOptions_initializer;
    cro.sendWhileDisconnected = 0; /* the queue is the only buffer */
    /* paho counts PUBLISH commands not yet written against this cap even while
     * connected (MQTTAsync_send): leave ample room. Our window bounds what we
     * add; the cap only has to never refuse the birth or a retry. */
    cro.maxBufferedMessages = 1000;
    cro.MQTTVersion = p->mqtt.version == 5 ? MQTTVERSION_5 : MQTTVERSION_3_1_1;
    MQTTAsync fresh = NULL;
    int rc = p->paho->createWithOptions(&fresh, p->opts.uris[i].uri, p->mqtt.client_id,
                                        MQTTCLIENT_PERSISTENCE_NONE, NULL, &cro);
    if (rc != MQTTASYNC_SUCCESS)
        return rc;
    p->paho->setCallbacks(fresh, p, ef_pub_connection_lost, ef_pub_on_message, NULL);
    pthread_mutex_lock(&p->client_lock);
    MQTTAsync old = p->client;
    p->client = fresh;
    p->client_used = false;
    p->client_uri = i;
    /* Under client_lock, so no other thread sends through it meanwhile;
     * its failure callbacks take p->lock only, never client_lock. */
    if (old)
        p->paho->destroy(&old);
    pthread_mutex_unlock(&p->client_lock);
    return MQTTASYNC_SUCCESS;
}

int ef_pub_start_connect(struct ef_publisher *p)
{
    pthread_mutex_lock(&p->lock);
    size_t i = p->uri;
    pthread_mutex_unlock(&p->lock);
    if (p->client_used || !p->client || p->client_uri != i) {
        int rc = ef_pub_make_client(p, i);
        if (rc != MQTTASYNC_SUCCESS)
            return rc;
    }
    p->client_used = true;
    MQTTAsync_connectOptions co;
    ef_mqtt_fill_connect(&p->opts, i, &co, p->status_topic);
    ef_pub_dialect_will(p);
    co.context = p;
    if (p->mqtt.version == 5) {
        co.onSuccess5 = on_connect5;
        co.onFailure5 = on_connect_failed5;
    } else {
        co.onSuccess = on_connect;
        co.onFailure = on_connect_failed;
    }
    ef_mqtt_warn_insecure(&p->opts, i);
    ef_debug("mqtt: connecting to %s", p->opts.uris[i].text);
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
