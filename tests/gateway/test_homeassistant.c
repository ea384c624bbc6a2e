/* The Home Assistant discovery encoder (gateway/north/homeassistant*.c):
 * topics, every component's fields, classes from units, JSON escaping, the
 * set of a configuration and the removals a reload calls for. */
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "gateway/north/homeassistant.h"

static const struct ef_ha_names names = {"site/a", "gw1", "homeassistant", "1.2.3"};

static char *payload_of(const struct ef_ha_entity *e)
{
    static char buf[8192];
    struct ef_buf b;
    ef_buf_init(&b, buf, sizeof buf);
    ef_ha_config_payload(&b, &names, e);
    EXPECT(ef_buf_ok(&b), "payload fits");
    return buf;
}

static struct ef_point point(const char *name, const char *unit, enum ef_value_type t)
{
    struct ef_point p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    snprintf(p.unit, sizeof p.unit, "%s", unit);
    p.type = t;
    p.scale = 1;
    p.bit = -1;
    return p;
}

static void sensor_with_unit_gets_classes_and_every_field(void)
{
    struct ef_point p = point("voltage", "V", EF_T_UINT16);
    struct ef_ha_entity e;
    ef_ha_entity_init(&e, "meter1", "Modbus device", p.name, &p, false, "");
    EXPECT(e.component == EF_HA_SENSOR, "a number is a sensor");
    char topic[256];
    EXPECT(ef_ha_config_topic(topic, sizeof topic, &names, &e), "topic fits");
    EXPECT(strcmp(topic, "homeassistant/sensor/gw1_meter1/voltage/config") == 0, "%s", topic);
    const char *want =
        "{\"name\":\"voltage\",\"unique_id\":\"gw1_meter1_voltage\","
        "\"state_topic\":\"site/a/gw1/telemetry/meter1\","
        "\"value_template\":\"{{ value_json['values']['voltage'] if 'voltage' in "
        "value_json['values'] else '' }}\","
        "\"unit_of_measurement\":\"V\",\"device_class\":\"voltage\","
        "\"state_class\":\"measurement\","
        "\"availability\":[{\"topic\":\"site/a/gw1/status\"},"
        "{\"topic\":\"site/a/gw1/availability/meter1\"}],\"availability_mode\":\"all\","
        "\"device\":{\"identifiers\":[\"gw1_meter1\"],\"name\":\"meter1\","
        "\"model\":\"Modbus device\",\"via_device\":\"gw1\"},"
        "\"origin\":{\"name\":\"edgeferry\",\"sw_version\":\"1.2.3\"}}";
    const char *got = payload_of(&e);
    EXPECT(strcmp(got, want) == 0, "sensor payload:\n got %s\nwant %s", got, want);
}

static void sensor_without_unit_falls_back_to_its_own_state(void)
{
    struct ef_point p = point("mode", "", EF_T_UINT16);
    struct ef_ha_entity e;
    ef_ha_entity_init(&e, "d", "", p.name, &p, false, "");
    const char *got = payload_of(&e);
    EXPECT(strstr(got, "else this.state }}") != NULL, "%s", got);
    EXPECT(!strstr(got, "unit_of_measurement") && !strstr(got, "device_class") &&
               !strstr(got, "state_class") && !strstr(got, "\"model\""),
           "no unit, no classes, no model: %s", got);
}

static void binary_sensor_renders_on_off_or_nothing(void)
{
    struct ef_point p = point("relay", "", EF_T_BOOL);
    struct ef_ha_entity e;
    ef_ha_entity_init(&e, "d", "", p.name, &p, true, "");
    EXPECT(e.component == EF_HA_BINARY_SENSOR, "a bool is a binary_sensor");
    char topic[256];
    ef_ha_config_topic(topic, sizeof topic, &names, &e);
    EXPECT(strcmp(topic, "homeassistant/binary_sensor/gw1_d/relay/config") == 0, "%s", topic);
    char t[512];
    struct ef_buf b;
    ef_buf_init(&b, t, sizeof t);
    ef_ha_value_template(&b, &e);
    EXPECT(strcmp(t, "{% if 'relay' in value_json['values'] %}{{ 'ON' if "
                     "value_json['values']['relay'] else 'OFF' }}{% endif %}") == 0,
           "%s", t);
    const char *got = payload_of(&e);
    EXPECT(!strstr(got, "command_topic") && !strstr(got, "state_class"), "%s", got);
}

