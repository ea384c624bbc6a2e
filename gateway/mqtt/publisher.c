/* The publisher object and its thread: the loop that drives the connection
 * (publisher_conn.c) and the send window (publisher_window.c). */
#include "gateway/mqtt/publisher.h"

#include <MQTTAsync.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/thread.h"
#include "common/log.h"
#include "gateway/mqtt/publisher_priv.h"

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
        ef_pub_report_connect_failure(p);
        pthread_mutex_lock(&p->lock);
        enum pub_state st = p->state;
        bool lost = p->lost, birth = p->need_birth, walk_on = p->walk_on;
        p->lost = false;
        p->need_birth = false;
        pthread_mutex_unlock(&p->lock);

        if (lost) {
            if (p->has_dialect)
                p->dialect.link(p->dialect.ctx, false);
            ef_pub_learn(p);
            ef_pub_reclaim(p);
            ef_pub_reclaim_replies(p);
            next_attempt = now + ef_pub_backoff_ms(attempt++);
        }
        if (st == ST_DOWN && (now >= next_attempt || walk_on)) {
            /* An attempt starts at the first broker; a broker that fails
             * hands over to the next one at once (walk_on), and only a
             * failure of the last one waits out the back-off. */
            pthread_mutex_lock(&p->lock);
            p->state = ST_CONNECTING;
            p->uri = p->next_uri;
            p->walk_on = false;
            pthread_mutex_unlock(&p->lock);
            int rc = ef_pub_start_connect(p);
            if (rc != MQTTASYNC_SUCCESS)
                ef_pub_connect_failed(p, rc, 0, NULL);
            else
                ef_pub_hasten_connect(p);
            if (!walk_on)
                next_attempt = now + ef_pub_backoff_ms(attempt++);
        }
        if (birth) {
            /* Nothing of this connection is in flight yet (the ef_pub_pump waits
             * for `ready`), so whatever is still live belongs to the old one. */
            attempt = 0;
            ef_pub_reclaim(p);
            ef_pub_dialect_up(p);
            int rc = ef_pub_send_status(p, "online", false);
            pthread_mutex_lock(&p->lock);
            if (rc == MQTTASYNC_SUCCESS)
                p->ready = p->state == ST_UP;
            else if (p->state == ST_UP)
                p->need_birth = true; /* refused (paho busy): again next turn */
            pthread_mutex_unlock(&p->lock);
            if (rc == MQTTASYNC_SUCCESS) {
                ef_pub_after_birth(p);
                ef_session_connected(p->session);
                ef_queue_set_connected(p->q, true);
            } else
                ef_debug("mqtt: birth refused by paho (%d), retrying", rc);
        }
        if (st == ST_UP && now >= next_stall_check && ef_pub_acks_stalled(p, now)) {
            ef_warn("no acknowledgement from %s for %d s: reconnecting", ef_pub_uri(p),
                    p->mqtt.keepalive_s);
            MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
            dopt.timeout = 0;
            p->paho->disconnect(p->client, &dopt);
            ef_pub_lost(p, "acknowledgements stalled", false);
            continue;
        }
        ef_pub_deliver_inbound(p);
        ef_pub_send_replies(p);
        ef_pub_session_step(p);
        ef_pub_pump(p);
        if (now >= next_stall_check)
            next_stall_check = now + 250;
        ef_pub_wait_for_work(p);
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
    pthread_mutex_init(&p->client_lock, NULL);
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
    /* paho's TLS build only when a uri needs it (it maps libssl and
     * libcrypto); it serves plain uris as well, so a mixed list takes it. */
    p->paho = ef_paho_get(p->opts.tls);
    if (!p->paho) {
        ef_err("mqtt: cannot create a client for %s", cfg->mqtt.uri);
        ef_pub_free(p);
        return NULL;
    }
    p->used_uri = -1;
    /* The first client now, so that paho's refusal is reported at start. */
    int rc = ef_pub_make_client(p, 0);
    if (rc != MQTTASYNC_SUCCESS) {
        ef_err("mqtt: cannot create a client for %s (paho error %d)", p->opts.uris[0].text, rc);
        ef_pub_free(p);
        return NULL;
    }
    srand((unsigned)ef_mono_us() ^ (unsigned)getpid());
    return p;
}

void ef_pub_set_dialect(struct ef_publisher *p, const struct ef_pub_dialect *s)
{
    p->dialect = *s;
    p->has_dialect = true;
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
    ef_pub_wake(p);
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
    if (up)
        ef_pub_dialect_death(p); /* Sparkplug: NDEATH before an intentional disconnect */
    if (p->has_dialect)
        p->dialect.link(p->dialect.ctx, false);
    if (up) {
        ef_pub_send_status(p, "offline", true);
        MQTTAsync_disconnectOptions dopt = MQTTAsync_disconnectOptions_initializer;
        dopt.timeout = 1000;
        p->paho->disconnect(p->client, &dopt);
        for (int i = 0; i < 100 && p->paho->isConnected(p->client); i++)
            ef_sleep_ms(10);
    }
    ef_pub_reclaim(p);
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
    ef_pub_inbound_free(p);
    ef_mqtt_opts_free(&p->opts);
    ef_session_free(p->session);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->client_lock);
    free(p);
}


void ef_pub_get_stats(struct ef_publisher *p, struct ef_pub_stats *out)
{
    pthread_mutex_lock(&p->lock);
    *out = p->stats;
    out->connected = p->state == ST_UP;
    snprintf(out->broker, sizeof out->broker, "%s", out->connected ? ef_pub_uri(p) : "");
    pthread_mutex_unlock(&p->lock);
}

int64_t ef_pub_alive_ms(struct ef_publisher *p) { return atomic_load(&p->alive_ms); }
