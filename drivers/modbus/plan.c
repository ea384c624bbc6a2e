/* Poll plan: grouping, sorting and merging of a device's points into reads. */
#include "drivers/modbus/plan.h"

#include <stdlib.h>
#include <string.h>

static bool is_bit_kind(enum ef_reg_kind k)
{
    return k == EF_REG_COIL || k == EF_REG_DISCRETE;
}

/* End (exclusive) of a point, in registers or bits; 32-bit to avoid the
 * uint16_t wrap at address 65535. */
static uint32_t point_end(const struct ef_point *p)
{
    return (uint32_t)p->address + ef_point_width(p);
}

static bool order_less(const struct ef_point *pts, size_t a, size_t b)
{
    if (pts[a].kind != pts[b].kind)
        return pts[a].kind < pts[b].kind;
    if (pts[a].address != pts[b].address)
        return pts[a].address < pts[b].address;
    return a < b; /* stable: file order among points at the same address */
}

/* Bottom-up merge sort of ORD (N indices) using TMP (N more): n log n
 * whatever the file order, where an insertion sort took minutes for a
 * device of 200,000 points listed from the top address down. Stable
 * anyway, through order_less's tie-break. */
static void sort_order(const struct ef_point *pts, size_t *ord, size_t *tmp, size_t n)
{
    size_t *src = ord, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                dst[k++] = order_less(pts, src[b], src[a]) ? src[b++] : src[a++];
            while (a < mid)
                dst[k++] = src[a++];
            while (b < hi)
                dst[k++] = src[b++];
        }
        size_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != ord)
        memcpy(ord, src, n * sizeof *ord);
}

static int push_read(struct ef_plan *plan, const struct ef_plan_read *r)
{
    if (plan->nreads == plan->cap) {
        size_t cap = plan->cap ? plan->cap * 2 : 8;
        struct ef_plan_read *nr = realloc(plan->reads, cap * sizeof *nr);
        if (!nr)
            return -1;
        plan->reads = nr;
        plan->cap = cap;
    }
    plan->reads[plan->nreads++] = *r;
    return 0;
}

/* Recomputes start and count of a read from the points it serves. */
static void read_span(const struct ef_plan *plan, struct ef_plan_read *r)
{
    const struct ef_point *first = &plan->points[plan->order[r->first]];
    uint32_t end = 0;
    for (size_t k = r->first; k < r->first + r->n; k++) {
        uint32_t e = point_end(&plan->points[plan->order[k]]);
        if (e > end)
            end = e;
    }
    r->kind = first->kind;
    r->start = first->address;
    r->count = (uint16_t)(end - first->address);
}

static void set_limits(struct ef_plan *plan, int max_regs, int max_gap)
{
    unsigned regs = max_regs > 0 ? (unsigned)max_regs : EF_PLAN_MAX_REGS;
    unsigned gap = max_gap > 0 ? (unsigned)max_gap : 0;
    unsigned bits = regs * 16;
    if (regs > EF_PLAN_MAX_REGS)
        regs = EF_PLAN_MAX_REGS;
    if (bits > EF_PLAN_MAX_BITS)
        bits = EF_PLAN_MAX_BITS;
    for (int k = 0; k < 4; k++) {
        bool b = is_bit_kind((enum ef_reg_kind)k);
        plan->max_units[k] = b ? bits : regs;
        plan->max_gap[k] = b ? gap * 16 : gap;
    }
}

/* Merges sorted points into reads. A "group" is a run of points that
 * overlap one another; a group is never torn apart, so a read may exceed the
 * limits only when it serves a single group that is itself that wide. */
static int merge(struct ef_plan *plan)
{
    struct ef_plan_read cur = {0};
    uint32_t end = 0;       /* end of the current read */
    size_t gfirst = 0;      /* first point of the current read's last group */
    uint32_t gstart = 0;    /* its address */
    uint32_t pre_end = 0;   /* end of the read before that group */
    bool open = false;
    for (size_t k = 0; k < plan->norder; k++) {
        const struct ef_point *p = &plan->points[plan->order[k]];
        uint32_t e = point_end(p);
        uint32_t new_end = e > end ? e : end;
        unsigned max = plan->max_units[p->kind];
        if (open && p->kind == cur.kind && p->address < end) { /* joins the last group */
            if (new_end - cur.start > max && gfirst != cur.first) {
                /* Too wide with the earlier groups: they go alone. */
                struct ef_plan_read done = cur;
                done.n = gfirst - cur.first;
                done.count = (uint16_t)(pre_end - cur.start);
                if (push_read(plan, &done) < 0)
                    return -1;
                cur.first = gfirst;
                cur.start = (uint16_t)gstart;
                cur.n = k - gfirst;
            }
            cur.n++;
            end = new_end;
            continue;
        }
        if (open && p->kind == cur.kind && p->address - end <= plan->max_gap[p->kind] &&
            new_end - cur.start <= max) { /* a new group in the same read */
            pre_end = end;
            gfirst = k;
            gstart = p->address;
            cur.n++;
            end = new_end;
            continue;
        }
        if (open) {
            cur.count = (uint16_t)(end - cur.start);
            if (push_read(plan, &cur) < 0)
                return -1;
        }
        cur = (struct ef_plan_read){.kind = p->kind, .start = p->address, .first = k, .n = 1};
        end = e;
        gfirst = k;
        gstart = p->address;
        open = true;
    }
    if (open) {
        cur.count = (uint16_t)(end - cur.start);
        if (push_read(plan, &cur) < 0)
            return -1;
    }
    return 0;
}

