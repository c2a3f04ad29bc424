/*
 * test_strmap.c — the string-keyed hash table (lib/common/strmap.c) against a linear search:
 * keys of every length up to 80 bytes (the hash and the key comparison read a key's
 * last bytes in overlapping words), keys that differ in one byte only, keys at every
 * alignment, and keys absent from the table.
 */
#include "common/strmap.h"

#include "check_run.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LEN 80
#define PER_LEN 12

/* Returns the next value of the xorshift64 generator `*state`. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Keys of every length: for each length, PER_LEN keys from a small alphabet (so that
 * near-equal keys are frequent) stored in `buf`, `starts`/`lens` giving each. Returns
 * the number of keys. */
static size_t make_keys(char *buf, size_t *starts, size_t *lens)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull;
    size_t n = 0, o = 0;
    for (size_t len = 0; len <= MAX_LEN; len++)
        for (size_t k = 0; k < PER_LEN; k++) {
            starts[n] = o;
            lens[n] = len;
            for (size_t i = 0; i < len; i++)
                buf[o++] = "ab\x00\xff"[next_random(&rng) % 4];
            n++;
        }
    return n;
}

/* Returns the first key among `n` equal to the `len` bytes at `key`, or -1. */
static long linear_find(const char *buf, const size_t *starts, const size_t *lens, size_t n,
                        const char *key, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (lens[i] == len && memcmp(buf + starts[i], key, len) == 0)
            return (long)i;
    return -1;
}

/* Every key inserted, found and mutated gives what a linear search over the keys gives. */
START_TEST(test_matches_linear_search)
{
    enum { N = (MAX_LEN + 1) * PER_LEN };
    static char buf[N * MAX_LEN], probe[MAX_LEN + 16];
    static size_t starts[N], lens[N], first[N];
    size_t n = make_keys(buf, starts, lens);
    crisk__strmap map;
    crisk__strmap_init(&map);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        size_t index;
        ck_assert_int_eq(crisk__strmap_insert(&map, buf + starts[i], lens[i], &index), 0);
        long seen = linear_find(buf, starts, lens, i, buf + starts[i], lens[i]);
        /* A repeated key keeps the index it got first; a new one takes the next. */
        ck_assert_uint_eq(index, seen >= 0 ? first[seen] : distinct);
        first[i] = index;
        distinct += seen < 0;
    }
    ck_assert_uint_eq(map.size, distinct);
    for (size_t i = 0; i < n; i++) {
        const char *key = buf + starts[i];
        size_t len = lens[i];
        /* The key itself, copied at every alignment of an 8-byte word. */
        for (size_t shift = 0; shift < 8; shift++) {
            memcpy(probe + shift, key, len);
            ck_assert_int_eq(crisk__strmap_find(&map, probe + shift, len), (long)first[i]);
            ck_assert_uint_eq(crisk__hash_bytes(probe + shift, len), crisk__hash_bytes(key, len));
        }
        /* Every one-byte change of it, and the key one byte shorter. */
        for (size_t at = 0; at < len; at++) {
            memcpy(probe, key, len);
            probe[at] = (char)(probe[at] ^ 0x40);
            long want = linear_find(buf, starts, lens, n, probe, len);
            ck_assert_int_eq(crisk__strmap_find(&map, probe, len),
                             want < 0 ? -1 : (long)first[want]);
        }
        if (len) {
            long want = linear_find(buf, starts, lens, n, key, len - 1);
            ck_assert_int_eq(crisk__strmap_find(&map, key, len - 1),
                             want < 0 ? -1 : (long)first[want]);
        }
    }
    crisk__strmap_free(&map);
}
END_TEST

/* Runs the strmap suite. */
int main(void)
{
    Suite *s = suite_create("strmap");
    TCase *tc = tcase_create("strmap");
    tcase_add_test(tc, test_matches_linear_search);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
