/* The validated, immutable configuration of one edgeferry process.
 *
 * ef_config_load() reads an ini file (inih), checks every key against the
 * table in config_keys.c and every reference between sections, resolves
 * templates into each device's points, and returns either a complete
 * struct ef_config or a list of "FILE:LINE: message" errors (all of them).
 *
 * Ownership: the caller frees a config with ef_config_free() and an error
 * list with ef_config_errors_free(). Nothing in a loaded config changes
 * afterwards, so threads may read it without locks while it is alive.
 * Strings are fixed-size arrays (inih limits lines to 200 characters). */
#ifndef EF_CONFIG_H
#define EF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define EF_NAME_MAX 64   /* names match [A-Za-z0-9_-]{1,64} */
#define EF_STR_MAX 256   /* paths, hosts, uris, topics prefixes */
#define EF_MQTT_URIS_MAX 8 /* brokers in [mqtt] uri */
#define EF_QUERY_MAX 128 /* decoded bytes of a serial query */

enum ef_bus_type { EF_BUS_RTU, EF_BUS_TCP, EF_BUS_RTU_OVER_TCP };

enum ef_reg_kind { EF_REG_COIL, EF_REG_DISCRETE, EF_REG_INPUT, EF_REG_HOLDING };

enum ef_value_type {
    EF_T_BOOL,
    EF_T_INT16,
    EF_T_UINT16,
    EF_T_INT32,
    EF_T_UINT32,
    EF_T_INT64,
    EF_T_UINT64,
    EF_T_FLOAT32,
    EF_T_FLOAT64,
    EF_T_STRING, /* `length` registers of text (decode_text.h) */
};

/* Word/byte order of multi-register values, named by where the bytes of the
 * big-endian value A B C D (E F G H for 64 bits) appear on the wire. */
enum ef_order { EF_ORDER_ABCD, EF_ORDER_DCBA, EF_ORDER_BADC, EF_ORDER_CDAB,
                /* strings only: each register's high byte first (AB) or low byte first */
                EF_ORDER_AB, EF_ORDER_BA };

enum ef_serial_format { EF_FMT_NMEA, EF_FMT_KV, EF_FMT_CSV };

enum ef_replay { EF_REPLAY_LIVE_FIRST, EF_REPLAY_FIFO };
/* What readings taken while the clock is not synchronised become. */
enum ef_clock_unsynced {
    EF_CLOCK_AUTO,   /* mark, when a time synchroniser runs that has not synchronised yet */
    EF_CLOCK_MARK,   /* "clock":"unsynced" in the payload whenever the clock is not synchronised */
    EF_CLOCK_DROP,   /* telemetry dropped (counted); alarms marked */
    EF_CLOCK_IGNORE, /* sent as they are (logged and counted only) */
};

enum ef_owner_kind { EF_OWNER_DEVICE, EF_OWNER_TEMPLATE, EF_OWNER_SERIAL };

/* How a value of one register is written (device/template `write_single`). */
enum ef_write_single { EF_WRITE_SINGLE_FC6, EF_WRITE_SINGLE_FC16 };

struct ef_point {
    char name[EF_NAME_MAX + 1];
    int line;                /* line of the [point:...] section header */
    bool has_register;       /* Modbus points always; serial points never */
    enum ef_reg_kind kind;   /* from register = KIND:N */
    uint16_t address;        /* 0-based protocol address */
    enum ef_value_type type; /* default uint16, bool for coil/discrete/bit */
    enum ef_order order;     /* default ABCD; AB for a string */
    int length;              /* string: registers of text, 1..125; else 0 */
    int interval_ms;         /* own poll period, a multiple of the device's; 0: the device's */
    int bit;                 /* 0..15, or -1 when not a bit point */
    double scale;            /* default 1 */
    double offset;           /* default 0 */
    bool scaled;             /* scale or offset was set (value becomes a double) */
    char unit[33];           /* engineering unit, "" when none */
    double deadband;         /* 0: report every poll */
    bool has_alarm_high, has_alarm_low;
    double alarm_high, alarm_low;
    double alarm_hysteresis; /* >= 0 */
    /* Home Assistant discovery: "" derives the class from unit, "none"
     * publishes none. */
    char ha_device_class[33];
    char ha_state_class[33];
    /* Commands from MQTT: only holding registers (a bit of one too) and
     * coils can be writable; the limits are in published units. */
    bool writable;
    bool has_write_min, has_write_max;
    double write_min, write_max; /* write_min <= write_max when both are set */
};

