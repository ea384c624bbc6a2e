#include "gateway/sparkplug_glue.h"

static void to_pub(struct ef_pub_msg *o, const struct ef_sp_out *s)
{
    *o = (struct ef_pub_msg){s->topic, s->payload, s->len, s->qos, s->retain};
}

static void will(void *ctx, struct ef_pub_msg *out)
{
    struct ef_sp_out s;
    ef_sp_node_will(ctx, &s);
    to_pub(out, &s);
}

static void death(void *ctx, struct ef_pub_msg *out)
{
    struct ef_sp_out s;
    ef_sp_node_death(ctx, &s);
    to_pub(out, &s);
}

static size_t topics(void *ctx, const char **t, size_t max) { return ef_sp_node_topics(ctx, t, max); }

static void link_changed(void *ctx, bool up) { ef_sp_node_link(ctx, up); }

static bool arrived(void *ctx, const char *topic, const void *payload, size_t len, bool retained)
{
    return ef_sp_node_arrived(ctx, topic, payload, len, retained);
}

static int control(void *ctx, struct ef_pub_msg *out)
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

static int prepare(void *ctx, const struct ef_qmsg *m, struct ef_pub_msg *out)
{
    struct ef_sp_out s;
    int rc = ef_sp_node_prepare(ctx, m->topic, m->payload, m->payload_len, m->qos, m->retain,
                                m->ts_ms, &s);
    to_pub(out, &s);
    return rc == EF_SP_PREPARE_SEND ? EF_PUB_PREPARE_SEND
         : rc == EF_SP_PREPARE_SKIP ? EF_PUB_PREPARE_SKIP
                                    : EF_PUB_PREPARE_LATER;
}

void ef_sparkplug_session(struct ef_sp_node *n, struct ef_pub_session *out)
{
    *out = (struct ef_pub_session){.ctx = n,
                                   .will = will,
                                   .death = death,
                                   .topics = topics,
                                   .link = link_changed,
                                   .arrived = arrived,
                                   .control = control,
                                   .prepare = prepare};
}
