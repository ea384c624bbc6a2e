/* Small lookups over a loaded configuration (names for printing, widths). */
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
    default:
        return 1;
    }
}

const struct ef_point *ef_serial_point(const struct ef_serial *s, const char *name)
{
    for (size_t i = 0; i < s->npoints; i++)
        if (strcmp(s->points[i].name, name) == 0)
            return &s->points[i];
    return NULL;
}
