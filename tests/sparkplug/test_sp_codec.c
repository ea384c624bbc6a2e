/* The Sparkplug B codec (gateway/north/sparkplug*.c): bytes checked against
 * the protobuf encoding by hand, round trips of every datatype, the
 * stored -> wire DDATA transform, and a decoder that never reads past its
 * input. (The integration tests decode everything with Eclipse Tahu's
 * sparkplug-payload too.) */
#include <stdlib.h>
#include <string.h>

#include "../gateway/expect.h"
#include "gateway/north/sparkplug.h"

static int case_nbirth_bytes_are_the_protobuf_encoding(void)
{
    uint8_t buf[128];
    struct ef_pbw w;
    ef_pbw_init(&w, buf, sizeof buf);
    ef_sp_payload_nbirth(&w, 1, 7, 0);
    /* timestamp=1; metric{name "bdSeq", alias 1, ts 1, datatype 4, long 7};
     * metric{name "Node Control/Rebirth", alias 0, ts 1, datatype 11, bool 0}; seq 0 */
    static const uint8_t want[] = {
        0x08, 0x01, 0x12, 0x0f, 0x0a, 0x05, 'b', 'd', 'S', 'e', 'q', 0x10, 0x01, 0x18, 0x01,
        0x20, 0x04, 0x58, 0x07, 0x12, 0x1e, 0x0a, 0x14, 'N', 'o', 'd', 'e', ' ', 'C', 'o', 'n',
        't', 'r', 'o', 'l', '/', 'R', 'e', 'b', 'i', 'r', 't', 'h', 0x10, 0x00, 0x18, 0x01,
        0x20, 0x0b, 0x70, 0x00, 0x18, 0x00};
    EXPECT(ef_pbw_ok(&w) && w.len == sizeof want && memcmp(buf, want, sizeof want) == 0,
           "NBIRTH bytes differ (len %zu, want %zu)", w.len, sizeof want);
    return 0;
}