/* Registers a point occupies (1 for bool, bits, 16-bit; `length` for a
 * string), or bits for coil and discrete points (always 1): the unit the
 * poll plan counts in. */
unsigned ef_point_width(const struct ef_point *p);

/* Most distinct poll plans one device's point intervals may need (see
 * ef_device_phases); more is a configuration error. */
#define EF_PHASES_MAX 64

struct ef_bus {
    char name[EF_NAME_MAX + 1];
    int line;
    enum ef_bus_type type;
    char path[EF_STR_MAX]; /* rtu */
    int baud;              /* one of the standard rates */
    char parity;           /* 'N', 'E' or 'O' */
    int data_bits;         /* 5..8 */
    int stop_bits;         /* 1 or 2 */
    bool rs485;
    char host[EF_STR_MAX]; /* tcp, rtu-over-tcp */
    int port;              /* 1..65535, default 502 */
    int timeout_ms;        /* 1..60000, default 1000 */
    int retries;           /* 0..10, default 2 */
    int max_gap;           /* 0..2000, default 10 */
    int max_regs;          /* 1..125 for registers (bits: up to 2000), default 125 */
    int delay_ms;          /* 0..60000, default 0 */
};

struct ef_device {
    char name[EF_NAME_MAX + 1];
    int line;
    size_t bus;          /* index into ef_config.buses */
    int unit;            /* 0..247 */
    int interval_ms;     /* device value, else its template's, else 1000 */
    int offline_after;   /* default 3 */
    int heartbeat_s;     /* default 300 */
    bool check_unit;     /* tcp: a reply must carry the request's unit id; default true */
    int max_regs;        /* coalescing limits: the device's, else its template's, */
    int max_gap;         /* else its bus's */
    char template_name[EF_NAME_MAX + 1]; /* "" when none */
    enum ef_write_single write_single;   /* device value, else its template's, else fc6 */
    /* Template points first (in file order), then the device's own; a device
     * point with the same name as a template point replaces it. */
    struct ef_point *points;
    size_t npoints;
};

struct ef_serial {
    char name[EF_NAME_MAX + 1]; /* also the device name in topics */
    int line;
    char path[EF_STR_MAX];
    int baud;
    char parity;
    int data_bits;
    int stop_bits;
    enum ef_serial_format format;
    char (*fields)[EF_NAME_MAX + 1]; /* csv: point names in column order */
    size_t nfields;
    bool has_query;
    unsigned char query[EF_QUERY_MAX]; /* escapes decoded */
    size_t query_len;
    int interval_ms;   /* default 1000 */
    int timeout_ms;    /* default 1000 */
    int offline_after; /* default 3 */
    int heartbeat_s;   /* extension; default 300 */
    /* Optional [point:SENSOR.X] sections: scale, unit, deadband and alarms
     * for values the sensor reports under the name X. */
    struct ef_point *points;
    size_t npoints;
};

struct ef_mqtt {
    char uri[EF_STR_MAX];
    char client_id[EF_STR_MAX]; /* default "edgeferry-<id>" */
    char username[EF_STR_MAX];  /* "" when none */
    char password_file[EF_STR_MAX];
    char ca_file[EF_STR_MAX];
    char cert_file[EF_STR_MAX];
    char key_file[EF_STR_MAX];
    bool tls_verify;          /* default true */
    int version;              /* 4 (MQTT 3.1.1, "3.1.1") or 5 */
    char topic_prefix[EF_STR_MAX]; /* default "edgeferry", no leading/trailing '/' */
    int keepalive_s;          /* 1..3600, default 30 */
    int telemetry_qos;        /* default 0 */
    int alarm_qos;            /* default 1 */
    bool retain_alarms;       /* default true */
    int max_packet_size;      /* largest packet the broker takes; 0 (default): not known */
    int command_max_age_ms;   /* 100..3600000, default 10000 */
};

struct ef_queue_cfg {
    int max_disk_mb; /* 1..1048576, default 64 */
    int memory_kb;   /* 16..1048576, default 256 */
    int flush_ms;    /* 0..3600000, default 1000 */
    enum ef_replay replay;
};

