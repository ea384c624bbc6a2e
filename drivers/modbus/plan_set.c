/* One coalesced plan per distinct set of due points. */
#include "drivers/modbus/plan_set.h"

#include <stdlib.h>
#include <string.h>

static uint64_t due_mask(const struct ef_plan_set *set, uint64_t n)
{
    uint64_t mask = 0;
    for (size_t j = 0; j < set->nperiods; j++)
        if (n % set->periods[j] == 0)
            mask |= UINT64_C(1) << j;
    return mask;
}

static void collect_periods(struct ef_plan_set *set, const struct ef_device *dev)
{
    for (size_t i = 0; i < dev->npoints; i++) {
        uint64_t k = ef_point_every(dev, &dev->points[i]);
        bool known = false;
        for (size_t j = 0; j < set->nperiods && !known; j++)
            known = set->periods[j] == k;
        if (!known && set->nperiods < EF_PHASES_MAX)
            set->periods[set->nperiods++] = k;
    }
}

int ef_plan_set_build(struct ef_plan_set *set, const struct ef_device *dev,
                      const struct ef_bus *bus)
{
    memset(set, 0, sizeof *set);
    uint64_t phases[EF_PHASES_MAX];
    size_t n = ef_device_phases(dev, phases, EF_PHASES_MAX);
    if (n > EF_PHASES_MAX)
        return -1;
    collect_periods(set, dev); /* at most n of them: each period is a phase */
    set->plans = calloc(n ? n : 1, sizeof *set->plans);
    set->every = calloc(n ? n : 1, sizeof *set->every);
    set->due = calloc(n ? n : 1, sizeof *set->due);
    bool *keep = calloc(dev->npoints ? dev->npoints : 1, sizeof *keep);
    int rc = set->plans && set->every && set->due && keep ? 0 : -1;
    bool own = dev->max_regs > 0;
    int regs = own ? dev->max_regs : bus->max_regs, gap = own ? dev->max_gap : bus->max_gap;
    /* Poll 0's plan (everything) first: the one --check shows first. */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint64_t m = phases[n - 1 - i];
        for (size_t p = 0; p < dev->npoints; p++)
            keep[p] = m % ef_point_every(dev, &dev->points[p]) == 0;
        rc = ef_plan_build_with(&set->plans[i], dev->points, dev->npoints, regs, gap, keep);
        if (rc == 0) {
            set->every[i] = m;
            set->due[i] = due_mask(set, m);
            set->nplans++;
        }
    }
    free(keep);
    if (rc != 0)
        ef_plan_set_free(set);
    return rc;
}

void ef_plan_set_free(struct ef_plan_set *set)
{
    for (size_t i = 0; i < set->nplans; i++)
        ef_plan_free(&set->plans[i]);
    free(set->plans);
    free(set->every);
    free(set->due);
    memset(set, 0, sizeof *set);
}

struct ef_plan *ef_plan_set_for(struct ef_plan_set *set, uint64_t n)
{
    uint64_t mask = due_mask(set, n);
    for (size_t i = 0; mask && i < set->nplans; i++)
        if (set->due[i] == mask)
            return &set->plans[i];
    return NULL;
}

/* "polls 2, 4, 8, ... (multiples of 2, not of 3)": the first polls that use
 * plan I, found by walking the multiples of its m, then the rule. */
static void print_rounds(const struct ef_plan_set *set, size_t i, FILE *out)
{
    uint64_t m = set->every[i];
    fprintf(out, "    plan for polls ");
    int shown = 0;
    for (uint64_t n = i == 0 ? 0 : m; shown < 3 && n / m < 100000; n += m)
        if (due_mask(set, n) == set->due[i])
            fprintf(out, "%s%llu", shown++ ? ", " : "", (unsigned long long)n);
    fprintf(out, ", ... (");
    if (m > 1)
        fprintf(out, "multiples of %llu", (unsigned long long)m);
    const char *sep = m > 1 ? ", not of " : "not multiples of ";
    for (size_t j = 0; j < set->nperiods; j++) {
        uint64_t k = set->periods[j];
        bool implied = false; /* a multiple of another excluded period */
        for (size_t q = 0; q < set->nperiods && !implied; q++)
            implied = q != j && !(set->due[i] & (UINT64_C(1) << q)) &&
                      k % set->periods[q] == 0;
        if ((set->due[i] & (UINT64_C(1) << j)) || implied)
            continue;
        fprintf(out, "%s%llu", sep, (unsigned long long)k);
        sep = " or ";
    }
    size_t r = ef_plan_requests(&set->plans[i]);
    fprintf(out, "): %zu request%s for %zu point%s\n", r, r == 1 ? "" : "s",
            set->plans[i].norder, set->plans[i].norder == 1 ? "" : "s");
}

size_t ef_plan_set_print(const struct ef_plan_set *set, FILE *out)
{
    for (size_t i = 0; i < set->nplans; i++) {
        if (set->nplans > 1)
            print_rounds(set, i, out);
        ef_plan_print(&set->plans[i], out);
    }
    return set->nplans ? ef_plan_requests(&set->plans[0]) : 0;
}
