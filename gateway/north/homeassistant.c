#include "gateway/north/homeassistant.h"

#include "drivers/source.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

const char *ef_ha_component_name(enum ef_ha_component c)
{
    switch (c) {
    case EF_HA_BINARY_SENSOR: return "binary_sensor";
    case EF_HA_NUMBER: return "number";
    case EF_HA_SWITCH: return "switch";
    case EF_HA_SENSOR: break;
    }
    return "sensor";
}

struct unit_class {
    const char *unit, *ha_unit, *device_class, *state_class;
};

/* Only units whose meaning is beyond doubt; Home Assistant rejects a
 * device_class whose unit it does not accept, so each pair is one it takes. */
static const struct unit_class unit_classes[] = {
    {"°C", "°C", "temperature", "measurement"},
    {"degC", "°C", "temperature", "measurement"},
    {"°F", "°F", "temperature", "measurement"},
    {"degF", "°F", "temperature", "measurement"},
    {"V", "V", "voltage", "measurement"},
    {"mV", "mV", "voltage", "measurement"},
    {"A", "A", "current", "measurement"},
    {"mA", "mA", "current", "measurement"},
    {"W", "W", "power", "measurement"},
    {"kW", "kW", "power", "measurement"},
    {"Wh", "Wh", "energy", "total_increasing"},
    {"kWh", "kWh", "energy", "total_increasing"},
    {"MWh", "MWh", "energy", "total_increasing"},
    {"Hz", "Hz", "frequency", "measurement"},
    {"Pa", "Pa", "pressure", "measurement"},
    {"hPa", "hPa", "pressure", "measurement"},
    {"kPa", "kPa", "pressure", "measurement"},
    {"bar", "bar", "pressure", "measurement"},
    {"mbar", "mbar", "pressure", "measurement"},
};

static const struct unit_class *find_unit(const char *unit)
{
    for (size_t i = 0; i < sizeof unit_classes / sizeof unit_classes[0]; i++)
        if (strcmp(unit_classes[i].unit, unit) == 0)
            return &unit_classes[i];
    return NULL;
}

void ef_ha_unit_classes(const char *unit, const char **device_class, const char **state_class)
{
    const struct unit_class *u = find_unit(unit);
    *device_class = u ? u->device_class : "";
    *state_class = u ? u->state_class : "";
}

const char *ef_ha_unit(const char *unit)
{
    const struct unit_class *u = find_unit(unit);
    return u ? u->ha_unit : unit;
}

bool ef_ha_point_writable(const struct ef_point *p) { return p->writable; }

/* The published range of a writable number: write_min/write_max where set,
 * else what its type can hold after scale and offset. */
static void number_range(struct ef_ha_entity *e, const struct ef_point *p)
{
    static const double lo[] = {[EF_T_INT16] = -32768.0, [EF_T_INT32] = -2147483648.0,
                                [EF_T_INT64] = -9223372036854775808.0,
                                [EF_T_FLOAT32] = -3.4028234663852886e38,
                                [EF_T_FLOAT64] = -1.7976931348623157e308};
    static const double hi[] = {[EF_T_INT16] = 32767.0,       [EF_T_UINT16] = 65535.0,
                                [EF_T_INT32] = 2147483647.0,  [EF_T_UINT32] = 4294967295.0,
                                [EF_T_INT64] = 9223372036854775807.0,
                                [EF_T_UINT64] = 18446744073709551615.0,
                                [EF_T_FLOAT32] = 3.4028234663852886e38,
                                [EF_T_FLOAT64] = 1.7976931348623157e308};
    double a = ef_value_scale(lo[p->type], p->scale, p->offset);
    double b = ef_value_scale(hi[p->type], p->scale, p->offset);
    e->min = p->has_write_min ? p->write_min : a < b ? a : b;
    e->max = p->has_write_max ? p->write_max : a < b ? b : a;
    bool integer = p->type != EF_T_FLOAT32 && p->type != EF_T_FLOAT64;
    /* Home Assistant's smallest step is 0.001 */
    double scale = p->scale < 0 ? -p->scale : p->scale;
    e->step = integer && scale > 0.001 ? scale : 0.001;
    if (integer && !p->scaled)
        e->step = 0; /* its default, 1 */
}