static void units_imply_classes_where_obvious(void)
{
    static const struct {
        const char *unit, *ha_unit, *dc, *sc;
    } cases[] = {
        {"°C", "°C", "temperature", "measurement"}, {"degC", "°C", "temperature", "measurement"},
        {"V", "V", "voltage", "measurement"},       {"A", "A", "current", "measurement"},
        {"W", "W", "power", "measurement"},         {"kWh", "kWh", "energy", "total_increasing"},
        {"Hz", "Hz", "frequency", "measurement"},   {"Pa", "Pa", "pressure", "measurement"},
        {"kPa", "kPa", "pressure", "measurement"},  {"bar", "bar", "pressure", "measurement"},
        {"hPa", "hPa", "pressure", "measurement"},  {"%", "%", "", ""},
        {"rpm", "rpm", "", ""},                     {"", "", "", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ef_point p = point("x", cases[i].unit, EF_T_FLOAT32);
        struct ef_ha_entity e;
        ef_ha_entity_init(&e, "d", "", "x", &p, false, "");
        EXPECT(strcmp(e.unit, cases[i].ha_unit) == 0 && strcmp(e.device_class, cases[i].dc) == 0 &&
                   strcmp(e.state_class, cases[i].sc) == 0,
               "unit '%s': got '%s' '%s' '%s'", cases[i].unit, e.unit, e.device_class,
               e.state_class);
    }
}

static void configured_classes_override_and_none_turns_them_off(void)
{
    struct ef_point p = point("e", "kWh", EF_T_UINT32);
    snprintf(p.ha_state_class, sizeof p.ha_state_class, "total");
    struct ef_ha_entity e;
    ef_ha_entity_init(&e, "d", "", "e", &p, false, "");
    EXPECT(strcmp(e.device_class, "energy") == 0 && strcmp(e.state_class, "total") == 0,
           "%s %s", e.device_class, e.state_class);
    snprintf(p.ha_device_class, sizeof p.ha_device_class, "none");
    snprintf(p.ha_state_class, sizeof p.ha_state_class, "none");
    ef_ha_entity_init(&e, "d", "", "e", &p, false, "");
    EXPECT(e.device_class[0] == '\0' && e.state_class[0] == '\0', "none: %s %s",
           e.device_class, e.state_class);
    struct ef_point q = point("door", "", EF_T_BOOL);
    snprintf(q.ha_device_class, sizeof q.ha_device_class, "door");
    snprintf(q.ha_state_class, sizeof q.ha_state_class, "measurement");
    ef_ha_entity_init(&e, "d", "", "door", &q, true, "");
    EXPECT(strcmp(e.device_class, "door") == 0 && e.state_class[0] == '\0',
           "binary_sensor: device_class kept, no state_class: %s %s", e.device_class,
           e.state_class);
}

/* Writable points: number (range from write_min/write_max, else the type's
 * after scale and offset) and switch, with their command topics. */
static void writable_number_and_switch_fields(void)
{
    struct ef_ha_entity e;
    struct ef_point p = point("setpoint", "°C", EF_T_INT16);
    p.scale = 0.1;
    p.scaled = true;
    p.writable = true;
    ef_ha_entity_init(&e, "d", "", "setpoint", &p, false, "");
    EXPECT(e.component == EF_HA_NUMBER, "a writable number is a number");
    const char *got = payload_of(&e);
    EXPECT(strstr(got, "\"command_topic\":\"site/a/gw1/set/d/setpoint\",\"qos\":1,"
                       "\"min\":-3276.8,\"max\":3276.7,\"step\":0.1,\"mode\":\"box\"") != NULL,
           "number: %s", got);
    EXPECT(strstr(got, "else '' }}") && strstr(got, "\"device_class\":\"temperature\"") &&
               !strstr(got, "state_class"),
           "number: %s", got);
    char topic[256];
    ef_ha_config_topic(topic, sizeof topic, &names, &e);
    EXPECT(strcmp(topic, "homeassistant/number/gw1_d/setpoint/config") == 0, "%s", topic);

    p.has_write_min = p.has_write_max = true;
    p.write_min = 5;
    p.write_max = 30.5;
    ef_ha_entity_init(&e, "d", "", "setpoint", &p, false, "");
    got = payload_of(&e);
    EXPECT(strstr(got, "\"min\":5,\"max\":30.5,\"step\":0.1,") != NULL, "limits: %s", got);

    struct ef_point u = point("mode", "", EF_T_UINT16);
    u.writable = true;
    ef_ha_entity_init(&e, "d", "", "mode", &u, false, "");
    got = payload_of(&e);
    EXPECT(strstr(got, "\"min\":0,\"max\":65535,\"mode\":\"box\"") != NULL,
           "unscaled integer: Home Assistant's step: %s", got);

    struct ef_point s = point("pump", "", EF_T_BOOL);
    s.writable = true;
    ef_ha_entity_init(&e, "d", "", "pump", &s, true, "");
    EXPECT(e.component == EF_HA_SWITCH, "a writable bool is a switch");
    got = payload_of(&e);
    EXPECT(strstr(got, "\"command_topic\":\"site/a/gw1/set/d/pump\",\"qos\":1,"
                       "\"payload_on\":\"true\",\"payload_off\":\"false\"") != NULL,
           "switch: %s", got);
    EXPECT(strstr(got, "{{ 'true' if value_json['values']['pump'] else 'false' }}") != NULL,
           "switch template: %s", got);
    ef_ha_config_topic(topic, sizeof topic, &names, &e);
    EXPECT(strcmp(topic, "homeassistant/switch/gw1_d/pump/config") == 0, "%s", topic);
}

static void json_strings_are_escaped_and_always_valid(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "\"plain\""},
        {"a\"b\\c", "\"a\\\"b\\\\c\""},
        {"\xc2\xb0" "C", "\"\xc2\xb0" "C\""},               /* UTF-8 kept */
        {"\xb0" "C", "\"\\u00b0C\""},                      /* Latin-1 byte */
        {"\x01\x7f", "\"\\u0001\\u007f\""},                /* controls */
        {"\xe2\x82\xac", "\"\xe2\x82\xac\""},              /* euro sign */
        {"\xe2\x82", "\"\\u00e2\\u0082\""},                /* cut sequence */
        {"\xc0\xaf", "\"\\u00c0\\u00af\""},                /* overlong */
        {"\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""},     /* surrogate */
        {"\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},      /* 4 bytes */
        {"\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""}, /* above U+10FFFF */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[128];
        struct ef_buf b;
        ef_buf_init(&b, buf, sizeof buf);
        ef_json_string(&b, cases[i].in);
        EXPECT(ef_buf_ok(&b) && strcmp(buf, cases[i].out) == 0, "case %zu: %s", i, buf);
    }
}

static void gateway_device_carries_version_and_model(void)
{
    char buf[2048], topic[256];
    struct ef_buf b;
    ef_buf_init(&b, buf, sizeof buf);
    ef_ha_gateway_payload(&b, &names);
    EXPECT(ef_ha_gateway_topic(topic, sizeof topic, &names), "fits");
    EXPECT(strcmp(topic, "homeassistant/binary_sensor/gw1/status/config") == 0, "%s", topic);
    EXPECT(strstr(buf, "\"device\":{\"identifiers\":[\"gw1\"],\"name\":\"gw1\",\"model\":"
                       "\"edgeferry\",\"manufacturer\":\"edgeferry\",\"sw_version\":\"1.2.3\"}") &&
               strstr(buf, "\"state_topic\":\"site/a/gw1/status\"") &&
               !strstr(buf, "availability"),
           "%s", buf);
}

static const char *cfg_text(bool enabled, bool with_b)
{
    static char text[2048];
    snprintf(text, sizeof text,
             "[gateway]\nid = gw1\nstate_dir = /tmp/x\n[mqtt]\nuri = tcp://127.0.0.1:1\n"
             "[homeassistant]\nenabled = %s\n"
             "[bus:b]\ntype = tcp\nhost = 127.0.0.1\n"
             "[device:m]\nbus = b\nunit = 1\n"
             "[point:m.v]\nregister = input:0\nunit = V\n"
             "[point:m.c]\nregister = coil:0\n"
             "%s"
             "[serial:gps]\npath = /dev/null\nformat = nmea\n"
             "[point:gps.alt]\nunit = ft\n"
             "[serial:t]\npath = /dev/zero\nformat = csv\nfields = a,b\n",
             enabled ? "true" : "false", with_b ? "[point:m.b]\nregister = holding:1\n" : "");
    return text;
}

static struct ef_config *load(const char *text)
{
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    if (ef_config_load_string("t.ini", text, &cfg, &errs) != 0) {
        ef_config_errors_print(errs, stderr);
        ef_config_errors_free(errs);
        return NULL;
    }
    return cfg;
}

static const struct ef_ha_msg *find(const struct ef_ha_set *s, const char *topic)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->msgs[i].topic, topic) == 0)
            return &s->msgs[i];
    return NULL;
}

