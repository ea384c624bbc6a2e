#include "drivers/source.h"

double ef_value_as_double(const struct ef_value *v)
{
    switch (v->kind) {
    case EF_VAL_BOOL:
        return v->as.b ? 1.0 : 0.0;
    case EF_VAL_INT:
        return (double)v->as.i;
    case EF_VAL_UINT:
        return (double)v->as.u;
    case EF_VAL_FLOAT:
        return (double)v->as.f;
    case EF_VAL_DOUBLE:
        return v->as.d;
    }
    return 0.0;
}
