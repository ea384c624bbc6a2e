#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/core/core_priv.h"
#include "gateway/core/gwalarm.h"
#include "gateway/north/json.h"
#include "gateway/north/sparkplug.h"

struct slot *ef_core_slot(struct core_dev *d, size_t hint, const char *name)
{
    return ef_core_slot_stable(d, hint, name, false);
}

struct slot *ef_core_slot_stable(struct core_dev *d, size_t hint, const char *name, bool stable)
{
    /* Modbus readings name their point with the same pointer every poll
     * (into the configuration, which outlives the core): compare pointers
     * first, strings only when the order or the name changed. */
    if (stable && hint < d->nslots && d->slots[hint].seen_as == name)
        return &d->slots[hint];
    if (hint < d->nslots && strcmp(d->slots[hint].name, name) == 0) {
        d->slots[hint].seen_as = stable ? name : NULL;
        return &d->slots[hint];
    }
    for (size_t i = 0; i < d->nslots; i++)
        if (strcmp(d->slots[i].name, name) == 0)
            return &d->slots[i];
    if (d->nslots == d->capslots) {
        size_t cap = d->capslots ? d->capslots * 2 : 16;
        struct slot *s = realloc(d->slots, cap * sizeof *s);
        if (!s)
            return NULL;
        d->slots = s;
        d->capslots = cap;
    }
    struct slot *s = &d->slots[d->nslots++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    return s;
}

/* Report by exception: a reading goes out when it has no deadband, was
 * never sent, moved by at least its deadband since it was last sent, its
 * heartbeat is due, or it is forced (a write's read-back). */
static bool must_send(const struct ef_reading *r, const struct slot *s, int64_t ts, int heartbeat_s)
{
    double db = r->point ? r->point->deadband : 0;
    /* Text has no distance to measure (the configuration refuses deadbands
     * on strings): it goes out whenever it is read. A forced reading (the
     * read-back after a write) goes out whatever its deadband. */
    if (r->forced || db <= 0 || r->value.kind == EF_VAL_STRING || s == NULL ||
        s->last_sent_ms == 0)
        return true;
    if (heartbeat_s > 0 && ts - s->last_sent_ms >= (int64_t)heartbeat_s * 1000)
        return true; /* heartbeat_s = 0: never forced */
    double v = ef_value_as_double(&r->value);
    double delta = v - s->last_sent;
    return delta >= db || -delta >= db || delta != delta;
}

/* Decides which readings go out and runs their alarms. Returns how many go. */
static size_t select_readings(struct ef_core *c, struct core_dev *d, const struct ef_sample *smp,
                              size_t n, bool *alarm_changed)
{
    size_t nsend = 0;
    for (size_t i = 0; i < n; i++) {
        const struct ef_reading *r = &smp->readings[i];
        /* A name that is its point's own (Modbus) stays put for the life of
         * the configuration; a serial parser's names live in a buffer. */
        bool stable = r->point && r->name == r->point->name;
        struct slot *s = ef_core_slot_stable(d, i, r->name, stable);
        if (s)
            ef_core_keep_last(s, r, smp->ts_ms);
        if (s && r->point && (r->point->has_alarm_high || r->point->has_alarm_low) &&
            r->value.kind != EF_VAL_STRING)
            *alarm_changed |= ef_core_check_limits(c, d, s, r, smp->ts_ms);
        d->include[i] = must_send(r, s, smp->ts_ms, d->heartbeat_s);
        if (d->include[i]) {
            nsend++;
            if (s) {
                if (r->point && r->point->deadband > 0) /* only a deadband compares it */
                    s->last_sent = ef_value_as_double(&r->value);
                s->last_sent_ms = smp->ts_ms;
            }
        }
    }
    return nsend;
}

/* Sparkplug: the stored form of DDATA (by name; aliases and seq are added
 * when it is sent, gateway/north/sparkplug.h). Returns like ef_queue_push,
 * or -EMSGSIZE when it does not fit. */
static int push_sparkplug(struct ef_core *c, struct core_dev *d, const struct ef_sample *smp,
                          size_t n)
{
    struct ef_pbw w;
    ef_pbw_init(&w, d->payload, CORE_PAYLOAD_MAX);
    ef_sp_payload_ddata_stored(&w, smp->ts_ms, smp->readings, n, d->include, d->serial);
    if (!ef_pbw_ok(&w))
        return -EMSGSIZE;
    return ef_queue_push(c->q, EF_CLASS_TELEMETRY, d->topic_telemetry, d->payload, w.len,
                         c->cfg->mqtt.telemetry_qos, false, smp->ts_ms);
}

static void core_on_sample(void *ctx, const struct ef_sample *smp)
{
    struct ef_core *c = ctx;
    if (smp->source_index >= c->ndevs || smp->nreadings == 0)
        return;
    atomic_fetch_add_explicit(&c->samples, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->readings, smp->nreadings, memory_order_relaxed);
    struct core_dev *d = &c->devs[smp->source_index];
    size_t n = smp->nreadings < CORE_MAX_READINGS ? smp->nreadings : CORE_MAX_READINGS;

    pthread_mutex_lock(&d->lock);
    bool alarm_changed = false;
    size_t nsend = select_readings(c, d, smp, n, &alarm_changed);
    int rc = 0;
    struct ef_buf b;
    ef_buf_init(&b, d->payload, CORE_PAYLOAD_MAX);
    bool unsynced = ef_clock_watch_unsynced(c->clock);
    if (nsend > 0 && unsynced && c->cfg->gateway.clock_unsynced == EF_CLOCK_DROP) {
        /* The operator would rather have no reading than one at a wrong time. */
        atomic_fetch_add_explicit(&c->clock_dropped, 1, memory_order_relaxed);
        nsend = 0;
        rc = 1;
    }
    if (c->sp) {
        /* Every value, sent or not, is the device's current state for DBIRTH. */
        ef_sp_node_sample(c->sp, smp->source_index, smp);
        if (nsend > 0)
            rc = push_sparkplug(c, d, smp, n);
    } else if (nsend > 0) {
        ef_payload_telemetry(&b, smp->ts_ms, smp->readings, n, d->include);
        if (unsynced)
            ef_payload_mark_unsynced(&b);
        rc = ef_buf_ok(&b) ? ef_queue_push(c->q, EF_CLASS_TELEMETRY, d->topic_telemetry, b.data,
                                           b.len, c->cfg->mqtt.telemetry_qos, false, smp->ts_ms)
                           : -1;
    }
    pthread_mutex_unlock(&d->lock);

    if (alarm_changed)
        ef_core_save_alarms(c);
    if (rc == 1) {
        /* dropped for the clock: counted above */
    } else if (nsend == 0) {
        atomic_fetch_add_explicit(&c->suppressed, 1, memory_order_relaxed);
    } else if (rc == 0) {
        atomic_fetch_add_explicit(&c->messages, 1, memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&c->queue_errors, 1, memory_order_relaxed);
        ef_warn("%s: telemetry message not queued (%s)", d->name,
                rc == -EMSGSIZE || !ef_buf_ok(&b) ? "payload too large" : "queue error");
    }
}

static int dev_init(struct ef_core *c, struct core_dev *d, const char *name, int heartbeat_s,
                    int offline_after)
{
    pthread_mutex_init(&d->lock, NULL);
    snprintf(d->name, sizeof d->name, "%s", name);
    snprintf(d->topic_telemetry, sizeof d->topic_telemetry, "%s/%s/telemetry/%s",
             c->cfg->mqtt.topic_prefix, c->cfg->gateway.id, name);
    snprintf(d->topic_alarm, sizeof d->topic_alarm, "%s/%s/alarm/%s", c->cfg->mqtt.topic_prefix,
             c->cfg->gateway.id, name);
    snprintf(d->topic_avail, sizeof d->topic_avail, "%s/%s/availability/%s",
             c->cfg->mqtt.topic_prefix, c->cfg->gateway.id, name);
    d->heartbeat_s = heartbeat_s;
    d->offline_after = offline_after;
    d->payload = malloc(CORE_PAYLOAD_MAX);
    d->include = calloc(CORE_MAX_READINGS, sizeof *d->include);
    return d->payload && d->include ? 0 : -1;
}

struct ef_core *ef_core_new(const struct ef_config *cfg, struct ef_queue *q, bool reload)
{
    struct ef_core *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->cfg = cfg;
    c->q = q;
    pthread_mutex_init(&c->store_lock, NULL);
    if (cfg->gateway.state_dir[0])
        snprintf(c->store_path, sizeof c->store_path, "%s/alarms", cfg->gateway.state_dir);
    c->ndevs = cfg->ndevices + cfg->nserials;
    c->devs = calloc(c->ndevs ? c->ndevs : 1, sizeof *c->devs);
    if (!c->devs) {
        free(c);
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < cfg->ndevices; i++)
        rc |= dev_init(c, &c->devs[i], cfg->devices[i].name, cfg->devices[i].heartbeat_s,
                       cfg->devices[i].offline_after);
    for (size_t i = 0; i < cfg->nserials; i++) {
        rc |= dev_init(c, &c->devs[cfg->ndevices + i], cfg->serials[i].name,
                       cfg->serials[i].heartbeat_s, cfg->serials[i].offline_after);
        c->devs[cfg->ndevices + i].serial = true;
    }
    c->sink.sample = core_on_sample;
    c->sink.poll_result = ef_core_on_poll;
    c->sink.ctx = c;
    if (rc) {
        ef_core_free(c);
        return NULL;
    }
    ef_core_load_alarms(c, reload);
    return c;
}

void ef_core_free(struct ef_core *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->ndevs; i++) {
        pthread_mutex_destroy(&c->devs[i].lock);
        for (size_t k = 0; k < c->devs[i].nslots; k++)
            free(c->devs[i].slots[k].text);
        free(c->devs[i].slots);
        free(c->devs[i].payload);
        free(c->devs[i].include);
    }
    pthread_mutex_destroy(&c->store_lock);
    free(c->devs);
    free(c);
}

