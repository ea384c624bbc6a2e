/* The key tables: every section type and key of the ini file, once. */
#include "config/config_keys.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "config/config_value.h"

_Static_assert(sizeof(enum ef_bus_type) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum ef_value_type) == sizeof(int), "enums are stored as int");

/* ---- value types ---- */

static int parse_string(const struct ef_key *k, const char *text, void *field, char *err,
                        size_t errlen)
{
    if (*text == '\0') {
        snprintf(err, errlen, "must not be empty");
        return -1;
    }
    for (const char *p = text; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            snprintf(err, errlen, "contains a control character");
            return -1;
        }
    }
    if (strlen(text) >= k->size) {
        snprintf(err, errlen, "longer than %zu characters", k->size - 1);
        return -1;
    }
    memcpy(field, text, strlen(text) + 1);
    return 0;
}

static int parse_path(const struct ef_key *k, const char *text, void *field, char *err,
                      size_t errlen)
{
    if (*text != '/' && *text != '\0') {
        snprintf(err, errlen, "'%s' is not an absolute path", text);
        return -1;
    }
    return parse_string(k, text, field, err, errlen);
}

static int parse_name(const struct ef_key *k, const char *text, void *field, char *err,
                      size_t errlen)
{
    if (!ef_cv_is_name(text)) {
        snprintf(err, errlen, "'%s' is not a name ([A-Za-z0-9_-], 1 to %d characters)", text,
                 EF_NAME_MAX);
        return -1;
    }
    return parse_string(k, text, field, err, errlen);
}

static int parse_int(const struct ef_key *k, const char *text, void *field, char *err,
                     size_t errlen)
{
    long long v;
    if (ef_cv_int(text, (long long)k->min, (long long)k->max, &v, err, errlen) != 0)
        return -1;
    *(int *)field = (int)v;
    return 0;
}

static int parse_double(const struct ef_key *k, const char *text, void *field, char *err,
                        size_t errlen)
{
    return ef_cv_double(text, k->min, k->max, field, err, errlen);
}

static int parse_bool(const struct ef_key *k, const char *text, void *field, char *err,
                      size_t errlen)
{
    (void)k;
    return ef_cv_bool(text, field, err, errlen);
}

static int parse_enum(const struct ef_key *k, const char *text, void *field, char *err,
                      size_t errlen)
{
    for (const struct ef_enum_name *e = k->enums; e->name; e++) {
        if (strcmp(e->name, text) == 0) {
            memcpy(field, &e->value, sizeof e->value);
            return 0;
        }
    }
    int n = snprintf(err, errlen, "'%s' is not one of:", text);
    for (const struct ef_enum_name *e = k->enums; e->name && n > 0 && (size_t)n < errlen; e++)
        n += snprintf(err + n, errlen - (size_t)n, " %s", e->name);
    return -1;
}

static int parse_parity(const struct ef_key *k, const char *text, void *field, char *err,
                        size_t errlen)
{
    (void)k;
    if (strlen(text) != 1 || !strchr("NEOneo", text[0])) {
        snprintf(err, errlen, "'%s' is not N, E or O", text);
        return -1;
    }
    *(char *)field = (char)(text[0] & ~0x20); /* upper case */
    return 0;
}

static int parse_baud(const struct ef_key *k, const char *text, void *field, char *err,
                      size_t errlen)
{
    /* libmodbus 3.1.6 turns an unknown rate into 9600 without a word. */
    static const int rates[] = {300,   600,    1200,   2400,   4800,  9600,
                                19200, 38400,  57600,  115200, 230400, 460800, 921600};
    long long v;
    char why[64];
    (void)k;
    if (ef_cv_int(text, 1, 10000000, &v, why, sizeof why) == 0) {
        for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
            if (rates[i] == v) {
                *(int *)field = (int)v;
                return 0;
            }
        }
    }
    snprintf(err, errlen, "'%s' is not a standard baud rate (300, 600, 1200, 2400, 4800, 9600, "
                          "19200, 38400, 57600, 115200, 230400, 460800, 921600)", text);
    return -1;
}

