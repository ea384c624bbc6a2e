/* Home Assistant MQTT discovery: one retained config message per point, on
 * <discovery_prefix>/<component>/<G>_<D>/<X>/config, describing an entity
 * that reads its state from P/G/telemetry/D and is available while both
 * P/G/status and P/G/availability/D say "online". Pure: no I/O; the set
 * functions allocate (and say who frees). docs/home-assistant.md is the
 * user's view of what this produces. */
#ifndef EF_NORTH_HOMEASSISTANT_H
#define EF_NORTH_HOMEASSISTANT_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"
#include "gateway/north/json.h"

enum ef_ha_component { EF_HA_SENSOR, EF_HA_BINARY_SENSOR, EF_HA_NUMBER, EF_HA_SWITCH };

/* The topic levels every config refers to. */
struct ef_ha_names {
    const char *topic_prefix;     /* P */
    const char *gateway;          /* G */
    const char *discovery_prefix; /* Home Assistant's, e.g. "homeassistant" */
    const char *version;          /* edgeferry's, for the gateway's device */
};

/* What discovery says about one point. Strings are "" when absent. */
struct ef_ha_entity {
    const char *device;       /* D */
    const char *device_model; /* shown as the device's model */
    const char *name;         /* X */
    enum ef_ha_component component;
    const char *unit;         /* as Home Assistant spells it (degC becomes °C) */
    const char *device_class;
    const char *state_class;  /* sensors only */
    double min, max, step;    /* number only; step 0: Home Assistant's default */
};

/* The component's name in topics: "sensor", "binary_sensor", ... */
const char *ef_ha_component_name(enum ef_ha_component c);

/* The classes a unit implies where it is obvious (°C/degC temperature, V
 * voltage, A current, W power, kWh energy, Hz frequency, Pa/kPa/hPa/bar
 * pressure); "" for others. Energy is total_increasing, the rest
 * measurement. */
void ef_ha_unit_classes(const char *unit, const char **device_class, const char **state_class);

/* Home Assistant's spelling of a unit (degC -> °C, degF -> °F); others as is. */
const char *ef_ha_unit(const char *unit);

/* Whether a point may be written from MQTT (then it becomes a number or a
 * switch with a command topic), and its range in published units. */
bool ef_ha_point_writable(const struct ef_point *p);

/* Fills E for point P of device DEV (P is NULL for a serial value without a
 * [point:] section; then UNIT is its known unit, or ""). IS_BOOL: the point
 * reads as a bool. The strings point into P, DEV and static storage. */
void ef_ha_entity_init(struct ef_ha_entity *e, const char *dev, const char *model,
                       const char *name, const struct ef_point *p, bool is_bool,
                       const char *unit);

/* <dp>/<component>/<G>_<D>/<X>/config into OUT; false if it did not fit. */
bool ef_ha_config_topic(char *out, size_t cap, const struct ef_ha_names *n,
                        const struct ef_ha_entity *e);

/* The entity's config (JSON object). */
void ef_ha_config_payload(struct ef_buf *b, const struct ef_ha_names *n,
                          const struct ef_ha_entity *e);

/* The value_template alone, as Home Assistant will render it. */
void ef_ha_value_template(struct ef_buf *b, const struct ef_ha_entity *e);

/* The gateway's own device, carried by a connectivity binary_sensor on
 * P/G/status (the devices' via_device must exist in Home Assistant). */
bool ef_ha_gateway_topic(char *out, size_t cap, const struct ef_ha_names *n);
void ef_ha_gateway_payload(struct ef_buf *b, const struct ef_ha_names *n);

/* Appends S as a JSON string (quotes included): ", \ and control characters
 * escaped; valid UTF-8 kept; any other byte taken as Latin-1 (\u00XX), so
 * the output is always valid JSON. */
void ef_json_string(struct ef_buf *b, const char *s);

/* ---- the set of discovery messages of one configuration ---- */

struct ef_ha_msg {
    char *topic;
    char *payload; /* "" for a removal: an empty retained message deletes it */
};

struct ef_ha_set {
    struct ef_ha_msg *msgs;
    size_t n, cap;
};

/* Every config message of CFG (the gateway's first), or none when discovery
 * is off. Returns 0, or -1 when out of memory (OUT is then empty). */
int ef_ha_set_build(struct ef_ha_set *out, const struct ef_config *cfg);

/* Adds a removal to NEXT for every topic of PREV (configs and earlier
 * removals) that NEXT has no message for, so a point, device or prefix that
 * a reload took away is deleted in Home Assistant. Returns 0 or -1. */
int ef_ha_set_retire(struct ef_ha_set *next, const struct ef_ha_set *prev);

/* The number of removals in S. */
size_t ef_ha_set_removals(const struct ef_ha_set *s);

void ef_ha_set_free(struct ef_ha_set *s);

#endif
