/* Alarm state machines: limits on a point's value, and a device's
 * communication (offline) state. Pure: no I/O, no clock, table-tested.
 *
 * Limits: with H = alarm_high, L = alarm_low, h = alarm_hysteresis:
 *   high becomes active when value > H, and clears when value <= H - h;
 *   low  becomes active when value < L, and clears when value >= L + h.
 * Between those thresholds the state holds, so a value wandering around a
 * limit raises "active" and "cleared" exactly once each. A value that is not
 * a number (NaN) changes nothing. */
#ifndef EF_ALARM_H
#define EF_ALARM_H

#include <stdbool.h>

#include "config/config.h"

struct ef_alarm_state {
    bool high_active;
    bool low_active;
};

enum ef_alarm_event {
    EF_ALARM_HIGH_ACTIVE,
    EF_ALARM_HIGH_CLEARED,
    EF_ALARM_LOW_ACTIVE,
    EF_ALARM_LOW_CLEARED,
};

/* Evaluates VALUE against P's limits, updates ST, and writes the events it
 * caused into OUT (at most 2: a jump from above the high limit to below the
 * low one clears the high alarm and raises the low one, in that order).
 * Returns the number of events. */
int ef_alarm_eval(const struct ef_point *p, struct ef_alarm_state *st, double value,
                  enum ef_alarm_event out[2]);

static inline bool ef_alarm_event_active(enum ef_alarm_event e)
{
    return e == EF_ALARM_HIGH_ACTIVE || e == EF_ALARM_LOW_ACTIVE;
}

static inline bool ef_alarm_event_high(enum ef_alarm_event e)
{
    return e == EF_ALARM_HIGH_ACTIVE || e == EF_ALARM_HIGH_CLEARED;
}

/* A device's communication state: offline after OFFLINE_AFTER consecutive
 * failed polls, back online at the first answered poll. */
struct ef_offline_state {
    int failed; /* consecutive failed polls */
    bool offline;
};

/* Returns +1 when the device just went offline, -1 when it just came back,
 * 0 otherwise. */
int ef_offline_eval(struct ef_offline_state *st, int offline_after, bool answered);

#endif
