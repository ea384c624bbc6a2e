#include "gateway/sparkplug/sp_node_priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"

/* Values an NMEA sensor reports (drivers/serial/nmea.c), listed in DBIRTH
 * before the first sentence arrives. */
static const char *const nmea_names[] = {"lat", "lon", "alt", "sats", "fix", "speed_kn", "course"};

static struct sp_metric *add_metric(struct sp_table *t, struct sp_dev *d, const char *name,
                                    size_t len, enum ef_sp_type type, const char *unit)
{
    if (d->n == SP_MAX_METRICS || len > EF_NAME_MAX)
        return NULL;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct sp_metric *m = realloc(d->m, cap * sizeof *m);
        if (!m)
            return NULL;
        d->m = m;
        d->cap = cap;
    }
    struct sp_metric *m = &d->m[d->n++];
    memset(m, 0, sizeof *m);
    memcpy(m->name, name, len);
    m->alias = t->next_alias++;
    m->type = type;
    snprintf(m->unit, sizeof m->unit, "%s", unit ? unit : "");
    return m;
}

struct sp_metric *ef_sp_metric_find(struct sp_dev *d, size_t hint, const char *name, size_t len)
{
    if (hint < d->n && strncmp(d->m[hint].name, name, len) == 0 && d->m[hint].name[len] == '\0')
        return &d->m[hint];
    for (size_t i = 0; i < d->n; i++)
        if (strncmp(d->m[i].name, name, len) == 0 && d->m[i].name[len] == '\0')
            return &d->m[i];
    return NULL;
}

struct sp_dev *ef_sp_dev_by_name(struct sp_table *t, const char *name, size_t len, size_t *index)
{
    for (size_t i = 0; i < t->ndevs; i++) {
        if (strncmp(t->devs[i].name, name, len) == 0 && t->devs[i].name[len] == '\0') {
            if (index)
                *index = i;
            return &t->devs[i];
        }
    }
    return NULL;
}

/* Keeps V in M; a string is copied (the source's buffer lives only during
 * its sink call). False when out of memory (M unchanged). */
static bool keep_value(struct sp_metric *m, const struct ef_value *v, int64_t ts_ms)
{
    if (v->kind == EF_VAL_STRING) {
        if (v->as.s.len > m->text_cap) {
            char *t = realloc(m->text, v->as.s.len);
            if (!t)
                return false;
            m->text = t;
            m->text_cap = v->as.s.len;
        }
        if (v->as.s.len)
            memcpy(m->text, v->as.s.p, v->as.s.len);
        m->value = *v;
        m->value.as.s.p = m->text;
    } else {
        m->value = *v;
    }
    m->known = true;
    m->ts_ms = ts_ms;
    return true;
}

static void table_free(struct sp_table *t)
{
    for (size_t i = 0; i < t->ndevs; i++) {
        for (size_t k = 0; k < t->devs[i].n; k++)
            free(t->devs[i].m[k].text);
        free(t->devs[i].m);
    }
    free(t->devs);
    free(t->state);
    memset(t, 0, sizeof *t);
}

static void dev_topics(const struct ef_sp_node *n, struct sp_dev *d)
{
    snprintf(d->t_ddata, sizeof d->t_ddata, "spBv1.0/%s/DDATA/%s/%s", n->group, n->node, d->name);
    snprintf(d->t_dbirth, sizeof d->t_dbirth, "spBv1.0/%s/DBIRTH/%s/%s", n->group, n->node,
             d->name);
    snprintf(d->t_ddeath, sizeof d->t_ddeath, "spBv1.0/%s/DDEATH/%s/%s", n->group, n->node,
             d->name);
}

static int add_points(struct sp_table *t, struct sp_dev *d, const struct ef_point *p, size_t np)
{
    for (size_t i = 0; i < np; i++)
        if (!add_metric(t, d, p[i].name, strlen(p[i].name), ef_sp_point_type(&p[i], d->serial),
                        p[i].unit))
            return -1;
    return 0;
}

/* A serial sensor's metrics: its configured points, then the names its
 * format is known to report; a kv sensor may add names later. */
