/* The configuration described as data: one table of keys per section type.
 *
 * Each key names its value type (a parser), its default (as ini text, parsed
 * by the same parser, so defaults obey the same rules as user values), its
 * range, where the value goes (offsetof into the section's build struct) and
 * a one-line description. config_load.c applies a table generically; the
 * cross-key and cross-section rules that a table cannot express live in
 * config_check.c. */
#ifndef EF_CONFIG_KEYS_H
#define EF_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

struct ef_key;

/* Parses TEXT into FIELD; on error writes the reason into ERR and returns -1. */
typedef int (*ef_key_parse_fn)(const struct ef_key *k, const char *text, void *field, char *err,
                               size_t errlen);

struct ef_key_type {
    const char *name; /* for docs: "integer", "name", ... */
    ef_key_parse_fn parse;
};

struct ef_enum_name {
    const char *name;
    int value;
};

#define EF_KEY_REQUIRED 1u

struct ef_key {
    const char *name;
    const struct ef_key_type *type;
    size_t offset;   /* of the destination in the section's build struct */
    size_t size;     /* capacity of string destinations */
    const char *def; /* default as ini text; NULL: none, or computed (see doc) */
    unsigned flags;
    double min, max; /* numeric range, inclusive */
    const struct ef_enum_name *enums; /* NULL-terminated, for enum types */
    const char *doc;
};

/* Most keys one section type may have: the loader keeps one bit per key
 * in an unsigned (struct ef_item.bad_keys). */
#define EF_KEYS_MAX (8 * sizeof(unsigned))

struct ef_section_type {
    const char *prefix; /* "gateway", "bus", ... */
    bool named;         /* [prefix:NAME] */
    const struct ef_key *keys;
    size_t nkeys;
    const char *doc;
};

/* Build structs: the public struct plus what the loader needs before the
 * references are resolved. */
struct ef_device_build {
    struct ef_device d;
    char bus[EF_NAME_MAX + 1];
};

struct ef_template_build {
    int interval_ms;
    bool check_unit;
    int max_regs, max_gap; /* taken only when the template sets them */
    int write_single; /* enum ef_write_single; applies when the key is present */
};

struct ef_reg_ref {
    int kind; /* enum ef_reg_kind */
    unsigned address;
};

struct ef_point_build {
    struct ef_point p;
    struct ef_reg_ref reg;
};

struct ef_serial_build {
    struct ef_serial s;
    char fields[EF_STR_MAX];
    char query[EF_STR_MAX];
};

enum ef_section_kind {
    EF_SEC_GATEWAY,
    EF_SEC_MQTT,
    EF_SEC_QUEUE,
    EF_SEC_BUS,
    EF_SEC_DEVICE,
    EF_SEC_TEMPLATE,
    EF_SEC_POINT,
    EF_SEC_SERIAL,
    EF_SEC_HOMEASSISTANT,
    EF_SEC_SPARKPLUG,
    EF_SEC_HTTP,
    EF_SEC_COUNT
};

/* Indexed by enum ef_section_kind. */
extern const struct ef_section_type ef_section_types[EF_SEC_COUNT];

/* The key NAME of section type T, or NULL. */
const struct ef_key *ef_key_find(const struct ef_section_type *t, const char *name);

/* The [http] listen parser (config_http.c): fills a struct ef_listen. */
int ef_cv_parse_listen(const struct ef_key *k, const char *text, void *field, char *err,
                       size_t errlen);

/* Value names of the enums, shared with the name functions in config.h. */
extern const struct ef_enum_name ef_bus_type_names[];
extern const struct ef_enum_name ef_value_type_names[];
extern const struct ef_enum_name ef_order_names[];
extern const struct ef_enum_name ef_format_names[];

#endif
