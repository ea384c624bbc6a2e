/* The discovery messages of a whole configuration, and the removals a
 * reload calls for. */
#include <stdlib.h>
#include <string.h>

#include "gateway/north/homeassistant.h"

#define HA_PAYLOAD_MAX 4096
#define HA_TOPIC_MAX (EF_STR_MAX + 3 * EF_NAME_MAX + 32)

static int add(struct ef_ha_set *s, const char *topic, const char *payload)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        struct ef_ha_msg *m = realloc(s->msgs, cap * sizeof *m);
        if (!m)
            return -1;
        s->msgs = m;
        s->cap = cap;
    }
    struct ef_ha_msg *m = &s->msgs[s->n];
    m->topic = strdup(topic);
    m->payload = strdup(payload);
    if (!m->topic || !m->payload) {
        free(m->topic);
        free(m->payload);
        return -1;
    }
    s->n++;
    return 0;
}

static int add_entity(struct ef_ha_set *s, const struct ef_ha_names *n,
                      const struct ef_ha_entity *e, char *buf)
{
    char topic[HA_TOPIC_MAX];
    struct ef_buf b;
    ef_buf_init(&b, buf, HA_PAYLOAD_MAX);
    ef_ha_config_payload(&b, n, e);
    if (!ef_ha_config_topic(topic, sizeof topic, n, e) || !ef_buf_ok(&b))
        return 0; /* names are bounded: cannot happen; skipped rather than cut */
    return add(s, topic, buf);
}

/* The values an nmea sensor reports (drivers/serial/nmea.c) and their units. */
static const struct {
    const char *name, *unit;
} nmea_fields[] = {{"lat", "°"},      {"lon", "°"},         {"alt", "m"}, {"sats", ""},
                   {"fix", ""},       {"speed_kn", "kn"},   {"course", "°"}};

static int add_serial(struct ef_ha_set *s, const struct ef_ha_names *n,
                      const struct ef_serial *sr, char *buf)
{
    struct ef_ha_entity e;
    int rc = 0;
    const char *model = sr->format == EF_FMT_NMEA  ? "serial sensor (nmea)"
                        : sr->format == EF_FMT_CSV ? "serial sensor (csv)"
                                                   : "serial sensor (kv)";
    /* Configured points first; then the names the format itself promises
     * (csv fields, the NMEA values) that have no [point:] section. A kv
     * sensor's other names are known only when they arrive: no entity. */
    for (size_t i = 0; rc == 0 && i < sr->npoints; i++) {
        ef_ha_entity_init(&e, sr->name, model, sr->points[i].name, &sr->points[i], false, "");
        rc = add_entity(s, n, &e, buf);
    }
    for (size_t i = 0; rc == 0 && sr->format == EF_FMT_CSV && i < sr->nfields; i++) {
        if (ef_serial_point(sr, sr->fields[i]))
            continue;
        ef_ha_entity_init(&e, sr->name, model, sr->fields[i], NULL, false, "");
        rc = add_entity(s, n, &e, buf);
    }
    for (size_t i = 0; rc == 0 && sr->format == EF_FMT_NMEA &&
                       i < sizeof nmea_fields / sizeof nmea_fields[0]; i++) {
        if (ef_serial_point(sr, nmea_fields[i].name))
            continue;
        ef_ha_entity_init(&e, sr->name, model, nmea_fields[i].name, NULL, false,
                          nmea_fields[i].unit);
        rc = add_entity(s, n, &e, buf);
    }
    return rc;
}

static int build(struct ef_ha_set *s, const struct ef_config *cfg, char *buf)
{
    const struct ef_ha_names n = {cfg->mqtt.topic_prefix, cfg->gateway.id,
                                  cfg->homeassistant.discovery_prefix, EF_VERSION};
    char topic[HA_TOPIC_MAX];
    struct ef_buf b;
    ef_buf_init(&b, buf, HA_PAYLOAD_MAX);
    ef_ha_gateway_payload(&b, &n);
    if (!ef_ha_gateway_topic(topic, sizeof topic, &n) || !ef_buf_ok(&b) || add(s, topic, buf))
        return -1;
    for (size_t d = 0; d < cfg->ndevices; d++) {
        const struct ef_device *dev = &cfg->devices[d];
        for (size_t i = 0; i < dev->npoints; i++) {
            const struct ef_point *p = &dev->points[i];
            struct ef_ha_entity e;
            ef_ha_entity_init(&e, dev->name, "Modbus device", p->name, p, p->type == EF_T_BOOL,
                              "");
            if (add_entity(s, &n, &e, buf))
                return -1;
        }
    }
    for (size_t i = 0; i < cfg->nserials; i++)
        if (add_serial(s, &n, &cfg->serials[i], buf))
            return -1;
    return 0;
}

int ef_ha_set_build(struct ef_ha_set *out, const struct ef_config *cfg)
{
    memset(out, 0, sizeof *out);
    if (!cfg->homeassistant.enabled)
        return 0;
    char *buf = malloc(HA_PAYLOAD_MAX);
    int rc = buf ? build(out, cfg, buf) : -1;
    free(buf);
    if (rc)
        ef_ha_set_free(out);
    return rc;
}

static bool has_topic(const struct ef_ha_set *s, const char *topic)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->msgs[i].topic, topic) == 0)
            return true;
    return false;
}

int ef_ha_set_retire(struct ef_ha_set *next, const struct ef_ha_set *prev)
{
    for (size_t i = 0; i < prev->n; i++)
        if (!has_topic(next, prev->msgs[i].topic) && add(next, prev->msgs[i].topic, ""))
            return -1;
    return 0;
}

size_t ef_ha_set_removals(const struct ef_ha_set *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += s->msgs[i].payload[0] == '\0';
    return n;
}

void ef_ha_set_free(struct ef_ha_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->msgs[i].topic);
        free(s->msgs[i].payload);
    }
    free(s->msgs);
    memset(s, 0, sizeof *s);
}
