/* The poll plans of one device whose points have their own intervals.
 *
 * A point polled every k device polls (ef_point_every) is due in poll n
 * (0, 1, 2, ...) when k divides n, so poll 0 reads everything. The points
 * due together are coalesced together, and only they: each distinct set of
 * due points gets its own plan (plan.h), computed once when the bus starts.
 * The sets are told apart by m(n), the lcm of the periods dividing n
 * (ef_device_phases in config.h): at most EF_PHASES_MAX of them, a bound
 * the configuration enforces. A device without intervals has one plan.
 *
 * Each plan learns its own holes (ef_plan_split): a hole met by one plan
 * is met once more by each other plan that reads across it.
 *
 * Ownership: borrows the device (its points must outlive the set) and owns
 * its plans, released by ef_plan_set_free(). */
#ifndef EF_MODBUS_PLAN_SET_H
#define EF_MODBUS_PLAN_SET_H

#include <stdint.h>
#include <stdio.h>

#include "drivers/modbus/plan.h"

struct ef_plan_set {
    struct ef_plan *plans;
    uint64_t *every; /* plans[i] serves the polls n with m(n) == every[i] */
    uint64_t *due;   /* plans[i]'s bit mask over periods: the periods that are due */
    size_t nplans;
    uint64_t periods[EF_PHASES_MAX]; /* the distinct periods of the points */
    size_t nperiods;
};

/* Builds the plans of DEV (limits: the device's max_regs and max_gap, else
 * BUS's). Returns 0, or -1 when out of memory or when the intervals need
 * more than EF_PHASES_MAX plans (never for a loaded configuration); the set
 * is then empty. */
int ef_plan_set_build(struct ef_plan_set *set, const struct ef_device *dev,
                      const struct ef_bus *bus);

void ef_plan_set_free(struct ef_plan_set *set);

/* The plan of poll N, or NULL when no point is due in it. */
struct ef_plan *ef_plan_set_for(struct ef_plan_set *set, uint64_t n);

/* Describes every plan for --check, e.g.
 *     plan for polls 0, 6, 12, ... (every 6th): 2 requests
 *     plan for polls 2, 4, 8, ... (every 2nd but not every 3rd): 1 request
 * each followed by its reads (ef_plan_print). Returns the requests of the
 * plan of poll 0. */
size_t ef_plan_set_print(const struct ef_plan_set *set, FILE *out);

#endif
