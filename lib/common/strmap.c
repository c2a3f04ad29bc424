/*
 * common/strmap.c — the string-keyed hash table of strmap.h.
 */
#include "common/strmap.h"

#include "common/grow.h"

#include "crisk.h"

#include <stdlib.h>
#include <string.h>

/* Returns the 128-bit product of a and b folded to 64 bits (high xor low). */
static uint64_t mix(uint64_t a, uint64_t b)
{
    /* Two 32x32 halves would lose the carry; unsigned __int128 is in gcc and clang. */
    __extension__ unsigned __int128 p = (unsigned __int128)a * b;
    return (uint64_t)p ^ (uint64_t)(p >> 64);
}

/* Returns the little-endian 64-bit word at `p`. */
static uint64_t read_word(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8); /* x86-64 and aarch64 are little-endian; other hosts still hash */
    return w;
}

/* Returns the little-endian 32-bit word at `p`. */
static uint32_t read_half(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, 4);
    return w;
}

/* Returns a word made of the last 1 to 7 bytes of a key (`n` of them at `p`), read in at
 * most two loads that may overlap: assembling them byte by byte in memory and loading
 * the word back stalls on store forwarding, which cost more than the hash's multiplies. */
static uint64_t read_tail(const unsigned char *p, size_t n)
{
    if (n >= 4)
        return (uint64_t)read_half(p) << 32 | read_half(p + n - 4);
    return (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
}

/* Returns the 64-bit hash of the bytes: 8-byte words folded in by 128-bit multiplies.
 * The key's length is in the seed, so the tail's overlapping reads cannot make keys of
 * different lengths alike. */
uint64_t crisk__hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = 0x243f6a8885a308d3ull ^ (len * 0x9e3779b97f4a7c15ull);
    size_t n = len;
    while (n > 8) {
        h = mix(h ^ read_word(p), 0xa0761d6478bd642full);
        p += 8;
        n -= 8;
    }
    if (len >= 8) /* the last 1 to 8 bytes, as the word that ends the key */
        h = mix(h ^ read_word(p + n - 8), 0xe7037ed1a0b428dbull);
    else if (len)
        h = mix(h ^ read_tail(p, len), 0xe7037ed1a0b428dbull);
    return mix(h, 0x8ebc6af09c88c6e3ull);
}

/* Makes `map` empty without allocating. */
void crisk__strmap_init(crisk__strmap *map)
{
    memset(map, 0, sizeof *map);
}

/* Frees the map's arrays and leaves it empty. */
void crisk__strmap_free(crisk__strmap *map)
{
    free(map->slots);
    free(map->entries);
    free(map->arena);
    crisk__strmap_init(map);
}

/* Reads the uint32 at `p` (records are 4-byte aligned, but memcpy says so portably). */
static uint32_t read_u32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Returns the record a non-empty slot value names. */
static const char *record_of(const crisk__strmap *map, uint64_t v)
{
    return map->arena + ((size_t)(uint32_t)v - 1) * 4;
}

/* Returns 1 when the `len` bytes at `a` and `b` are equal. Keys are short, so words are
 * compared inline (the last ones overlapping) rather than through a call to memcmp. */
static int same_bytes(const char *a, const char *b, size_t len)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    if (len < 8)
        return len == 0 || read_tail(x, len) == read_tail(y, len);
    uint64_t diff = 0;
    for (size_t i = 0; i + 8 < len; i += 8)
        diff |= read_word(x + i) ^ read_word(y + i);
    return (diff | (read_word(x + len - 8) ^ read_word(y + len - 8))) == 0;
}

/* Returns the slot where key (`key`, `len`, hash `h`) is, or the empty slot where it
 * would go. The table always has an empty slot (load factor <= 1/2). */