static void set_of_a_configuration_and_its_removals(void)
{
    struct ef_config *off = load(cfg_text(false, true)), *a = load(cfg_text(true, true)),
                     *b = load(cfg_text(true, false));
    EXPECT(off && a && b, "configs load");
    if (!off || !a || !b)
        return;
    struct ef_ha_set s0, s1, s2, s3;
    EXPECT(ef_ha_set_build(&s0, off) == 0 && s0.n == 0, "off: nothing");
    EXPECT(ef_ha_set_build(&s1, a) == 0, "build");
    /* gateway + 3 Modbus points + 7 NMEA values + 2 csv fields */
    EXPECT(s1.n == 1 + 3 + 7 + 2, "count %zu", s1.n);
    EXPECT(strcmp(s1.msgs[0].topic, "homeassistant/binary_sensor/gw1/status/config") == 0,
           "the gateway's device first: %s", s1.msgs[0].topic);
    EXPECT(find(&s1, "homeassistant/sensor/gw1_m/v/config") &&
               find(&s1, "homeassistant/binary_sensor/gw1_m/c/config") &&
               find(&s1, "homeassistant/sensor/gw1_m/b/config") &&
               find(&s1, "homeassistant/sensor/gw1_t/a/config") &&
               find(&s1, "homeassistant/sensor/gw1_gps/speed_kn/config"),
           "entities");
    const struct ef_ha_msg *alt = find(&s1, "homeassistant/sensor/gw1_gps/alt/config");
    const struct ef_ha_msg *lat = find(&s1, "homeassistant/sensor/gw1_gps/lat/config");
    EXPECT(alt && strstr(alt->payload, "\"unit_of_measurement\":\"ft\""),
           "a configured NMEA value keeps its own unit");
    EXPECT(lat && strstr(lat->payload, "\"unit_of_measurement\":\"\xc2\xb0\""), "lat in degrees");
    EXPECT(ef_ha_set_removals(&s1) == 0, "no removals");

    /* Reload without m.b: its config is removed; again without discovery:
     * every config so far is removed, m.b's removal too. */
    EXPECT(ef_ha_set_build(&s2, b) == 0 && ef_ha_set_retire(&s2, &s1) == 0, "retire");
    const struct ef_ha_msg *gone = find(&s2, "homeassistant/sensor/gw1_m/b/config");
    EXPECT(gone && gone->payload[0] == '\0' && ef_ha_set_removals(&s2) == 1 && s2.n == s1.n,
           "one removal");
    EXPECT(ef_ha_set_build(&s3, off) == 0 && ef_ha_set_retire(&s3, &s2) == 0, "retire all");
    EXPECT(s3.n == s1.n && ef_ha_set_removals(&s3) == s1.n, "all removed: %zu of %zu",
           ef_ha_set_removals(&s3), s3.n);
    /* Re-adding a removed point drops its removal. */
    struct ef_ha_set s4;
    EXPECT(ef_ha_set_build(&s4, a) == 0 && ef_ha_set_retire(&s4, &s2) == 0, "re-add");
    gone = find(&s4, "homeassistant/sensor/gw1_m/b/config");
    EXPECT(gone && gone->payload[0] == '{' && ef_ha_set_removals(&s4) == 0, "re-added");
    ef_ha_set_free(&s0);
    ef_ha_set_free(&s1);
    ef_ha_set_free(&s2);
    ef_ha_set_free(&s3);
    ef_ha_set_free(&s4);
    ef_config_free(off);
    ef_config_free(a);
    ef_config_free(b);
}

