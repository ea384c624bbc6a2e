/* The Sparkplug B payload as protobuf bytes: a hand-written encoder and a
 * bounded decoder of the fields in gateway/north/sparkplug_b.proto.
 *
 * Pure functions: no allocation, no I/O. The encoder writes into a caller's
 * buffer and counts what did not fit (one check at the end); the decoder
 * never reads past its input, skips fields it does not know (any wire type
 * protobuf defines) and accepts fields in any order, as protobuf requires:
 * the publisher appends `seq` after the metrics at send time. */
#ifndef EF_NORTH_SPARKPLUG_PB_H
#define EF_NORTH_SPARKPLUG_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sparkplug datatype numbers (the ones edgeferry uses). */
enum ef_sp_type {
    EF_SPT_INT8 = 1,
    EF_SPT_INT16 = 2,
    EF_SPT_INT32 = 3,
    EF_SPT_INT64 = 4,
    EF_SPT_UINT8 = 5,
    EF_SPT_UINT16 = 6,
    EF_SPT_UINT32 = 7,
    EF_SPT_UINT64 = 8,
    EF_SPT_FLOAT = 9,
    EF_SPT_DOUBLE = 10,
    EF_SPT_BOOLEAN = 11,
    EF_SPT_STRING = 12,
};

/* Which member of the metric's value oneof is present. */
enum ef_spv {
    EF_SPV_NONE = 0,
    EF_SPV_INT,    /* int_value (10), uint32 */
    EF_SPV_LONG,   /* long_value (11), uint64 */
    EF_SPV_FLOAT,  /* float_value (12) */
    EF_SPV_DOUBLE, /* double_value (13) */
    EF_SPV_BOOL,   /* boolean_value (14) */
    EF_SPV_STRING, /* string_value (15) */
};

struct ef_sp_metric {
    const char *name; /* NULL: no name field; not NUL-terminated when decoded */
    size_t name_len;
    bool has_alias, has_ts, has_type;
    uint64_t alias;
    uint64_t ts;
    uint32_t type;   /* enum ef_sp_type */
    bool historical; /* is_historical = true (written only when true) */
    bool is_null;    /* is_null = true (written only when true) */
    const char *eng_unit; /* encode only: property engUnit, NULL for none */
    enum ef_spv vkind;
    union {
        uint32_t i;
        uint64_t l;
        float f;
        double d;
        bool b;
        struct {
            const char *s; /* not NUL-terminated when decoded */
            size_t len;
        } str;
    } v;
};

/* ---- encoding ---- */

struct ef_pbw {
    uint8_t *p;
    size_t cap;
    size_t len; /* may exceed cap: then the output is incomplete */
};

static inline void ef_pbw_init(struct ef_pbw *w, void *buf, size_t cap)
{
    w->p = buf;
    w->cap = cap;
    w->len = 0;
}

static inline bool ef_pbw_ok(const struct ef_pbw *w) { return w->len <= w->cap; }

/* Payload.timestamp (1) and Payload.seq (3). */
void ef_sp_put_timestamp(struct ef_pbw *w, uint64_t ts_ms);
void ef_sp_put_seq(struct ef_pbw *w, uint64_t seq);
/* One Payload.metrics (2) entry. */
void ef_sp_put_metric(struct ef_pbw *w, const struct ef_sp_metric *m);

/* ---- decoding ---- */

struct ef_sp_payload {
    bool has_ts, has_seq;
    uint64_t ts;
    uint64_t seq;
    size_t nmetrics; /* metrics stored (at most the caller's MAX) */
};

#define EF_SP_EMALFORMED (-1) /* not a protobuf of this schema (or truncated) */
#define EF_SP_ETOOMANY (-2)   /* more metrics than MAX */

/* Decodes BUF into OUT and up to MAX metrics (pointers into BUF). Returns 0
 * or one of the errors above. */
int ef_sp_decode(const void *buf, size_t len, struct ef_sp_payload *out, struct ef_sp_metric *m,
                 size_t max);

#endif
