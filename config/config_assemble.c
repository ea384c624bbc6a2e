/* Final step of loading: the checked build structs become the immutable
 * struct ef_config; also its destructor. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_build.h"
#include "config/config_index.h"

/* The point sections grouped by owner, built in one pass so that resolving
 * each device's points costs its own points, not every point of the file. */
struct owners {
    struct ef_index owner; /* owner name -> k */
    struct ef_index point; /* (point name, k) -> its position among k's points */
    size_t *start;         /* k's point items are order[start[k] .. start[k + 1]) */
    size_t *order;         /* indices into b->items[EF_SEC_POINT], file order per owner */
};

static void owners_free(struct owners *o)
{
    ef_index_free(&o->owner);
    ef_index_free(&o->point);
    free(o->start);
    free(o->order);
}

static int owners_build(const struct ef_build *b, struct owners *o)
{
    size_t np = b->n[EF_SEC_POINT], nowners = 0;
    const struct ef_item *pts = b->items[EF_SEC_POINT];
    size_t *kof = malloc((np ? np : 1) * sizeof *kof);
    o->start = calloc(np + 2, sizeof *o->start);
    o->order = malloc((np ? np : 1) * sizeof *o->order);
    if (!kof || !o->start || !o->order)
        goto fail;
    for (size_t i = 0; i < np; i++) {
        kof[i] = ef_index_put(&o->owner, pts[i].owner, 0, nowners);
        if (kof[i] == EF_INDEX_NONE)
            goto fail;
        nowners += kof[i] == nowners;
        o->start[kof[i] + 1]++;
    }
    for (size_t k = 0; k < nowners; k++)
        o->start[k + 1] += o->start[k];
    size_t *fill = calloc(nowners ? nowners : 1, sizeof *fill);
    if (!fill)
        goto fail;
    for (size_t i = 0; i < np; i++) {
        size_t k = kof[i], pos = fill[k]++;
        o->order[o->start[k] + pos] = i;
        if (ef_index_put(&o->point, pts[i].name, (long)k, pos) == EF_INDEX_NONE) {
            free(fill);
            goto fail;
        }
    }
    free(fill);
    free(kof);
    return 0;
fail:
    free(kof);
    return -1;
}

/* OWNER's point items: *N of them from the returned position in order[]. */
static const size_t *owner_points(const struct owners *o, const char *owner, size_t *n,
                                  size_t *k)
{
    *k = ef_index_get(&o->owner, owner, 0);
    if (*k == EF_INDEX_NONE) {
        *n = 0;
        return NULL;
    }
    *n = o->start[*k + 1] - o->start[*k];
    return o->order + o->start[*k];
}

static const struct ef_point *point_of(const struct ef_build *b, size_t item)
{
    return &((const struct ef_point_build *)b->items[EF_SEC_POINT][item].data)->p;
}

/* A point's own interval must be a whole number of its device's polls;
 * a template point is checked against every device that uses it. */
static void check_intervals(struct ef_build *b, const struct ef_device *d, const size_t *items)
{
    bool bad = false;
    for (size_t i = 0; i < d->npoints; i++) {
        const struct ef_point *p = &d->points[i];
        if (p->interval_ms == 0 || p->interval_ms % d->interval_ms == 0)
            continue;
        const struct ef_item *it = &b->items[EF_SEC_POINT][items[i]];
        ef_build_key_error(b, it, "interval_ms", "%d is not a multiple of the interval_ms of "
                           "[device:%s] (%d)", p->interval_ms, d->name, d->interval_ms);
        bad = true;
    }
    uint64_t phases[EF_PHASES_MAX];
    if (!bad && ef_device_phases(d, phases, EF_PHASES_MAX) > EF_PHASES_MAX)
        ef_cfgerr_add(b->errs, d->line, "[device:%s]: the interval_ms of its points need more "
                      "than %d different poll plans; use intervals that are multiples of one "
                      "another", d->name, EF_PHASES_MAX);
}

/* A device's points: its template's first, in file order, then its own; an
 * own point named like a template point replaces it in place. */
