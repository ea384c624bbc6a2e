/* Fuzz target: the Sparkplug B decoder (gateway/north/sparkplug_pb.h), which
 * reads NCMD, DCMD and STATE payloads straight off the network.
 *
 * Whatever the input, the decoder must stay inside it: every decoded name
 * and string points into the input; at most MAX metrics are stored. A
 * payload that decodes is re-encoded (timestamp, each metric, seq) and must
 * decode again to the same metrics; reading each metric's value as every
 * datatype must not crash, and stored DDATA built from the metrics must
 * turn into wire DDATA within its buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/north/sparkplug.h"
#include "gateway/north/sparkplug_pb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX 64

static void inside(const uint8_t *buf, size_t size, const char *p, size_t n)
{
    if (p && ((const uint8_t *)p < buf || (const uint8_t *)p + n > buf + size))
        abort();
}

static bool alias_of(void *ctx, const char *name, size_t len, uint64_t *alias)
{
    (void)ctx;
    *alias = len;
    return name && len % 2 == 0;
}

static int same(const struct ef_sp_metric *a, const struct ef_sp_metric *b)
{
    if (a->name_len != b->name_len || (a->name && memcmp(a->name, b->name, a->name_len)) ||
        a->has_alias != b->has_alias || (a->has_alias && a->alias != b->alias) ||
        a->vkind != b->vkind)
        return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ef_sp_metric m[MAX], again[MAX], scratch[MAX];
    struct ef_sp_payload pl;
    int rc = ef_sp_decode(data, size, &pl, m, MAX);
    if (rc != 0) {
        if (rc != EF_SP_EMALFORMED && rc != EF_SP_ETOOMANY)
            abort();
        return 0;
    }
    if (pl.nmetrics > MAX)
        abort();
    for (size_t i = 0; i < pl.nmetrics; i++) {
        inside(data, size, m[i].name, m[i].name_len);
        if (m[i].vkind == EF_SPV_STRING)
            inside(data, size, m[i].v.str.s, m[i].v.str.len);
        for (int t = EF_SPT_INT8; t <= EF_SPT_STRING; t++) {
            struct ef_value v;
            (void)ef_sp_get_value(&m[i], (enum ef_sp_type)t, &v);
        }
    }
    /* Re-encode what was understood and read it back. */
    static uint8_t out[1 << 16];
    struct ef_pbw w;
    ef_pbw_init(&w, out, sizeof out);
    if (pl.has_ts)
        ef_sp_put_timestamp(&w, pl.ts);
    for (size_t i = 0; i < pl.nmetrics; i++) {
        struct ef_sp_metric c = m[i];
        c.eng_unit = NULL;
        ef_sp_put_metric(&w, &c);
    }
    if (pl.has_seq)
        ef_sp_put_seq(&w, pl.seq);
    if (!ef_pbw_ok(&w))
        return 0;
    struct ef_sp_payload pl2;
    if (ef_sp_decode(out, w.len, &pl2, again, MAX) != 0 || pl2.nmetrics != pl.nmetrics ||
        pl2.has_seq != pl.has_seq || (pl.has_seq && pl2.seq != pl.seq))
        abort();
    for (size_t i = 0; i < pl.nmetrics; i++)
        if (!same(&m[i], &again[i]))
            abort();
    /* The same bytes as stored DDATA, turned into wire DDATA. */
    static uint8_t wire[1 << 16];
    struct ef_pbw ww;
    ef_pbw_init(&ww, wire, sizeof wire);
    struct ef_sp_wire_result res;
    if (ef_sp_ddata_wire(out, w.len, scratch, MAX, alias_of, NULL, size % 2, 7, &ww, &res) == 0 &&
        (res.sent + res.unknown > pl.nmetrics || (ef_pbw_ok(&ww) && ww.len > sizeof wire)))
        abort();
    return 0;
}
