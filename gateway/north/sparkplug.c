#include "gateway/north/sparkplug.h"

#include <math.h>
#include <string.h>

enum ef_sp_type ef_sp_point_type(const struct ef_point *p, bool serial)
{
    if (p && p->type == EF_T_STRING)
        return EF_SPT_STRING;
    if (serial || !p || p->scaled)
        return EF_SPT_DOUBLE;
    switch (p->type) {
    case EF_T_STRING:
        return EF_SPT_STRING;
    case EF_T_BOOL:
        return EF_SPT_BOOLEAN;
    case EF_T_INT16:
        return EF_SPT_INT16;
    case EF_T_UINT16:
        return EF_SPT_UINT16;
    case EF_T_INT32:
        return EF_SPT_INT32;
    case EF_T_UINT32:
        return EF_SPT_UINT32;
    case EF_T_INT64:
        return EF_SPT_INT64;
    case EF_T_UINT64:
        return EF_SPT_UINT64;
    case EF_T_FLOAT32:
        return EF_SPT_FLOAT;
    case EF_T_FLOAT64:
        return EF_SPT_DOUBLE;
    }
    return EF_SPT_DOUBLE;
}

const char *ef_sp_type_name(enum ef_sp_type t)
{
    static const char *const names[] = {
        [EF_SPT_INT8] = "Int8",     [EF_SPT_INT16] = "Int16",     [EF_SPT_INT32] = "Int32",
        [EF_SPT_INT64] = "Int64",   [EF_SPT_UINT8] = "UInt8",     [EF_SPT_UINT16] = "UInt16",
        [EF_SPT_UINT32] = "UInt32", [EF_SPT_UINT64] = "UInt64",   [EF_SPT_FLOAT] = "Float",
        [EF_SPT_DOUBLE] = "Double", [EF_SPT_BOOLEAN] = "Boolean", [EF_SPT_STRING] = "String",
    };
    return (unsigned)t < sizeof names / sizeof names[0] && names[t] ? names[t] : "Unknown";
}

static int64_t as_int(const struct ef_value *v)
{
    switch (v->kind) {
    case EF_VAL_INT:
        return v->as.i;
    case EF_VAL_UINT:
        return (int64_t)v->as.u;
    case EF_VAL_BOOL:
        return v->as.b;
    default: {
        double d = ef_value_as_double(v);
        return d != d ? 0 : d >= 9.2e18 ? INT64_MAX : d <= -9.2e18 ? INT64_MIN : (int64_t)d;
    }
    }
}

void ef_sp_set_value(struct ef_sp_metric *m, enum ef_sp_type t, const struct ef_value *v)
{
    if (v->kind == EF_VAL_STRING || t == EF_SPT_STRING) {
        /* A string point's value is text (a number read as String would be
         * a configuration the loader refuses; empty text then). */
        m->vkind = EF_SPV_STRING;
        m->v.str.s = v->kind == EF_VAL_STRING ? v->as.s.p : "";
        m->v.str.len = v->kind == EF_VAL_STRING ? v->as.s.len : 0;
        return;
    }
    switch (t) {
    case EF_SPT_BOOLEAN:
        m->vkind = EF_SPV_BOOL;
        m->v.b = v->kind == EF_VAL_BOOL ? v->as.b : ef_value_as_double(v) != 0;
        return;
    case EF_SPT_INT8:
    case EF_SPT_INT16:
    case EF_SPT_INT32:
        /* Signed 8-32 bit values travel sign-extended to 32 bits, as the
         * reference implementations read them back. */
        m->vkind = EF_SPV_INT;
        m->v.i = (uint32_t)(int32_t)as_int(v);
        return;
    case EF_SPT_UINT8:
    case EF_SPT_UINT16:
        m->vkind = EF_SPV_INT;
        m->v.i = (uint32_t)as_int(v);
        return;
    case EF_SPT_INT64:
        m->vkind = EF_SPV_LONG;
        m->v.l = (uint64_t)as_int(v);
        return;
    case EF_SPT_UINT32:
    case EF_SPT_UINT64:
        m->vkind = EF_SPV_LONG;
        m->v.l = v->kind == EF_VAL_UINT ? v->as.u : (uint64_t)as_int(v);
        return;
    case EF_SPT_FLOAT:
        m->vkind = EF_SPV_FLOAT;
        m->v.f = v->kind == EF_VAL_FLOAT ? v->as.f : (float)ef_value_as_double(v);
        return;
    default:
        m->vkind = EF_SPV_DOUBLE;
        m->v.d = ef_value_as_double(v);
        return;
    }
}

