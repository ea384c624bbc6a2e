/* Rules a key table cannot express: keys that depend on each other, names
 * shared between sections, references, and template resolution into the
 * final struct ef_config. Each check skips sections whose own keys were
 * already reported bad, so one mistake does not cause a cascade of errors. */
#include <stdlib.h>
#include <string.h>

#include "config/config_build.h"
#include "config/config_index.h"
#include "config/config_value.h"

/* A kind with no sections has items == NULL, and NULL + 0 is undefined. */
#define ITEMS(b, kind)                                                                   \
    for (struct ef_item *it = (b)->items[kind], *it_end_ = it ? it + (b)->n[kind] : it; \
         it != it_end_; it++)

static void check_gateway_mqtt(struct ef_build *b)
{
    struct ef_config *cfg = b->cfg;
    if (cfg->gateway.state_dir[0] == '\0') {
        /* systemd passes one absolute path per StateDirectory= entry, ':'-separated. */
        const char *env = getenv("STATE_DIRECTORY");
        size_t n = env ? strcspn(env, ":") : 0;
        if (env && env[0] == '/' && n < sizeof cfg->gateway.state_dir)
            memcpy(cfg->gateway.state_dir, env, n);
        else
            strcpy(cfg->gateway.state_dir, "/var/lib/edgeferry");
    }
    if (cfg->mqtt.client_id[0] == '\0')
        snprintf(cfg->mqtt.client_id, sizeof cfg->mqtt.client_id, "edgeferry-%s", cfg->gateway.id);
    if (b->n[EF_SEC_MQTT] == 0 || b->items[EF_SEC_MQTT][0].bad)
        return;
    struct ef_item *m = &b->items[EF_SEC_MQTT][0];
    char err[8];
    bool tls = false;
    ef_cv_uri_list(cfg->mqtt.uri, NULL, &tls, err, sizeof err);
    static const char *const tls_keys[] = {"ca_file", "cert_file", "key_file"};
    for (size_t i = 0; !tls && i < 3; i++)
        if (ef_item_has(m, tls_keys[i]))
            ef_build_key_error(b, m, tls_keys[i],
                               "needs a TLS uri (ssl://, mqtts:// or wss://)");
    if (ef_item_has(m, "cert_file") != ef_item_has(m, "key_file"))
        ef_build_key_error(b, m, ef_item_has(m, "cert_file") ? "cert_file" : "key_file",
                           "cert_file and key_file go together");
}

static void check_bus(struct ef_build *b, struct ef_item *it)
{
    struct ef_bus *bus = it->data;
    static const char *const line_keys[] = {"path", "baud", "parity", "data_bits", "stop_bits", "rs485"};
    static const char *const tcp_keys[] = {"host", "port"};
    bool rtu = bus->type == EF_BUS_RTU;
    const char *const *other = rtu ? tcp_keys : line_keys;
    size_t nother = rtu ? 2 : 6;
    for (size_t i = 0; i < nother; i++)
        if (ef_item_has(it, other[i]))
            ef_build_key_error(b, it, other[i], "does not apply to a bus of type %s",
                               ef_bus_type_name(bus->type));
    if (rtu && !ef_item_has(it, "path"))
        ef_build_key_error(b, it, NULL, "missing required key 'path' (type rtu)");
    if (!rtu && !ef_item_has(it, "host"))
        ef_build_key_error(b, it, NULL, "missing required key 'host' (type %s)",
                           ef_bus_type_name(bus->type));
}

/* Device, template and serial names are one namespace: points name their
 * owner by it and devices and sensors share the telemetry topic level. */
static void check_owner_names(struct ef_build *b)
{
    static const enum ef_section_kind kinds[] = {EF_SEC_DEVICE, EF_SEC_TEMPLATE, EF_SEC_SERIAL};
    for (size_t a = 0; a < 3; a++) {
        ITEMS(b, kinds[a]) {
            for (size_t c = 0; c < a; c++) {
                struct ef_item *o = ef_build_find(b, kinds[c], it->name);
                const struct ef_item *first = o && o->raw->line < it->raw->line ? o : it;
                const struct ef_item *second = first == it ? o : it;
                if (o)
                    ef_cfgerr_add(b->errs, second->raw->line,
                                  "[%s]: the name '%s' is already used by [%s] on line %d",
                                  second->raw->name, it->name, first->raw->name, first->raw->line);
            }
        }
    }
}