static int parse_register(const struct ef_key *k, const char *text, void *field, char *err,
                          size_t errlen)
{
    (void)k;
    struct ef_reg_ref *r = field;
    return ef_cv_register(text, &r->kind, &r->address, err, errlen);
}

static int parse_uri(const struct ef_key *k, const char *text, void *field, char *err,
                     size_t errlen)
{
    bool tls;
    if (ef_cv_uri_list(text, NULL, &tls, err, errlen) != 0)
        return -1;
    return parse_string(k, text, field, err, errlen);
}

static int parse_topic(const struct ef_key *k, const char *text, void *field, char *err,
                       size_t errlen)
{
    if (ef_cv_topic_prefix(text, err, errlen) != 0)
        return -1;
    return parse_string(k, text, field, err, errlen);
}

static int parse_log_level(const struct ef_key *k, const char *text, void *field, char *err,
                           size_t errlen)
{
    (void)k;
    enum ef_log_level level;
    if (ef_log_level_parse(text, &level) != 0) {
        snprintf(err, errlen, "'%s' is not one of: error warning info debug", text);
        return -1;
    }
    *(int *)field = (int)level;
    return 0;
}

static int parse_query(const struct ef_key *k, const char *text, void *field, char *err,
                       size_t errlen)
{
    unsigned char buf[EF_QUERY_MAX];
    size_t len;
    if (ef_cv_unescape(text, buf, sizeof buf, &len, err, errlen) != 0)
        return -1;
    return parse_string(k, text, field, err, errlen); /* decoded after loading */
}

/* Home Assistant class names are lower-case identifiers ("temperature",
 * "total_increasing"); "none" turns the unit's default off. */
static int parse_ha_class(const struct ef_key *k, const char *text, void *field, char *err,
                          size_t errlen)
{
    size_t n = strspn(text, "abcdefghijklmnopqrstuvwxyz0123456789_");
    if (n == 0 || text[n] != '\0') {
        snprintf(err, errlen, "'%s' is not a Home Assistant class name (a-z, 0-9, _)", text);
        return -1;
    }
    if (k->enums) { /* a closed list: state_class */
        for (const struct ef_enum_name *e = k->enums; e->name; e++)
            if (strcmp(e->name, text) == 0)
                return parse_string(k, text, field, err, errlen);
        char unused[sizeof(int)];
        return parse_enum(k, text, unused, err, errlen); /* fails, with the list */
    }
    return parse_string(k, text, field, err, errlen);
}

static const struct ef_key_type t_string = {"text", parse_string};
static const struct ef_key_type t_listen = {"ADDRESS:PORT", ef_cv_parse_listen};
static const struct ef_key_type t_path = {"absolute path", parse_path};
static const struct ef_key_type t_name = {"name", parse_name};
static const struct ef_key_type t_int = {"integer", parse_int};
static const struct ef_key_type t_double = {"number", parse_double};
static const struct ef_key_type t_bool = {"boolean", parse_bool};
static const struct ef_key_type t_enum = {"one of", parse_enum};
static const struct ef_key_type t_parity = {"N, E or O", parse_parity};
static const struct ef_key_type t_baud = {"baud rate", parse_baud};
static const struct ef_key_type t_register = {"KIND:ADDRESS", parse_register};
static const struct ef_key_type t_uri = {"broker URI", parse_uri};
static const struct ef_key_type t_topic = {"topic levels", parse_topic};
static const struct ef_key_type t_log_level = {"log level", parse_log_level};
static const struct ef_key_type t_query = {"text with escapes", parse_query};
static const struct ef_key_type t_ha_class = {"class name", parse_ha_class};

/* ---- enum names ---- */

const struct ef_enum_name ef_bus_type_names[] = {
    {"rtu", EF_BUS_RTU}, {"tcp", EF_BUS_TCP}, {"rtu-over-tcp", EF_BUS_RTU_OVER_TCP}, {NULL, 0}};
const struct ef_enum_name ef_value_type_names[] = {
    {"bool", EF_T_BOOL},     {"int16", EF_T_INT16},     {"uint16", EF_T_UINT16},
    {"int32", EF_T_INT32},   {"uint32", EF_T_UINT32},   {"int64", EF_T_INT64},
    {"uint64", EF_T_UINT64}, {"float32", EF_T_FLOAT32}, {"float64", EF_T_FLOAT64},
    {"string", EF_T_STRING}, {NULL, 0}};
