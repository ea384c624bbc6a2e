/* Rounding to the nearest integer without libm: the gateway needs no other
 * libm function, and not mapping libm saves about 0.3 MiB of resident
 * memory on the board. Halfway cases round away from zero (like round());
 * |x| >= 2^52 is already an integer and is returned as is. */
#ifndef EF_ROUND_H
#define EF_ROUND_H

#include <stdint.h>

static inline double ef_round(double x)
{
    if (!(x > -4503599627370496.0 && x < 4503599627370496.0))
        return x; /* integral already, or NaN */
    double t = (double)(int64_t)x; /* truncates toward zero, exactly */
    double frac = x - t;           /* exact for |x| < 2^52 */
    if (frac >= 0.5)
        t += 1.0;
    else if (frac <= -0.5)
        t -= 1.0;
    return t;
}

#endif
