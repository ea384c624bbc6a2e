#include "gateway/north/sparkplug_pb.h"

#include <string.h>

/* Wire types of protobuf. */
enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

#define TAG(field, wt) ((uint32_t)(field) << 3 | (wt))

static void put_bytes(struct ef_pbw *w, const void *s, size_t n)
{
    if (n > 0 && w->len <= w->cap && w->cap - w->len >= n)
        memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void put_varint(struct ef_pbw *w, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            tmp[n] |= 0x80;
        n++;
    } while (v);
    put_bytes(w, tmp, n);
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void put_fixed(struct ef_pbw *w, uint64_t v, size_t n)
{
    uint8_t tmp[8];
    for (size_t i = 0; i < n; i++)
        tmp[i] = (uint8_t)(v >> (8 * i)); /* protobuf fixed fields are little-endian */
    put_bytes(w, tmp, n);
}

static void put_tag_varint(struct ef_pbw *w, unsigned field, uint64_t v)
{
    put_varint(w, TAG(field, WT_VARINT));
    put_varint(w, v);
}

static void put_tag_bytes(struct ef_pbw *w, unsigned field, const void *s, size_t n)
{
    put_varint(w, TAG(field, WT_LEN));
    put_varint(w, n);
    put_bytes(w, s, n);
}

void ef_sp_put_timestamp(struct ef_pbw *w, uint64_t ts_ms) { put_tag_varint(w, 1, ts_ms); }

void ef_sp_put_seq(struct ef_pbw *w, uint64_t seq) { put_tag_varint(w, 3, seq); }

/* PropertySet { keys: "engUnit", values: { type: String, string_value } } */
static void put_eng_unit(struct ef_pbw *w, const char *unit)
{
    static const char key[] = "engUnit";
    size_t ulen = strlen(unit);
    size_t value_len = 2 + 1 + varint_size(ulen) + ulen; /* type 12, string_value */
    size_t set_len = 1 + 1 + (sizeof key - 1) + 1 + varint_size(value_len) + value_len;
    put_varint(w, TAG(9, WT_LEN));
    put_varint(w, set_len);
    put_tag_bytes(w, 1, key, sizeof key - 1);
    put_varint(w, TAG(2, WT_LEN));
    put_varint(w, value_len);
    put_tag_varint(w, 1, 12);
    put_tag_bytes(w, 8, unit, ulen);
}

static void put_metric_body(struct ef_pbw *w, const struct ef_sp_metric *m)
{
    if (m->name)
        put_tag_bytes(w, 1, m->name, m->name_len);
    if (m->has_alias)
        put_tag_varint(w, 2, m->alias);
    if (m->has_ts)
        put_tag_varint(w, 3, m->ts);
    if (m->has_type)
        put_tag_varint(w, 4, m->type);
    if (m->historical)
        put_tag_varint(w, 5, 1);
    if (m->is_null)
        put_tag_varint(w, 7, 1);
    if (m->eng_unit && m->eng_unit[0])
        put_eng_unit(w, m->eng_unit);
    uint64_t bits;
    switch (m->vkind) {
    case EF_SPV_NONE:
        break;
    case EF_SPV_INT:
        put_tag_varint(w, 10, m->v.i);
        break;
    case EF_SPV_LONG:
        put_tag_varint(w, 11, m->v.l);
        break;
    case EF_SPV_FLOAT: {
        uint32_t b32;
        memcpy(&b32, &m->v.f, 4);
        put_varint(w, TAG(12, WT_I32));
        put_fixed(w, b32, 4);
        break;
    }
    case EF_SPV_DOUBLE:
        memcpy(&bits, &m->v.d, 8);
        put_varint(w, TAG(13, WT_I64));
        put_fixed(w, bits, 8);
        break;
    case EF_SPV_BOOL:
        put_tag_varint(w, 14, m->v.b ? 1 : 0);
        break;
    case EF_SPV_STRING:
        put_tag_bytes(w, 15, m->v.str.s, m->v.str.len);
        break;
    }
}

void ef_sp_put_metric(struct ef_pbw *w, const struct ef_sp_metric *m)
{
    /* A length-delimited field needs its length first: measure the body
     * with a writer that only counts, then write it for real. */
    struct ef_pbw count = {.p = NULL, .cap = 0, .len = 0};
    put_metric_body(&count, m);
    put_varint(w, TAG(2, WT_LEN));
    put_varint(w, count.len);
    put_metric_body(w, m);
}

/* ---- decoding ---- */

struct rd {
    const uint8_t *p, *end;
};

static int get_varint(struct rd *r, uint64_t *out)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return -1;
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1; /* more than 10 bytes */
}

static int get_fixed(struct rd *r, size_t n, uint64_t *out)
{
    if ((size_t)(r->end - r->p) < n)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    *out = v;
    return 0;
}