static int serial_metrics(struct sp_table *t, struct sp_dev *d, const struct ef_serial *s)
{
    if (add_points(t, d, s->points, s->npoints) != 0)
        return -1;
    size_t nn = s->format == EF_FMT_CSV ? s->nfields
              : s->format == EF_FMT_NMEA ? sizeof nmea_names / sizeof nmea_names[0]
                                         : 0;
    for (size_t i = 0; i < nn; i++) {
        const char *name = s->format == EF_FMT_CSV ? s->fields[i] : nmea_names[i];
        if (!ef_sp_metric_find(d, i, name, strlen(name)) &&
            !add_metric(t, d, name, strlen(name), EF_SPT_DOUBLE, NULL))
            return -1;
    }
    return 0;
}

static int table_build(struct ef_sp_node *n, struct sp_table *t, const struct ef_config *cfg)
{
    memset(t, 0, sizeof *t);
    t->ndevs = cfg->ndevices + cfg->nserials;
    t->next_alias = EF_SP_ALIAS_FIRST;
    t->devs = calloc(t->ndevs ? t->ndevs : 1, sizeof *t->devs);
    t->state = calloc(t->ndevs ? t->ndevs : 1, sizeof *t->state);
    if (!t->devs || !t->state)
        return -1;
    for (size_t i = 0; i < t->ndevs; i++) {
        struct sp_dev *d = &t->devs[i];
        bool serial = i >= cfg->ndevices;
        d->serial = serial;
        snprintf(d->name, sizeof d->name, "%s",
                 serial ? cfg->serials[i - cfg->ndevices].name : cfg->devices[i].name);
        dev_topics(n, d);
        int rc = serial ? serial_metrics(t, d, &cfg->serials[i - cfg->ndevices])
                        : add_points(t, d, cfg->devices[i].points, cfg->devices[i].npoints);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static void node_topics(struct ef_sp_node *n)
{
    snprintf(n->t_nbirth, sizeof n->t_nbirth, "spBv1.0/%s/NBIRTH/%s", n->group, n->node);
    snprintf(n->t_ndeath, sizeof n->t_ndeath, "spBv1.0/%s/NDEATH/%s", n->group, n->node);
    snprintf(n->t_ncmd, sizeof n->t_ncmd, "spBv1.0/%s/NCMD/%s", n->group, n->node);
    snprintf(n->t_dcmd, sizeof n->t_dcmd, "spBv1.0/%s/DCMD/%s/", n->group, n->node);
    snprintf(n->t_dcmd_filter, sizeof n->t_dcmd_filter, "%s+", n->t_dcmd);
    snprintf(n->t_state, sizeof n->t_state, "spBv1.0/STATE/%s", n->host);
}

struct ef_sp_node *ef_sp_node_new(const struct ef_config *cfg)
{
    struct ef_sp_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    pthread_mutex_init(&n->lock, NULL);
    const struct ef_sparkplug_cfg *sc = &cfg->sparkplug;
    snprintf(n->group, sizeof n->group, "%s", sc->group_id);
    snprintf(n->node, sizeof n->node, "%s", sc->edge_node_id);
    snprintf(n->host, sizeof n->host, "%s", sc->primary_host_id);
    node_topics(n);
    if (cfg->gateway.state_dir[0])
        snprintf(n->bdseq_path, sizeof n->bdseq_path, "%s/sparkplug-bdseq",
                 cfg->gateway.state_dir);
    n->buf = malloc(SP_BUF_MAX);
    n->scratch = calloc(SP_MAX_METRICS, sizeof *n->scratch);
    if (!n->buf || !n->scratch || table_build(n, &n->t, cfg) != 0) {
        ef_err("sparkplug: out of memory");
        ef_sp_node_free(n);
        return NULL;
    }
    ef_sps_init(&n->s, sc->primary_host_id[0] != '\0',
                n->bdseq_path[0] ? ef_sp_bdseq_load(n->bdseq_path) : -1);
    ef_sps_set_devices(&n->s, n->t.state, n->t.ndevs);
    return n;
}

void ef_sp_node_free(struct ef_sp_node *n)
{
    if (!n)
        return;
    table_free(&n->t);
    free(n->buf);
    free(n->scratch);
    pthread_mutex_destroy(&n->lock);
    free(n);
}

/* Values and online states carry over to the new table by name, so a
 * reload does not make every device wait for its next poll to be born. */
static void carry_values(struct sp_table *to, struct sp_table *from)
{
    for (size_t i = 0; i < to->ndevs; i++) {
        struct sp_dev *d = &to->devs[i];
        size_t j;
        struct sp_dev *o = ef_sp_dev_by_name(from, d->name, strlen(d->name), &j);
        if (!o)
            continue;
        to->state[i].online = from->state[j].online;
        for (size_t k = 0; k < d->n; k++) {
            struct sp_metric *om = ef_sp_metric_find(o, k, d->m[k].name, strlen(d->m[k].name));
            if (om && om->known && om->type == d->m[k].type &&
                keep_value(&d->m[k], &om->value, om->ts_ms))
                to->state[i].has_values = true;
        }
    }
}

int ef_sp_node_configure(struct ef_sp_node *n, const struct ef_config *cfg)
{
    struct sp_table t;
    if (table_build(n, &t, cfg) != 0) {
        table_free(&t);
        ef_err("sparkplug: out of memory: the previous device table stays");
        return -1;
    }
    pthread_mutex_lock(&n->lock);
    carry_values(&t, &n->t);
    struct sp_table old = n->t;
    n->t = t;
    ef_sps_set_devices(&n->s, n->t.state, n->t.ndevs);
    pthread_mutex_unlock(&n->lock);
    table_free(&old);
    return 0;
}

const char *ef_sp_node_ddata_topic(struct ef_sp_node *n, size_t dev)
{
    /* Device topics depend only on names, which a reload keeps per index
     * of the same configuration the core was built from. */
    return dev < n->t.ndevs ? n->t.devs[dev].t_ddata : "";
}

void ef_sp_node_sample(struct ef_sp_node *n, size_t dev, const struct ef_sample *smp)
{
    pthread_mutex_lock(&n->lock);
    if (dev < n->t.ndevs) {
        struct sp_dev *d = &n->t.devs[dev];
        bool added = false;
        for (size_t i = 0; i < smp->nreadings && i < SP_MAX_METRICS; i++) {
            const struct ef_reading *r = &smp->readings[i];
            size_t len = strlen(r->name);
            struct sp_metric *m = ef_sp_metric_find(d, i, r->name, len);
            if (!m && d->serial) {
                m = add_metric(&n->t, d, r->name, len,
                               r->value.kind == EF_VAL_STRING ? EF_SPT_STRING : EF_SPT_DOUBLE,
                               NULL);
                added = m != NULL;
            }
            if (m)
                keep_value(m, &r->value, smp->ts_ms);
        }
        struct ef_sps_dev *st = &n->t.state[dev];
        st->online = true;
        st->has_values = true;
        if (added)
            st->born = false; /* a new metric: DBIRTH again, listing it */
    }
    pthread_mutex_unlock(&n->lock);
}

void ef_sp_node_device_online(struct ef_sp_node *n, size_t dev, bool online)
{
    pthread_mutex_lock(&n->lock);
    if (dev < n->t.ndevs)
        n->t.state[dev].online = online;
    pthread_mutex_unlock(&n->lock);
}

bool ef_sp_node_metric(struct ef_sp_node *n, size_t dev, size_t i, const char **name,
                       uint64_t *alias, const char **type)
{
    pthread_mutex_lock(&n->lock);
    bool ok = dev < n->t.ndevs && i < n->t.devs[dev].n;
    if (ok) {
        const struct sp_metric *m = &n->t.devs[dev].m[i];
        *name = m->name;
        *alias = m->alias;
        *type = ef_sp_type_name(m->type);
    }
    pthread_mutex_unlock(&n->lock);
    return ok;
}

int ef_sp_node_last_bdseq(struct ef_sp_node *n)
{
    pthread_mutex_lock(&n->lock);
    int v = n->s.have_bdseq ? n->s.bdseq : -1;
    pthread_mutex_unlock(&n->lock);
    return v;
}

void ef_sp_node_get_stats(struct ef_sp_node *n, struct ef_sp_stats *out)
{
    pthread_mutex_lock(&n->lock);
    *out = n->st;
    out->bdseq = n->s.bdseq;
    out->host_online = n->s.host_online;
    pthread_mutex_unlock(&n->lock);
}