int ef_plan_build_with(struct ef_plan *plan, const struct ef_point *points, size_t npoints,
                       int max_regs, int max_gap, const bool *keep)
{
    memset(plan, 0, sizeof *plan);
    plan->points = points;
    plan->npoints = npoints;
    set_limits(plan, max_regs, max_gap);
    if (npoints == 0)
        return 0;
    plan->order = malloc(npoints * sizeof *plan->order);
    size_t *tmp = malloc(npoints * sizeof *tmp);
    if (!plan->order || !tmp) {
        free(tmp);
        ef_plan_free(plan);
        plan->points = points;
        return -1;
    }
    for (size_t i = 0; i < npoints; i++)
        if (points[i].has_register && (!keep || keep[i]))
            plan->order[plan->norder++] = i;
    sort_order(points, plan->order, tmp, plan->norder);
    free(tmp);
    if (merge(plan) < 0) {
        ef_plan_free(plan);
        plan->points = points;
        return -1;
    }
    return 0;
}

int ef_plan_build(struct ef_plan *plan, const struct ef_point *points, size_t npoints,
                  const struct ef_bus *bus)
{
    return ef_plan_build_with(plan, points, npoints, bus->max_regs, bus->max_gap, NULL);
}

int ef_plan_build_device(struct ef_plan *plan, const struct ef_device *dev,
                         const struct ef_bus *bus)
{
    /* A loaded device has its limits resolved (its own, its template's or
     * the bus's); a device built by hand without them takes the bus's. */
    bool own = dev->max_regs > 0;
    return ef_plan_build_with(plan, dev->points, dev->npoints, own ? dev->max_regs : bus->max_regs,
                              own ? dev->max_gap : bus->max_gap, NULL);
}

void ef_plan_free(struct ef_plan *plan)
{
    free(plan->order);
    free(plan->reads);
    memset(plan, 0, sizeof *plan);
}

int ef_plan_split(struct ef_plan *plan, size_t i)
{
    struct ef_plan_read *r = &plan->reads[i];
    /* Candidate cut positions: before a point that starts at or after the
     * end of everything before it (so no overlapping group is torn apart). */
    size_t best = 0;
    size_t mid = r->n / 2;
    uint32_t end = point_end(&plan->points[plan->order[r->first]]);
    for (size_t j = 1; j < r->n; j++) {
        const struct ef_point *p = &plan->points[plan->order[r->first + j]];
        if (p->address >= end) {
            size_t dist = j > mid ? j - mid : mid - j;
            size_t bdist = best > mid ? best - mid : mid - best;
            if (best == 0 || dist < bdist)
                best = j;
        }
        if (point_end(p) > end)
            end = point_end(p);
    }
    if (best == 0)
        return 0;
    struct ef_plan_read second = {.first = r->first + best, .n = r->n - best};
    if (push_read(plan, &second) < 0) /* may move plan->reads */
        return -1;
    r = &plan->reads[i];
    memmove(&plan->reads[i + 2], &plan->reads[i + 1],
            (plan->nreads - i - 2) * sizeof *plan->reads);
    plan->reads[i + 1] = second;
    r->n = best;
    read_span(plan, r);
    read_span(plan, &plan->reads[i + 1]);
    return 1;
}

size_t ef_plan_requests(const struct ef_plan *plan)
{
    size_t n = 0;
    for (size_t i = 0; i < plan->nreads; i++)
        if (!plan->reads[i].hole)
            n++;
    return n;
}

void ef_plan_print(const struct ef_plan *plan, FILE *out)
{
    for (size_t i = 0; i < plan->nreads; i++) {
        const struct ef_plan_read *r = &plan->reads[i];
        bool bits = is_bit_kind(r->kind);
        fprintf(out, "    %s %s %u..%u (%u %s%s):", r->hole ? "hole" : "read",
                ef_reg_kind_name(r->kind), (unsigned)r->start, (unsigned)r->start + r->count - 1,
                (unsigned)r->count, bits ? "bit" : "reg", r->count == 1 ? "" : "s");
        for (size_t k = r->first; k < r->first + r->n; k++)
            fprintf(out, " %s", plan->points[plan->order[k]].name);
        fputc('\n', out);
    }
}

long ef_plan_print_device(const struct ef_device *dev, const struct ef_bus *bus, FILE *out)
{
    struct ef_plan plan;
    if (ef_plan_build_device(&plan, dev, bus) < 0)
        return -1;
    ef_plan_print(&plan, out);
    long n = (long)ef_plan_requests(&plan);
    ef_plan_free(&plan);
    return n;
}
