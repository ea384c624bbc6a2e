#include "drivers/source.h"

#include <math.h>

#include "common/round.h"

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
    case EF_VAL_STRING:
        return NAN;
    }
    return 0.0;
}

/* raw * scale, computed as raw / k when scale is 1/k for an integer k
 * (0.1, 0.01, 0.001...): 2301 * 0.1 gives 230.10000000000002, while
 * 2301 / 10 gives the double nearest to 230.1, which prints as "230.1". */
double ef_value_scale(double raw, double scale, double offset)
{
    double v = raw * scale;
    if (scale != 0 && fabs(scale) < 1) {
        double inv = 1.0 / scale;
        double k = ef_round(inv);
        if (k != 0 && fabs(inv - k) <= 1e-9 * fabs(k))
            v = raw / k;
    }
    return v + offset;
}