void ef_core_set_sparkplug(struct ef_core *c, struct ef_sp_node *sp)
{
    c->sp = sp;
    for (size_t i = 0; sp && i < c->ndevs; i++)
        snprintf(c->devs[i].topic_telemetry, sizeof c->devs[i].topic_telemetry, "%s",
                 ef_sp_node_ddata_topic(sp, i));
}

const struct ef_sink *ef_core_sink(struct ef_core *c) { return &c->sink; }

size_t ef_core_ndevices(const struct ef_core *c) { return c->ndevs; }

const char *ef_core_device_name(const struct ef_core *c, size_t index)
{
    return index < c->ndevs ? c->devs[index].name : "?";
}

void ef_core_get_stats(struct ef_core *c, struct ef_core_stats *out)
{
    out->samples = atomic_load_explicit(&c->samples, memory_order_relaxed);
    out->readings = atomic_load_explicit(&c->readings, memory_order_relaxed);
    out->messages = atomic_load_explicit(&c->messages, memory_order_relaxed);
    out->suppressed = atomic_load_explicit(&c->suppressed, memory_order_relaxed);
    out->alarms = atomic_load_explicit(&c->alarms, memory_order_relaxed);
    out->queue_errors = atomic_load_explicit(&c->queue_errors, memory_order_relaxed);
    out->clock_dropped = atomic_load_explicit(&c->clock_dropped, memory_order_relaxed);
}