static void bad_class_names_are_config_errors(void)
{
    char text[1024];
    snprintf(text, sizeof text,
             "[gateway]\nid = g\nstate_dir = /tmp/x\n[mqtt]\nuri = tcp://127.0.0.1:1\n"
             "[homeassistant]\ndiscovery_prefix = ha/\n"
             "[serial:s]\npath = /dev/null\nformat = kv\n"
             "[point:s.x]\nha_device_class = Temperature\nha_state_class = sometimes\n");
    struct ef_config *cfg = NULL;
    struct ef_config_errors *errs = NULL;
    EXPECT(ef_config_load_string("t.ini", text, &cfg, &errs) != 0, "refused");
    if (!errs)
        return;
    EXPECT(errs->count == 3, "three errors, got %zu", errs->count);
    for (size_t i = 0; i < errs->count; i++)
        fprintf(stderr, "  (expected) %d: %s\n", errs->items[i].line, errs->items[i].message);
    EXPECT(errs->count == 3 && errs->items[0].line == 7 && errs->items[1].line == 12 &&
               errs->items[2].line == 13,
           "lines");
    ef_config_errors_free(errs);
}

int main(void)
{
    sensor_with_unit_gets_classes_and_every_field();
    sensor_without_unit_falls_back_to_its_own_state();
    binary_sensor_renders_on_off_or_nothing();
    units_imply_classes_where_obvious();
    configured_classes_override_and_none_turns_them_off();
    writable_number_and_switch_fields();
    json_strings_are_escaped_and_always_valid();
    gateway_device_carries_version_and_model();
    set_of_a_configuration_and_its_removals();
    bad_class_names_are_config_errors();
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
