/* Alarm state machines, table-driven: a sequence of values and the events
 * each one must cause. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gateway/core/alarm.h"

static int failures;

#define NONE -1
struct step {
    double v;
    int ev[2]; /* expected events, NONE-terminated */
};

static const char *ev_name(int e)
{
    static const char *n[] = {"high-active", "high-cleared", "low-active", "low-cleared"};
    return e < 0 ? "none" : n[e];
}

static void run(const char *name, struct ef_point p, const struct step *steps, size_t n)
{
    struct ef_alarm_state st = {0};
    for (size_t i = 0; i < n; i++) {
        enum ef_alarm_event out[2];
        int k = ef_alarm_eval(&p, &st, steps[i].v, out);
        int want = (steps[i].ev[0] != NONE) + (steps[i].ev[1] != NONE);
        bool ok = k == want;
        for (int j = 0; ok && j < k; j++)
            ok = (int)out[j] == steps[i].ev[j];
        if (!ok) {
            failures++;
            fprintf(stderr, "%s step %zu (value %g): got %d event(s) [%s %s], want [%s %s]\n",
                    name, i, steps[i].v, k, k > 0 ? ev_name((int)out[0]) : "",
                    k > 1 ? ev_name((int)out[1]) : "", ev_name(steps[i].ev[0]),
                    ev_name(steps[i].ev[1]));
        }
    }
}

static struct ef_point limits(bool hi, double h, bool lo, double l, double hyst)
{
    struct ef_point p;
    memset(&p, 0, sizeof p);
    p.has_alarm_high = hi;
    p.alarm_high = h;
    p.has_alarm_low = lo;
    p.alarm_low = l;
    p.alarm_hysteresis = hyst;
    return p;
}

#define RUN(name, p, ...)                                                                      \
    do {                                                                                       \
        const struct step s_[] = {__VA_ARGS__};                                                \
        run(name, p, s_, sizeof s_ / sizeof s_[0]);                                            \
    } while (0)

int main(void)
{
    enum { HA = EF_ALARM_HIGH_ACTIVE, HC = EF_ALARM_HIGH_CLEARED, LA = EF_ALARM_LOW_ACTIVE,
           LC = EF_ALARM_LOW_CLEARED };
    RUN("high limit is exclusive, clears at the limit without hysteresis",
        limits(true, 250, false, 0, 0), {240, {NONE, NONE}}, {250, {NONE, NONE}},
        {250.1, {HA, NONE}}, {260, {NONE, NONE}}, {250, {HC, NONE}}, {249, {NONE, NONE}});
    RUN("hysteresis: no chatter around the high limit", limits(true, 250, false, 0, 2),
        {251, {HA, NONE}}, {249.5, {NONE, NONE}}, {250.5, {NONE, NONE}}, {248.5, {NONE, NONE}},
        {248, {HC, NONE}}, {249.9, {NONE, NONE}}, {250.01, {HA, NONE}});
    RUN("low limit with hysteresis", limits(false, 0, true, 200, 5), {210, {NONE, NONE}},
        {199, {LA, NONE}}, {204, {NONE, NONE}}, {205, {LC, NONE}}, {200, {NONE, NONE}},
        {150, {LA, NONE}});
    RUN("a jump across both limits clears one and raises the other",
        limits(true, 250, true, 200, 0), {300, {HA, NONE}}, {100, {HC, LA}},
        {300, {LC, HA}}, {225, {HC, NONE}});
    RUN("NaN changes nothing", limits(true, 1, true, -1, 0), {2, {HA, NONE}},
        {NAN, {NONE, NONE}}, {0, {HC, NONE}});
    RUN("no limits, no alarms", limits(false, 0, false, 0, 0), {1e300, {NONE, NONE}},
        {-1e300, {NONE, NONE}});

    /* Offline: after N consecutive failures, back at the first answer. */
    struct ef_offline_state st = {0};
    const struct {
        bool answered;
        int want;
    } seq[] = {{false, 0}, {false, 0}, {true, 0}, {false, 0}, {false, 0}, {false, 1},
               {false, 0}, {false, 0}, {true, -1}, {true, 0}, {false, 0}};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
        int got = ef_offline_eval(&st, 3, seq[i].answered);
        if (got != seq[i].want) {
            failures++;
            fprintf(stderr, "offline step %zu: got %d want %d\n", i, got, seq[i].want);
        }
    }
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