static void suggest_among(struct ef_suggest *s, struct ef_build *b, enum ef_section_kind kind)
{
    if (b->suggest_budget < b->n[kind])
        return; /* spent: later errors go without a hint */
    b->suggest_budget -= b->n[kind];
    ITEMS(b, kind)
        ef_suggest_offer(s, it->name);
}

/* The unit of a device on its bus: refused where it cannot answer, and
 * reported once per device that repeats an earlier (bus, unit) pair. */
static void check_device_unit(struct ef_build *b, struct ef_item *it,
                              const struct ef_item *bus, struct ef_index *units)
{
    const struct ef_device_build *d = it->data;
    if (!bus || !ef_item_ok(it, EF_SEC_DEVICE, "unit"))
        return;
    const struct ef_bus *bc = bus->data;
    /* RTU framing (also tunnelled over TCP) makes 0 the broadcast address:
     * slaves obey it silently, so every poll would time out. */
    if (d->d.unit == 0 && ef_item_ok(bus, EF_SEC_BUS, "type") && bc->type != EF_BUS_TCP)
        ef_build_key_error(b, it, "unit", "0 is the broadcast address on a %s bus and never "
                           "answers: use 1..247", ef_bus_type_name(bc->type));
    size_t self = (size_t)(it - b->items[EF_SEC_DEVICE]);
    size_t first = ef_index_put(units, d->bus, d->d.unit, self);
    if (first == EF_INDEX_NONE) {
        b->oom = true;
    } else if (first != self) {
        /* Two sections for one slave would poll it twice and publish twice. */
        const struct ef_item *o = &b->items[EF_SEC_DEVICE][first];
        ef_build_key_error(b, it, "unit", "unit %d on bus %s is already [%s] (line %d)",
                           d->d.unit, d->bus, o->raw->name, o->raw->line);
    }
}

/* libmodbus's RTU backend refuses a reply from another unit by itself:
 * check_unit = false set on a device of an RTU bus would silently do nothing.
 * (A template may say it; it only matters to its devices on tcp buses.) */
static void check_device_unit_check(struct ef_build *b, struct ef_item *it)
{
    const struct ef_device_build *d = it->data;
    struct ef_item *bi = ef_item_ok(it, EF_SEC_DEVICE, "bus")
                             ? ef_build_find(b, EF_SEC_BUS, d->bus) : NULL;
    const struct ef_bus *bus = bi && !bi->bad ? bi->data : NULL;
    if (bus && bus->type != EF_BUS_TCP && ef_item_ok(it, EF_SEC_DEVICE, "check_unit") &&
        !d->d.check_unit)
        ef_build_key_error(b, it, "check_unit", "applies to tcp buses only (bus %s is %s, "
                           "whose replies are always checked)", d->bus,
                           ef_bus_type_name(bus->type));
}

