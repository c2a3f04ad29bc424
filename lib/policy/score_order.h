/*
 * policy/score_order.h — the lane state's window of scores in ascending order: a multiset of
 * finite floats with the i-th smallest and the count below a score in O(log n), and an
 * insertion or removal in O(sqrt(capacity)) rather than the O(n) move of one sorted array.
 * Internal to the library.
 *
 * The values sit in sorted blocks of at most `block` (a power of two near the square root
 * of the capacity), every block at least half full once there are two; a Fenwick tree over
 * the blocks' sizes finds which block holds the i-th value. The order is ascending with -0
 * before +0, so equal values are equal bits and the order depends only on the values held,
 * never on how they arrived. Nothing allocates after crisk__score_order_init.
 */
#ifndef CRISK_SCORE_ORDER_H
#define CRISK_SCORE_ORDER_H

#include <stddef.h>
#include <stdint.h>

/* A block of values, in the order of its values among the blocks. Values are held as keys
 * whose unsigned order is the window's order (score_order.c, key_of). */
typedef struct crisk__score_block {
    uint32_t len;   /* values it holds, 1 to block */
    uint32_t at;    /* its place in the store */
} crisk__score_block;

typedef struct crisk__score_order {
    size_t count;               /* values held */
    size_t block;               /* most values a block holds */
    size_t nblocks, max_blocks;
    uint32_t *store;            /* max_blocks places of `block` keys */
    crisk__score_block *blocks; /* nblocks, in ascending order of their values */
    uint32_t *first;            /* the key of each block's smallest value */
    uint32_t *free_places;      /* the places no block uses, a stack */
    size_t nfree;
    uint32_t *fenwick;          /* 1-based Fenwick tree over blocks[].len */
    size_t fenwick_top;         /* the largest power of two <= nblocks, 0 when empty */
} crisk__score_order;

/* Makes `o` an empty multiset of at most `capacity` (>= 1) values. Returns 0, or -1 when
 * out of memory (`o` is then empty and crisk__score_order_free is safe). */
int crisk__score_order_init(crisk__score_order *o, size_t capacity);

/* Frees what `o` holds. */
void crisk__score_order_free(crisk__score_order *o);

/* Adds finite `v`; the multiset must hold fewer than its capacity. */
void crisk__score_order_insert(crisk__score_order *o, float v);

/* Removes one value with the bits of `v`, which the multiset must hold. */
void crisk__score_order_remove(crisk__score_order *o, float v);

/* Returns the value of rank `i` (0: the smallest; i < o->count). */
float crisk__score_order_at(const crisk__score_order *o, size_t i);

/* Returns how many values are below `v` (float <: -0 is not below +0). */
size_t crisk__score_order_below(const crisk__score_order *o, float v);

/* Makes the empty `o` hold the `n` (<= capacity) finite `values`, sorting them in linear
 * time through `tmp` (n keys of scratch); `values` is left as it was. */
void crisk__score_order_fill(crisk__score_order *o, const float *values, size_t n,
                             uint32_t *tmp);

#endif /* CRISK_SCORE_ORDER_H */
