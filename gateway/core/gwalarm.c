/* The gateway's own alarms (see gwalarm.h). */
#include "gateway/core/gwalarm.h"

#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/north/json.h"

void ef_gw_alarms_config(struct ef_gw_alarms *a, const struct ef_config *cfg)
{
    snprintf(a->topic_disk, sizeof a->topic_disk, "%s/%s/alarm/gateway/queue",
             cfg->mqtt.topic_prefix, cfg->gateway.id);
    a->qos = cfg->mqtt.alarm_qos;
    a->retain = cfg->mqtt.retain_alarms;
}

void ef_payload_mark_unsynced(struct ef_buf *b)
{
    if (b->len == 0 || b->len >= b->cap || b->data[b->len - 1] != '}')
        return;
    b->len--;
    ef_buf_puts(b, ",\"clock\":\"unsynced\"}");
}

/* A JSON string body: the error text is ours, but may hold a path. */
static void put_escaped(struct ef_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = { '\\', (char)c };
            ef_buf_put(b, e, 2);
        } else if (c < 0x20) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            ef_buf_puts(b, e);
        } else {
            ef_buf_put(b, (const char *)&c, 1);
        }
    }
}

void ef_gw_alarms_tick(struct ef_gw_alarms *a, struct ef_queue *q, struct ef_clock_watch *clock)
{
    struct ef_queue_disk d;
    ef_queue_disk_state(q, &d);
    bool active = d.err != 0;
    if (active == a->disk_active)
        return;
    a->disk_active = active;
    char payload[512];
    struct ef_buf b;
    ef_buf_init(&b, payload, sizeof payload);
    ef_buf_puts(&b, "{\"ts\":");
    ef_buf_int(&b, ef_wall_ms());
    if (active) {
        ef_buf_puts(&b, ",\"state\":\"active\",\"kind\":\"disk\",\"error\":\"");
        put_escaped(&b, d.what);
        ef_buf_puts(&b, "\"}");
    } else {
        ef_buf_puts(&b, ",\"state\":\"cleared\",\"kind\":\"disk\"}");
    }
    if (ef_clock_watch_unsynced(clock))
        ef_payload_mark_unsynced(&b);
    if (!ef_buf_ok(&b))
        return;
    if (active)
        ef_warn("alarm gateway/queue: disk active (%s)", d.what);
    else
        ef_info("alarm gateway/queue: disk cleared");
    /* Queued like every alarm, so the order of active and cleared holds
     * even on a disk that flaps. While the disk fails, "active" waits in
     * memory (retried on the disk each tick) and is sent from there. */
    int rc = ef_queue_push(q, EF_CLASS_ALARM, a->topic_disk, b.data, b.len, a->qos, a->retain,
                           ef_wall_ms());
    if (rc < 0)
        ef_debug("alarm gateway/queue: in memory only for now (%s)", strerror(-rc));
}
