/* Poll plan invariants over many random devices (a deterministic PRNG, so a
 * failure reproduces): every point is served by exactly one read of its own
 * kind that covers all its registers, reads stay within the limits unless
 * an overlapping group forces more, reads never overlap, and all of this
 * still holds after random splits. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "drivers/modbus/plan.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static void random_point(struct ef_point *p)
{
    static const enum ef_value_type types[] = {EF_T_INT16, EF_T_UINT16, EF_T_INT32,
                                               EF_T_UINT32, EF_T_INT64, EF_T_FLOAT32,
                                               EF_T_FLOAT64};
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "p");
    p->has_register = true;
    p->kind = (enum ef_reg_kind)rnd(4);
    p->address = (uint16_t)(rnd(8) == 0 ? 65531 + rnd(5) : rnd(rnd(2) ? 140 : 3000));
    p->bit = -1;
    p->type = EF_T_BOOL;
    if (p->kind == EF_REG_HOLDING || p->kind == EF_REG_INPUT) {
        p->type = types[rnd(7)];
        if (rnd(5) == 0) {
            p->type = EF_T_BOOL;
            p->bit = (int)rnd(16);
        }
        if ((uint32_t)p->address + ef_point_width(p) > 65536)
            p->address = (uint16_t)(65536 - ef_point_width(p));
    }
}

static void check_invariants(const struct ef_plan *plan, const struct ef_point *pts, size_t n)
{
    unsigned *served = calloc(n, sizeof *served);
    for (size_t i = 0; i < plan->nreads; i++) {
        const struct ef_plan_read *r = &plan->reads[i];
        bool bits = r->kind == EF_REG_COIL || r->kind == EF_REG_DISCRETE;
        CHECK(r->count >= 1);
        CHECK((uint32_t)r->start + r->count <= 65536);
        bool single_group = true;
        uint32_t end = 0;
        for (size_t k = r->first; k < r->first + r->n; k++) {
            const struct ef_point *p = &pts[plan->order[k]];
            served[plan->order[k]]++;
            CHECK(p->kind == r->kind);
            CHECK(p->address >= r->start);
            CHECK((uint32_t)p->address + ef_point_width(p) <= (uint32_t)r->start + r->count);
            if (k > r->first && p->address >= end)
                single_group = false;
            if ((uint32_t)p->address + ef_point_width(p) > end)
                end = (uint32_t)p->address + ef_point_width(p);
        }
        if (!single_group)
            CHECK(r->count <= (bits ? EF_PLAN_MAX_BITS : EF_PLAN_MAX_REGS));
        for (size_t j = i + 1; j < plan->nreads; j++) {
            const struct ef_plan_read *o = &plan->reads[j];
            if (o->kind == r->kind)
                CHECK(o->start >= (uint32_t)r->start + r->count ||
                      r->start >= (uint32_t)o->start + o->count);
        }
    }
    for (size_t i = 0; i < n; i++)
        CHECK_EQ_U(served[i], 1);
    free(served);
}

int main(void)
{
    struct ef_point pts[200];
    for (int round = 0; round < 3000; round++) {
        size_t n = 1 + rnd(200);
        for (size_t i = 0; i < n; i++)
            random_point(&pts[i]);
        struct ef_bus bus;
        memset(&bus, 0, sizeof bus);
        bus.max_gap = (int)rnd(20);
        bus.max_regs = 1 + (int)rnd(140);
        struct ef_plan plan;
        CHECK(ef_plan_build(&plan, pts, n, &bus) == 0);
        check_invariants(&plan, pts, n);
        for (int s = 0; s < 10 && plan.nreads; s++)
            CHECK(ef_plan_split(&plan, rnd((unsigned)plan.nreads)) >= 0);
        check_invariants(&plan, pts, n);
        ef_plan_free(&plan);
        if (check_failures) {
            fprintf(stderr, "round %d failed\n", round);
            break;
        }
    }
    CHECK_DONE();
}
