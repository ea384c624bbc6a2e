/* Final step of loading: the checked build structs become the immutable
 * struct ef_config; also its destructor. */
#include <stdlib.h>
#include <string.h>

#include "config/config_build.h"

static size_t count_points(const struct ef_build *b, const char *owner)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n[EF_SEC_POINT]; i++)
        n += strcmp(b->items[EF_SEC_POINT][i].owner, owner) == 0;
    return n;
}

/* Appends OWNER's points to POINTS (*N so far); a point whose name is
 * already there replaces it in place (a device overriding its template). */
static void add_points(const struct ef_build *b, const char *owner, struct ef_point *points,
                       size_t *n)
{
    for (size_t i = 0; i < b->n[EF_SEC_POINT]; i++) {
        const struct ef_item *it = &b->items[EF_SEC_POINT][i];
        if (strcmp(it->owner, owner) != 0)
            continue;
        const struct ef_point *p = &((const struct ef_point_build *)it->data)->p;
        size_t at = *n;
        for (size_t j = 0; j < *n; j++)
            if (strcmp(points[j].name, p->name) == 0)
                at = j;
        points[at] = *p;
        if (at == *n)
            (*n)++;
    }
}

static size_t bus_index(const struct ef_build *b, const char *name)
{
    for (size_t i = 0; i < b->n[EF_SEC_BUS]; i++)
        if (strcmp(b->items[EF_SEC_BUS][i].name, name) == 0)
            return i;
    return 0; /* unreachable: references were checked */
}

static int assemble_devices(struct ef_build *b, struct ef_config *cfg)
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
        d->bus = bus_index(b, db->bus);
        const char *tmpl = d->template_name;
        size_t max = count_points(b, it->name) + (tmpl[0] ? count_points(b, tmpl) : 0);
        d->points = calloc(max ? max : 1, sizeof *d->points);
        if (!d->points)
            return -1;
        if (tmpl[0])
            add_points(b, tmpl, d->points, &d->npoints);
        add_points(b, it->name, d->points, &d->npoints);
        if (d->npoints == 0)
            ef_cfgerr_add(b->errs, it->raw->line, "[%s] has no points: add [point:%s.NAME] "
                          "sections or a template", it->raw->name, it->name);
    }
    return 0;
}

static int assemble_serials(struct ef_build *b, struct ef_config *cfg)
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
        size_t max = count_points(b, it->name);
        s->points = calloc(max ? max : 1, sizeof *s->points);
        if (!s->points)
            return -1;
        add_points(b, it->name, s->points, &s->npoints);
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
    if (assemble_devices(b, cfg) != 0 || assemble_serials(b, cfg) != 0)
        b->oom = true;
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
