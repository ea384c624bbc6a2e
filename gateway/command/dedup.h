/* The ids of recent commands, so that a QoS 1 redelivery is never executed
 * twice: the first result is sent again instead.
 *
 * Bounded: at most MAX_ENTRIES ids and about MAX_BYTES of stored results;
 * when either is full the oldest entry goes first (counted in evicted).
 * An entry lives TTL_MS from its arrival, or from its result once that is
 * stored. Lookups hash the id: constant time on average. All times are the
 * caller's monotonic milliseconds, so tests drive the clock.
 *
 * Not thread-safe: the publisher (check) and the bus threads (complete)
 * share one cache under one mutex. Allocates only in ef_dedup_new() and
 * when a result is stored. */
#ifndef EF_CMD_DEDUP_H
#define EF_CMD_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define EF_DEDUP_TTL_MS (10 * 60 * 1000)
#define EF_DEDUP_ENTRIES 1024
#define EF_DEDUP_BYTES (1024 * 1024)

struct ef_dedup;

/* NULL when out of memory. */
struct ef_dedup *ef_dedup_new(size_t max_entries, size_t max_bytes, int64_t ttl_ms);
void ef_dedup_free(struct ef_dedup *d);

enum ef_dedup_seen {
    EF_DEDUP_NEW,     /* first time within the TTL: now recorded as pending; execute it */
    EF_DEDUP_PENDING, /* the first one is still executing: do not execute; the
                       * count returned by ef_dedup_complete() includes this one */
    EF_DEDUP_DONE,    /* executed: do not execute; send *first again */
};

/* The stored first result. Pointers stay valid until the next call on the
 * cache (copy them while holding its lock). PAYLOAD is NULL when memory ran
 * out while storing it. */
struct ef_dedup_result {
    const char *topic;
    const char *payload;
    size_t len;
};

/* Looks ID (NUL-terminated, at most 64 characters) up at NOW_MS. FIRST is
 * filled for EF_DEDUP_DONE. */
enum ef_dedup_seen ef_dedup_check(struct ef_dedup *d, const char *id, int64_t now_ms,
                                  struct ef_dedup_result *first);

/* Stores the first result of ID (TOPIC, and LEN bytes of PAYLOAD, both
 * copied) and restarts its TTL. Returns how many redeliveries arrived while
 * it was pending (EF_DEDUP_PENDING answers): send the result that many
 * times more. An ID that is not pending (evicted meanwhile) is stored anew. */
unsigned ef_dedup_complete(struct ef_dedup *d, const char *id, const char *topic,
                           const char *payload, size_t len, int64_t now_ms);

size_t ef_dedup_count(const struct ef_dedup *d);  /* ids held now */
uint64_t ef_dedup_evicted(const struct ef_dedup *d); /* dropped before their TTL */

#endif
