/* The queue's record and cursor formats (gateway/queue/queue_format.h): pure
 * round trips, and every kind of damage is detected. */
#include <stdio.h>
#include <string.h>

#include "gateway/queue/queue_format.h"
#include "qtest.h"

static size_t sample(uint8_t *buf, size_t cap, const char *topic, const char *payload)
{
    struct ef_qrec r = { .cls = 1, .qos = 2, .retain = 1, .ts_ms = -1234567890123,
                         .topic = topic, .topic_len = strlen(topic),
                         .payload = payload, .payload_len = strlen(payload) };
    return ef_qrec_encode(&r, buf, cap);
}

static void record_round_trip(void)
{
    uint8_t buf[256];
    size_t n = sample(buf, sizeof(buf), "plant/pump1/temp", "{\"v\":21.5}");
    CHECK_EQ(n, EF_QREC_HDR + 16 + 10);
    struct ef_qrec r;
    CHECK_EQ(ef_qrec_decode(buf, n, &r), (long)n);
    CHECK_EQ(r.cls, 1);
    CHECK_EQ(r.qos, 2);
    CHECK_EQ(r.retain, 1);
    CHECK_EQ(r.ts_ms, -1234567890123);
    CHECK(r.topic_len == 16 && memcmp(r.topic, "plant/pump1/temp", 16) == 0);
    CHECK(r.payload_len == 10 && memcmp(r.payload, "{\"v\":21.5}", 10) == 0);
    /* The header is where the diagram says. */
    CHECK(memcmp(buf, "EFQr", 4) == 0);
    CHECK_EQ(buf[EF_QREC_OFF_LEN], n);
    CHECK_EQ(buf[EF_QREC_OFF_TOPIC_LEN], 16);
    CHECK_EQ(buf[EF_QREC_OFF_CLS], 1);
    CHECK_EQ(buf[EF_QREC_OFF_FLAGS], 2 | EF_QREC_FLAG_RETAIN);
    /* Empty payload is fine; too small a buffer is refused. */
    CHECK_EQ(sample(buf, sizeof(buf), "t", ""), EF_QREC_HDR + 1);
    CHECK_EQ(sample(buf, EF_QREC_HDR, "t", ""), 0);
}

static void crc_matches_the_standard(void)
{
    CHECK_EQ(ef_qcrc32(0, "123456789", 9), 0xCBF43926u);
    /* Incremental use gives the same value as one call. */
    CHECK_EQ(ef_qcrc32(ef_qcrc32(0, "12345", 5), "6789", 4), 0xCBF43926u);
    uint8_t big[1000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    CHECK_EQ(ef_qcrc32(ef_qcrc32(0, big, 333), big + 333, 667), ef_qcrc32(0, big, 1000));
}

static void every_flipped_bit_is_detected(void)
{
    uint8_t buf[256], copy[256];
    size_t n = sample(buf, sizeof(buf), "a/b", "payload-bytes");
    struct ef_qrec r;
    for (size_t i = 0; i < n; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(copy, buf, n);
            copy[i] ^= (uint8_t)(1u << bit);
            long rc = ef_qrec_decode(copy, n, &r);
            /* A longer length may ask for more bytes; anything else is bad. */
            CHECK(rc == EF_QREC_BAD || (rc == EF_QREC_NEED_MORE && i >= 4 && i < 8));
        }
}

static void truncated_records_need_more(void)
{
    uint8_t buf[256];
    size_t n = sample(buf, sizeof(buf), "a/b", "0123456789");
    struct ef_qrec r;
    for (size_t k = 0; k < n; k++)
        CHECK_EQ(ef_qrec_decode(buf, k, &r), EF_QREC_NEED_MORE);
}

static void impossible_headers_are_bad(void)
{
    uint8_t buf[256];
    size_t n = sample(buf, sizeof(buf), "a/b", "x");
    struct ef_qrec r;
    uint8_t c[256];
    memcpy(c, buf, n);
    c[EF_QREC_OFF_LEN + 3] = 0x7f; /* 2 GB record */
    CHECK_EQ(ef_qrec_decode(c, n, &r), EF_QREC_BAD);
    memcpy(c, buf, n);
    c[EF_QREC_OFF_LEN] = 3; /* shorter than a header */
    CHECK_EQ(ef_qrec_decode(c, n, &r), EF_QREC_BAD);
    memcpy(c, buf, n);
    c[EF_QREC_OFF_FLAGS] = 3; /* QoS 3 */
    CHECK_EQ(ef_qrec_decode(c, n, &r), EF_QREC_BAD);
    memcpy(c, buf, n);
    c[EF_QREC_OFF_TOPIC_LEN] = 200; /* topic beyond the record */
    CHECK_EQ(ef_qrec_decode(c, n, &r), EF_QREC_BAD);
    /* Records that cannot be encoded. */
    struct ef_qrec big = { .cls = 0, .topic = "t", .topic_len = 1, .payload_len = EF_QREC_MAX };
    CHECK_EQ(ef_qrec_size(&big), 0);
    struct ef_qrec badcls = { .cls = 2, .topic = "t", .topic_len = 1 };
    CHECK_EQ(ef_qrec_size(&badcls), 0);
}

static void magic_search_finds_next_record(void)
{
    uint8_t buf[512];
    memset(buf, 'E', 100); /* near-misses of the magic */
    buf[50] = 'F';
    size_t n = sample(buf + 100, sizeof(buf) - 100, "a", "b");
    CHECK_EQ(ef_qrec_find_magic(buf, 100 + n, 0), 100);
    CHECK_EQ(ef_qrec_find_magic(buf, 100 + n, 101), 100 + n);
    CHECK_EQ(ef_qrec_find_magic(buf, 102, 0), 102); /* magic cut by the end */
}

static void cursor_round_trip_and_damage(void)
{
    struct ef_qpos in[2] = { { 7, 1234 }, { 0x123456789ull, 42 } }, out[2];
    uint8_t buf[EF_QCUR_SIZE];
    ef_qcur_encode(in, buf);
    CHECK_EQ(ef_qcur_decode(buf, sizeof(buf), out), 0);
    CHECK(memcmp(in, out, sizeof(in)) == 0);
    CHECK_EQ(ef_qcur_decode(buf, sizeof(buf) - 1, out), -1);
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] ^= 0x10;
        CHECK_EQ(ef_qcur_decode(buf, sizeof(buf), out), -1);
        buf[i] ^= 0x10;
    }
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        { "record_round_trip", record_round_trip },
        { "crc_matches_the_standard", crc_matches_the_standard },
        { "every_flipped_bit_is_detected", every_flipped_bit_is_detected },
        { "truncated_records_need_more", truncated_records_need_more },
        { "impossible_headers_are_bad", impossible_headers_are_bad },
        { "magic_search_finds_next_record", magic_search_finds_next_record },
        { "cursor_round_trip_and_damage", cursor_round_trip_and_damage },
    };
    int ran = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (argc < 2 || strcmp(argv[1], cases[i].name) == 0) {
            cases[i].fn();
            ran++;
        }
    CHECK(ran > 0);
    return 0;
}
