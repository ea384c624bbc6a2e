/* Fuzz target: Modbus poll plans and decoding from arbitrary point sets,
 * and the checks of Modbus TCP replies (mbap.h).
 *
 * The input is read as bus limits, a list of points (each shaped the way a
 * validated configuration allows: bits only on coils, discrete inputs or a
 * register's bit; strings of 1..125 registers; an own interval of 1..8 device
 * polls; nothing past register 65535), then register contents.
 * The plan must cover every point exactly once inside the protocol limits,
 * splitting must keep that true, and every point must decode from its read's
 * registers without reading outside them (the register block is an
 * exact-size heap copy, so AddressSanitizer sees any overrun); a string's
 * text must be valid UTF-8 within its bound. The plans per period, under
 * the device's own limits, must each cover exactly the points due in their
 * polls, and every poll must find the plan of its due points. The rest of
 * the input is a Modbus TCP reply to one of the plan's reads: whatever its
 * bytes, the check must not read past them, and a reply it accepts must be
 * exactly the size the request asks for and fill exactly COUNT values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "drivers/modbus/decode.h"
#include "drivers/modbus/decode_text.h"
#include "drivers/modbus/mbap.h"
#include "drivers/modbus/plan_set.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_POINTS 200
#define POINT_BYTES 5

struct input {
    const uint8_t *p;
    size_t n;
};

static unsigned take(struct input *in, unsigned bytes)
{
    unsigned v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v <<= 8;
        if (in->n) {
            v |= *in->p++;
            in->n--;
        }
    }
    return v;
}

/* One point from 5 bytes: kind+type+order+scaled, bit or type + interval,
 * address (2), scale or string length; unused top bits of the first byte
 * kept for variety in the offset. */
static void make_point(struct input *in, struct ef_point *p, size_t i)
{
    unsigned a = take(in, 1), b = take(in, 1), addr = take(in, 2), s = take(in, 1);
    memset(p, 0, sizeof *p);
    p->name[0] = (char)('a' + i % 26);
    p->has_register = true;
    p->kind = (enum ef_reg_kind)(a & 3);
    p->order = (enum ef_order)((a >> 2) & 3);
    p->scale = 1;
    p->bit = -1;
    if (p->kind == EF_REG_COIL || p->kind == EF_REG_DISCRETE) {
        p->type = EF_T_BOOL;
    } else if (b & 0x10) {
        p->type = EF_T_BOOL;
        p->bit = (int)(b & 15);
    } else {
        p->type = (enum ef_value_type)(1 + (b & 0x0f) % 9); /* int16..float64, string */
    }
    p->interval_ms = (int)(1 + (b >> 5)) * 1000; /* device interval: 1000 */
    if (p->type == EF_T_STRING) {
        p->length = (int)(1 + s % 125);
        p->order = a & 4 ? EF_ORDER_BA : EF_ORDER_AB;
    } else if (a & 0x10) {
        p->scaled = true;
        p->scale = (double)(int8_t)s / 8.0;
        p->offset = (double)(a >> 5);
    }
    unsigned width = ef_point_width(p);
    if (addr + width - 1 > 65535)
        addr = 65536 - width;
    p->address = (uint16_t)addr;
}

/* PLAN covers exactly the points with a KEEP flag (all when KEEP is NULL). */
static void check_plan_of(const struct ef_plan *plan, size_t npoints, const bool *keep)
{
    size_t want = 0;
    for (size_t i = 0; i < npoints; i++)
        want += !keep || keep[i];
    if (plan->norder != want)
        abort();
    char *seen = calloc(npoints + 1, 1);
    for (size_t r = 0; r < plan->nreads; r++) {
        const struct ef_plan_read *rd = &plan->reads[r];
        unsigned limit = rd->kind <= EF_REG_DISCRETE ? EF_PLAN_MAX_BITS : EF_PLAN_MAX_REGS;
        if (rd->count == 0 || rd->count > limit || rd->first + rd->n > plan->norder ||
            rd->n == 0 || (unsigned)rd->start + rd->count > 65536)
            abort();
        for (size_t k = rd->first; k < rd->first + rd->n; k++) {
            size_t pi = plan->order[k];
            const struct ef_point *p = &plan->points[pi];
            if (pi >= npoints || seen[pi]++ || p->kind != rd->kind || p->address < rd->start ||
                ef_plan_offset(plan, rd, k) + ef_point_width(p) > rd->count)
                abort();
        }
    }
    for (size_t i = 0; i < npoints; i++)
        if (seen[i] != (!keep || keep[i]))
            abort();
    free(seen);
}

static void check_plan(const struct ef_plan *plan, size_t npoints)
{
    check_plan_of(plan, npoints, NULL);
}

/* A string's text: bounded, valid UTF-8 (the buffer is exact-size). */
static void decode_text_of(const uint16_t *regs, const struct ef_point *p)
{
    size_t cap = 6 * (size_t)p->length;
    char *buf = malloc(cap);
    struct ef_value v;
    ef_decode_string(regs, p, buf, cap, &v);
    if (v.kind != EF_VAL_STRING || v.as.s.len > cap)
        abort();
    for (size_t i = 0; i < v.as.s.len;) {
        size_t k = ef_utf8_seq((const unsigned char *)buf + i, v.as.s.len - i);
        if (k == 0)
            abort();
        i += k;
    }
    free(buf);
}

/* The plans per period of the points: each polls' plan holds exactly the
 * points due in it. */