void ef_core_set_clock(struct ef_core *c, struct ef_clock_watch *clock) { c->clock = clock; }

char **ef_core_availability_topics(const struct ef_core *c, size_t *n)
{
    char **t = calloc(c->ndevs ? c->ndevs : 1, sizeof *t);
    *n = 0;
    if (!t)
        return NULL;
    for (size_t i = 0; i < c->ndevs; i++) {
        t[i] = strdup(c->devs[i].topic_avail);
        if (!t[i]) {
            ef_core_topics_free(t, i);
            return NULL;
        }
    }
    *n = c->ndevs;
    return t;
}

void ef_core_topics_free(char **topics, size_t n)
{
    for (size_t i = 0; topics && i < n; i++)
        free(topics[i]);
    free(topics);
}

void ef_core_retire_availability(struct ef_core *c, char *const *prev, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        bool kept = false;
        for (size_t i = 0; i < c->ndevs && !kept; i++)
            kept = strcmp(c->devs[i].topic_avail, prev[k]) == 0;
        if (kept)
            continue;
        int rc = ef_queue_push(c->q, EF_CLASS_ALARM, prev[k], "", 0, 1, true, ef_wall_ms());
        if (rc != 0)
            ef_err("removal of %s could not be made durable (%s)", prev[k], strerror(-rc));
        else
            ef_info("reload: availability of %s removed", prev[k]);
    }
}