void ef_ha_entity_init(struct ef_ha_entity *e, const char *dev, const char *model,
                       const char *name, const struct ef_point *p, bool is_bool,
                       const char *unit)
{
    memset(e, 0, sizeof *e);
    e->device = dev;
    e->device_model = model;
    e->name = name;
    bool writable = p && ef_ha_point_writable(p);
    if (is_bool)
        e->component = writable ? EF_HA_SWITCH : EF_HA_BINARY_SENSOR;
    else
        e->component = writable ? EF_HA_NUMBER : EF_HA_SENSOR;
    if (p)
        unit = p->unit;
    e->unit = is_bool ? "" : ef_ha_unit(unit);
    ef_ha_unit_classes(is_bool ? "" : unit, &e->device_class, &e->state_class);
    if (p && p->ha_device_class[0])
        e->device_class = strcmp(p->ha_device_class, "none") == 0 ? "" : p->ha_device_class;
    if (p && p->ha_state_class[0])
        e->state_class = strcmp(p->ha_state_class, "none") == 0 ? "" : p->ha_state_class;
    if (e->component != EF_HA_SENSOR)
        e->state_class = ""; /* only sensors have one */
    if (e->component == EF_HA_NUMBER)
        number_range(e, p);
}

bool ef_ha_config_topic(char *out, size_t cap, const struct ef_ha_names *n,
                        const struct ef_ha_entity *e)
{
    int len = snprintf(out, cap, "%s/%s/%s_%s/%s/config", n->discovery_prefix,
                       ef_ha_component_name(e->component), n->gateway, e->device, e->name);
    return len > 0 && (size_t)len < cap;
}

/* Length of the valid UTF-8 sequence at S (1..4), or 0. Overlong forms,
 * surrogates and code points above U+10FFFF are not valid. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (c >= 0xF5 || n == 0)
        return 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    if (n == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)))
        return 0;
    if (n == 4 && ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90)))
        return 0;
    return n;
}

void ef_json_string(struct ef_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    ef_buf_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n;
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            ef_buf_put(b, esc, 2);
            p++;
        } else if (*p >= 0x20 && *p < 0x7f) {
            ef_buf_put(b, (const char *)p, 1);
            p++;
        } else if (*p >= 0x80 && (n = utf8_len(p)) > 0) {
            ef_buf_put(b, (const char *)p, n);
            p += n;
        } else { /* control character, DEL, or a byte that is not UTF-8 */
            char esc[6] = {'\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15]};
            ef_buf_put(b, esc, 6);
            p++;
        }
    }
    ef_buf_put(b, "\"", 1);
}

static void key(struct ef_buf *b, const char *k)
{
    ef_buf_puts(b, ",\"");
    ef_buf_puts(b, k);
    ef_buf_puts(b, "\":");
}

static void key_str(struct ef_buf *b, const char *k, const char *v)
{
    key(b, k);
    ef_json_string(b, v);
}

static void key_num(struct ef_buf *b, const char *k, double v)
{
    char num[32];
    ef_format_double(num, v);
    key(b, k);
    ef_buf_puts(b, num);
}

/* Home Assistant ignores an empty rendering for numeric sensors, numbers,
 * binary sensors and switches, so a telemetry message without the point
 * keeps the last state. A sensor without unit or classes takes any text,
 * an empty one too: it is given back its own state (this.state), which is
 * the value itself there, since only units are ever converted for display. */
static bool numeric_expected(const struct ef_ha_entity *e)
{
    return e->unit[0] || e->device_class[0] || e->state_class[0];
}

void ef_ha_value_template(struct ef_buf *b, const struct ef_ha_entity *e)
{
    char has[2 * EF_NAME_MAX + 48], val[2 * EF_NAME_MAX + 48];
    snprintf(has, sizeof has, "'%s' in value_json['values']", e->name);
    snprintf(val, sizeof val, "value_json['values']['%s']", e->name);
    const char *on = e->component == EF_HA_SWITCH ? "true" : "ON";
    const char *off = e->component == EF_HA_SWITCH ? "false" : "OFF";
    char t[6 * EF_NAME_MAX + 160];
    if (e->component == EF_HA_BINARY_SENSOR || e->component == EF_HA_SWITCH)
        snprintf(t, sizeof t, "{%% if %s %%}{{ '%s' if %s else '%s' }}{%% endif %%}", has, on,
                 val, off);
    else if (e->component == EF_HA_SENSOR && !numeric_expected(e))
        snprintf(t, sizeof t, "{{ %s if %s else this.state }}", val, has);
    else
        snprintf(t, sizeof t, "{{ %s if %s else '' }}", val, has);
    ef_buf_puts(b, t);
}

static void device_block(struct ef_buf *b, const struct ef_ha_names *n,
                         const struct ef_ha_entity *e)
{
    char id[2 * EF_NAME_MAX + 2];
    snprintf(id, sizeof id, "%s_%s", n->gateway, e->device);
    key(b, "device");
    ef_buf_puts(b, "{\"identifiers\":[");
    ef_json_string(b, id);
    ef_buf_puts(b, "]");
    key_str(b, "name", e->device);
    if (e->device_model && e->device_model[0])
        key_str(b, "model", e->device_model);
    key_str(b, "via_device", n->gateway);
    ef_buf_puts(b, "}");
}

