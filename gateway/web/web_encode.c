/* The two renderings of a snapshot: JSON (/api/status and every event of
 * /events) and the Prometheus text format 0.0.4 (/metrics). */
#include <math.h>
#include <stdio.h>

#include "gateway/north/json.h"
#include "gateway/web/web.h"

#define STR_ONE(name) #name,
static const char *const dev_counter_names[] = {EF_WEB_DEV_COUNTERS(STR_ONE)};

static const char *const dev_counter_help[] = {
    "polls attempted",
    "polls where nothing was read",
    "point readings delivered",
    "Modbus requests sent or serial queries written",
    "exceptions, CRC errors, bad lines, port losses",
    "requests or queries with no answer",
    "point readings left out of samples",
    "poll cycles skipped because the bus was too slow",
    "serial lines rejected (checksum, field count, junk)",
    "serial lines discarded for being too long",
    "port or connection re-opened",
};
_Static_assert(sizeof dev_counter_help / sizeof dev_counter_help[0] == EF_WEB_NDEV_COUNTERS,
               "a help text per device counter");

/* A JSON string; units and the broker uri are free text. */
static void jstr(struct ef_buf *b, const char *s)
{
    ef_buf_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            ef_buf_put(b, e, 2);
        } else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
            /* <, > and & too: the text may end up inside HTML by mistake. */
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            ef_buf_put(b, e, 6);
        } else {
            ef_buf_put(b, s, 1);
        }
    }
    ef_buf_put(b, "\"", 1);
}

static void jkey(struct ef_buf *b, const char *k, bool first)
{
    if (!first)
        ef_buf_put(b, ",", 1);
    jstr(b, k);
    ef_buf_put(b, ":", 1);
}

static void jfigures(struct ef_buf *b, const char *key, const struct ef_web_figure *f, size_t n)
{
    jkey(b, key, false);
    ef_buf_put(b, "{", 1);
    for (size_t i = 0; i < n; i++) {
        jkey(b, f[i].name, i == 0);
        ef_buf_uint(b, f[i].value);
    }
    ef_buf_put(b, "}", 1);
}

static void jpoint(struct ef_buf *b, const struct ef_web_point *p)
{
    ef_buf_puts(b, "{\"name\":");
    jstr(b, p->name);
    ef_buf_puts(b, ",\"unit\":");
    jstr(b, p->unit);
    ef_buf_puts(b, ",\"value\":");
    if (p->ts_ms)
        ef_buf_value(b, &p->value);
    else
        ef_buf_puts(b, "null");
    ef_buf_puts(b, ",\"ts\":");
    ef_buf_int(b, p->ts_ms);
    ef_buf_puts(b, ",\"alarm\":");
    ef_buf_puts(b, p->alarm_high ? "\"high\"" : p->alarm_low ? "\"low\"" : "null");
    ef_buf_put(b, "}", 1);
}

static void jdevice(struct ef_buf *b, const struct ef_web_device *d)
{
    ef_buf_puts(b, "{\"name\":");
    jstr(b, d->name);
    ef_buf_puts(b, d->serial ? ",\"kind\":\"serial\"" : ",\"kind\":\"modbus\"");
    ef_buf_puts(b, d->offline ? ",\"online\":false" : ",\"online\":true");
    ef_buf_puts(b, d->answered ? ",\"answered\":true" : ",\"answered\":false");
    ef_buf_puts(b, ",\"last_poll\":");
    ef_buf_int(b, d->last_poll_ms);
    ef_buf_puts(b, ",\"counters\":{");
    for (size_t i = 0; i < EF_WEB_NDEV_COUNTERS; i++) {
        jkey(b, dev_counter_names[i], i == 0);
        ef_buf_uint(b, d->counters[i]);
    }
    ef_buf_puts(b, "},\"points\":[");
    for (size_t i = 0; i < d->npoints; i++) {
        if (i)
            ef_buf_put(b, ",", 1);
        jpoint(b, &d->points[i]);
    }
    ef_buf_puts(b, "]}");
}

static void jalarm(struct ef_buf *b, bool *first, const char *dev, const char *point,
                   const char *kind)
{
    ef_buf_puts(b, *first ? "{\"device\":" : ",{\"device\":");
    *first = false;
    jstr(b, dev);
    ef_buf_puts(b, ",\"point\":");
    if (point)
        jstr(b, point);
    else
        ef_buf_puts(b, "null");
    ef_buf_puts(b, ",\"kind\":");
    jstr(b, kind);
    ef_buf_put(b, "}", 1);
}

void ef_web_encode_json(struct ef_buf *b, const struct ef_web_snapshot *s)
{
    ef_buf_puts(b, "{\"ts\":");
    ef_buf_int(b, s->ts_ms);
    ef_buf_puts(b, ",\"uptime_s\":");
    ef_buf_int(b, s->uptime_s);
    ef_buf_puts(b, ",\"gateway\":");
    jstr(b, s->gateway_id);
    ef_buf_puts(b, ",\"broker\":{\"uri\":");
    jstr(b, s->broker);
    ef_buf_puts(b, s->connected ? ",\"connected\":true}" : ",\"connected\":false}");
    jfigures(b, "counters", s->counters, s->ncounters);
    jfigures(b, "gauges", s->gauges, s->ngauges);
    ef_buf_puts(b, ",\"http\":{\"streams\":");
    ef_buf_uint(b, s->http_streams);
    ef_buf_puts(b, "},\"alarms\":[");
    bool first = true;
    for (size_t i = 0; i < s->ndevices; i++) {
        const struct ef_web_device *d = &s->devices[i];
        if (d->offline)
            jalarm(b, &first, d->name, NULL, "offline");
        for (size_t k = 0; k < d->npoints; k++) {
            if (d->points[k].alarm_high)
                jalarm(b, &first, d->name, d->points[k].name, "high");
            if (d->points[k].alarm_low)
                jalarm(b, &first, d->name, d->points[k].name, "low");
        }
    }
    ef_buf_puts(b, "],\"devices\":[");
    for (size_t i = 0; i < s->ndevices; i++) {
        if (i)
            ef_buf_put(b, ",", 1);
        jdevice(b, &s->devices[i]);
    }
    ef_buf_puts(b, "]}");
}