const struct ef_enum_name ef_order_names[] = {{"ABCD", EF_ORDER_ABCD}, {"DCBA", EF_ORDER_DCBA},
                                              {"BADC", EF_ORDER_BADC}, {"CDAB", EF_ORDER_CDAB},
                                              {"AB", EF_ORDER_AB},     {"BA", EF_ORDER_BA},
                                              {NULL, 0}};
const struct ef_enum_name ef_format_names[] = {
    {"nmea", EF_FMT_NMEA}, {"kv", EF_FMT_KV}, {"csv", EF_FMT_CSV}, {NULL, 0}};
static const struct ef_enum_name replay_names[] = {
    {"live-first", EF_REPLAY_LIVE_FIRST}, {"fifo", EF_REPLAY_FIFO}, {NULL, 0}};
static const struct ef_enum_name clock_names[] = {{"auto", EF_CLOCK_AUTO},
                                                  {"mark", EF_CLOCK_MARK},
                                                  {"drop", EF_CLOCK_DROP},
                                                  {"ignore", EF_CLOCK_IGNORE},
                                                  {NULL, 0}};
static const struct ef_enum_name ha_state_names[] = {
    {"measurement", 0}, {"total", 0}, {"total_increasing", 0}, {"none", 0}, {NULL, 0}};
static const struct ef_enum_name version_names[] = {{"3.1.1", 4}, {"5", 5}, {NULL, 0}};
static const struct ef_enum_name write_single_names[] = {
    {"fc6", EF_WRITE_SINGLE_FC6}, {"fc16", EF_WRITE_SINGLE_FC16}, {NULL, 0}};

/* ---- tables ---- */

#define KEY(struct_, field_, name_, type_, def_, flags_, min_, max_, doc_)                       \
    {name_, &type_, offsetof(struct_, field_), sizeof(((struct_ *)0)->field_), def_, flags_,    \
     min_, max_, NULL, doc_}
#define ENUMF(struct_, field_, name_, enums_, def_, flags_, doc_)                                \
    {name_, &t_enum, offsetof(struct_, field_), sizeof(((struct_ *)0)->field_), def_, flags_,   \
     0, 0, enums_, doc_}
#define ENUM(struct_, field_, name_, enums_, def_, doc_)                                         \
    ENUMF(struct_, field_, name_, enums_, def_, 0, doc_)
#define DMAX 1e300

static const struct ef_key gateway_keys[] = {
    KEY(struct ef_gateway_cfg, id, "id", t_name, NULL, EF_KEY_REQUIRED, 0, 0,
        "this gateway's name, the second level of every topic"),
    KEY(struct ef_gateway_cfg, state_dir, "state_dir", t_path, NULL, 0, 0, 0,
        "directory of the queue; default: the first entry of $STATE_DIRECTORY, else "
        "/var/lib/edgeferry"),
    KEY(struct ef_gateway_cfg, log_level, "log_level", t_log_level, "info", 0, 0, 0,
        "error, warning, info or debug"),
    KEY(struct ef_gateway_cfg, stats_interval_s, "stats_interval_s", t_int, "60", 0, 0, 86400,
        "extension: seconds between stats messages, 0 turns them off"),
    ENUM(struct ef_gateway_cfg, clock_unsynced, "clock_unsynced", clock_names, "auto",
         "readings taken while the clock is not synchronised: auto, mark, drop or ignore"),
};

