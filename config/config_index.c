/* Open addressing with linear probing; grown to keep the load under 1/2. */
#include "config/config_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t hash(const char *key, long tag)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)tag; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h ^ (h >> 29));
}

static struct ef_index_slot *probe(struct ef_index_slot *slots, size_t cap, const char *key,
                                   long tag)
{
    size_t i = hash(key, tag) & (cap - 1);
    while (slots[i].key && (slots[i].tag != tag || strcmp(slots[i].key, key) != 0))
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static int grow(struct ef_index *ix)
{
    size_t cap = ix->cap ? ix->cap * 2 : 64;
    struct ef_index_slot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < ix->cap; i++)
        if (ix->slots[i].key)
            *probe(slots, cap, ix->slots[i].key, ix->slots[i].tag) = ix->slots[i];
    free(ix->slots);
    ix->slots = slots;
    ix->cap = cap;
    return 0;
}

size_t ef_index_put(struct ef_index *ix, const char *key, long tag, size_t value)
{
    if ((ix->n + 1) * 2 > ix->cap && grow(ix) != 0)
        return EF_INDEX_NONE;
    struct ef_index_slot *s = probe(ix->slots, ix->cap, key, tag);
    if (s->key)
        return s->value;
    *s = (struct ef_index_slot){.key = key, .tag = tag, .value = value};
    ix->n++;
    return value;
}

size_t ef_index_get(const struct ef_index *ix, const char *key, long tag)
{
    if (ix->cap == 0)
        return EF_INDEX_NONE;
    const struct ef_index_slot *s = probe(ix->slots, ix->cap, key, tag);
    return s->key ? s->value : EF_INDEX_NONE;
}

void ef_index_free(struct ef_index *ix)
{
    free(ix->slots);
    memset(ix, 0, sizeof *ix);
}