static void check_device(struct ef_build *b, struct ef_item *it, struct ef_index *units)
{
    struct ef_device_build *d = it->data;
    char hint[96];
    struct ef_item *bus = NULL;
    if (ef_item_ok(it, EF_SEC_DEVICE, "bus") && !(bus = ef_build_find(b, EF_SEC_BUS, d->bus))) {
        struct ef_suggest s = {d->bus, NULL, 0};
        suggest_among(&s, b, EF_SEC_BUS);
        ef_build_key_error(b, it, "bus", "no [bus:%s] in this file%s", d->bus,
                           ef_suggest_text(&s, hint, sizeof hint));
    }
    struct ef_item *t = NULL;
    if (ef_item_ok(it, EF_SEC_DEVICE, "template")) {
        t = ef_build_find(b, EF_SEC_TEMPLATE, d->d.template_name);
        struct ef_suggest s = {d->d.template_name, NULL, 0};
        suggest_among(&s, b, EF_SEC_TEMPLATE);
        if (!t)
            ef_build_key_error(b, it, "template", "no [template:%s] in this file%s",
                               d->d.template_name, ef_suggest_text(&s, hint, sizeof hint));
    }
    const struct ef_template_build *tb = t ? t->data : NULL;
    if (!ef_item_has(it, "interval_ms"))
        d->d.interval_ms = tb && tb->interval_ms ? tb->interval_ms : 1000;
    if (!ef_item_has(it, "check_unit") && tb)
        d->d.check_unit = tb->check_unit;
    const struct ef_bus *bc = bus ? bus->data : NULL;
    if (!ef_item_has(it, "max_regs"))
        d->d.max_regs = t && ef_item_has(t, "max_regs") ? tb->max_regs : bc ? bc->max_regs : 125;
    if (!ef_item_has(it, "max_gap"))
        d->d.max_gap = t && ef_item_has(t, "max_gap") ? tb->max_gap : bc ? bc->max_gap : 10;
    check_device_unit_check(b, it);
    check_device_unit(b, it, bus, units);
}

/* A string is text in whole registers (coils and bits were refused as
 * "must be bool"): no arithmetic, nothing to compare with a deadband or a
 * limit. */
static void check_point_string(struct ef_build *b, struct ef_item *it)
{
    static const char *const numeric_only[] = {"scale", "offset", "deadband", "alarm_high",
                                               "alarm_low", "alarm_hysteresis"};
    struct ef_point *p = &((struct ef_point_build *)it->data)->p;
    for (size_t i = 0; i < sizeof numeric_only / sizeof numeric_only[0]; i++)
        if (ef_item_has(it, numeric_only[i]))
            ef_build_key_error(b, it, numeric_only[i], "does not apply to a string point");
    if (!ef_item_has(it, "order"))
        p->order = EF_ORDER_AB;
    else if (p->order != EF_ORDER_AB && p->order != EF_ORDER_BA)
        ef_build_key_error(b, it, "order", "a string's order is AB (high byte first) or BA, "
                           "not %s", ef_order_name(p->order));
}

static void check_point_modbus(struct ef_build *b, struct ef_item *it)
{
    struct ef_point_build *pb = it->data;
    struct ef_point *p = &pb->p;
    if (!ef_item_has(it, "register")) {
        ef_build_key_error(b, it, NULL, "missing required key 'register' (a Modbus point)");
        return;
    }
    bool bits = pb->reg.kind == EF_REG_COIL || pb->reg.kind == EF_REG_DISCRETE;
    bool has_type = ef_item_has(it, "type");
    if (bits && ef_item_has(it, "bit"))
        ef_build_key_error(b, it, "bit", "only input and holding registers have bits");
    if ((bits || p->bit >= 0) && has_type && p->type != EF_T_BOOL)
        ef_build_key_error(b, it, "type", "%s is one bit: the type must be bool, not %s",
                           bits ? ef_reg_kind_name((enum ef_reg_kind)pb->reg.kind) : "a bit point",
                           ef_value_type_name(p->type));
    if (!has_type)
        p->type = bits || p->bit >= 0 ? EF_T_BOOL : EF_T_UINT16;
    if (!bits && p->type == EF_T_BOOL && p->bit < 0)
        ef_build_key_error(b, it, "type", "bool needs a coil, a discrete input or a bit");
    if (p->type == EF_T_STRING) {
        check_point_string(b, it);
        if (!ef_item_has(it, "length")) {
            ef_build_key_error(b, it, NULL, "missing required key 'length' (type string)");
            return;
        }
    } else {
        if (ef_item_has(it, "length"))
            ef_build_key_error(b, it, "length", "only string points have a length");
        if (p->order == EF_ORDER_AB || p->order == EF_ORDER_BA)
            ef_build_key_error(b, it, "order", "AB and BA are orders of strings; %s takes "
                               "ABCD, DCBA, BADC or CDAB", ef_value_type_name(p->type));
    }
    p->has_register = true;
    p->kind = (enum ef_reg_kind)pb->reg.kind;
    p->address = (uint16_t)pb->reg.address;
    unsigned width = ef_point_width(p);
    if (pb->reg.address + width - 1 > 65535)
        ef_build_key_error(b, it, "register", "%s needs %u registers: %u..%u runs past 65535",
                           ef_value_type_name(p->type), width, pb->reg.address,
                           pb->reg.address + width - 1);
}