static size_t probe(const crisk__strmap *map, const char *key, size_t len, uint64_t h)
{
    size_t mask = map->capacity - 1, s = (size_t)h & mask;
    uint64_t tag = h >> 32;
    for (;;) {
        uint64_t v = map->slots[s];
        if (v == 0)
            return s;
        if (v >> 32 == tag) {
            const char *rec = record_of(map, v);
            if (read_u32(rec + 4) == len && same_bytes(rec + 8, key, len))
                return s;
        }
        s = (s + 1) & mask;
    }
}

/* Returns the index of the key with hash `h`, or -1. */
long crisk__strmap_find_hashed(const crisk__strmap *map, const char *key, size_t len,
                               uint64_t h)
{
    if (map->size == 0)
        return -1;
    uint64_t v = map->slots[probe(map, key, len, h)];
    return v ? (long)read_u32(record_of(map, v)) : -1;
}

/* Returns the index of the key, or -1. */
long crisk__strmap_find(const crisk__strmap *map, const char *key, size_t len)
{
    return crisk__strmap_find_hashed(map, key, len, crisk__hash_bytes(key, len));
}

/* Returns the slot value of the record at arena offset `offset` with hash `h`. */
static uint64_t slot_value(size_t offset, uint64_t h)
{
    return (h >> 32 << 32) | (uint64_t)(offset / 4 + 1);
}

/* Doubles the slot array (16 at first) and re-places every key by its stored hash.
 * Returns 0 or CRISK_E_NOMEM. */
static int grow_slots(crisk__strmap *map)
{
    size_t cap = map->capacity ? map->capacity * 2 : 16;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return CRISK_E_NOMEM;
    for (size_t i = 0; i < map->size; i++) {
        uint64_t h = map->entries[i].hash;
        size_t s = (size_t)h & (cap - 1);
        while (slots[s])
            s = (s + 1) & (cap - 1);
        slots[s] = slot_value(map->entries[i].offset, h);
    }
    free(map->slots);
    map->slots = slots;
    map->capacity = cap;
    return 0;
}

/* Finds or adds a key; see strmap.h. */
int crisk__strmap_insert(crisk__strmap *map, const char *key, size_t len, size_t *index)
{
    if (len > UINT32_MAX)
        return CRISK_E_LIMIT;
    uint64_t h = crisk__hash_bytes(key, len);
    if (map->size) {
        uint64_t v = map->slots[probe(map, key, len, h)];
        if (v) {
            *index = read_u32(record_of(map, v));
            return 0;
        }
    }
    size_t bytes = 8 + (len + 3) / 4 * 4; /* the record, padded to keep the next aligned */
    if (map->size >= UINT32_MAX - 1 || (map->arena_len + bytes) / 4 >= UINT32_MAX)
        return CRISK_E_LIMIT;
    if ((map->size + 1) * 2 > map->capacity && grow_slots(map))
        return CRISK_E_NOMEM;
    if (crisk__grow((void **)&map->entries, &map->entries_cap, map->size + 1,
                    sizeof *map->entries, 16)
        || crisk__grow((void **)&map->arena, &map->arena_cap, map->arena_len + bytes, 1, 16))
        return CRISK_E_NOMEM;
    crisk__strmap_entry *e = &map->entries[map->size];
    e->offset = map->arena_len;
    e->hash = h;
    char *rec = map->arena + map->arena_len;
    uint32_t head[2] = {(uint32_t)map->size, (uint32_t)len};
    memcpy(rec, head, sizeof head);
    if (len)
        memcpy(rec + 8, key, len);
    memset(rec + 8 + len, 0, bytes - 8 - len);
    map->arena_len += bytes;
    map->slots[probe(map, key, len, h)] = slot_value(e->offset, h);
    *index = map->size++;
    return 0;
}

/* Returns key `i` and its length. */
const char *crisk__strmap_key(const crisk__strmap *map, size_t i, size_t *len)
{
    const char *rec = map->arena + map->entries[i].offset;
    *len = read_u32(rec + 4);
    return rec + 8;
}
