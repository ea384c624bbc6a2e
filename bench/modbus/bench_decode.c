/* Decode cost per point reading: a 32-point device with every type and
 * order, bits and a scaled value (one holding read of 106 registers),
 * decoded from a register buffer many times through its poll plan, as the
 * bus does. Prints ns per point. JSON encoding is not included. */
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "drivers/modbus/decode.h"
#include "drivers/modbus/plan.h"

static struct ef_point mk(const char *name, unsigned addr, enum ef_value_type t,
                          enum ef_order o)
{
    struct ef_point p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", name);
    p.has_register = true;
    p.kind = EF_REG_HOLDING;
    p.address = (uint16_t)addr;
    p.type = t;
    p.order = o;
    p.bit = -1;
    p.scale = 1;
    return p;
}

int main(void)
{
    struct ef_point pts[64];
    size_t n = 0;
    pts[n++] = mk("id", 0, EF_T_UINT16, EF_ORDER_ABCD);
    pts[n++] = mk("counter", 1, EF_T_UINT16, EF_ORDER_ABCD);
    pts[n++] = mk("i16", 10, EF_T_INT16, EF_ORDER_ABCD);
    pts[n] = mk("scaled", 11, EF_T_UINT16, EF_ORDER_ABCD);
    pts[n].scaled = true;
    pts[n++].scale = 0.1;
    for (int b = 0; b < 4; b++) {
        pts[n] = mk("bit", 12, EF_T_BOOL, EF_ORDER_ABCD);
        pts[n++].bit = b * 4;
    }
    static const struct {
        enum ef_value_type t;
        unsigned base, w;
    } ty[] = {{EF_T_INT32, 20, 2}, {EF_T_UINT32, 30, 2}, {EF_T_FLOAT32, 40, 2},
              {EF_T_INT64, 50, 4}, {EF_T_UINT64, 70, 4}, {EF_T_FLOAT64, 90, 4}};
    for (int o = 0; o < 4; o++)
        for (size_t t = 0; t < 6; t++)
            pts[n++] = mk("v", ty[t].base + (unsigned)o * ty[t].w, ty[t].t, (enum ef_order)o);
    struct ef_bus bus;
    memset(&bus, 0, sizeof bus);
    bus.max_gap = 10;
    bus.max_regs = 125;
    struct ef_plan plan;
    if (ef_plan_build(&plan, pts, n, &bus) < 0)
        return 1;
    uint16_t regs[125];
    for (unsigned i = 0; i < 125; i++)
        regs[i] = (uint16_t)(0x4049u + i * 0x1357u);
    struct ef_value out[64];
    const long iters = 200000;
    double acc = 0;
    int64_t t0 = ef_mono_us();
    for (long it = 0; it < iters; it++) {
        regs[1] = (uint16_t)it; /* the counter moves, as on a real device */
        for (size_t r = 0; r < plan.nreads; r++) {
            const struct ef_plan_read *rd = &plan.reads[r];
            for (size_t k = rd->first; k < rd->first + rd->n; k++) {
                size_t idx = plan.order[k];
                ef_decode_regs(&regs[ef_plan_offset(&plan, rd, k)], &pts[idx], &out[idx]);
            }
        }
        acc += ef_value_as_double(&out[1]);
    }
    int64_t us = ef_mono_us() - t0;
    double ns = (double)us * 1000.0 / ((double)iters * (double)n);
    printf("decode: %zu points in %zu read(s), %ld polls: %.1f ns per point reading "
           "(checksum %.0f)\n",
           n, plan.nreads, iters, ns, acc);
    ef_plan_free(&plan);
    return 0;
}