static int device_points(struct ef_build *b, const struct owners *o, struct ef_device *d)
{
    size_t nt = 0, nown = 0, kt = EF_INDEX_NONE, kd;
    const size_t *tp = d->template_name[0] ? owner_points(o, d->template_name, &nt, &kt) : NULL;
    const size_t *dp = owner_points(o, d->name, &nown, &kd);
    d->points = calloc(nt + nown ? nt + nown : 1, sizeof *d->points);
    size_t *items = malloc((nt + nown ? nt + nown : 1) * sizeof *items); /* point -> item */
    if (!d->points || !items) {
        free(items);
        return -1;
    }
    for (size_t i = 0; i < nt; i++) {
        items[d->npoints] = tp[i];
        d->points[d->npoints++] = *point_of(b, tp[i]);
    }
    for (size_t i = 0; i < nown; i++) {
        const struct ef_point *p = point_of(b, dp[i]);
        size_t at = kt == EF_INDEX_NONE ? EF_INDEX_NONE : ef_index_get(&o->point, p->name, (long)kt);
        if (at == EF_INDEX_NONE)
            at = d->npoints++;
        d->points[at] = *p;
        items[at] = dp[i];
    }
    check_intervals(b, d, items);
    free(items);
    return 0;
}

static int assemble_devices(struct ef_build *b, const struct owners *o, struct ef_config *cfg)
{
    cfg->devices = calloc(b->n[EF_SEC_DEVICE] ? b->n[EF_SEC_DEVICE] : 1, sizeof *cfg->devices);
    if (!cfg->devices)
        return -1;
    for (size_t i = 0; i < b->n[EF_SEC_DEVICE]; i++) {
        const struct ef_item *it = &b->items[EF_SEC_DEVICE][i];
        const struct ef_device_build *db = it->data;
        struct ef_device *d = &cfg->devices[cfg->ndevices++];
        *d = db->d;
        snprintf(d->name, sizeof d->name, "%s", it->name);
        d->line = it->raw->line;
        const struct ef_item *bus = ef_build_find(b, EF_SEC_BUS, db->bus);
        d->bus = bus ? (size_t)(bus - b->items[EF_SEC_BUS]) : 0; /* references were checked */
        if (device_points(b, o, d) != 0)
            return -1;
        if (d->npoints == 0)
            ef_cfgerr_add(b->errs, it->raw->line, "[%s] has no points: add [point:%s.NAME] "
                          "sections or a template", it->raw->name, it->name);
    }
    return 0;
}

static int assemble_serials(struct ef_build *b, const struct owners *o, struct ef_config *cfg)
{
    cfg->serials = calloc(b->n[EF_SEC_SERIAL] ? b->n[EF_SEC_SERIAL] : 1, sizeof *cfg->serials);
    if (!cfg->serials)
        return -1;
    for (size_t i = 0; i < b->n[EF_SEC_SERIAL]; i++) {
        const struct ef_item *it = &b->items[EF_SEC_SERIAL][i];
        struct ef_serial_build *sb = it->data;
        struct ef_serial *s = &cfg->serials[cfg->nserials++];
        *s = sb->s;
        sb->s.fields = NULL; /* now owned by the config */
        snprintf(s->name, sizeof s->name, "%s", it->name);
        s->line = it->raw->line;
        size_t n, k;
        const size_t *sp = owner_points(o, it->name, &n, &k);
        s->points = calloc(n ? n : 1, sizeof *s->points);
        if (!s->points)
            return -1;
        for (size_t j = 0; j < n; j++)
            s->points[s->npoints++] = *point_of(b, sp[j]);
    }
    return 0;
}

void ef_assemble(struct ef_build *b)
{
    struct ef_config *cfg = b->cfg;
    cfg->buses = calloc(b->n[EF_SEC_BUS] ? b->n[EF_SEC_BUS] : 1, sizeof *cfg->buses);
    if (!cfg->buses) {
        b->oom = true;
        return;
    }
    for (size_t i = 0; i < b->n[EF_SEC_BUS]; i++) {
        const struct ef_item *it = &b->items[EF_SEC_BUS][i];
        struct ef_bus *bus = &cfg->buses[cfg->nbuses++];
        *bus = *(const struct ef_bus *)it->data;
        snprintf(bus->name, sizeof bus->name, "%s", it->name);
        bus->line = it->raw->line;
    }
    struct owners o = {0};
    if (owners_build(b, &o) != 0 || assemble_devices(b, &o, cfg) != 0 ||
        assemble_serials(b, &o, cfg) != 0)
        b->oom = true;
    owners_free(&o);
}

void ef_config_free(struct ef_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->ndevices; i++)
        free(cfg->devices[i].points);
    for (size_t i = 0; i < cfg->nserials; i++) {
        free(cfg->serials[i].points);
        free(cfg->serials[i].fields);
    }
    free(cfg->devices);
    free(cfg->serials);
    free(cfg->buses);
    free(cfg);
}