static void origin_block(struct ef_buf *b, const struct ef_ha_names *n)
{
    key(b, "origin");
    ef_buf_puts(b, "{\"name\":\"edgeferry\"");
    key_str(b, "sw_version", n->version);
    ef_buf_puts(b, "}");
}

static void command_keys(struct ef_buf *b, const struct ef_ha_names *n,
                         const struct ef_ha_entity *e)
{
    char topic[3 * EF_STR_MAX];
    snprintf(topic, sizeof topic, "%s/%s/set/%s/%s", n->topic_prefix, n->gateway, e->device,
             e->name);
    key_str(b, "command_topic", topic);
    key(b, "qos");
    ef_buf_puts(b, "1");
    if (e->component == EF_HA_SWITCH) {
        key_str(b, "payload_on", "true");
        key_str(b, "payload_off", "false");
        return;
    }
    key_num(b, "min", e->min);
    key_num(b, "max", e->max);
    if (e->step > 0)
        key_num(b, "step", e->step);
    key_str(b, "mode", "box");
}

void ef_ha_config_payload(struct ef_buf *b, const struct ef_ha_names *n,
                          const struct ef_ha_entity *e)
{
    char s[3 * EF_STR_MAX];
    ef_buf_puts(b, "{\"name\":");
    ef_json_string(b, e->name);
    snprintf(s, sizeof s, "%s_%s_%s", n->gateway, e->device, e->name);
    key_str(b, "unique_id", s);
    snprintf(s, sizeof s, "%s/%s/telemetry/%s", n->topic_prefix, n->gateway, e->device);
    key_str(b, "state_topic", s);
    char t[6 * EF_NAME_MAX + 160];
    struct ef_buf tb;
    ef_buf_init(&tb, t, sizeof t);
    ef_ha_value_template(&tb, e);
    key_str(b, "value_template", t);
    if (e->unit[0])
        key_str(b, "unit_of_measurement", e->unit);
    if (e->device_class[0])
        key_str(b, "device_class", e->device_class);
    if (e->state_class[0])
        key_str(b, "state_class", e->state_class);
    if (e->component == EF_HA_NUMBER || e->component == EF_HA_SWITCH)
        command_keys(b, n, e);
    key(b, "availability");
    snprintf(s, sizeof s, "%s/%s/status", n->topic_prefix, n->gateway);
    ef_buf_puts(b, "[{\"topic\":");
    ef_json_string(b, s);
    snprintf(s, sizeof s, "%s/%s/availability/%s", n->topic_prefix, n->gateway, e->device);
    ef_buf_puts(b, "},{\"topic\":");
    ef_json_string(b, s);
    ef_buf_puts(b, "}]");
    key_str(b, "availability_mode", "all");
    device_block(b, n, e);
    origin_block(b, n);
    ef_buf_puts(b, "}");
}

bool ef_ha_gateway_topic(char *out, size_t cap, const struct ef_ha_names *n)
{
    int len = snprintf(out, cap, "%s/binary_sensor/%s/status/config", n->discovery_prefix,
                       n->gateway);
    return len > 0 && (size_t)len < cap;
}

void ef_ha_gateway_payload(struct ef_buf *b, const struct ef_ha_names *n)
{
    char s[2 * EF_STR_MAX];
    ef_buf_puts(b, "{\"name\":\"broker link\"");
    snprintf(s, sizeof s, "%s_status", n->gateway);
    key_str(b, "unique_id", s);
    snprintf(s, sizeof s, "%s/%s/status", n->topic_prefix, n->gateway);
    key_str(b, "state_topic", s);
    /* No availability: while the gateway is gone this entity says so
     * ("off", disconnected) instead of going unavailable itself. */
    key_str(b, "payload_on", "online");
    key_str(b, "payload_off", "offline");
    key_str(b, "device_class", "connectivity");
    key_str(b, "entity_category", "diagnostic");
    key(b, "device");
    ef_buf_puts(b, "{\"identifiers\":[");
    ef_json_string(b, n->gateway);
    ef_buf_puts(b, "]");
    key_str(b, "name", n->gateway);
    key_str(b, "model", "edgeferry");
    key_str(b, "manufacturer", "edgeferry");
    key_str(b, "sw_version", n->version);
    ef_buf_puts(b, "}");
    origin_block(b, n);
    ef_buf_puts(b, "}");
}
