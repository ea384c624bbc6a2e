/* The node's side of the MQTT session, on the publisher's thread: will,
 * subscriptions, births and deaths, and the wire form of queued DDATA. */
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "gateway/sparkplug/sp_node_priv.h"

void ef_sp_node_will(struct ef_sp_node *n, struct ef_sp_out *out)
{
    pthread_mutex_lock(&n->lock);
    uint8_t bdseq = ef_sps_connecting(&n->s);
    n->will_ts = ef_wall_ms();
    struct ef_pbw w;
    ef_pbw_init(&w, n->will_buf, sizeof n->will_buf);
    ef_sp_payload_ndeath(&w, (uint64_t)n->will_ts, bdseq);
    *out = (struct ef_sp_out){n->t_ndeath, n->will_buf, w.len, 1, false};
    pthread_mutex_unlock(&n->lock);
    /* Before the CONNECT: after a crash the next process must not reuse it. */
    if (n->bdseq_path[0]) {
        int rc = ef_sp_bdseq_save(n->bdseq_path, bdseq);
        if (rc != 0)
            ef_warn("sparkplug: cannot save bdSeq in %s: %s", n->bdseq_path, strerror(-rc));
    }
    ef_debug("sparkplug: connecting with bdSeq %u", (unsigned)bdseq);
}

void ef_sp_node_death(struct ef_sp_node *n, struct ef_sp_out *out)
{
    pthread_mutex_lock(&n->lock);
    struct ef_pbw w;
    ef_pbw_init(&w, n->will_buf, sizeof n->will_buf);
    ef_sp_payload_ndeath(&w, (uint64_t)ef_wall_ms(), n->s.bdseq);
    *out = (struct ef_sp_out){n->t_ndeath, n->will_buf, w.len, 1, false};
    pthread_mutex_unlock(&n->lock);
}

size_t ef_sp_node_topics(struct ef_sp_node *n, const char **topics, size_t max)
{
    size_t k = 0;
    /* The STATE subscription first: its retained message decides the births. */
    if (n->host[0] && k < max)
        topics[k++] = n->t_state;
    if (k < max)
        topics[k++] = n->t_ncmd;
    if (k < max)
        topics[k++] = n->t_dcmd_filter;
    return k;
}

void ef_sp_node_link(struct ef_sp_node *n, bool up)
{
    pthread_mutex_lock(&n->lock);
    ef_sps_link(&n->s, up);
    pthread_mutex_unlock(&n->lock);
}

static void put_birth_metric(struct ef_pbw *w, const struct sp_metric *m, int64_t now)
{
    struct ef_sp_metric pm = {.name = m->name, .name_len = strlen(m->name), .has_alias = true,
                              .alias = m->alias, .has_ts = true,
                              .ts = (uint64_t)(m->known ? m->ts_ms : now), .has_type = true,
                              .type = m->type, .eng_unit = m->unit};
    if (m->known)
        ef_sp_set_value(&pm, m->type, &m->value);
    else
        pm.is_null = true; /* not read yet: the rules want is_null, not a made-up value */
    ef_sp_put_metric(w, &pm);
}

static void dbirth(struct ef_sp_node *n, size_t dev, struct ef_pbw *w, int64_t now)
{
    const struct sp_dev *d = &n->t.devs[dev];
    ef_sp_put_timestamp(w, (uint64_t)now);
    for (size_t i = 0; i < d->n; i++)
        put_birth_metric(w, &d->m[i], now);
    ef_sp_put_seq(w, ef_sps_did_dbirth(&n->s, dev));
    n->st.dbirths++;
}

