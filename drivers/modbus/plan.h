/* The poll plan of one Modbus device: which reads one poll issues.
 *
 * Computed once from the device's points and limits, pure (no I/O).
 * Points are grouped by register kind, sorted by address and merged into as
 * few reads as max_gap and max_regs allow. Points that overlap (a
 * bit and the whole register at the same address, a uint16 inside a float32)
 * always share a read.
 *
 * Limits (the device's max_regs and max_gap, by default its bus's): a
 * register read (input/holding) spans at most min(max_regs, 125)
 * registers and leaves at most max_gap unused registers between points. A bit
 * read (coil/discrete) counts the same bytes on the wire, so both limits are
 * taken ×16 in bits: at most min(16 * max_regs, 2000) bits per read and at
 * most 16 * max_gap unused bits (with the defaults: 2000 and 160).
 *
 * Holes: when a device answers a read with "illegal data address",
 * ef_plan_split() cuts that read in two at a point boundary; the plan keeps
 * the split for the rest of its life, so the failing read is not repeated on
 * every poll. A read that serves a single group of overlapping points cannot
 * be split; the caller marks it as a hole and it is no longer issued.
 *
 * Ownership: the plan borrows the device's points array (it must outlive the
 * plan) and owns its own arrays, released by ef_plan_free(). */
#ifndef EF_MODBUS_PLAN_H
#define EF_MODBUS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"

#define EF_PLAN_MAX_REGS 125  /* protocol limit of one register read */
#define EF_PLAN_MAX_BITS 2000 /* protocol limit of one coil/discrete read */

struct ef_plan_read {
    enum ef_reg_kind kind;
    uint16_t start; /* first address read */
    uint16_t count; /* registers, or bits for coils and discrete inputs */
    size_t first;   /* this read serves plan->order[first .. first + n - 1] */
    size_t n;
    bool hole;      /* the device refuses this read: skipped from now on */
};

struct ef_plan {
    const struct ef_point *points; /* borrowed: the device's points */
    size_t npoints;
    size_t *order; /* indices into points, sorted by kind then address */
    size_t norder; /* points with a register (all, for a Modbus device) */
    struct ef_plan_read *reads;
    size_t nreads;
    size_t cap;
    unsigned max_units[4]; /* per enum ef_reg_kind: register/bit limit */
    unsigned max_gap[4];
};


/* Builds the plan of POINTS (NPOINTS of them) under BUS's limits.
 * Returns 0, or -1 when out of memory (the plan is then empty). */
int ef_plan_build(struct ef_plan *plan, const struct ef_point *points, size_t npoints,
                  const struct ef_bus *bus);

/* Same, under explicit limits (a device's max_regs and max_gap), for the
 * points whose KEEP flag is set (KEEP NULL: all of them). */
int ef_plan_build_with(struct ef_plan *plan, const struct ef_point *points, size_t npoints,
                       int max_regs, int max_gap, const bool *keep);

/* Same, for every point of a device of a loaded configuration, under the
 * device's max_regs and max_gap (which default to the bus's). */
int ef_plan_build_device(struct ef_plan *plan, const struct ef_device *dev,
                         const struct ef_bus *bus);

void ef_plan_free(struct ef_plan *plan);

/* Splits read I into two reads (I and I+1) at the point-group boundary
 * nearest the middle of its points. Returns 1 when split, 0 when the read
 * serves a single group of overlapping points (nothing to split), -1 when out
 * of memory (the plan is unchanged). */
int ef_plan_split(struct ef_plan *plan, size_t i);

/* Reads one poll issues (reads marked as holes are not counted). */
size_t ef_plan_requests(const struct ef_plan *plan);

/* Offset of point ORDER_INDEX's first register (or bit) inside read R. */
static inline unsigned ef_plan_offset(const struct ef_plan *plan, const struct ef_plan_read *r,
                                      size_t k)
{
    return (unsigned)(plan->points[plan->order[k]].address - r->start);
}

/* Describes the plan for --check, one line per read, e.g.
 *     read holding 0..9 (10 regs): voltage current power
 * (four spaces of indent; holes are listed as "hole kind a..b: names"). */
void ef_plan_print(const struct ef_plan *plan, FILE *out);

/* Builds the plan of DEV on BUS, prints it as above and frees it.
 * Returns the number of requests per poll, or -1 when out of memory. */
long ef_plan_print_device(const struct ef_device *dev, const struct ef_bus *bus, FILE *out);

#endif
