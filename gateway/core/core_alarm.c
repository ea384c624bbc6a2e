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

#include "common/clock.h"
#include "common/file.h"
#include "common/log.h"
#include "gateway/core/core_priv.h"
#include "gateway/core/gwalarm.h"
#include "gateway/north/json.h"

static void push_alarm(struct ef_core *c, const char *topic, const char *payload, size_t len,
                       int64_t ts_ms)
{
    char marked[320];
    if (ef_clock_watch_unsynced(c->clock) && len + 24 < sizeof marked) {
        struct ef_buf b;
        ef_buf_init(&b, marked, sizeof marked);
        ef_buf_put(&b, payload, len);
        ef_payload_mark_unsynced(&b);
        payload = marked;
        len = b.len;
    }
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

/* Availability is state, not an event: retained, QoS 1, and durable like an
 * alarm, so the broker ends up with the latest one even across outages and
 * crashes (the queue sends a class oldest first). */
static void push_availability(struct ef_core *c, const char *topic, const char *text,
                              int64_t ts_ms)
{
    int rc = ef_queue_push(c->q, EF_CLASS_ALARM, topic, text, strlen(text), 1, true, ts_ms);
    if (rc != 0)
        ef_err("availability on %s could not be made durable (%s); it is kept in memory",
               topic, strerror(-rc));
}

/* online after the first answered poll of this configuration, offline when
 * the offline alarm becomes active, online again when it clears. Called
 * with the device's lock held, after the offline state machine ran. */
static void follow_availability(struct ef_core *c, struct core_dev *d, int change,
                                bool answered, int64_t ts_ms)
{
    if (change > 0 && d->avail != AVAIL_OFFLINE) {
        d->avail = AVAIL_OFFLINE;
        push_availability(c, d->topic_avail, "offline", ts_ms);
    } else if (answered && !d->offline.offline && d->avail != AVAIL_ONLINE) {
        d->avail = AVAIL_ONLINE;
        push_availability(c, d->topic_avail, "online", ts_ms);
    }
}

void ef_core_on_poll(void *ctx, size_t index, int64_t ts_ms, bool answered)
{
    struct ef_core *c = ctx;
    if (index >= c->ndevs)
        return;
    struct core_dev *d = &c->devs[index];
    pthread_mutex_lock(&d->lock);
    d->last_poll_ms = ts_ms;
    d->last_answered = answered;
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
        if (c->sp) /* Sparkplug: DDEATH now, DBIRTH when it answers again */
            ef_sp_node_device_online(c->sp, index, change < 0);
    }
    follow_availability(c, d, change, answered, ts_ms);
    pthread_mutex_unlock(&d->lock);
    if (change)
        ef_core_save_alarms(c);
}

/* File format, one active alarm per line, after the topic base they were
 * raised under (a file without it is taken to have the current one):
 *   base PREFIX/ID
 *   offline DEVICE
 *   high DEVICE POINT
 *   low DEVICE POINT */
#define STATE_LINE_MAX (EF_STR_MAX + 3 * EF_NAME_MAX + 16)

static void topic_base(const struct ef_core *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", c->cfg->mqtt.topic_prefix, c->cfg->gateway.id);
}

/* Appends LINE to *BUF; false when out of memory. */
static bool append(char **buf, size_t *len, size_t *cap, const char *line)
{
    size_t n = strlen(line);
    if (*len + n + 1 > *cap) {
        char *nb = realloc(*buf, *cap * 2 + n);
        if (!nb)
            return false;
        *buf = nb;
        *cap = *cap * 2 + n;
    }
    memcpy(*buf + *len, line, n);
    *len += n;
    return true;
}

