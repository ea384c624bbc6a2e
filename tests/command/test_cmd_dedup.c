/* The id cache with a test-driven clock: one execution per id within the
 * TTL, redeliveries get the first result, memory stays bounded. */
#include <string.h>

#include "expect.h"
#include "gateway/command/dedup.h"

static void once_per_id(void)
{
    struct ef_dedup *d = ef_dedup_new(EF_DEDUP_ENTRIES, EF_DEDUP_BYTES, EF_DEDUP_TTL_MS);
    struct ef_dedup_result r = {0};
    EXPECT(d && ef_dedup_check(d, "op-17", 1000, &r) == EF_DEDUP_NEW, "first time");
    /* redelivered while the bus is still writing */
    EXPECT(ef_dedup_check(d, "op-17", 1500, &r) == EF_DEDUP_PENDING, "pending");
    EXPECT(ef_dedup_check(d, "op-17", 1600, &r) == EF_DEDUP_PENDING, "pending again");
    EXPECT(ef_dedup_check(d, "op-18", 1600, &r) == EF_DEDUP_NEW, "another id");
    const char *res = "{\"ts\":2000,\"id\":\"op-17\",\"ok\":true}";
    EXPECT(ef_dedup_complete(d, "op-17", "p/g/result/d/x", res, strlen(res), 2000) == 2,
           "two redeliveries waited for the result");
    EXPECT(ef_dedup_check(d, "op-17", 3000, &r) == EF_DEDUP_DONE, "done");
    EXPECT(r.payload && r.len == strlen(res) && memcmp(r.payload, res, r.len) == 0, "payload");
    EXPECT(r.topic && strcmp(r.topic, "p/g/result/d/x") == 0, "topic");
    /* ten minutes after the result, the id is forgotten */
    EXPECT(ef_dedup_check(d, "op-17", 2000 + EF_DEDUP_TTL_MS - 1, &r) == EF_DEDUP_DONE, "held");
    EXPECT(ef_dedup_check(d, "op-17", 2000 + EF_DEDUP_TTL_MS, &r) == EF_DEDUP_NEW, "expired");
    /* op-18 never completed: it expires ten minutes after it arrived */
    EXPECT(ef_dedup_count(d) == 1 && ef_dedup_evicted(d) == 0, "count %zu evicted %llu",
           ef_dedup_count(d), (unsigned long long)ef_dedup_evicted(d));
    EXPECT(ef_dedup_complete(d, "op-17", "t", "x", 1, 700000) == 0, "no waiters");
    ef_dedup_free(d);
}

static void bounded_entries(void)
{
    struct ef_dedup *d = ef_dedup_new(16, EF_DEDUP_BYTES, EF_DEDUP_TTL_MS);
    struct ef_dedup_result r;
    char id[16];
    for (int i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "id-%d", i);
        EXPECT(ef_dedup_check(d, id, 1000 + i, &r) == EF_DEDUP_NEW, "%s new", id);
        EXPECT(ef_dedup_complete(d, id, "t", id, strlen(id), 1000 + i) == 0, "complete");
    }
    EXPECT(ef_dedup_count(d) == 16 && ef_dedup_evicted(d) == 24, "oldest evicted: %zu %llu",
           ef_dedup_count(d), (unsigned long long)ef_dedup_evicted(d));
    EXPECT(ef_dedup_check(d, "id-39", 2000, &r) == EF_DEDUP_DONE && r.len == 5 &&
               memcmp(r.payload, "id-39", 5) == 0, "newest kept");
    EXPECT(ef_dedup_check(d, "id-24", 2000, &r) == EF_DEDUP_DONE, "16th newest kept");
    EXPECT(ef_dedup_check(d, "id-23", 2000, &r) == EF_DEDUP_NEW, "17th newest evicted");
    ef_dedup_free(d);
}

static void bounded_bytes(void)
{
    struct ef_dedup *d = ef_dedup_new(64, 1000, EF_DEDUP_TTL_MS);
    struct ef_dedup_result r;
    char id[16], payload[300];
    memset(payload, 'x', sizeof payload);
    for (int i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "b-%d", i);
        ef_dedup_check(d, id, 1000, &r);
        ef_dedup_complete(d, id, "topic", payload, sizeof payload, 1000);
    }
    /* 305 bytes each: three fit in 1000 */
    EXPECT(ef_dedup_count(d) == 3, "count %zu", ef_dedup_count(d));
    EXPECT(ef_dedup_check(d, "b-9", 1000, &r) == EF_DEDUP_DONE && r.len == sizeof payload, "kept");
    EXPECT(ef_dedup_check(d, "b-6", 1000, &r) == EF_DEDUP_NEW, "evicted for bytes");
    ef_dedup_free(d);
}

static void many_ids_and_expiry_in_order(void)
{
    struct ef_dedup *d = ef_dedup_new(EF_DEDUP_ENTRIES, EF_DEDUP_BYTES, 1000);
    struct ef_dedup_result r;
    char id[32];
    int64_t t = 0;
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 1000; i++) {
            snprintf(id, sizeof id, "cmd-%d-%d", round, i);
            EXPECT(ef_dedup_check(d, id, t, &r) == EF_DEDUP_NEW, "%s", id);
            if (i % 3)
                ef_dedup_complete(d, id, "t", "{}", 2, t);
        }
        for (int i = 0; i < 1000; i += 7) {
            snprintf(id, sizeof id, "cmd-%d-%d", round, i);
            EXPECT(ef_dedup_check(d, id, t + 999, &r) != EF_DEDUP_NEW, "%s held", id);
        }
        t += 1000;
    }
    EXPECT(ef_dedup_evicted(d) == 0, "ttl, not capacity, cleared them: %llu",
           (unsigned long long)ef_dedup_evicted(d));
    EXPECT(ef_dedup_count(d) <= 1000, "count %zu", ef_dedup_count(d));
    EXPECT(ef_dedup_check(d, "cmd-0-1", t, &r) == EF_DEDUP_NEW, "old round forgotten");
    ef_dedup_free(d);
    EXPECT(ef_dedup_new(0, 1, 1) == NULL, "zero entries");
}

int main(void)
{
    once_per_id();
    bounded_entries();
    bounded_bytes();
    many_ids_and_expiry_in_order();
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
