/* Register decoding: byte orders, types, scale and offset. */
#include "drivers/modbus/decode.h"

#include <string.h>

static uint16_t swap16(uint16_t w)
{
    return (uint16_t)((w >> 8) | (w << 8));
}

uint64_t ef_decode_raw(const uint16_t *regs, unsigned n, enum ef_order order)
{
    uint64_t v = 0;
    if (n == 1)
        return regs[0];
    /* Each order is a word permutation plus an optional byte swap inside
     * each word: DCBA = both, BADC = swap only, CDAB = reverse only. */
    bool reverse = order == EF_ORDER_DCBA || order == EF_ORDER_CDAB;
    bool swap = order == EF_ORDER_DCBA || order == EF_ORDER_BADC;
    for (unsigned i = 0; i < n; i++) {
        uint16_t w = regs[reverse ? n - 1 - i : i];
        v = (v << 16) | (swap ? swap16(w) : w);
    }
    return v;
}

static void finish_int(const struct ef_point *p, int64_t raw, struct ef_value *out)
{
    if (p->scaled) {
        out->kind = EF_VAL_DOUBLE;
        out->as.d = ef_value_scale((double)raw, p->scale, p->offset);
    } else {
        out->kind = EF_VAL_INT;
        out->as.i = raw;
    }
}

static void finish_uint(const struct ef_point *p, uint64_t raw, struct ef_value *out)
{
    if (p->scaled) {
        out->kind = EF_VAL_DOUBLE;
        out->as.d = ef_value_scale((double)raw, p->scale, p->offset);
    } else {
        out->kind = EF_VAL_UINT;
        out->as.u = raw;
    }
}

int ef_decode_regs(const uint16_t *regs, const struct ef_point *p, struct ef_value *out)
{
    if (p->bit >= 0) {
        out->kind = EF_VAL_BOOL;
        out->as.b = (regs[0] >> p->bit) & 1u;
        return 0;
    }
    switch (p->type) {
    case EF_T_INT16:
        finish_int(p, (int16_t)regs[0], out);
        return 0;
    case EF_T_UINT16:
        finish_uint(p, regs[0], out);
        return 0;
    case EF_T_INT32:
        finish_int(p, (int32_t)(uint32_t)ef_decode_raw(regs, 2, p->order), out);
        return 0;
    case EF_T_UINT32:
        finish_uint(p, ef_decode_raw(regs, 2, p->order), out);
        return 0;
    case EF_T_INT64:
        finish_int(p, (int64_t)ef_decode_raw(regs, 4, p->order), out);
        return 0;
    case EF_T_UINT64:
        finish_uint(p, ef_decode_raw(regs, 4, p->order), out);
        return 0;
    case EF_T_FLOAT32: {
        uint32_t bits = (uint32_t)ef_decode_raw(regs, 2, p->order);
        float f;
        memcpy(&f, &bits, sizeof f);
        if (p->scaled) {
            out->kind = EF_VAL_DOUBLE;
            out->as.d = ef_value_scale((double)f, p->scale, p->offset);
        } else {
            out->kind = EF_VAL_FLOAT;
            out->as.f = f;
        }
        return 0;
    }
    case EF_T_FLOAT64: {
        uint64_t bits = ef_decode_raw(regs, 4, p->order);
        double d;
        memcpy(&d, &bits, sizeof d);
        out->kind = EF_VAL_DOUBLE;
        out->as.d = p->scaled ? ef_value_scale(d, p->scale, p->offset) : d;
        return 0;
    }
    case EF_T_STRING: /* needs a text buffer: ef_decode_string (decode_text.h) */
        return -1;
    case EF_T_BOOL: /* a bool on a register needs `bit`; treat as "non-zero" */
        out->kind = EF_VAL_BOOL;
        out->as.b = regs[0] != 0;
        return 0;
    }
    return -1;
}

void ef_decode_bit(uint8_t bit, struct ef_value *out)
{
    out->kind = EF_VAL_BOOL;
    out->as.b = bit != 0;
}
