#include "gateway/core/alarm.h"

int ef_alarm_eval(const struct ef_point *p, struct ef_alarm_state *st, double v,
                  enum ef_alarm_event out[2])
{
    int n = 0;
    if (v != v)
        return 0;
    double h = p->alarm_hysteresis > 0 ? p->alarm_hysteresis : 0;
    /* Clearing first, so a jump across both limits reports the old alarm
     * ending before the new one starting. */
    if (p->has_alarm_high && st->high_active && v <= p->alarm_high - h) {
        st->high_active = false;
        out[n++] = EF_ALARM_HIGH_CLEARED;
    }
    if (p->has_alarm_low && st->low_active && v >= p->alarm_low + h) {
        st->low_active = false;
        out[n++] = EF_ALARM_LOW_CLEARED;
    }
    if (p->has_alarm_high && !st->high_active && v > p->alarm_high && n < 2) {
        st->high_active = true;
        out[n++] = EF_ALARM_HIGH_ACTIVE;
    }
    if (p->has_alarm_low && !st->low_active && v < p->alarm_low && n < 2) {
        st->low_active = true;
        out[n++] = EF_ALARM_LOW_ACTIVE;
    }
    return n;
}

int ef_offline_eval(struct ef_offline_state *st, int offline_after, bool answered)
{
    if (answered) {
        st->failed = 0;
        if (st->offline) {
            st->offline = false;
            return -1;
        }
        return 0;
    }
    if (st->failed < offline_after)
        st->failed++;
    if (!st->offline && st->failed >= offline_after) {
        st->offline = true;
        return 1;
    }
    return 0;
}
