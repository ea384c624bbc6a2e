#include "gateway/sparkplug_glue.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/north/json.h"

static void to_pub(struct ef_pub_out *o, const struct ef_sp_out *s)
{
    *o = (struct ef_pub_out){s->topic, s->payload, s->len, s->qos, s->retain};
}

static void will(void *ctx, struct ef_pub_out *out)
{
    struct ef_sp_out s;
    ef_sp_node_will(ctx, &s);
    to_pub(out, &s);
}

static void death(void *ctx, struct ef_pub_out *out)
{
    struct ef_sp_out s;
    ef_sp_node_death(ctx, &s);
    to_pub(out, &s);
}

static void link_changed(void *ctx, bool up) { ef_sp_node_link(ctx, up); }

/* STATE, NCMD, DCMD, handed over on the publisher thread. */
static void arrived(void *ctx, const struct ef_pub_inbound *m)
{
    if (m->oversize) {
        ef_warn("sparkplug: %zu-byte message on %s is too large: ignored", m->len, m->topic);
        return;
    }
    ef_sp_node_arrived(ctx, m->topic, m->payload, m->len, m->retained);
}

static int control(void *ctx, struct ef_pub_out *out)
{
    struct ef_sp_out s;
    int rc = ef_sp_node_control(ctx, &s);
    if (rc == EF_SP_CONTROL_SEND)
        to_pub(out, &s);
    return rc == EF_SP_CONTROL_SEND    ? EF_PUB_CONTROL_SEND
         : rc == EF_SP_CONTROL_READY   ? EF_PUB_CONTROL_READY
         : rc == EF_SP_CONTROL_WAIT    ? EF_PUB_CONTROL_WAIT
                                       : EF_PUB_CONTROL_DISCONNECT;
}

static int prepare(void *ctx, const struct ef_qmsg *m, struct ef_pub_out *out)
{
    struct ef_sp_out s;
    int rc = ef_sp_node_prepare(ctx, m->topic, m->payload, m->payload_len, m->qos, m->retain,
                                m->ts_ms, &s);
    to_pub(out, &s);
    return rc == EF_SP_PREPARE_SEND ? EF_PUB_PREPARE_SEND
         : rc == EF_SP_PREPARE_SKIP ? EF_PUB_PREPARE_SKIP
                                    : EF_PUB_PREPARE_LATER;
}

/* DCMD -> the commands path: {"values":{...},"ts":TS} on P/G/set/D, as a
 * JSON command would come, so every rule of docs/commands.md applies and
 * the result goes to P/G/result/D. */
static void dcmd_write(void *ctx, const char *device, const char *const *points,
                       const struct ef_value *values, size_t n, int64_t ts_ms)
{
    struct ef_sparkplug_writer *wr = ctx;
    char topic[EF_STR_MAX + 2 * EF_NAME_MAX + 16];
    snprintf(topic, sizeof topic, "%s/set/%s", wr->base, device);
    char *payload = malloc(EF_PUB_INBOUND_MAX);
    if (!payload) {
        ef_err("sparkplug: DCMD for %s dropped: out of memory", device);
        return;
    }
    struct ef_buf b;
    ef_buf_init(&b, payload, EF_PUB_INBOUND_MAX);
    ef_buf_puts(&b, "{\"values\":{");
    for (size_t i = 0; i < n; i++) {
        ef_buf_puts(&b, i ? ",\"" : "\"");
        ef_buf_puts(&b, points[i]);
        ef_buf_puts(&b, "\":");
        ef_buf_value(&b, &values[i]);
    }
    ef_buf_puts(&b, "}");
    if (ts_ms > 0) {
        ef_buf_puts(&b, ",\"ts\":");
        ef_buf_int(&b, ts_ms);
    }
    ef_buf_puts(&b, "}");
    if (ef_buf_ok(&b)) {
        struct ef_pub_inbound m = {.topic = topic, .payload = payload, .len = b.len, .qos = 1,
                                   .arrived_mono_ms = ef_mono_ms()};
        ef_info("sparkplug: DCMD for %s as a command: %s", device, payload);
        ef_commands_submit(wr->commands, &m);
    } else {
        ef_err("sparkplug: DCMD for %s too large as a command: dropped", device);
    }
    free(payload);
}

void ef_sparkplug_writer_init(struct ef_sparkplug_writer *w, const struct ef_config *cfg,
                              struct ef_commands *commands)
{
    snprintf(w->base, sizeof w->base, "%s/%s", cfg->mqtt.topic_prefix, cfg->gateway.id);
    w->commands = commands;
}

int ef_sparkplug_attach(struct ef_sp_node *n, struct ef_publisher *p,
                        struct ef_sparkplug_writer *writer)
{
    if (writer)
        ef_sp_node_set_writer(n, dcmd_write, writer);
    struct ef_pub_dialect s;
    ef_sparkplug_dialect(n, &s);
    ef_pub_set_dialect(p, &s);
    const char *topics[4];
    size_t k = ef_sp_node_topics(n, topics, 4);
    for (size_t i = 0; i < k; i++)
        if (ef_pub_subscribe(p, topics[i], 1, arrived, n) != 0)
            return -1;
    return 0;
}

void ef_sparkplug_dialect(struct ef_sp_node *n, struct ef_pub_dialect *out)
{
    *out = (struct ef_pub_dialect){.ctx = n,
                                   .will = will,
                                   .death = death,
                                   .link = link_changed,
                                   .control = control,
                                   .prepare = prepare};
}