static const struct ef_key mqtt_keys[] = {
    KEY(struct ef_mqtt, uri, "uri", t_uri, NULL, EF_KEY_REQUIRED, 0, 0,
        "brokers, tried in order: tcp|mqtt|ssl|mqtts://HOST:PORT or ws|wss://HOST:PORT/PATH, "
        "separated by blanks"),
    KEY(struct ef_mqtt, client_id, "client_id", t_string, NULL, 0, 0, 0,
        "MQTT client identifier; default edgeferry-<gateway id>"),
    KEY(struct ef_mqtt, username, "username", t_string, NULL, 0, 0, 0, "user name, none by default"),
    KEY(struct ef_mqtt, password_file, "password_file", t_string, NULL, 0, 0, 0,
        "file whose first line is the password"),
    KEY(struct ef_mqtt, ca_file, "ca_file", t_string, NULL, 0, 0, 0,
        "TLS: certificates to trust (PEM); needs a TLS uri"),
    KEY(struct ef_mqtt, cert_file, "cert_file", t_string, NULL, 0, 0, 0,
        "TLS: client certificate (PEM); needs key_file"),
    KEY(struct ef_mqtt, key_file, "key_file", t_string, NULL, 0, 0, 0,
        "TLS: private key of cert_file (PEM)"),
    KEY(struct ef_mqtt, tls_verify, "tls_verify", t_bool, "true", 0, 0, 0,
        "TLS: check the broker's certificate and host name"),
    ENUM(struct ef_mqtt, version, "version", version_names, "3.1.1", "protocol: 3.1.1 or 5"),
    KEY(struct ef_mqtt, topic_prefix, "topic_prefix", t_topic, "edgeferry", 0, 0, 0,
        "first level(s) of every topic"),
    KEY(struct ef_mqtt, keepalive_s, "keepalive_s", t_int, "30", 0, 1, 3600,
        "MQTT keep-alive interval"),
    KEY(struct ef_mqtt, telemetry_qos, "telemetry_qos", t_int, "0", 0, 0, 2,
        "QoS of telemetry messages"),
    KEY(struct ef_mqtt, alarm_qos, "alarm_qos", t_int, "1", 0, 0, 2, "QoS of alarm messages"),
    KEY(struct ef_mqtt, retain_alarms, "retain_alarms", t_bool, "true", 0, 0, 0,
        "alarm messages are retained by the broker"),
    KEY(struct ef_mqtt, max_packet_size, "max_packet_size", t_int, NULL, 0, 64, 268435460,
        "largest MQTT packet the broker takes (bytes), for 3.1.1 brokers that do not say; "
        "a larger message is never sent"),
    KEY(struct ef_mqtt, command_max_age_ms, "command_max_age_ms", t_int, "10000", 0, 100, 3600000,
        "a command is dropped this long after it arrived, or when its own ts is this old"),
};

static const struct ef_key queue_keys[] = {
    KEY(struct ef_queue_cfg, max_disk_mb, "max_disk_mb", t_int, "64", 0, 1, 1048576,
        "hard limit of the queue on disk (MiB); oldest telemetry is dropped first"),
    KEY(struct ef_queue_cfg, memory_kb, "memory_kb", t_int, "256", 0, 16, 1048576,
        "memory buffer in front of the disk (KiB)"),
    KEY(struct ef_queue_cfg, flush_ms, "flush_ms", t_int, "1000", 0, 0, 3600000,
        "longest time unsent telemetry stays only in memory during an outage"),
    ENUM(struct ef_queue_cfg, replay, "replay", replay_names, "live-first",
         "backlog order after an outage: live-first or fifo"),
};

static const struct ef_key sparkplug_keys[] = {
    KEY(struct ef_sparkplug_cfg, enabled, "enabled", t_bool, "false", 0, 0, 0,
        "telemetry goes out as Sparkplug B 3.0 instead of P/G/telemetry/D"),
    KEY(struct ef_sparkplug_cfg, group_id, "group_id", t_name, NULL, 0, 0, 0,
        "Sparkplug group id (required when enabled)"),
    KEY(struct ef_sparkplug_cfg, edge_node_id, "edge_node_id", t_name, NULL, 0, 0, 0,
        "Sparkplug edge node id; default: the gateway id"),
    KEY(struct ef_sparkplug_cfg, primary_host_id, "primary_host_id", t_name, NULL, 0, 0, 0,
        "wait for spBv1.0/STATE/<host> online before births; store and forward while offline"),
};

