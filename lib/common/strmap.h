/*
 * common/strmap.h — a string-keyed open-addressing hash table (linear probing) that numbers its
 * keys 0..n-1 in order of insertion. Keys are copied into one growing arena, so adding a
 * key allocates only when an array has to grow (amortised doubling), and looking one up
 * never allocates. Used for category dictionaries and risk-indicator tables. Internal.
 *
 * Hash: a multiply-xorshift mix over 8-byte words written here (wyhash-style) rather than
 * taken from a library: keys are short (a few ids joined), the table needs no
 * cryptographic strength (a hostile file only slows its own table, bounded by its size),
 * and the library's dependencies (cJSON, OpenSSL's libcrypto, OpenBLAS, pthreads) offer
 * no fast non-cryptographic hash.
 */
#ifndef CRISK_STRMAP_H
#define CRISK_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct crisk__strmap_entry {
    uint64_t hash;    /* kept so that growing never rehashes a key */
    size_t   offset;  /* of the key's record in the arena */
} crisk__strmap_entry;

typedef struct crisk__strmap {
    /* capacity slots: 0 = empty, else (record offset / 4 + 1) | high 32 bits of the hash
     * << 32, so that a probe compares hashes without touching the arena, and a match
     * leads straight to the key's record. */
    uint64_t *slots;
    size_t capacity;            /* a power of two, or 0 before the first insertion */
    crisk__strmap_entry *entries;
    size_t size, entries_cap;
    /* One record per key, 4-byte aligned: uint32 index, uint32 length, the key's bytes.
     * A lookup reads a slot and then one record: two cache misses in a large table, not
     * three through a separate entry array. */
    char *arena;
    size_t arena_len, arena_cap;
} crisk__strmap;

/* Returns a 64-bit hash of `len` bytes at `key`. */
uint64_t crisk__hash_bytes(const void *key, size_t len);

/* Makes `map` an empty table (no allocation). */
void crisk__strmap_init(crisk__strmap *map);

/* Frees what `map` holds and leaves it empty. */
void crisk__strmap_free(crisk__strmap *map);

/* Returns the index of `len` bytes at `key`, or -1 when the key is not in the map. */
long crisk__strmap_find(const crisk__strmap *map, const char *key, size_t len);

/* As crisk__strmap_find, given the key's hash `h` (crisk__hash_bytes). */
long crisk__strmap_find_hashed(const crisk__strmap *map, const char *key, size_t len,
                               uint64_t h);

/* Asks the processor to bring the slot of hash `h` into cache, so that a later lookup of
 * that key overlaps its memory wait with other work. */
static inline void crisk__strmap_prefetch(const crisk__strmap *map, uint64_t h)
{
    if (map->capacity)
        __builtin_prefetch(&map->slots[(size_t)h & (map->capacity - 1)]);
}

/* The second step of a pipelined lookup, after crisk__strmap_prefetch(map, h): reads the
 * home slot of hash `h` and, when its tag matches, prefetches the key record it names. */
static inline void crisk__strmap_prefetch_record(const crisk__strmap *map, uint64_t h)
{
    if (!map->capacity)
        return;
    uint64_t v = map->slots[(size_t)h & (map->capacity - 1)];
    if (v && v >> 32 == h >> 32)
        __builtin_prefetch(map->arena + ((size_t)(uint32_t)v - 1) * 4);
}

/* Stores in `*index` the index of the key, adding it (as index size-1) when absent.
 * Returns 0, or CRISK_E_NOMEM / CRISK_E_LIMIT (2^32 - 2 keys) without changing the map. */
int crisk__strmap_insert(crisk__strmap *map, const char *key, size_t len, size_t *index);

/* Returns the key with index `i` (not NUL-terminated) and stores its length in `*len`. */
const char *crisk__strmap_key(const crisk__strmap *map, size_t i, size_t *len);

#endif /* CRISK_STRMAP_H */