struct ef_homeassistant {
    bool enabled;                      /* default false */
    char discovery_prefix[EF_STR_MAX]; /* default "homeassistant" */
};

/* [sparkplug]: telemetry as a Sparkplug B 3.0 edge node (docs/sparkplug.md). */
struct ef_sparkplug_cfg {
    bool enabled;                          /* default false */
    char group_id[EF_NAME_MAX + 1];        /* required when enabled */
    char edge_node_id[EF_NAME_MAX + 1];    /* default: the gateway id */
    char primary_host_id[EF_NAME_MAX + 1]; /* "" when none */
};

/* [http] listen: where the local web view listens. */
struct ef_listen {
    char text[EF_STR_MAX]; /* as written: "127.0.0.1:8080", "[::1]:8080" */
    char host[64];         /* the numeric address alone, no brackets */
    int port;              /* 1..65535 */
    bool ipv6;
    bool loopback;         /* 127.0.0.0/8 or ::1 */
};

/* [http]: the local web view and metrics; off when the section is absent. */
struct ef_http {
    bool enabled; /* [http] has a listen address */
    struct ef_listen listen;
    char password_file[EF_STR_MAX]; /* "" when none: no authentication */
};

struct ef_gateway_cfg {
    char id[EF_NAME_MAX + 1];
    char state_dir[EF_STR_MAX]; /* default $STATE_DIRECTORY, else /var/lib/edgeferry */
    int log_level;              /* enum ef_log_level value, default info */
    int stats_interval_s;       /* extension; 0 disables, default 60 */
    enum ef_clock_unsynced clock_unsynced; /* default auto */
};

struct ef_config {
    char path[EF_STR_MAX]; /* the file it was loaded from */
    struct ef_gateway_cfg gateway;
    struct ef_mqtt mqtt;
    struct ef_queue_cfg queue;
    struct ef_homeassistant homeassistant;
    struct ef_sparkplug_cfg sparkplug;
    struct ef_http http;
    struct ef_bus *buses;
    size_t nbuses;
    struct ef_device *devices; /* templates are resolved away */
    size_t ndevices;
    struct ef_serial *serials;
    size_t nserials;
};

struct ef_config_error {
    int line;          /* 0 for whole-file problems */
    char message[256];
};

struct ef_config_errors {
    char file[EF_STR_MAX];
    struct ef_config_error *items; /* in line order */
    size_t count;
    size_t cap; /* allocated items */
};

/* Loads and validates PATH. Returns 0 and sets *out, or -1 and sets *errs
 * (never both). The environment variable STATE_DIRECTORY is read for the
 * state_dir default. */
int ef_config_load(const char *path, struct ef_config **out, struct ef_config_errors **errs);

/* The same from an in-memory text; NAME is used in messages (tests, fuzzing). */
int ef_config_load_string(const char *name, const char *text, struct ef_config **out,
                          struct ef_config_errors **errs);

void ef_config_free(struct ef_config *cfg);
void ef_config_errors_free(struct ef_config_errors *errs);

/* Writes every error as "FILE:LINE: message\n" to the stream. */
void ef_config_errors_print(const struct ef_config_errors *errs, FILE *stream);

/* Names for printing (--check, logs). */
const char *ef_bus_type_name(enum ef_bus_type t);
const char *ef_reg_kind_name(enum ef_reg_kind k);
const char *ef_value_type_name(enum ef_value_type t);
const char *ef_order_name(enum ef_order o);
const char *ef_serial_format_name(enum ef_serial_format f);

/* Poll period of point P of device D, in device polls (1 when the point has
 * no interval_ms of its own). */
unsigned ef_point_every(const struct ef_device *d, const struct ef_point *p);

/* The distinct poll plans of device D: a poll n (0, 1, 2, ...) reads the
 * points whose every divides n, so the plan of poll n depends only on
 * m(n) = lcm of the periods that divide n. Writes the distinct m values in
 * ascending order into OUT (at most CAP of them; poll 0's, the lcm of all
 * periods, is the last) and returns how many there are, or CAP + 1 when
 * there are more (or an lcm passes 2^62 polls). */
size_t ef_device_phases(const struct ef_device *d, uint64_t *out, size_t cap);

/* Looks up a point of a serial sensor by the name a parser reported;
 * NULL when not configured. */
const struct ef_point *ef_serial_point(const struct ef_serial *s, const char *name);

#endif