#define LINE_KEYS(struct_, prefix_)                                                              \
    KEY(struct_, prefix_ baud, "baud", t_baud, "9600", 0, 0, 0, "line speed, a standard rate"), \
    KEY(struct_, prefix_ parity, "parity", t_parity, "N", 0, 0, 0, "N (none), E (even), O (odd)"), \
    KEY(struct_, prefix_ data_bits, "data_bits", t_int, "8", 0, 5, 8, "5 to 8"),                \
    KEY(struct_, prefix_ stop_bits, "stop_bits", t_int, "1", 0, 1, 2, "1 or 2")

static const struct ef_key bus_keys[] = {
    ENUMF(struct ef_bus, type, "type", ef_bus_type_names, NULL, EF_KEY_REQUIRED,
          "rtu, tcp or rtu-over-tcp"),
    KEY(struct ef_bus, path, "path", t_path, NULL, 0, 0, 0, "rtu: serial device (required)"),
    LINE_KEYS(struct ef_bus, ),
    KEY(struct ef_bus, rs485, "rs485", t_bool, "false", 0, 0, 0,
        "rtu: the kernel drives RTS for the RS-485 direction"),
    KEY(struct ef_bus, host, "host", t_string, NULL, 0, 0, 0,
        "tcp, rtu-over-tcp: host name or address (required)"),
    KEY(struct ef_bus, port, "port", t_int, "502", 0, 1, 65535, "tcp, rtu-over-tcp: TCP port"),
    KEY(struct ef_bus, timeout_ms, "timeout_ms", t_int, "1000", 0, 1, 60000,
        "response timeout of one request"),
    KEY(struct ef_bus, retries, "retries", t_int, "2", 0, 0, 10,
        "retries of a failed request within one poll"),
    KEY(struct ef_bus, max_gap, "max_gap", t_int, "10", 0, 0, 2000,
        "unused addresses one merged read may span"),
    KEY(struct ef_bus, max_regs, "max_regs", t_int, "125", 0, 1, 2000,
        "largest read: registers up to min(max_regs, 125), coils/discrete inputs up to max_regs"),
    KEY(struct ef_bus, delay_ms, "delay_ms", t_int, "0", 0, 0, 60000,
        "pause between two requests on this bus"),
};

static const struct ef_key device_keys[] = {
    KEY(struct ef_device_build, bus, "bus", t_name, NULL, EF_KEY_REQUIRED, 0, 0,
        "the [bus:NAME] this device is on"),
    KEY(struct ef_device_build, d.unit, "unit", t_int, NULL, EF_KEY_REQUIRED, 0, 247,
        "Modbus slave id"),
    KEY(struct ef_device_build, d.interval_ms, "interval_ms", t_int, NULL, 0, 10, 86400000,
        "poll period; default: the template's, else 1000"),
    KEY(struct ef_device_build, d.template_name, "template", t_name, NULL, 0, 0, 0,
        "a [template:NAME] whose points this device has too"),
    KEY(struct ef_device_build, d.offline_after, "offline_after", t_int, "3", 0, 1, 1000,
        "failed polls in a row before the offline alarm"),
    KEY(struct ef_device_build, d.heartbeat_s, "heartbeat_s", t_int, "300", 0, 0, 604800,
        "with deadbands, every point is sent at least this often; 0: never forced"),
    KEY(struct ef_device_build, d.check_unit, "check_unit", t_bool, "true", 0, 0, 0,
        "tcp: a reply must carry the request's unit id; false for a device that answers "
        "with a fixed one; default: the template's, else true"),
    KEY(struct ef_device_build, d.max_regs, "max_regs", t_int, NULL, 0, 1, 2000,
        "largest read of this device (as the bus's max_regs); default: the template's, "
        "else the bus's"),
    KEY(struct ef_device_build, d.max_gap, "max_gap", t_int, NULL, 0, 0, 2000,
        "unused addresses one merged read of this device may span; default: the "
        "template's, else the bus's"),
    ENUM(struct ef_device_build, d.write_single, "write_single", write_single_names, NULL,
         "one-register writes: fc6 or fc16; default: the template's, else fc6"),
};