int ef_sp_node_control(struct ef_sp_node *n, struct ef_sp_out *out)
{
    pthread_mutex_lock(&n->lock);
    size_t dev = 0;
    int64_t now = ef_wall_ms();
    enum ef_sps_action a = ef_sps_next(&n->s, &dev);
    struct ef_pbw w;
    ef_pbw_init(&w, n->buf, SP_BUF_MAX);
    int rc = EF_SP_CONTROL_SEND;
    const char *topic = NULL;
    switch (a) {
    case EF_SPS_WAIT:
        rc = EF_SP_CONTROL_WAIT;
        break;
    case EF_SPS_DISCONNECT:
        rc = EF_SP_CONTROL_DISCONNECT;
        ef_sps_link(&n->s, false);
        break;
    case EF_SPS_READY:
        rc = EF_SP_CONTROL_READY;
        break;
    case EF_SPS_NBIRTH:
        ef_sp_payload_nbirth(&w, (uint64_t)now, n->s.bdseq, ef_sps_did_nbirth(&n->s, now));
        topic = n->t_nbirth;
        n->st.nbirths++;
        break;
    case EF_SPS_DBIRTH:
        dbirth(n, dev, &w, now);
        topic = n->t.devs[dev].t_dbirth;
        break;
    case EF_SPS_DDEATH:
        ef_sp_payload_ddeath(&w, (uint64_t)now, ef_sps_did_ddeath(&n->s, dev));
        topic = n->t.devs[dev].t_ddeath;
        n->st.ddeaths++;
        break;
    }
    if (rc == EF_SP_CONTROL_SEND && !ef_pbw_ok(&w)) {
        /* A DBIRTH of 1024 long-named points with units can pass 64 KiB. */
        ef_err("sparkplug: %s larger than %d bytes, not sent", topic, SP_BUF_MAX);
        topic = NULL;
        rc = EF_SP_CONTROL_READY;
    }
    if (topic)
        *out = (struct ef_sp_out){topic, n->buf, w.len, 0, false}; /* births: QoS 0 */
    pthread_mutex_unlock(&n->lock);
    if (a == EF_SPS_NBIRTH)
        ef_info("sparkplug: NBIRTH with bdSeq %u", (unsigned)n->s.bdseq);
    return rc;
}

struct alias_ctx {
    struct sp_dev *d;
    size_t hint;
};

static bool alias_of(void *ctx, const char *name, size_t len, uint64_t *alias)
{
    struct alias_ctx *a = ctx;
    struct sp_metric *m = ef_sp_metric_find(a->d, a->hint, name, len);
    if (!m)
        return false;
    a->hint = (size_t)(m - a->d->m) + 1; /* stored DDATA lists points in order */
    *alias = m->alias;
    return true;
}

/* The device of a stored DDATA topic "spBv1.0/G/DDATA/N/D", or NULL. */
static struct sp_dev *ddata_device(struct ef_sp_node *n, const char *topic, size_t *dev)
{
    size_t plen = strlen("spBv1.0/") + strlen(n->group) + strlen("/DDATA/") + strlen(n->node) + 1;
    if (n->t.ndevs == 0 || strncmp(topic, n->t.devs[0].t_ddata, plen) != 0)
        return NULL;
    const char *name = topic + plen;
    return ef_sp_dev_by_name(&n->t, name, strlen(name), dev);
}

static bool is_ddata_topic(const struct ef_sp_node *n, const char *topic)
{
    size_t gl = strlen(n->group);
    return strncmp(topic, "spBv1.0/", 8) == 0 && strncmp(topic + 8, n->group, gl) == 0 &&
           strncmp(topic + 8 + gl, "/DDATA/", 7) == 0;
}

int ef_sp_node_prepare(struct ef_sp_node *n, const char *topic, const void *payload, size_t len,
                       int qos, bool retain, int64_t ts_ms, struct ef_sp_out *out)
{
    *out = (struct ef_sp_out){topic, payload, len, qos, retain};
    if (!is_ddata_topic(n, topic))
        return EF_SP_PREPARE_SEND;
    pthread_mutex_lock(&n->lock);
    size_t dev = 0;
    struct sp_dev *d = ddata_device(n, topic, &dev);
    enum ef_sps_data ok = ef_sps_data(&n->s, d ? dev : n->t.ndevs);
    int rc = EF_SP_PREPARE_SEND;
    if (ok == EF_SPS_DATA_WAIT || ok == EF_SPS_DATA_CONTROL_FIRST) {
        rc = EF_SP_PREPARE_LATER;
    } else if (ok == EF_SPS_DATA_DROP) {
        n->st.dropped++;
        rc = EF_SP_PREPARE_SKIP;
    } else {
        bool hist = ef_sps_historical(&n->s, ts_ms);
        struct alias_ctx ac = {d, 0};
        struct ef_pbw w;
        struct ef_sp_wire_result res;
        ef_pbw_init(&w, n->buf, SP_BUF_MAX);
        int e = ef_sp_ddata_wire(payload, len, n->scratch, SP_MAX_METRICS, alias_of, &ac, hist,
                                 n->s.seq, &w, &res);
        n->st.unknown_metrics += res.unknown;
        if (e != 0 || !ef_pbw_ok(&w) || res.sent == 0) {
            n->st.dropped++; /* nothing a host could use; its seq is not spent */
            rc = EF_SP_PREPARE_SKIP;
        } else {
            ef_sps_take_seq(&n->s);
            n->st.historical += hist;
            out->payload = n->buf;
            out->len = w.len;
        }
    }
    pthread_mutex_unlock(&n->lock);
    return rc;
}
