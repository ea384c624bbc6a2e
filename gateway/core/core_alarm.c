/* Limit and offline alarms: state machines from alarm.c, messages into the
 * queue's durable class, and the state file that makes them survive a
 * restart (a gateway restarted while an alarm is active does not raise it
 * again; one that cleared while it was down is reported cleared). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/file.h"
#include "common/log.h"
#include "gateway/core/core_priv.h"
#include "gateway/north/json.h"

static void push_alarm(struct ef_core *c, const char *topic, const char *payload, size_t len,
                       int64_t ts_ms)
{
    int rc = ef_queue_push(c->q, EF_CLASS_ALARM, topic, payload, len, c->cfg->mqtt.alarm_qos,
                           c->cfg->mqtt.retain_alarms, ts_ms);
    atomic_fetch_add_explicit(&c->alarms, 1, memory_order_relaxed);
    if (rc != 0)
        ef_err("alarm on %s could not be made durable (%s); it is kept in memory", topic,
               strerror(-rc));
}

bool ef_core_check_limits(struct ef_core *c, struct core_dev *d, struct slot *s,
                          const struct ef_reading *r, int64_t ts_ms)
{
    enum ef_alarm_event ev[2];
    int n = ef_alarm_eval(r->point, &s->alarm, ef_value_as_double(&r->value), ev);
    for (int i = 0; i < n; i++) {
        bool high = ef_alarm_event_high(ev[i]), active = ef_alarm_event_active(ev[i]);
        char topic[CORE_TOPIC_MAX + EF_NAME_MAX + 2];
        char payload[256];
        struct ef_buf b;
        snprintf(topic, sizeof topic, "%s/%s", d->topic_alarm, r->name);
        ef_buf_init(&b, payload, sizeof payload);
        ef_payload_alarm(&b, ts_ms, active, high, &r->value,
                         high ? r->point->alarm_high : r->point->alarm_low);
        ef_info("alarm %s/%s: %s %s", d->name, r->name, high ? "high" : "low",
                active ? "active" : "cleared");
        push_alarm(c, topic, b.data, b.len, ts_ms);
    }
    return n > 0;
}

void ef_core_on_poll(void *ctx, size_t index, int64_t ts_ms, bool answered)
{
    struct ef_core *c = ctx;
    if (index >= c->ndevs)
        return;
    struct core_dev *d = &c->devs[index];
    pthread_mutex_lock(&d->lock);
    int change = ef_offline_eval(&d->offline, d->offline_after, answered);
    if (change) {
        char payload[128];
        struct ef_buf b;
        ef_buf_init(&b, payload, sizeof payload);
        ef_payload_offline(&b, ts_ms, change > 0);
        if (change > 0)
            ef_warn("device %s offline after %d failed polls", d->name, d->offline_after);
        else
            ef_info("device %s answers again", d->name);
        push_alarm(c, d->topic_alarm, b.data, b.len, ts_ms);
    }
    pthread_mutex_unlock(&d->lock);
    if (change)
        ef_core_save_alarms(c);
}

/* File format, one active alarm per line:
 *   offline DEVICE
 *   high DEVICE POINT
 *   low DEVICE POINT */
static size_t format_states(struct ef_core *c, char **out)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return 0;
    for (size_t i = 0; i < c->ndevs; i++) {
        struct core_dev *d = &c->devs[i];
        pthread_mutex_lock(&d->lock);
        for (size_t k = 0; k <= d->nslots; k++) {
            char line[3 * EF_NAME_MAX + 16] = "";
            if (k == d->nslots && d->offline.offline)
                snprintf(line, sizeof line, "offline %s\n", d->name);
            else if (k < d->nslots && d->slots[k].alarm.high_active)
                snprintf(line, sizeof line, "high %s %s\n", d->name, d->slots[k].name);
            if (k < d->nslots && d->slots[k].alarm.low_active)
                snprintf(line + strlen(line), sizeof line - strlen(line), "low %s %s\n", d->name,
                         d->slots[k].name);
            size_t n = strlen(line);
            if (len + n + 1 > cap) {
                char *nb = realloc(buf, cap * 2 + n);
                if (!nb)
                    break;
                buf = nb;
                cap = cap * 2 + n;
            }
            memcpy(buf + len, line, n);
            len += n;
        }
        pthread_mutex_unlock(&d->lock);
    }
    *out = buf;
    return len;
}

void ef_core_save_alarms(struct ef_core *c)
{
    if (!c->store_path[0])
        return;
    pthread_mutex_lock(&c->store_lock);
    char *text = NULL;
    size_t len = format_states(c, &text);
    /* Never through a symlink or over a foreign file (common/file.h). */
    int rc = text ? ef_file_replace(c->store_path, text, len) : -ENOMEM;
    if (rc < 0)
        ef_err("cannot save alarm states to %s: %s", c->store_path, ef_file_strerror(rc));
    free(text);
    pthread_mutex_unlock(&c->store_lock);
}

static struct core_dev *find_dev(struct ef_core *c, const char *name)
{
    for (size_t i = 0; i < c->ndevs; i++)
        if (strcmp(c->devs[i].name, name) == 0)
            return &c->devs[i];
    return NULL;
}

void ef_core_load_alarms(struct ef_core *c)
{
    if (!c->store_path[0])
        return;
    int fd = ef_file_open(c->store_path, O_RDONLY, 0);
    if (fd < 0 && fd != -ENOENT) /* ENOENT: first start, or no alarm was ever active */
        ef_warn("alarm states in %s not read: %s", c->store_path, ef_file_strerror(fd));
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return;
    }
    char line[3 * EF_NAME_MAX + 16];
    size_t n = 0;
    while (fgets(line, sizeof line, f)) {
        char kind[16], dev[EF_NAME_MAX + 1], point[EF_NAME_MAX + 1] = "";
        if (sscanf(line, "%15s %64s %64s", kind, dev, point) < 2)
            continue;
        struct core_dev *d = find_dev(c, dev);
        if (!d)
            continue; /* the device left the configuration */
        if (strcmp(kind, "offline") == 0) {
            d->offline.offline = true;
            n++;
        } else if (point[0] && (strcmp(kind, "high") == 0 || strcmp(kind, "low") == 0)) {
            struct slot *s = ef_core_slot(d, 0, point);
            if (s && kind[0] == 'h')
                s->alarm.high_active = true;
            else if (s)
                s->alarm.low_active = true;
            n++;
        }
    }
    fclose(f);
    if (n)
        ef_info("%zu alarm%s still active from before the restart", n, n == 1 ? "" : "s");
}