static const struct ef_key template_keys[] = {
    KEY(struct ef_template_build, interval_ms, "interval_ms", t_int, NULL, 0, 10, 86400000,
        "default poll period of the devices using this template"),
    KEY(struct ef_template_build, check_unit, "check_unit", t_bool, "true", 0, 0, 0,
        "check_unit of the devices using this template that do not set their own"),
    KEY(struct ef_template_build, max_regs, "max_regs", t_int, NULL, 0, 1, 2000,
        "max_regs of the devices using this template that do not set their own"),
    KEY(struct ef_template_build, max_gap, "max_gap", t_int, NULL, 0, 0, 2000,
        "max_gap of the devices using this template that do not set their own"),
    ENUM(struct ef_template_build, write_single, "write_single", write_single_names, NULL,
         "default write_single of the devices using this template"),
};

static const struct ef_key point_keys[] = {
    KEY(struct ef_point_build, reg, "register", t_register, NULL, 0, 0, 0,
        "coil:N, discrete:N, input:N or holding:N (required for Modbus; N is 0..65535)"),
    ENUM(struct ef_point_build, p.type, "type", ef_value_type_names, NULL,
         "value type; default uint16, bool for coils, discrete inputs and bits"),
    KEY(struct ef_point_build, p.length, "length", t_int, NULL, 0, 1, 125,
        "string: registers of text (two bytes each)"),
    ENUM(struct ef_point_build, p.order, "order", ef_order_names, "ABCD",
         "word/byte order of multi-register values; a string's: AB (high byte first, "
         "the default) or BA"),
    KEY(struct ef_point_build, p.interval_ms, "interval_ms", t_int, NULL, 0, 10, 86400000,
        "Modbus: this point's own poll period, a multiple of its device's interval_ms"),
    KEY(struct ef_point_build, p.bit, "bit", t_int, NULL, 0, 0, 15,
        "read one bit (0 = least significant) of an input or holding register as bool"),
    KEY(struct ef_point_build, p.scale, "scale", t_double, "1", 0, -DMAX, DMAX,
        "published value = raw * scale + offset"),
    KEY(struct ef_point_build, p.offset, "offset", t_double, "0", 0, -DMAX, DMAX,
        "added after scaling"),
    KEY(struct ef_point_build, p.unit, "unit", t_string, NULL, 0, 0, 0,
        "engineering unit, informational"),
    KEY(struct ef_point_build, p.deadband, "deadband", t_double, "0", 0, 0, DMAX,
        "send a value again only after it moved this much; 0: every poll"),
    KEY(struct ef_point_build, p.alarm_high, "alarm_high", t_double, NULL, 0, -DMAX, DMAX,
        "alarm when the value rises above this"),
    KEY(struct ef_point_build, p.alarm_low, "alarm_low", t_double, NULL, 0, -DMAX, DMAX,
        "alarm when the value falls below this"),
    KEY(struct ef_point_build, p.alarm_hysteresis, "alarm_hysteresis", t_double, "0", 0, 0, DMAX,
        "an alarm clears only this far back inside its limit"),
    KEY(struct ef_point_build, p.ha_device_class, "ha_device_class", t_ha_class, NULL, 0, 0, 0,
        "Home Assistant device_class; default from unit, none for none"),
    {"ha_state_class", &t_ha_class, offsetof(struct ef_point_build, p.ha_state_class),
     sizeof(((struct ef_point_build *)0)->p.ha_state_class), NULL, 0, 0, 0, ha_state_names,
     "Home Assistant state_class: measurement, total, total_increasing or none; default from "
     "unit"},
    KEY(struct ef_point_build, p.writable, "writable", t_bool, "false", 0, 0, 0,
        "may be written from MQTT (holding registers, bits of them, and coils)"),
    KEY(struct ef_point_build, p.write_min, "write_min", t_double, NULL, 0, -DMAX, DMAX,
        "smallest value a command may write, in published units"),
    KEY(struct ef_point_build, p.write_max, "write_max", t_double, NULL, 0, -DMAX, DMAX,
        "largest value a command may write, in published units"),
};