static size_t format_states(struct ef_core *c, char **out)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return 0;
    char line[STATE_LINE_MAX] = "base ";
    topic_base(c, line + 5, sizeof line - 6);
    strcat(line, "\n");
    bool ok = append(&buf, &len, &cap, line);
    for (size_t i = 0; ok && i < c->ndevs; i++) {
        struct core_dev *d = &c->devs[i];
        pthread_mutex_lock(&d->lock);
        for (size_t k = 0; ok && k <= d->nslots; k++) {
            line[0] = '\0';
            if (k == d->nslots && d->offline.offline)
                snprintf(line, sizeof line, "offline %s\n", d->name);
            else if (k < d->nslots && d->slots[k].alarm.high_active)
                snprintf(line, sizeof line, "high %s %s\n", d->name, d->slots[k].name);
            if (k < d->nslots && d->slots[k].alarm.low_active)
                snprintf(line + strlen(line), sizeof line - strlen(line), "low %s %s\n", d->name,
                         d->slots[k].name);
            ok = append(&buf, &len, &cap, line);
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
    /* Logged once per change of outcome, not once per alarm change: a full
     * or failing disk must not flood the journal (the queue's disk errors
     * are logged the same way). */
    if (rc < 0) {
        c->save_failed++;
        if (rc != c->save_err)
            ef_err("cannot save alarm states to %s: %s", c->store_path, ef_file_strerror(rc));
        c->save_err = rc;
    } else if (c->save_err) {
        ef_info("alarm states saved to %s again, after %llu failed save%s", c->store_path,
                (unsigned long long)c->save_failed, c->save_failed == 1 ? "" : "s");
        c->save_err = 0;
        c->save_failed = 0;
    }
    free(text);
    pthread_mutex_unlock(&c->store_lock);
}

static const struct ef_point *find_point(const struct ef_core *c, size_t dev, const char *name)
{
    const struct ef_config *cfg = c->cfg;
    const struct ef_point *pts = dev < cfg->ndevices ? cfg->devices[dev].points
                                                     : cfg->serials[dev - cfg->ndevices].points;
    size_t n = dev < cfg->ndevices ? cfg->devices[dev].npoints
                                   : cfg->serials[dev - cfg->ndevices].npoints;
    for (size_t i = 0; i < n; i++)
        if (strcmp(pts[i].name, name) == 0)
            return &pts[i];
    return NULL;
}

/* Takes one line of the file into the state machines. Returns 1 when the
 * configuration still has that alarm, -1 when it does not (a removed
 * device, point or limit), 0 for a line that is not an alarm. */
static bool is_alarm(const char *kind, const char *point)
{
    if (strcmp(kind, "offline") == 0)
        return true;
    return point[0] && (strcmp(kind, "high") == 0 || strcmp(kind, "low") == 0);
}

static int restore_one(struct ef_core *c, const char *kind, const char *dev, const char *point)
{
    bool offline = strcmp(kind, "offline") == 0;
    bool high = strcmp(kind, "high") == 0;
    if (!is_alarm(kind, point))
        return 0;
    size_t i = 0;
    while (i < c->ndevs && strcmp(c->devs[i].name, dev) != 0)
        i++;
    if (i == c->ndevs)
        return -1;
    struct core_dev *d = &c->devs[i];
    if (offline) {
        d->offline.offline = true;
        return 1;
    }
    const struct ef_point *p = find_point(c, i, point);
    if (!p || !(high ? p->has_alarm_high : p->has_alarm_low))
        return -1;
    struct slot *s = ef_core_slot(d, 0, point);
    if (s && high)
        s->alarm.high_active = true;
    else if (s)
        s->alarm.low_active = true;
    return 1;
}

/* Sends "cleared" for an alarm the configuration no longer has: nothing
 * else ever would, and its retained "active" would stay on the broker. BASE
 * is the P/G it was raised under. */
static void clear_removed(struct ef_core *c, const char *base, bool moved, bool reload,
                          const char *kind, const char *dev, const char *point)
{
    char topic[STATE_LINE_MAX + 16];
    if (point[0])
        snprintf(topic, sizeof topic, "%s/alarm/%s/%s", base, dev, point);
    else
        snprintf(topic, sizeof topic, "%s/alarm/%s", base, dev);
    int64_t ts = ef_wall_ms();
    char payload[128];
    struct ef_buf b;
    ef_buf_init(&b, payload, sizeof payload);
    ef_payload_alarm_removed(&b, ts, kind);
    const char *why = moved ? "topic_prefix or id changed" : "no longer in the configuration";
    if (point[0])
        ef_info("%salarm %s/%s %s%s cleared: %s", reload ? "reload: " : "", dev, point, kind,
                reload ? "" : " from before the restart", why);
    else
        ef_info("%soffline alarm of %s%s cleared: %s", reload ? "reload: " : "", dev,
                reload ? "" : " from before the restart", why);
    push_alarm(c, topic, b.data, b.len, ts);
}

void ef_core_load_alarms(struct ef_core *c, bool reload)
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
    char now[STATE_LINE_MAX], base[STATE_LINE_MAX], line[STATE_LINE_MAX];
    topic_base(c, now, sizeof now);
    memcpy(base, now, sizeof base);
    size_t kept = 0, cleared = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strncmp(line, "base ", 5) == 0) {
            snprintf(base, sizeof base, "%s", line + 5);
            continue;
        }
        char kind[16], dev[EF_NAME_MAX + 1], point[EF_NAME_MAX + 1] = "";
        if (sscanf(line, "%15s %64s %64s", kind, dev, point) < 2)
            continue;
        /* Alarms raised under other topics are cleared there, and raised
         * afresh under the new ones if their condition still holds. */
        bool moved = strcmp(base, now) != 0;
        int r = !moved ? restore_one(c, kind, dev, point) : is_alarm(kind, point) ? -1 : 0;
        if (r > 0)
            kept++;
        if (r < 0) {
            clear_removed(c, base, moved, reload, kind, dev, point);
            cleared++;
        }
    }
    fclose(f);
    if (cleared)
        ef_core_save_alarms(c);
    if (kept)
        ef_info("%s%zu alarm%s still active%s", reload ? "reload: " : "", kept,
                kept == 1 ? "" : "s", reload ? "" : " from before the restart");
}
