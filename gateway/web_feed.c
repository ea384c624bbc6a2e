#include "gateway/web_feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

#define FIG(arr, n, nm, hp, v) (arr)[(n)++] = (struct ef_web_figure){(nm), (hp), (v)}

/* The stats topic's figures (docs/stats.md), under the same names. */
static void figures(struct ef_web_snapshot *s, const struct ef_stats_input *in)
{
    const struct ef_queue_stats *q = &in->queue;
    struct ef_web_figure *c = s->counters;
    size_t n = 0;
    FIG(c, n, "readings", "point readings received from the sources", in->core.readings);
    FIG(c, n, "samples", "samples (one poll of one device) received", in->core.samples);
    FIG(c, n, "telemetry_queued", "telemetry messages queued", in->core.messages);
    FIG(c, n, "telemetry_suppressed", "samples with nothing past its deadband",
        in->core.suppressed);
    FIG(c, n, "alarms_queued", "alarm messages queued", in->core.alarms);
    FIG(c, n, "published", "queued messages the broker acknowledged", in->pub.published);
    FIG(c, n, "resent", "messages given back to the queue for resending", in->pub.resent);
    FIG(c, n, "connects", "successful broker connections", in->pub.connects);
    FIG(c, n, "reconnects", "broker connections after the first",
        in->pub.connects ? in->pub.connects - 1 : 0);
    FIG(c, n, "connect_failures", "refused or failed connection attempts",
        in->pub.connect_failures);
    FIG(c, n, "connection_lost", "established connections that dropped", in->pub.connection_lost);
    FIG(c, n, "queue_spilled", "telemetry written to disk", q->spilled_msgs);
    FIG(c, n, "queue_recovered", "messages found on disk at start", q->recovered_msgs);
    FIG(c, n, "queue_corrupt_records", "records cut off during recovery", q->corrupt_records);
    FIG(c, n, "queue_disk_errors", "failed queue writes or syncs", q->disk_errors);
    FIG(c, n, "dropped_telemetry_disk_full", "telemetry dropped at the disk cap",
        q->dropped_full[1]);
    FIG(c, n, "dropped_alarm_disk_full", "alarms dropped at the disk cap", q->dropped_full[0]);
    FIG(c, n, "dropped_memory_full", "messages dropped with memory full and the disk failing",
        q->dropped_memory);
    FIG(c, n, "dropped_queue_refused", "messages the queue refused", in->core.queue_errors);
    FIG(c, n, "dropped_stats_not_connected", "stats messages not sent while disconnected",
        in->pub.direct_dropped);
    s->ncounters = n;
    struct ef_web_figure *g = s->gauges;
    n = 0;
    FIG(g, n, "queue_memory_msgs", "messages held in memory", q->mem_msgs);
    FIG(g, n, "queue_memory_bytes", "bytes held in memory", q->mem_bytes);
    FIG(g, n, "queue_disk_msgs", "messages on disk not yet acknowledged", q->disk_msgs);
    FIG(g, n, "queue_disk_bytes", "bytes on disk not yet acknowledged", q->disk_bytes);
    FIG(g, n, "queue_disk_used_bytes", "size of the queue's segment files", q->disk_used_bytes);
    s->ngauges = n;
}

static uint64_t ld(atomic_uint_fast64_t *a) { return atomic_load_explicit(a, memory_order_relaxed); }

static void device_counters(uint64_t *out, struct ef_dev_counters *c)
{
#define EF_FEED_COPY(name) *out++ = ld(&c->name);
    EF_WEB_DEV_COUNTERS(EF_FEED_COPY)
#undef EF_FEED_COPY
}

/* One device: its points are copied into VIEW (grown as needed) and then
 * into the snapshot's own array. Returns -1 when out of memory. */
static int device(struct ef_web_device *d, struct ef_core *core, size_t i,
                  struct ef_core_point_view **view, size_t *cap)
{
    struct ef_core_dev_view dv;
    ef_core_view(core, i, &dv, *view, *cap);
    if (dv.npoints > *cap) {
        struct ef_core_point_view *nv = realloc(*view, dv.npoints * sizeof *nv);
        if (!nv)
            return -1;
        *view = nv;
        *cap = dv.npoints;
        ef_core_view(core, i, &dv, *view, *cap);
    }
    size_t n = dv.npoints < *cap ? dv.npoints : *cap;
    d->points = calloc(n ? n : 1, sizeof *d->points);
    if (!d->points)
        return -1;
    for (size_t k = 0; k < n; k++) {
        struct ef_web_point *p = &d->points[k];
        const struct ef_core_point_view *v = &(*view)[k];
        memcpy(p->name, v->name, sizeof p->name);
        memcpy(p->unit, v->unit, sizeof p->unit);
        p->value = v->value;
        p->ts_ms = v->ts_ms;
        p->alarm_high = v->high_active;
        p->alarm_low = v->low_active;
    }
    d->npoints = n;
    d->offline = dv.offline;
    d->answered = dv.answered;
    d->last_poll_ms = dv.last_poll_ms;
    return 0;
}

void ef_web_feed(struct ef_web *w, const struct ef_config *cfg, struct ef_core *core,
                 const struct ef_stats_input *in)
{
    static struct ef_web_snapshot s; /* main thread only; large for a stack */
    memset(&s, 0, sizeof s);
    s.ts_ms = in->ts_ms;
    s.uptime_s = in->uptime_s;
    s.gateway_id = cfg->gateway.id;
    s.broker = cfg->mqtt.uri;
    s.connected = in->pub.connected;
    figures(&s, in);
    size_t ndev = core ? ef_core_ndevices(core) : 0;
    s.devices = calloc(ndev ? ndev : 1, sizeof *s.devices);
    struct ef_core_point_view *view = NULL;
    size_t cap = 0;
    bool ok = s.devices != NULL;
    for (size_t i = 0; ok && i < ndev; i++) {
        struct ef_web_device *d = &s.devices[i];
        snprintf(d->name, sizeof d->name, "%s", ef_core_device_name(core, i));
        d->serial = i >= cfg->ndevices;
        device_counters(d->counters, &in->devices[i]);
        ok = device(d, core, i, &view, &cap) == 0;
        s.ndevices = i + 1;
    }
    if (ok)
        ef_web_publish(w, &s);
    else
        ef_warn("http: out of memory building the status");
    for (size_t i = 0; s.devices && i < s.ndevices; i++)
        free(s.devices[i].points);
    free(s.devices);
    free(view);
}

void ef_web_feed_apply(struct ef_web **w, const struct ef_http *cfg)
{
    if (*w && !ef_web_needs_restart(*w, cfg))
        return;
    if (*w) {
        ef_info("http: %s", cfg->enabled ? "restarting with the new [http]" : "stopping");
        ef_web_stop(*w);
        *w = NULL;
    }
    if (cfg->enabled)
        *w = ef_web_start(cfg);
}