/* ---- Prometheus ---- */

static void family(struct ef_buf *b, const char *name, const char *suffix, const char *type,
                   const char *help)
{
    ef_buf_puts(b, "# HELP edgeferry_");
    ef_buf_puts(b, name);
    ef_buf_puts(b, suffix);
    ef_buf_put(b, " ", 1);
    ef_buf_puts(b, help);
    ef_buf_puts(b, "\n# TYPE edgeferry_");
    ef_buf_puts(b, name);
    ef_buf_puts(b, suffix);
    ef_buf_put(b, " ", 1);
    ef_buf_puts(b, type);
    ef_buf_put(b, "\n", 1);
}

static void pdouble(struct ef_buf *b, double v)
{
    if (isnan(v)) {
        ef_buf_puts(b, "NaN");
    } else if (isinf(v)) {
        ef_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    } else {
        char num[32];
        ef_buf_put(b, num, ef_format_double(num, v));
    }
}

/* One sample: edgeferry_NAME{device="D",point="P"} VALUE (labels optional). */
static void psample(struct ef_buf *b, const char *name, const char *suffix, const char *dev,
                    const char *point, double v)
{
    ef_buf_puts(b, "edgeferry_");
    ef_buf_puts(b, name);
    ef_buf_puts(b, suffix);
    if (dev) {
        /* Device and point names are [A-Za-z0-9_-]: nothing to escape. */
        ef_buf_puts(b, "{device=\"");
        ef_buf_puts(b, dev);
        if (point) {
            ef_buf_puts(b, "\",point=\"");
            ef_buf_puts(b, point);
        }
        ef_buf_puts(b, "\"}");
    }
    ef_buf_put(b, " ", 1);
    pdouble(b, v);
    ef_buf_put(b, "\n", 1);
}

static void metrics_devices(struct ef_buf *b, const struct ef_web_snapshot *s)
{
    for (size_t c = 0; c < EF_WEB_NDEV_COUNTERS && s->ndevices; c++) {
        char name[48];
        snprintf(name, sizeof name, "device_%s", dev_counter_names[c]);
        family(b, name, "_total", "counter", dev_counter_help[c]);
        for (size_t i = 0; i < s->ndevices; i++)
            psample(b, name, "_total", s->devices[i].name, NULL,
                    (double)s->devices[i].counters[c]);
    }
    if (!s->ndevices)
        return;
    family(b, "device_online", "", "gauge", "1 while the device answers, 0 once it is offline");
    for (size_t i = 0; i < s->ndevices; i++)
        psample(b, "device_online", "", s->devices[i].name, NULL, s->devices[i].offline ? 0 : 1);
    family(b, "device_last_poll_timestamp_seconds", "", "gauge",
           "wall-clock time of the latest poll, 0 before the first");
    for (size_t i = 0; i < s->ndevices; i++)
        psample(b, "device_last_poll_timestamp_seconds", "", s->devices[i].name, NULL,
                (double)s->devices[i].last_poll_ms / 1000.0);
    family(b, "point_value", "", "gauge", "latest value of a point (bool as 0 or 1)");
    for (size_t i = 0; i < s->ndevices; i++)
        for (size_t k = 0; k < s->devices[i].npoints; k++)
            if (s->devices[i].points[k].ts_ms)
                psample(b, "point_value", "", s->devices[i].name, s->devices[i].points[k].name,
                        ef_value_as_double(&s->devices[i].points[k].value));
}

void ef_web_encode_metrics(struct ef_buf *b, const struct ef_web_snapshot *s)
{
    for (size_t i = 0; i < s->ncounters; i++) {
        family(b, s->counters[i].name, "_total", "counter", s->counters[i].help);
        psample(b, s->counters[i].name, "_total", NULL, NULL, (double)s->counters[i].value);
    }
    for (size_t i = 0; i < s->ngauges; i++) {
        family(b, s->gauges[i].name, "", "gauge", s->gauges[i].help);
        psample(b, s->gauges[i].name, "", NULL, NULL, (double)s->gauges[i].value);
    }
    family(b, "broker_connected", "", "gauge", "1 while connected to the MQTT broker");
    psample(b, "broker_connected", "", NULL, NULL, s->connected ? 1 : 0);
    family(b, "uptime_seconds", "", "gauge", "seconds since the gateway started");
    psample(b, "uptime_seconds", "", NULL, NULL, (double)s->uptime_s);
    family(b, "http_event_streams", "", "gauge", "open /events streams");
    psample(b, "http_event_streams", "", NULL, NULL, s->http_streams);
    unsigned active = 0;
    for (size_t i = 0; i < s->ndevices; i++) {
        active += s->devices[i].offline;
        for (size_t k = 0; k < s->devices[i].npoints; k++)
            active += s->devices[i].points[k].alarm_high + s->devices[i].points[k].alarm_low;
    }
    family(b, "alarms_active", "", "gauge", "alarms active now (offline and limit alarms)");
    psample(b, "alarms_active", "", NULL, NULL, active);
    metrics_devices(b, s);
}
