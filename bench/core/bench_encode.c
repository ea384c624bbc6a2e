/* Decode + JSON encode cost per point reading: the CPU work the gateway does
 * for each value between the Modbus response and the queue.
 *
 * A 100-point meter with values like a real one (scaled 16-bit registers,
 * counters, float32 readings with a few decimals, bits), decoded through its
 * poll plan and encoded into one telemetry payload per poll, as the core
 * does. Prints ns per point reading; run under callgrind for a stable
 * instruction count (bench/core/run.sh does both). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "drivers/modbus/decode.h"
#include "drivers/modbus/plan.h"
#include "gateway/north/json.h"

#define NPTS 100

static void put32(uint16_t *r, uint32_t v)
{
    r[0] = (uint16_t)(v >> 16);
    r[1] = (uint16_t)v;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    static struct ef_point pts[NPTS];
    static uint16_t regs[400];
    size_t n = 0;
    unsigned addr = 0;
    for (int i = 0; i < 40; i++, n++) { /* e.g. voltages 2301 -> 230.1 */
        snprintf(pts[n].name, sizeof pts[n].name, "u%d", i);
        pts[n].type = EF_T_UINT16;
        pts[n].scaled = true;
        pts[n].scale = 0.1;
        pts[n].address = (uint16_t)addr;
        regs[addr++] = (uint16_t)(2200 + i * 7);
    }
    for (int i = 0; i < 20; i++, n++) { /* temperatures -12.5 .. */
        snprintf(pts[n].name, sizeof pts[n].name, "t%d", i);
        pts[n].type = EF_T_INT16;
        pts[n].scaled = true;
        pts[n].scale = 0.01;
        pts[n].address = (uint16_t)addr;
        regs[addr++] = (uint16_t)(int16_t)(-1250 + i * 333);
    }
    for (int i = 0; i < 20; i++, n++) { /* energy counters */
        snprintf(pts[n].name, sizeof pts[n].name, "e%d", i);
        pts[n].type = EF_T_UINT32;
        pts[n].address = (uint16_t)addr;
        put32(&regs[addr], 1234567u + (uint32_t)i * 1001u);
        addr += 2;
    }
    for (int i = 0; i < 10; i++, n++) { /* float32 readings */
        snprintf(pts[n].name, sizeof pts[n].name, "f%d", i);
        pts[n].type = EF_T_FLOAT32;
        pts[n].address = (uint16_t)addr;
        float f = 49.95f + (float)i * 0.01f;
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        put32(&regs[addr], bits);
        addr += 2;
    }
    for (int i = 0; i < 10; i++, n++) { /* status bits */
        snprintf(pts[n].name, sizeof pts[n].name, "b%d", i);
        pts[n].type = EF_T_BOOL;
        pts[n].bit = i;
        pts[n].address = (uint16_t)addr;
    }
    regs[addr++] = 0x02A5;
    for (size_t i = 0; i < n; i++) {
        pts[i].has_register = true;
        pts[i].kind = EF_REG_HOLDING;
        if (pts[i].type != EF_T_BOOL)
            pts[i].bit = -1;
    }
    struct ef_bus bus;
    memset(&bus, 0, sizeof bus);
    bus.max_gap = 10;
    bus.max_regs = 125;
    struct ef_plan plan;
    if (ef_plan_build(&plan, pts, n, &bus) != 0)
        return 1;
    static struct ef_reading rd[NPTS];
    static char payload[16384];
    size_t total = 0;
    int64_t t0 = ef_mono_us();
    for (long it = 0; it < iters; it++) {
        regs[0] = (uint16_t)(2200 + it % 50); /* one value moves, as on a meter */
        for (size_t r = 0; r < plan.nreads; r++) {
            const struct ef_plan_read *pr = &plan.reads[r];
            for (size_t k = pr->first; k < pr->first + pr->n; k++) {
                size_t idx = plan.order[k];
                rd[idx].name = pts[idx].name;
                rd[idx].point = &pts[idx];
                ef_decode_regs(&regs[ef_plan_offset(&plan, pr, k)], &pts[idx], &rd[idx].value);
            }
        }
        struct ef_buf b;
        ef_buf_init(&b, payload, sizeof payload);
        ef_payload_telemetry(&b, 1764150000123 + it, rd, n, NULL);
        total += b.len;
    }
    int64_t us = ef_mono_us() - t0;
    printf("decode+encode: %zu points, %ld polls: %.1f ns per point reading, "
           "%.1f payload bytes per point\n",
           n, iters, (double)us * 1000.0 / ((double)iters * (double)n),
           (double)total / ((double)iters * (double)n));
    printf("sample payload: %.200s...\n", payload);
    ef_plan_free(&plan);
    return 0;
}