static bool name_in_list(const char *name, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(name, *list) == 0)
            return true;
    return false;
}

static void check_point_serial(struct ef_build *b, struct ef_item *it, const struct ef_item *owner)
{
    static const char *const modbus_only[] = {"register", "type",   "order",
                                              "bit",      "length", "interval_ms"};
    static const char *const nmea_names[] = {"lat", "lon", "alt", "sats", "fix", "speed_kn", "course", NULL};
    for (size_t i = 0; i < sizeof modbus_only / sizeof modbus_only[0]; i++)
        if (ef_item_has(it, modbus_only[i]))
            ef_build_key_error(b, it, modbus_only[i], "only Modbus points have it; "
                               "%s is a serial sensor", it->owner);
    const struct ef_serial_build *sb = owner->data;
    if (owner->bad)
        return;
    if (sb->s.format == EF_FMT_NMEA && !name_in_list(it->name, nmea_names))
        ef_build_key_error(b, it, NULL, "an nmea sensor reports only lat, lon, alt, sats, fix, "
                           "speed_kn and course");
    if (sb->s.format == EF_FMT_CSV) {
        bool found = false;
        for (size_t i = 0; i < sb->s.nfields; i++)
            found = found || strcmp(sb->s.fields[i], it->name) == 0;
        if (!found)
            ef_build_key_error(b, it, NULL, "'%s' is not in the fields of [%s]", it->name,
                               owner->raw->name);
    }
}

static void check_point(struct ef_build *b, struct ef_item *it)
{
    struct ef_point_build *pb = it->data;
    snprintf(pb->p.name, sizeof pb->p.name, "%s", it->name);
    pb->p.line = it->raw->line;
    pb->p.has_alarm_high = ef_item_has(it, "alarm_high");
    pb->p.has_alarm_low = ef_item_has(it, "alarm_low");
    pb->p.scaled = ef_item_has(it, "scale") || ef_item_has(it, "offset");
    struct ef_item *serial = ef_build_find(b, EF_SEC_SERIAL, it->owner);
    if (!serial && !ef_build_find(b, EF_SEC_DEVICE, it->owner) &&
        !ef_build_find(b, EF_SEC_TEMPLATE, it->owner)) {
        struct ef_suggest s = {it->owner, NULL, 0};
        suggest_among(&s, b, EF_SEC_DEVICE);
        suggest_among(&s, b, EF_SEC_TEMPLATE);
        suggest_among(&s, b, EF_SEC_SERIAL);
        char hint[96];
        ef_build_key_error(b, it, NULL, "no device, template or serial sensor named '%s'%s",
                           it->owner, ef_suggest_text(&s, hint, sizeof hint));
        return;
    }
    if (it->bad)
        return;
    if (serial)
        check_point_serial(b, it, serial);
    else
        check_point_modbus(b, it);
    ef_check_point_write(b, it, serial != NULL);
    if (pb->p.has_alarm_high && pb->p.has_alarm_low && pb->p.alarm_low >= pb->p.alarm_high)
        ef_build_key_error(b, it, "alarm_low", "must be below alarm_high (%g)", pb->p.alarm_high);
}

/* Splits "a, b,c" into names; reports bad or repeated ones. */
static void parse_fields(struct ef_build *b, struct ef_item *it, struct ef_serial_build *sb)
{
    size_t cap = 1;
    for (const char *p = sb->fields; *p; p++)
        cap += *p == ',';
    sb->s.fields = calloc(cap, sizeof *sb->s.fields);
    if (!sb->s.fields) {
        b->oom = true;
        return;
    }
    const char *p = sb->fields;
    for (size_t i = 0; i < cap; i++) {
        size_t n = strcspn(p, ",");
        char name[EF_STR_MAX];
        snprintf(name, sizeof name, "%.*s", (int)n, p);
        char *s = name, *e = name + strlen(name);
        while (*s == ' ' || *s == '\t')
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        if (!ef_cv_is_name(s)) {
            ef_build_key_error(b, it, "fields", "'%s' is not a point name", s);
        } else {
            for (size_t j = 0; j < sb->s.nfields; j++)
                if (strcmp(sb->s.fields[j], s) == 0)
                    ef_build_key_error(b, it, "fields", "'%s' is listed twice", s);
            snprintf(sb->s.fields[sb->s.nfields++], EF_NAME_MAX + 1, "%s", s);
        }
        p += n + (p[n] == ',');
    }
}

