/* The id cache: a ring of slots in arrival order (eviction is oldest
 * first) plus hash chains over the same slots (lookup by id). */
#include "gateway/command/dedup.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/command/cmd_json.h"

struct entry {
    char id[EF_CMD_ID_MAX + 1];
    bool live; /* in a hash chain; a dead slot waits in the ring to be popped */
    bool done;
    unsigned waiters;
    int64_t expires_ms;
    int32_t next; /* next slot of the same chain, or -1 */
    char *topic, *payload;
    size_t len;
};

struct ef_dedup {
    struct entry *e;
    size_t cap, head, count; /* ring */
    int32_t *bucket;
    size_t nbucket; /* a power of two, at least twice cap */
    size_t bytes, max_bytes, live;
    int64_t ttl_ms;
    uint64_t evicted;
};

static size_t hash(const struct ef_dedup *d, const char *id)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *id; id++)
        h = (h ^ (unsigned char)*id) * 16777619u;
    return h & (d->nbucket - 1);
}

struct ef_dedup *ef_dedup_new(size_t max_entries, size_t max_bytes, int64_t ttl_ms)
{
    if (max_entries == 0 || max_entries > (1u << 20))
        return NULL;
    struct ef_dedup *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cap = max_entries;
    d->max_bytes = max_bytes;
    d->ttl_ms = ttl_ms;
    for (d->nbucket = 2; d->nbucket < 2 * max_entries; d->nbucket *= 2)
        ;
    d->e = calloc(max_entries, sizeof *d->e);
    d->bucket = malloc(d->nbucket * sizeof *d->bucket);
    if (!d->e || !d->bucket) {
        ef_dedup_free(d);
        return NULL;
    }
    for (size_t i = 0; i < d->nbucket; i++)
        d->bucket[i] = -1;
    return d;
}

static void drop_result(struct ef_dedup *d, struct entry *e)
{
    if (e->topic || e->payload)
        d->bytes -= (e->topic ? strlen(e->topic) : 0) + e->len;
    free(e->topic);
    free(e->payload);
    e->topic = e->payload = NULL;
    e->len = 0;
}

void ef_dedup_free(struct ef_dedup *d)
{
    if (!d)
        return;
    for (size_t i = 0; d->e && i < d->cap; i++) {
        free(d->e[i].topic);
        free(d->e[i].payload);
    }
    free(d->e);
    free(d->bucket);
    free(d);
}

static void unlink_slot(struct ef_dedup *d, int32_t slot)
{
    struct entry *e = &d->e[slot];
    int32_t *at = &d->bucket[hash(d, e->id)];
    while (*at != slot)
        at = &d->e[*at].next;
    *at = e->next;
    e->live = false;
    drop_result(d, e);
    d->live--;
}

static void pop_head(struct ef_dedup *d, int64_t now)
{
    struct entry *e = &d->e[d->head];
    if (e->live) {
        if (e->expires_ms > now)
            d->evicted++;
        unlink_slot(d, (int32_t)d->head);
    }
    d->head = (d->head + 1) % d->cap;
    d->count--;
}

static void expire(struct ef_dedup *d, int64_t now)
{
    while (d->count && (!d->e[d->head].live || d->e[d->head].expires_ms <= now))
        pop_head(d, now);
}

/* The live slot of ID, or -1; an expired one found on the way is dropped. */
static int32_t find(struct ef_dedup *d, const char *id, int64_t now)
{
    for (int32_t s = d->bucket[hash(d, id)]; s >= 0; s = d->e[s].next) {
        if (strcmp(d->e[s].id, id) != 0)
            continue;
        if (d->e[s].expires_ms > now)
            return s;
        unlink_slot(d, s);
        return -1;
    }
    return -1;
}

static int32_t insert(struct ef_dedup *d, const char *id, int64_t now)
{
    if (d->count == d->cap)
        pop_head(d, now);
    int32_t s = (int32_t)((d->head + d->count) % d->cap);
    struct entry *e = &d->e[s];
    d->count++;
    snprintf(e->id, sizeof e->id, "%s", id);
    e->live = true;
    e->done = false;
    e->waiters = 0;
    e->expires_ms = now + d->ttl_ms;
    size_t h = hash(d, e->id);
    e->next = d->bucket[h];
    d->bucket[h] = s;
    d->live++;
    return s;
}

enum ef_dedup_seen ef_dedup_check(struct ef_dedup *d, const char *id, int64_t now_ms,
                                  struct ef_dedup_result *first)
{
    expire(d, now_ms);
    int32_t s = find(d, id, now_ms);
    if (s < 0) {
        insert(d, id, now_ms);
        return EF_DEDUP_NEW;
    }
    struct entry *e = &d->e[s];
    if (!e->done) {
        e->waiters++;
        return EF_DEDUP_PENDING;
    }
    first->topic = e->topic;
    first->payload = e->payload;
    first->len = e->len;
    return EF_DEDUP_DONE;
}

static char *copy(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

unsigned ef_dedup_complete(struct ef_dedup *d, const char *id, const char *topic,
                           const char *payload, size_t len, int64_t now_ms)
{
    expire(d, now_ms);
    int32_t s = find(d, id, now_ms);
    if (s < 0)
        s = insert(d, id, now_ms);
    struct entry *e = &d->e[s];
    unsigned waiters = e->waiters;
    drop_result(d, e);
    e->topic = copy(topic, strlen(topic));
    e->payload = copy(payload, len);
    if (!e->topic || !e->payload) {
        free(e->topic);
        free(e->payload);
        e->topic = e->payload = NULL;
    } else {
        e->len = len;
        d->bytes += strlen(topic) + len;
    }
    e->done = true;
    e->waiters = 0;
    e->expires_ms = now_ms + d->ttl_ms;
    /* Over the byte budget: the oldest go, never the one just stored. */
    while (d->bytes > d->max_bytes && d->head != (size_t)s)
        pop_head(d, now_ms);
    return waiters;
}

size_t ef_dedup_count(const struct ef_dedup *d) { return d->live; }

uint64_t ef_dedup_evicted(const struct ef_dedup *d) { return d->evicted; }