int ef_sp_get_value(const struct ef_sp_metric *m, enum ef_sp_type t, struct ef_value *out)
{
    switch (t) {
    case EF_SPT_BOOLEAN:
        if (m->vkind != EF_SPV_BOOL)
            return -1;
        *out = (struct ef_value){.kind = EF_VAL_BOOL, .as.b = m->v.b};
        return 0;
    case EF_SPT_INT8:
    case EF_SPT_INT16:
    case EF_SPT_INT32:
        if (m->vkind != EF_SPV_INT)
            return -1;
        *out = (struct ef_value){.kind = EF_VAL_INT, .as.i = (int32_t)m->v.i};
        return 0;
    case EF_SPT_UINT8:
    case EF_SPT_UINT16:
        if (m->vkind != EF_SPV_INT)
            return -1;
        *out = (struct ef_value){.kind = EF_VAL_UINT, .as.u = m->v.i};
        return 0;
    case EF_SPT_INT64:
        if (m->vkind != EF_SPV_LONG)
            return -1;
        *out = (struct ef_value){.kind = EF_VAL_INT, .as.i = (int64_t)m->v.l};
        return 0;
    case EF_SPT_UINT32:
    case EF_SPT_UINT64:
        if (m->vkind != EF_SPV_LONG)
            return -1;
        *out = (struct ef_value){.kind = EF_VAL_UINT, .as.u = m->v.l};
        return 0;
    case EF_SPT_FLOAT:
        if (m->vkind != EF_SPV_FLOAT)
            return -1;
        *out = (struct ef_value){.kind = EF_VAL_FLOAT, .as.f = m->v.f};
        return 0;
    case EF_SPT_DOUBLE:
        if (m->vkind != EF_SPV_DOUBLE)
            return -1;
        *out = (struct ef_value){.kind = EF_VAL_DOUBLE, .as.d = m->v.d};
        return 0;
    case EF_SPT_STRING:
        if (m->vkind != EF_SPV_STRING)
            return -1;
        *out = (struct ef_value){.kind = EF_VAL_STRING,
                                 .as.s = {.p = m->v.str.s, .len = m->v.str.len}};
        return 0;
    default:
        return -1;
    }
}

static void put_bdseq(struct ef_pbw *w, uint64_t ts_ms, uint64_t bdseq, bool alias)
{
    struct ef_sp_metric m = {.name = "bdSeq", .name_len = 5, .has_ts = true, .ts = ts_ms,
                             .has_type = true, .type = EF_SPT_INT64, .vkind = EF_SPV_LONG,
                             .v.l = bdseq};
    m.has_alias = alias;
    m.alias = EF_SP_ALIAS_BDSEQ;
    ef_sp_put_metric(w, &m);
}

void ef_sp_payload_ndeath(struct ef_pbw *w, uint64_t ts_ms, uint64_t bdseq)
{
    ef_sp_put_timestamp(w, ts_ms);
    put_bdseq(w, ts_ms, bdseq, false);
}

void ef_sp_payload_nbirth(struct ef_pbw *w, uint64_t ts_ms, uint64_t bdseq, uint64_t seq)
{
    ef_sp_put_timestamp(w, ts_ms);
    put_bdseq(w, ts_ms, bdseq, true);
    struct ef_sp_metric m = {.name = EF_SP_REBIRTH_NAME,
                             .name_len = sizeof EF_SP_REBIRTH_NAME - 1,
                             .has_alias = true,
                             .alias = EF_SP_ALIAS_REBIRTH,
                             .has_ts = true,
                             .ts = ts_ms,
                             .has_type = true,
                             .type = EF_SPT_BOOLEAN,
                             .vkind = EF_SPV_BOOL,
                             .v.b = false};
    ef_sp_put_metric(w, &m);
    ef_sp_put_seq(w, seq);
}

void ef_sp_payload_ddeath(struct ef_pbw *w, uint64_t ts_ms, uint64_t seq)
{
    ef_sp_put_timestamp(w, ts_ms);
    ef_sp_put_seq(w, seq);
}

void ef_sp_payload_ddata_stored(struct ef_pbw *w, int64_t ts_ms, const struct ef_reading *r,
                                size_t n, const bool *include, bool serial)
{
    ef_sp_put_timestamp(w, (uint64_t)ts_ms);
    for (size_t i = 0; i < n; i++) {
        if (include && !include[i])
            continue;
        enum ef_sp_type t = r[i].value.kind == EF_VAL_STRING
                                ? EF_SPT_STRING
                                : ef_sp_point_type(r[i].point, serial);
        struct ef_sp_metric m = {.name = r[i].name, .name_len = strlen(r[i].name),
                                 .has_type = true, .type = t};
        ef_sp_set_value(&m, t, &r[i].value);
        ef_sp_put_metric(w, &m);
    }
}

int ef_sp_ddata_wire(const void *in, size_t len, struct ef_sp_metric *scratch, size_t max,
                     ef_sp_alias_fn alias_of, void *ctx, bool historical, uint64_t seq,
                     struct ef_pbw *w, struct ef_sp_wire_result *res)
{
    struct ef_sp_payload pl;
    memset(res, 0, sizeof *res);
    int rc = ef_sp_decode(in, len, &pl, scratch, max);
    if (rc != 0)
        return rc;
    ef_sp_put_timestamp(w, pl.ts);
    for (size_t i = 0; i < pl.nmetrics; i++) {
        struct ef_sp_metric *m = &scratch[i];
        uint64_t alias;
        if (!m->name || !alias_of(ctx, m->name, m->name_len, &alias)) {
            res->unknown++;
            continue;
        }
        m->name = NULL;
        m->has_alias = true;
        m->alias = alias;
        m->has_type = false; /* births carry the datatype; data messages should not */
        m->has_ts = true;
        m->ts = pl.ts;
        m->historical = historical;
        ef_sp_put_metric(w, m);
        res->sent++;
    }
    ef_sp_put_seq(w, seq);
    return 0;
}