/* PATHS maps the path of every good RTU bus (tag 0) and serial sensor
 * (tag 1) seen so far to its item index. */
static void check_serial(struct ef_build *b, struct ef_item *it, struct ef_index *paths)
{
    struct ef_serial_build *sb = it->data;
    bool csv = sb->s.format == EF_FMT_CSV;
    if (!ef_item_ok(it, EF_SEC_SERIAL, "format"))
        csv = ef_item_has(it, "fields"); /* no further complaints about fields */
    if (csv && !ef_item_has(it, "fields"))
        ef_build_key_error(b, it, NULL, "missing required key 'fields' (format csv)");
    if (!csv && ef_item_has(it, "fields"))
        ef_build_key_error(b, it, "fields", "only csv sensors have fields");
    if (csv && ef_item_ok(it, EF_SEC_SERIAL, "fields"))
        parse_fields(b, it, sb);
    if (ef_item_ok(it, EF_SEC_SERIAL, "query")) {
        char err[8];
        sb->s.has_query = ef_cv_unescape(sb->query, sb->s.query, sizeof sb->s.query,
                                         &sb->s.query_len, err, sizeof err) == 0;
    }
    /* Two readers on one line would steal each other's bytes. */
    if (!ef_item_ok(it, EF_SEC_SERIAL, "path"))
        return;
    size_t bus = ef_index_get(paths, sb->s.path, 0);
    if (bus != EF_INDEX_NONE)
        ef_build_key_error(b, it, "path", "%s is also the path of [%s]", sb->s.path,
                           b->items[EF_SEC_BUS][bus].raw->name);
    size_t self = (size_t)(it - b->items[EF_SEC_SERIAL]);
    size_t first = ef_index_get(paths, sb->s.path, 1);
    if (first != EF_INDEX_NONE)
        ef_build_key_error(b, it, "path", "%s is also the path of [%s]", sb->s.path,
                           b->items[EF_SEC_SERIAL][first].raw->name);
    else if (!it->bad && ef_index_put(paths, sb->s.path, 1, self) == EF_INDEX_NONE)
        b->oom = true;
}

static void index_bus_paths(struct ef_build *b, struct ef_index *paths)
{
    ITEMS(b, EF_SEC_BUS) {
        const struct ef_bus *bus = it->data;
        size_t self = (size_t)(it - b->items[EF_SEC_BUS]);
        if (!it->bad && bus->type == EF_BUS_RTU &&
            ef_index_put(paths, bus->path, 0, self) == EF_INDEX_NONE)
            b->oom = true;
    }
}

void ef_check_and_assemble(struct ef_build *b)
{
    check_gateway_mqtt(b);
    ef_check_sparkplug(b);
    ITEMS(b, EF_SEC_BUS)
        if (ef_item_ok(it, EF_SEC_BUS, "type"))
            check_bus(b, it);
    check_owner_names(b);
    struct ef_index seen = {0}; /* (bus, unit) of devices, then paths */
    ITEMS(b, EF_SEC_DEVICE) {
        check_device(b, it, &seen);
        ef_check_device_write(b, it);
    }
    ef_index_free(&seen);
    index_bus_paths(b, &seen);
    ITEMS(b, EF_SEC_SERIAL)
        check_serial(b, it, &seen);
    ef_index_free(&seen);
    ITEMS(b, EF_SEC_POINT)
        check_point(b, it);
    if (b->errs->count == 0 && !b->oom)
        ef_assemble(b);
}
