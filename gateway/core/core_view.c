/* Copies of the core's per-device state for the local web view: the
 * latest value of every point, its alarms, the device's link state. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/core/core_priv.h"

static const struct ef_point *config_points(const struct ef_config *cfg, size_t index,
                                            size_t *n)
{
    if (index < cfg->ndevices) {
        *n = cfg->devices[index].npoints;
        return cfg->devices[index].points;
    }
    *n = cfg->serials[index - cfg->ndevices].npoints;
    return cfg->serials[index - cfg->ndevices].points;
}

void ef_core_keep_last(struct slot *s, const struct ef_reading *r, int64_t ts)
{
    s->point = r->point;
    s->last = r->value;
    s->last_ms = ts;
    if (r->value.kind != EF_VAL_STRING)
        return;
    size_t n = r->value.as.s.len;
    if (n > s->text_cap) {
        char *t = realloc(s->text, n);
        if (!t) { /* keep the reading, without its text */
            s->last.as.s.p = "";
            s->last.as.s.len = 0;
            return;
        }
        s->text = t;
        s->text_cap = n;
    }
    if (n)
        memcpy(s->text, r->value.as.s.p, n);
    s->last.as.s.p = s->text ? s->text : "";
}

static void copy_slot(struct ef_core_point_view *v, const struct slot *s)
{
    snprintf(v->name, sizeof v->name, "%s", s->name);
    snprintf(v->unit, sizeof v->unit, "%s", s->point ? s->point->unit : "");
    v->value = s->last;
    if (s->last.kind == EF_VAL_STRING) {
        /* The view's own copy: the slot's text changes with the next poll. */
        size_t n = s->last.as.s.len < sizeof v->text ? s->last.as.s.len : sizeof v->text;
        memcpy(v->text, s->last.as.s.p, n);
        v->value.as.s.p = v->text;
        v->value.as.s.len = n;
    }
    v->ts_ms = s->last_ms;
    v->high_active = s->alarm.high_active;
    v->low_active = s->alarm.low_active;
}

void ef_core_view(struct ef_core *c, size_t index, struct ef_core_dev_view *dv,
                  struct ef_core_point_view *pts, size_t cap)
{
    memset(dv, 0, sizeof *dv);
    if (index >= c->ndevs)
        return;
    struct core_dev *d = &c->devs[index];
    size_t ncfg;
    const struct ef_point *cp = config_points(c->cfg, index, &ncfg);
    size_t n = 0;
    pthread_mutex_lock(&d->lock);
    dv->offline = d->offline.offline;
    dv->answered = d->last_answered;
    dv->last_poll_ms = d->last_poll_ms;
    /* Configured points in their file order, whether read yet or not. */
    for (size_t i = 0; i < ncfg; i++, n++) {
        if (n >= cap)
            continue;
        const struct slot *s = i < d->nslots && strcmp(d->slots[i].name, cp[i].name) == 0
                                   ? &d->slots[i]
                                   : NULL;
        for (size_t j = 0; j < d->nslots && !s; j++)
            if (strcmp(d->slots[j].name, cp[i].name) == 0)
                s = &d->slots[j];
        if (s) {
            copy_slot(&pts[n], s);
            snprintf(pts[n].unit, sizeof pts[n].unit, "%s", cp[i].unit);
        } else {
            memset(&pts[n], 0, sizeof pts[n]);
            snprintf(pts[n].name, sizeof pts[n].name, "%s", cp[i].name);
            snprintf(pts[n].unit, sizeof pts[n].unit, "%s", cp[i].unit);
        }
    }
    /* Then the values a serial sensor reported without a [point:] section. */
    for (size_t j = 0; j < d->nslots; j++) {
        if (d->slots[j].point || d->slots[j].last_ms == 0)
            continue;
        bool configured = false;
        for (size_t i = 0; i < ncfg && !configured; i++)
            configured = strcmp(d->slots[j].name, cp[i].name) == 0;
        if (configured)
            continue;
        if (n < cap)
            copy_slot(&pts[n], &d->slots[j]);
        n++;
    }
    pthread_mutex_unlock(&d->lock);
    dv->npoints = n;
}