static int case_every_datatype_round_trips(void)
{
    struct {
        enum ef_sp_type t;
        struct ef_value v;
    } cases[] = {
        {EF_SPT_BOOLEAN, {.kind = EF_VAL_BOOL, .as.b = true}},
        {EF_SPT_INT16, {.kind = EF_VAL_INT, .as.i = -12345}},
        {EF_SPT_UINT16, {.kind = EF_VAL_UINT, .as.u = 54321}},
        {EF_SPT_INT32, {.kind = EF_VAL_INT, .as.i = -123456789}},
        {EF_SPT_UINT32, {.kind = EF_VAL_UINT, .as.u = 3000000000u}},
        {EF_SPT_INT64, {.kind = EF_VAL_INT, .as.i = -1234567890123456789}},
        {EF_SPT_UINT64, {.kind = EF_VAL_UINT, .as.u = 17375808098319191535u}},
        {EF_SPT_FLOAT, {.kind = EF_VAL_FLOAT, .as.f = 3.14159274f}},
        {EF_SPT_DOUBLE, {.kind = EF_VAL_DOUBLE, .as.d = -2.718281828459045}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[256];
        struct ef_pbw w;
        ef_pbw_init(&w, buf, sizeof buf);
        struct ef_sp_metric m = {.name = "x", .name_len = 1, .has_type = true,
                                 .type = cases[i].t, .eng_unit = "V"};
        ef_sp_set_value(&m, cases[i].t, &cases[i].v);
        ef_sp_put_metric(&w, &m);
        struct ef_sp_payload pl;
        struct ef_sp_metric out[2];
        int rc = ef_sp_decode(buf, w.len, &pl, out, 2);
        struct ef_value back;
        EXPECT(rc == 0 && pl.nmetrics == 1 && out[0].has_type && out[0].type == cases[i].t,
               "%s: decode %d", ef_sp_type_name(cases[i].t), rc);
        EXPECT(ef_sp_get_value(&out[0], cases[i].t, &back) == 0 &&
                   back.kind == cases[i].v.kind &&
                   memcmp(&back.as, &cases[i].v.as, sizeof back.as) == 0,
               "%s does not read back", ef_sp_type_name(cases[i].t));
    }
    return 0;
}

static bool alias_of(void *ctx, const char *name, size_t len, uint64_t *alias)
{
    (void)ctx;
    if (len == 1 && name[0] == 'a')
        *alias = 2;
    else if (len == 1 && name[0] == 'b')
        *alias = 300; /* a two-byte varint: lengths change in the transform */
    else
        return false;
    return true;
}

static int case_stored_ddata_becomes_wire_ddata_by_alias_with_seq_last(void)
{
    struct ef_point pa = {.name = "a", .type = EF_T_INT16}, pb = {.name = "b", .type = EF_T_BOOL};
    struct ef_reading r[3] = {
        {.name = "a", .point = &pa, .value = {.kind = EF_VAL_INT, .as.i = -5}},
        {.name = "gone", .point = NULL, .value = {.kind = EF_VAL_DOUBLE, .as.d = 1}},
        {.name = "b", .point = &pb, .value = {.kind = EF_VAL_BOOL, .as.b = true}},
    };
    uint8_t stored[256], wire[256];
    struct ef_pbw w;
    ef_pbw_init(&w, stored, sizeof stored);
    ef_sp_payload_ddata_stored(&w, 1764150000123, r, 3, NULL, false);
    size_t slen = w.len;
    struct ef_sp_metric scratch[8];
    struct ef_sp_wire_result res;
    ef_pbw_init(&w, wire, sizeof wire);
    int rc = ef_sp_ddata_wire(stored, slen, scratch, 8, alias_of, NULL, true, 255, &w, &res);
    EXPECT(rc == 0 && res.sent == 2 && res.unknown == 1, "wire %d sent %zu unknown %zu", rc,
           res.sent, res.unknown);
    /* seq is the last field, as appended at send time */
    EXPECT(w.len > 3 && wire[w.len - 3] == 0x18 && wire[w.len - 2] == 0xff &&
               wire[w.len - 1] == 0x01,
           "seq 255 is not the last field");
    struct ef_sp_payload pl;
    struct ef_sp_metric m[4];
    rc = ef_sp_decode(wire, w.len, &pl, m, 4);
    EXPECT(rc == 0 && pl.has_seq && pl.seq == 255 && pl.ts == 1764150000123 && pl.nmetrics == 2,
           "decoded %d", rc);
    for (size_t i = 0; i < pl.nmetrics; i++)
        EXPECT(!m[i].name && m[i].has_alias && !m[i].has_type && m[i].historical &&
                   m[i].has_ts && m[i].ts == 1764150000123,
               "metric %zu: name, datatype or historical flag wrong", i);
    EXPECT(m[0].alias == 2 && m[0].vkind == EF_SPV_INT && m[0].v.i == 0xfffffffbu,
           "int16 -5 is sign-extended to 32 bits");
    EXPECT(m[1].alias == 300 && m[1].vkind == EF_SPV_BOOL && m[1].v.b, "bool by alias 300");
    return 0;
}

static int case_decoder_never_reads_past_its_input(void)
{
    uint8_t buf[256];
    struct ef_pbw w;
    ef_pbw_init(&w, buf, sizeof buf);
    ef_sp_payload_nbirth(&w, 1764150000123, 200, 0);
    /* Every truncation is malformed or a shorter valid message, never a
     * read past the end (ASan watches: the copy has exactly N bytes). */
    for (size_t n = 0; n < w.len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, buf, n);
        struct ef_sp_payload pl;
        struct ef_sp_metric m[4];
        int rc = ef_sp_decode(cut, n, &pl, m, 4);
        EXPECT(rc == 0 || rc == EF_SP_EMALFORMED, "cut at %zu: %d", n, rc);
        free(cut);
    }
    static const uint8_t bad[][4] = {{0x0b, 0, 0, 0},        /* wire type 3 (group) */
                                     {0x12, 0x7f, 0, 0},     /* length past the end */
                                     {0x08, 0x80, 0x80, 0x80}, /* unterminated varint */
                                     {0x12, 0x02, 0x52, 0x01}}; /* float with a varint */
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ef_sp_payload pl;
        struct ef_sp_metric m[4];
        EXPECT(ef_sp_decode(bad[i], 4, &pl, m, 4) == EF_SP_EMALFORMED, "bad %zu accepted", i);
    }
    struct ef_sp_payload pl;
    struct ef_sp_metric m[1];
    EXPECT(ef_sp_decode(buf, w.len, &pl, m, 1) == EF_SP_ETOOMANY, "two metrics into one slot");
    return 0;
}

static int case_too_small_a_buffer_is_detected(void)
{
    uint8_t buf[16];
    struct ef_pbw w;
    ef_pbw_init(&w, buf, sizeof buf);
    ef_sp_payload_nbirth(&w, 1764150000123, 1, 0);
    EXPECT(!ef_pbw_ok(&w) && w.len > sizeof buf, "overflow not reported");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(void);
    } cases[] = {
        {"nbirth_bytes_are_the_protobuf_encoding", case_nbirth_bytes_are_the_protobuf_encoding},
        {"every_datatype_round_trips", case_every_datatype_round_trips},
        {"stored_ddata_becomes_wire_ddata_by_alias_with_seq_last",
         case_stored_ddata_becomes_wire_ddata_by_alias_with_seq_last},
        {"decoder_never_reads_past_its_input", case_decoder_never_reads_past_its_input},
        {"too_small_a_buffer_is_detected", case_too_small_a_buffer_is_detected},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (argc < 2 || strcmp(argv[1], cases[i].name) == 0)
            cases[i].fn();
    return failures ? 1 : 0;
}