static const struct ef_key serial_keys[] = {
    KEY(struct ef_serial_build, s.path, "path", t_path, NULL, EF_KEY_REQUIRED, 0, 0,
        "serial device or pseudo-terminal"),
    LINE_KEYS(struct ef_serial_build, s.),
    ENUMF(struct ef_serial_build, s.format, "format", ef_format_names, NULL, EF_KEY_REQUIRED,
          "line format: nmea, kv or csv"),
    KEY(struct ef_serial_build, fields, "fields", t_string, NULL, 0, 0, 0,
        "csv: comma-separated point names in column order (required for csv)"),
    KEY(struct ef_serial_build, query, "query", t_query, NULL, 0, 0, 0,
        "sent every interval_ms to ask for a line; escapes \\r \\n \\t \\\\ \\xHH"),
    KEY(struct ef_serial_build, s.interval_ms, "interval_ms", t_int, "1000", 0, 10, 86400000,
        "query period, or publish period of a streaming sensor"),
    KEY(struct ef_serial_build, s.timeout_ms, "timeout_ms", t_int, "1000", 0, 1, 60000,
        "how long to wait for a line"),
    KEY(struct ef_serial_build, s.offline_after, "offline_after", t_int, "3", 0, 1, 1000,
        "missed lines in a row before the offline alarm"),
    KEY(struct ef_serial_build, s.heartbeat_s, "heartbeat_s", t_int, "300", 0, 0, 604800,
        "extension: with deadbands, every value is sent at least this often"),
};

static const struct ef_key homeassistant_keys[] = {
    KEY(struct ef_homeassistant, enabled, "enabled", t_bool, "false", 0, 0, 0,
        "publish Home Assistant MQTT discovery configs"),
    KEY(struct ef_homeassistant, discovery_prefix, "discovery_prefix", t_topic, "homeassistant",
        0, 0, 0, "Home Assistant's discovery prefix (its status topic is PREFIX/status)"),
};

static const struct ef_key http_keys[] = {
    KEY(struct ef_http, listen, "listen", t_listen, NULL, 0, 0, 0,
        "address and port of the local web view, e.g. 127.0.0.1:8080 or [::1]:8080"),
    KEY(struct ef_http, password_file, "password_file", t_path, NULL, 0, 0, 0,
        "file holding user:password; every request then needs HTTP Basic authentication"),
};

/* The array size turns negative, a compile error, for a table larger than
 * the loader's per-key bit sets (EF_KEYS_MAX). */
#define SEC(prefix_, named_, keys_, doc_)                                                        \
    {prefix_, named_, keys_,                                                                     \
     sizeof keys_ / sizeof keys_[0] +                                                            \
         0 * sizeof(char[sizeof keys_ / sizeof keys_[0] <= EF_KEYS_MAX ? 1 : -1]),               \
     doc_}

const struct ef_section_type ef_section_types[EF_SEC_COUNT] = {
    [EF_SEC_GATEWAY] = SEC("gateway", false, gateway_keys, "this gateway"),
    [EF_SEC_MQTT] = SEC("mqtt", false, mqtt_keys, "the broker connection"),
    [EF_SEC_QUEUE] = SEC("queue", false, queue_keys, "store and forward"),
    [EF_SEC_BUS] = SEC("bus", true, bus_keys, "a Modbus RTU line or TCP endpoint"),
    [EF_SEC_DEVICE] = SEC("device", true, device_keys, "a Modbus slave on a bus"),
    [EF_SEC_TEMPLATE] = SEC("template", true, template_keys, "points shared by devices"),
    [EF_SEC_POINT] = SEC("point", true, point_keys, "one value of a device, template or sensor"),
    [EF_SEC_SERIAL] = SEC("serial", true, serial_keys, "a line-oriented serial sensor"),
    [EF_SEC_HOMEASSISTANT] =
        SEC("homeassistant", false, homeassistant_keys, "Home Assistant MQTT discovery"),
    [EF_SEC_SPARKPLUG] = SEC("sparkplug", false, sparkplug_keys, "Sparkplug B edge node"),
    [EF_SEC_HTTP] = SEC("http", false, http_keys, "the local web view and metrics"),
};

const struct ef_key *ef_key_find(const struct ef_section_type *t, const char *name)
{
    for (size_t i = 0; i < t->nkeys; i++)
        if (strcmp(t->keys[i].name, name) == 0)
            return &t->keys[i];
    return NULL;
}