static void check_plan_set(struct ef_point *pts, size_t npoints, const struct ef_bus *bus,
                           struct input *in)
{
    struct ef_device dev;
    memset(&dev, 0, sizeof dev);
    dev.interval_ms = 1000;
    dev.points = pts;
    dev.npoints = npoints;
    dev.max_regs = (int)(1 + take(in, 1) % 125);
    dev.max_gap = bus->max_gap;
    struct ef_plan_set set;
    if (ef_plan_set_build(&set, &dev, bus) != 0)
        abort(); /* periods 1..8: their lcms divide 840, which has 32 divisors */
    bool *keep = calloc(npoints + 1, sizeof *keep);
    for (uint64_t n = 0; n < 840; n++) { /* lcm(1..8): every phase */
        bool any = false;
        for (size_t i = 0; i < npoints; i++)
            any |= keep[i] = n % ef_point_every(&dev, &pts[i]) == 0;
        struct ef_plan *plan = ef_plan_set_for(&set, n);
        if (!any != !plan)
            abort();
        if (plan)
            check_plan_of(plan, npoints, keep);
    }
    free(keep);
    ef_plan_set_free(&set);
}

/* Decodes every point of every read from registers filled from the input. */
static void decode_all(const struct ef_plan *plan, struct input *in)
{
    for (size_t r = 0; r < plan->nreads; r++) {
        const struct ef_plan_read *rd = &plan->reads[r];
        bool bits = rd->kind <= EF_REG_DISCRETE;
        uint16_t *regs = bits ? NULL : malloc(rd->count * sizeof *regs);
        uint8_t *bitv = bits ? malloc(rd->count) : NULL;
        for (unsigned j = 0; j < rd->count; j++) {
            if (bits)
                bitv[j] = (uint8_t)(take(in, 1) & 1);
            else
                regs[j] = (uint16_t)take(in, 2);
        }
        for (size_t k = rd->first; k < rd->first + rd->n; k++) {
            const struct ef_point *p = &plan->points[plan->order[k]];
            unsigned off = ef_plan_offset(plan, rd, k);
            struct ef_value v;
            if (bits)
                ef_decode_bit(bitv[off], &v);
            else if (p->type == EF_T_STRING)
                decode_text_of(regs + off, p);
            else if (ef_decode_regs(regs + off, p, &v) != 0)
                abort();
            if (p->type == EF_T_STRING)
                continue;
            (void)ef_value_as_double(&v);
        }
        free(regs);
        free(bitv);
    }
}

static const uint8_t function_of[] = {1, 2, 4, 3}; /* coil, discrete, input, holding */

/* The rest of the input as the reply to read R (or to a 1-register read). */
static void check_reply(const struct ef_plan *plan, struct input *in)
{
    unsigned kind = 3, count = 1, start = 0;
    if (plan->nreads) {
        const struct ef_plan_read *r = &plan->reads[take(in, 1) % plan->nreads];
        kind = (unsigned)r->kind;
        count = r->count;
        start = r->start;
    }
    bool check_unit = take(in, 1) & 1;
    uint16_t tid = (uint16_t)take(in, 2); /* in sequence: argument order is unspecified */
    uint8_t unit = (uint8_t)take(in, 1);
    uint8_t req[EF_MBAP_READ_REQ_LEN];
    ef_mbap_read_request(req, tid, unit, function_of[kind], (uint16_t)start, (uint16_t)count);
    size_t len = in->n;
    uint8_t *rsp = malloc(len ? len : 1);
    memcpy(rsp, in->p, len);
    uint8_t exc = 0;
    enum ef_mbap_verdict v = ef_mbap_check_reply(req, rsp, len, check_unit, &exc);
    if (v == EF_MBAP_OK) {
        bool bits = kind <= EF_REG_DISCRETE;
        size_t bytes = bits ? (count + 7) / 8 : 2 * (size_t)count;
        if (len != 9 + bytes || (check_unit && rsp[6] != req[6]) || rsp[7] != req[7])
            abort();
        if (bits) {
            uint8_t *b = malloc(count);
            ef_mbap_bits(rsp, count, b);
            free(b);
        } else {
            uint16_t *r = malloc(count * sizeof *r);
            ef_mbap_regs(rsp, count, r);
            free(r);
        }
    } else if (v == EF_MBAP_EXCEPTION && (len != 9 || rsp[7] != (req[7] | 0x80))) {
        abort();
    }
    free(rsp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct ef_bus bus;
    memset(&bus, 0, sizeof bus);
    bus.max_gap = (int)(take(&in, 2) % 2001);
    bus.max_regs = (int)(1 + take(&in, 1) % 125);
    size_t npoints = take(&in, 1) % (MAX_POINTS + 1);
    if (npoints * POINT_BYTES > in.n)
        npoints = in.n / POINT_BYTES;
    struct ef_point *pts = calloc(npoints + 1, sizeof *pts);
    for (size_t i = 0; i < npoints; i++)
        make_point(&in, &pts[i], i);

    struct ef_plan plan;
    if (ef_plan_build(&plan, pts, npoints, &bus) != 0)
        abort();
    check_plan(&plan, npoints);
    decode_all(&plan, &in);
    /* Split reads as a device with holes would make the driver do. */
    unsigned splits = take(&in, 1);
    for (unsigned s = 0; s < splits % 16 && plan.nreads; s++) {
        size_t i = take(&in, 1) % plan.nreads;
        if (ef_plan_split(&plan, i) < 0)
            abort();
        check_plan(&plan, npoints);
    }
    if (ef_plan_requests(&plan) > plan.nreads)
        abort();
    check_reply(&plan, &in);
    ef_plan_free(&plan);
    check_plan_set(pts, npoints, &bus, &in);
    free(pts);
    return 0;
}
