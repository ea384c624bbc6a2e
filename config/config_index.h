/* A string-keyed hash index for the loader, so that looking up a section,
 * an owner or a (bus, unit) pair costs the same with 200,000 points as with
 * ten: every check over the file stays linear in its size.
 *
 * Keys are borrowed: the caller keeps each key string alive and unchanged
 * for as long as the index is used. A key is the string plus an integer TAG
 * (a section kind, a unit), so one index can hold several namespaces. */
#ifndef EF_CONFIG_INDEX_H
#define EF_CONFIG_INDEX_H

#include <stdbool.h>
#include <stddef.h>

struct ef_index_slot {
    const char *key; /* NULL: empty */
    long tag;
    size_t value;
};

struct ef_index {
    struct ef_index_slot *slots;
    size_t cap; /* a power of two, or 0 before the first insertion */
    size_t n;
};

#define EF_INDEX_NONE ((size_t)-1)

/* Adds KEY/TAG -> VALUE unless the key is there. Returns the value stored
 * for the key (VALUE when it was added, the earlier one otherwise), or
 * EF_INDEX_NONE when out of memory. */
size_t ef_index_put(struct ef_index *ix, const char *key, long tag, size_t value);

/* The value of KEY/TAG, or EF_INDEX_NONE. */
size_t ef_index_get(const struct ef_index *ix, const char *key, long tag);

void ef_index_free(struct ef_index *ix);

#endif