static int get_len(struct rd *r, struct rd *sub)
{
    uint64_t n;
    if (get_varint(r, &n) != 0 || n > (uint64_t)(r->end - r->p))
        return -1;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return 0;
}

/* One field's value, whatever its wire type: a varint or fixed value in
 * *NUM, a length-delimited one in *SUB. */
static int get_field(struct rd *r, uint32_t *field, uint32_t *wt, uint64_t *num, struct rd *sub)
{
    uint64_t tag;
    if (get_varint(r, &tag) != 0 || tag >> 3 == 0 || tag >> 3 > UINT32_MAX)
        return -1;
    *field = (uint32_t)(tag >> 3);
    *wt = (uint32_t)(tag & 7);
    switch (*wt) {
    case WT_VARINT:
        return get_varint(r, num);
    case WT_I64:
        return get_fixed(r, 8, num);
    case WT_I32:
        return get_fixed(r, 4, num);
    case WT_LEN:
        return get_len(r, sub);
    default:
        return -1; /* groups (3, 4) are not used by this schema */
    }
}

static int decode_value(struct ef_sp_metric *m, uint32_t field, uint32_t wt, uint64_t num,
                        const struct rd *sub)
{
    static const uint8_t want[] = {[10] = WT_VARINT, [11] = WT_VARINT, [12] = WT_I32,
                                   [13] = WT_I64,    [14] = WT_VARINT, [15] = WT_LEN};
    if (wt != want[field])
        return -1;
    switch (field) {
    case 10:
        m->vkind = EF_SPV_INT;
        m->v.i = (uint32_t)num;
        break;
    case 11:
        m->vkind = EF_SPV_LONG;
        m->v.l = num;
        break;
    case 12: {
        uint32_t b32 = (uint32_t)num;
        m->vkind = EF_SPV_FLOAT;
        memcpy(&m->v.f, &b32, 4);
        break;
    }
    case 13:
        m->vkind = EF_SPV_DOUBLE;
        memcpy(&m->v.d, &num, 8);
        break;
    case 14:
        m->vkind = EF_SPV_BOOL;
        m->v.b = num != 0;
        break;
    default:
        m->vkind = EF_SPV_STRING;
        m->v.str.s = (const char *)sub->p;
        m->v.str.len = (size_t)(sub->end - sub->p);
        break;
    }
    return 0;
}

static int decode_metric(struct rd r, struct ef_sp_metric *m)
{
    memset(m, 0, sizeof *m);
    while (r.p < r.end) {
        uint32_t field, wt;
        uint64_t num = 0;
        struct rd sub = {NULL, NULL};
        if (get_field(&r, &field, &wt, &num, &sub) != 0)
            return -1;
        bool varint = wt == WT_VARINT;
        switch (field) {
        case 1:
            if (wt != WT_LEN)
                return -1;
            m->name = (const char *)sub.p;
            m->name_len = (size_t)(sub.end - sub.p);
            break;
        case 2:
        case 3:
        case 4:
        case 5:
        case 7:
            if (!varint)
                return -1;
            if (field == 2) {
                m->has_alias = true;
                m->alias = num;
            } else if (field == 3) {
                m->has_ts = true;
                m->ts = num;
            } else if (field == 4) {
                m->has_type = true;
                m->type = (uint32_t)num;
            } else if (field == 5) {
                m->historical = num != 0;
            } else {
                m->is_null = num != 0;
            }
            break;
        case 10:
        case 11:
        case 12:
        case 13:
        case 14:
        case 15:
            if (decode_value(m, field, wt, num, &sub) != 0)
                return -1;
            break;
        default:
            break; /* is_transient, metadata, properties, other values: not needed */
        }
    }
    return 0;
}

int ef_sp_decode(const void *buf, size_t len, struct ef_sp_payload *out, struct ef_sp_metric *m,
                 size_t max)
{
    struct rd r = {buf, (const uint8_t *)buf + len};
    memset(out, 0, sizeof *out);
    if (len > 0 && !buf)
        return EF_SP_EMALFORMED;
    while (r.p < r.end) {
        uint32_t field, wt;
        uint64_t num = 0;
        struct rd sub = {NULL, NULL};
        if (get_field(&r, &field, &wt, &num, &sub) != 0)
            return EF_SP_EMALFORMED;
        if ((field == 1 || field == 3) && wt != WT_VARINT)
            return EF_SP_EMALFORMED;
        if (field == 1) {
            out->has_ts = true;
            out->ts = num;
        } else if (field == 3) {
            out->has_seq = true;
            out->seq = num;
        } else if (field == 2) {
            if (wt != WT_LEN)
                return EF_SP_EMALFORMED;
            if (out->nmetrics == max)
                return EF_SP_ETOOMANY;
            if (decode_metric(sub, &m[out->nmetrics]) != 0)
                return EF_SP_EMALFORMED;
            out->nmetrics++;
        }
    }
    return 0;
}
