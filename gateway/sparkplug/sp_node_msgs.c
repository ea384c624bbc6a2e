/* What reaches the node from the broker, handed over on the publisher
 * thread: the primary host's STATE, NCMD (rebirth) and DCMD (writes).
 * Short and bounded: payloads are decoded in place, nothing is sent here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "gateway/north/json.h"
#include "gateway/sparkplug/sp_node_priv.h"

/* The value after "KEY": in a flat JSON object (STATE's two keys), or NULL. */
static const char *json_member(const char *s, size_t len, const char *key)
{
    size_t klen = strlen(key);
    for (size_t i = 0; i + klen + 2 <= len; i++) {
        if (s[i] != '"' || memcmp(s + i + 1, key, klen) != 0 || s[i + 1 + klen] != '"')
            continue;
        size_t j = i + klen + 2;
        while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n'))
            j++;
        if (j >= len || s[j] != ':')
            continue;
        j++;
        while (j < len && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n'))
            j++;
        return j < len ? s + j : NULL;
    }
    return NULL;
}

bool ef_sp_on_state(struct ef_sp_node *n, const char *p, size_t len)
{
    if (len == 0)
        return false; /* a retained STATE being deleted */
    const char *end = p + len;
    const char *on = json_member(p, len, "online");
    const char *ts = json_member(p, len, "timestamp");
    bool online = false;
    if (on && end - on >= 4 && memcmp(on, "true", 4) == 0)
        online = true;
    else if (on && end - on >= 5 && memcmp(on, "false", 5) == 0)
        online = false;
    else
        on = NULL;
    char digits[24];
    size_t nd = 0;
    while (ts && ts + nd < end && nd < sizeof digits - 1 && ts[nd] >= '0' && ts[nd] <= '9') {
        digits[nd] = ts[nd];
        nd++;
    }
    if (!on || nd == 0) {
        n->st.bad_messages++;
        ef_warn("sparkplug: STATE of %s is not {\"online\":BOOL,\"timestamp\":MS}: ignored",
                n->host);
        return false;
    }
    digits[nd] = '\0';
    int64_t t = (int64_t)strtoll(digits, NULL, 10);
    bool was = n->s.host_online;
    if (!ef_sps_host_state(&n->s, online, t)) {
        ef_info("sparkplug: an older STATE of %s (%s) is ignored", n->host,
                online ? "online" : "offline");
        return false;
    }
    if (was != online)
        ef_info("sparkplug: primary host %s is %s%s", n->host, online ? "online" : "offline",
                online ? "" : ": data is stored until it is back");
    return true;
}

static bool is_rebirth(const struct ef_sp_metric *m)
{
    bool named = m->name && m->name_len == sizeof EF_SP_REBIRTH_NAME - 1 &&
                 memcmp(m->name, EF_SP_REBIRTH_NAME, m->name_len) == 0;
    bool aliased = !m->name && m->has_alias && m->alias == EF_SP_ALIAS_REBIRTH;
    return (named || aliased) && m->vkind == EF_SPV_BOOL && m->v.b;
}

bool ef_sp_on_ncmd(struct ef_sp_node *n, const void *payload, size_t len)
{
    struct ef_sp_payload pl;
    if (ef_sp_decode(payload, len, &pl, n->scratch, SP_MAX_METRICS) != 0) {
        n->st.bad_messages++;
        ef_warn("sparkplug: an NCMD that is not a Sparkplug B payload: ignored");
        return false;
    }
    for (size_t i = 0; i < pl.nmetrics; i++) {
        if (is_rebirth(&n->scratch[i])) {
            n->st.rebirth_requests++;
            ef_info("sparkplug: rebirth requested (NCMD): NBIRTH and DBIRTHs again, bdSeq %u",
                    (unsigned)n->s.bdseq);
            ef_sps_request_rebirth(&n->s);
            return true;
        }
    }
    ef_info("sparkplug: NCMD without a Node Control/Rebirth = true: nothing to do");
    return false;
}

/* One metric of a DCMD: its point and value, added to the writes of OUT. */
static void dcmd_metric(struct ef_sp_node *n, struct sp_dev *d, const struct ef_sp_metric *m,
                        struct sp_dcmd *out)
{
    struct sp_metric *pm = NULL;
    if (m->name)
        pm = ef_sp_metric_find(d, 0, m->name, m->name_len);
    else if (m->has_alias)
        for (size_t i = 0; i < d->n && !pm; i++)
            pm = d->m[i].alias == m->alias ? &d->m[i] : NULL;
    if (!pm) {
        n->st.dcmd_refused++;
        ef_warn("sparkplug: DCMD for %s: no such metric (%s%.*s): refused", d->name,
                m->name ? "name " : "alias ", m->name ? (int)m->name_len : 0,
                m->name ? m->name : "");
        return;
    }
    struct ef_value v;
    /* The datatype is the point's (DBIRTH's), whatever the host wrote. */
    if (ef_sp_get_value(m, pm->type, &v) != 0) {
        n->st.dcmd_refused++;
        ef_warn("sparkplug: DCMD %s/%s: no %s value: refused", d->name, pm->name,
                ef_sp_type_name(pm->type));
        return;
    }
    if (!n->write_fn || out->n == SP_DCMD_MAX) {
        n->st.dcmd_refused++;
        ef_warn("sparkplug: DCMD %s/%s: %s: refused", d->name, pm->name,
                n->write_fn ? "too many metrics in one DCMD" : "writes are not available");
        return;
    }
    snprintf(out->points[out->n], sizeof out->points[out->n], "%s", pm->name);
    out->values[out->n++] = v;
    n->st.dcmd_writes++;
}

void ef_sp_on_dcmd(struct ef_sp_node *n, const char *device, size_t dlen, const void *payload,
                   size_t len, struct sp_dcmd *out)
{
    n->st.dcmd_received++;
    struct sp_dev *d = ef_sp_dev_by_name(&n->t, device, dlen, NULL);
    struct ef_sp_payload pl;
    if (!d) {
        n->st.dcmd_refused++;
        ef_warn("sparkplug: DCMD for unknown device %.*s: refused", (int)dlen, device);
        return;
    }
    if (ef_sp_decode(payload, len, &pl, n->scratch, SP_MAX_METRICS) != 0) {
        n->st.bad_messages++;
        n->st.dcmd_refused++;
        ef_warn("sparkplug: DCMD for %s is not a Sparkplug B payload: refused", d->name);
        return;
    }
    snprintf(out->device, sizeof out->device, "%s", d->name);
    out->ts_ms = pl.has_ts ? (int64_t)pl.ts : 0;
    for (size_t i = 0; i < pl.nmetrics; i++)
        dcmd_metric(n, d, &n->scratch[i], out);
}

void ef_sp_node_set_writer(struct ef_sp_node *n, ef_sp_write_fn fn, void *ctx)
{
    pthread_mutex_lock(&n->lock);
    n->write_fn = fn;
    n->write_ctx = ctx;
    pthread_mutex_unlock(&n->lock);
}

bool ef_sp_node_arrived(struct ef_sp_node *n, const char *topic, const void *payload, size_t len,
                        bool retained)
{
    bool wake = false;
    size_t dl = strlen(n->t_dcmd);
    struct sp_dcmd w;
    w.n = 0;
    pthread_mutex_lock(&n->lock);
    if (n->host[0] && strcmp(topic, n->t_state) == 0) {
        wake = ef_sp_on_state(n, payload, len);
    } else if (strcmp(topic, n->t_ncmd) == 0) {
        if (retained)
            ef_warn("sparkplug: a retained NCMD is never executed");
        else
            wake = ef_sp_on_ncmd(n, payload, len);
    } else if (strncmp(topic, n->t_dcmd, dl) == 0) {
        if (retained) {
            n->st.dcmd_received++;
            n->st.dcmd_refused++;
            ef_warn("sparkplug: a retained DCMD is never executed");
        } else {
            ef_sp_on_dcmd(n, topic + dl, strlen(topic + dl), payload, len, &w);
        }
    }
    ef_sp_write_fn fn = n->write_fn;
    void *ctx = n->write_ctx;
    pthread_mutex_unlock(&n->lock);
    if (w.n && fn) {
        const char *names[SP_DCMD_MAX];
        for (size_t i = 0; i < w.n; i++)
            names[i] = w.points[i];
        fn(ctx, w.device, names, w.values, w.n, w.ts_ms);
    }
    return wake;
}
