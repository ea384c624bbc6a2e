/* Small lookups over a loaded configuration (names for printing, widths). */
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "config/config_keys.h"

static const char *enum_name(const struct ef_enum_name *names, int value)
{
    for (; names->name; names++)
        if (names->value == value)
            return names->name;
    return "?";
}

const char *ef_bus_type_name(enum ef_bus_type t)
{
    return enum_name(ef_bus_type_names, (int)t);
}

const char *ef_reg_kind_name(enum ef_reg_kind k)
{
    static const struct ef_enum_name names[] = {{"coil", EF_REG_COIL},
                                                {"discrete", EF_REG_DISCRETE},
                                                {"input", EF_REG_INPUT},
                                                {"holding", EF_REG_HOLDING},
                                                {NULL, 0}};
    return enum_name(names, (int)k);
}

const char *ef_value_type_name(enum ef_value_type t)
{
    return enum_name(ef_value_type_names, (int)t);
}

const char *ef_order_name(enum ef_order o)
{
    return enum_name(ef_order_names, (int)o);
}

const char *ef_serial_format_name(enum ef_serial_format f)
{
    return enum_name(ef_format_names, (int)f);
}

unsigned ef_point_width(const struct ef_point *p)
{
    if (p->has_register && (p->kind == EF_REG_COIL || p->kind == EF_REG_DISCRETE))
        return 1;
    switch (p->type) {
    case EF_T_INT32:
    case EF_T_UINT32:
    case EF_T_FLOAT32:
        return 2;
    case EF_T_INT64:
    case EF_T_UINT64:
    case EF_T_FLOAT64:
        return 4;
    case EF_T_STRING:
        return (unsigned)p->length;
    default:
        return 1;
    }
}

unsigned ef_point_every(const struct ef_device *d, const struct ef_point *p)
{
    if (p->interval_ms <= 0 || d->interval_ms <= 0 || p->interval_ms <= d->interval_ms)
        return 1;
    return (unsigned)(p->interval_ms / d->interval_ms);
}

#define PHASE_LIMIT (UINT64_C(1) << 62)

/* lcm(a, b), or 0 past PHASE_LIMIT. */
static uint64_t lcm_capped(uint64_t a, uint64_t b)
{
    uint64_t x = a, y = b;
    while (y) {
        uint64_t t = x % y;
        x = y;
        y = t;
    }
    uint64_t q = a / x;
    return q > PHASE_LIMIT / b ? 0 : q * b;
}

static bool set_has(const uint64_t *set, size_t n, uint64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == v)
            return true;
    return false;
}

size_t ef_device_phases(const struct ef_device *d, uint64_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < d->npoints; i++) {
        uint64_t k = ef_point_every(d, &d->points[i]);
        /* OUT is closed under lcm: a K already in it is the lcm of periods
         * seen before, and brings nothing new. */
        if (set_has(out, n, k))
            continue;
        size_t n0 = n; /* new values go after n0: the loop sees the old set */
        for (size_t j = 0; j < n0; j++) {
            uint64_t m = lcm_capped(out[j], k);
            if (m == 0)
                return cap + 1;
            if (!set_has(out, n, m)) {
                if (n == cap)
                    return cap + 1;
                out[n++] = m;
            }
        }
        if (set_has(out, n, k)) /* lcm(k, m) == k for an m dividing k */
            continue;
        if (n == cap)
            return cap + 1;
        out[n++] = k;
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: n <= cap, small */
        for (size_t j = i; j > 0 && out[j - 1] > out[j]; j--) {
            uint64_t t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

const struct ef_point *ef_serial_point(const struct ef_serial *s, const char *name)
{
    for (size_t i = 0; i < s->npoints; i++)
        if (strcmp(s->points[i].name, name) == 0)
            return &s->points[i];
    return NULL;
}
