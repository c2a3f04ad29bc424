/*
 * policy/score_order.c — the ordered multiset of scores of score_order.h: sorted blocks of
 * order-preserving integer keys, found by their first keys, counted by a Fenwick tree,
 * split when full and merged with a neighbour when under half full.
 */
#include "policy/score_order.h"

#include <stdlib.h>
#include <string.h>

/* Returns a key whose unsigned order is the window's order of the finite float `v`: the
 * bits with the sign flipped for positives and all flipped for negatives. Blocks hold
 * keys, so that every comparison is one of integers, which the searches below make
 * without branches (a mispredicted branch a step cost more than the rest of a search). */
static uint32_t key_of(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u & 0x80000000u ? ~u : u | 0x80000000u;
}

/* Returns the float whose key is `k`. */
static float value_of(uint32_t k)
{
    uint32_t u = k & 0x80000000u ? k & 0x7fffffffu : ~k;
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* Returns the first position in the ascending `a` of `n` whose key is above `k` (when
 * `above`) or not below it, by binary search: each step adds half or nothing to the
 * position by arithmetic, not by a branch the processor would mispredict. */
static size_t search(const uint32_t *a, size_t n, uint32_t k, int above)
{
    if (n == 0)
        return 0;
    size_t lo = 0;
    while (n > 1) {
        size_t half = n / 2;
        uint32_t x = a[lo + half - 1];
        lo += half * (size_t)(above ? x <= k : x < k);
        n -= half;
    }
    return lo + (above ? a[lo] <= k : a[lo] < k);
}

/* As search, within a block: a count of the keys before the position, which the compiler
 * vectorises. Its loads are independent, where a binary search would wait on a cache miss
 * a step (a block is seldom in the first-level cache). */
static size_t count_before(const uint32_t *a, size_t n, uint32_t k, int above)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += above ? a[i] <= k : a[i] < k;
    return c;
}

/* Returns the keys of block `i`. */
static uint32_t *keys_of(const crisk__score_order *o, size_t i)
{
    return o->store + (size_t)o->blocks[i].at * o->block;
}

/* Returns the block where key `k` goes, or is: the last whose first key is not above it
 * (block 0 for a key below every block). */
static size_t block_of(const crisk__score_order *o, uint32_t k)
{
    size_t i = search(o->first, o->nblocks, k, 1);
    return i ? i - 1 : 0;
}

/* Rebuilds the Fenwick tree after blocks came or went, in O(nblocks). */
static void fenwick_rebuild(crisk__score_order *o)
{
    size_t n = o->nblocks;
    for (size_t k = 1; k <= n; k++)
        o->fenwick[k] = o->blocks[k - 1].len;
    for (size_t k = 1; k <= n; k++) {
        size_t up = k + (k & -k);
        if (up <= n)
            o->fenwick[up] += o->fenwick[k];
    }
    o->fenwick_top = 0;
    for (size_t p = 1; p <= n; p *= 2)
        o->fenwick_top = p;
}

/* Adds `delta` to the size of block `i` in the Fenwick tree. */
static void fenwick_add(crisk__score_order *o, size_t i, int delta)
{
    for (size_t k = i + 1; k <= o->nblocks; k += k & -k)
        o->fenwick[k] += (uint32_t)delta;
}

/* Returns the values held by blocks [0, i). */
static size_t fenwick_prefix(const crisk__score_order *o, size_t i)
{
    size_t sum = 0;
    for (size_t k = i; k > 0; k -= k & -k)
        sum += o->fenwick[k];
    return sum;
}

int crisk__score_order_init(crisk__score_order *o, size_t capacity)
{
    memset(o, 0, sizeof *o);
    size_t block = 16;
    while (block < 4096 && block * block < capacity)
        block *= 2;
    /* Every block is at least half full when there are two: at most 2 * capacity / block
     * of them, and one more while a full one splits. */
    size_t most = 2 * (capacity / block) + 2;
    o->store = malloc(most * block * sizeof *o->store);
    o->blocks = malloc(most * sizeof *o->blocks);
    o->first = malloc(most * sizeof *o->first);
    o->free_places = malloc(most * sizeof *o->free_places);
    o->fenwick = malloc((most + 1) * sizeof *o->fenwick);
    if (!o->store || !o->blocks || !o->first || !o->free_places || !o->fenwick) {
        crisk__score_order_free(o);
        return -1;
    }
    o->block = block;
    o->max_blocks = most;
    for (size_t k = 0; k < most; k++)
        o->free_places[k] = (uint32_t)(most - 1 - k);
    o->nfree = most;
    return 0;
}

void crisk__score_order_free(crisk__score_order *o)
{
    free(o->store);
    free(o->blocks);
    free(o->first);
    free(o->free_places);
    free(o->fenwick);
    memset(o, 0, sizeof *o);
}

/* Inserts an empty block at position `i` of the order and returns its keys. The caller
 * fills it and rebuilds the Fenwick tree. */
static uint32_t *open_block(crisk__score_order *o, size_t i)
{
    memmove(o->blocks + i + 1, o->blocks + i, (o->nblocks - i) * sizeof *o->blocks);
    memmove(o->first + i + 1, o->first + i, (o->nblocks - i) * sizeof *o->first);
    o->blocks[i] = (crisk__score_block){0, o->free_places[--o->nfree]};
    o->nblocks++;
    return keys_of(o, i);
}

/* Removes block `i` from the order and frees its place. The caller rebuilds the Fenwick
 * tree. */
static void close_block(crisk__score_order *o, size_t i)
{
    o->free_places[o->nfree++] = o->blocks[i].at;
    memmove(o->blocks + i, o->blocks + i + 1, (o->nblocks - i - 1) * sizeof *o->blocks);
    memmove(o->first + i, o->first + i + 1, (o->nblocks - i - 1) * sizeof *o->first);
    o->nblocks--;
}

/* Splits the full block `i` into two halves. */
static void split(crisk__score_order *o, size_t i)
{
    size_t half = o->block / 2;
    uint32_t *right = open_block(o, i + 1), *left = keys_of(o, i);
    memcpy(right, left + half, (o->block - half) * sizeof *right);
    o->blocks[i + 1].len = (uint32_t)(o->block - half);
    o->first[i + 1] = right[0];
    o->blocks[i].len = (uint32_t)half;
    fenwick_rebuild(o);
}

/* Restores the half-full rule after block `i` fell under it: merges it with a neighbour
 * when both fit one block, else evens the two out. */
static void refill(crisk__score_order *o, size_t i)
{
    size_t l = i + 1 < o->nblocks ? i : i - 1, r = l + 1;
    crisk__score_block *bl = &o->blocks[l], *br = &o->blocks[r];
    uint32_t *a = keys_of(o, l), *b = keys_of(o, r);
    size_t total = (size_t)bl->len + br->len;
    if (total <= o->block) {
        memcpy(a + bl->len, b, br->len * sizeof *a);
        bl->len = (uint32_t)total;
        close_block(o, r);
    } else if (bl->len < total / 2) {
        size_t move = total / 2 - bl->len;
        memcpy(a + bl->len, b, move * sizeof *a);
        memmove(b, b + move, (br->len - move) * sizeof *b);
        bl->len += (uint32_t)move;
        br->len -= (uint32_t)move;
        o->first[r] = b[0];
    } else {
        size_t move = bl->len - total / 2;
        memmove(b + move, b, br->len * sizeof *b);
        memcpy(b, a + bl->len - move, move * sizeof *b);
        bl->len -= (uint32_t)move;
        br->len += (uint32_t)move;
        o->first[r] = b[0];
    }
    o->first[l] = a[0];
    fenwick_rebuild(o);
}

void crisk__score_order_insert(crisk__score_order *o, float v)
{
    uint32_t k = key_of(v);
    size_t i = 0;
    if (o->nblocks == 0) {
        open_block(o, 0);
        fenwick_rebuild(o);
    } else {
        i = block_of(o, k);
    }
    if (o->blocks[i].len == o->block) {
        split(o, i);
        i += o->first[i + 1] <= k;
    }
    crisk__score_block *bk = &o->blocks[i];
    uint32_t *a = keys_of(o, i);
    size_t at = count_before(a, bk->len, k, 1);
    memmove(a + at + 1, a + at, (bk->len - at) * sizeof *a);
    a[at] = k;
    bk->len++;
    o->first[i] = a[0];
    fenwick_add(o, i, 1);
    o->count++;
}

void crisk__score_order_remove(crisk__score_order *o, float v)
{
    uint32_t k = key_of(v);
    size_t i = block_of(o, k);
    crisk__score_block *bk = &o->blocks[i];
    uint32_t *a = keys_of(o, i);
    size_t at = count_before(a, bk->len, k, 1) - 1; /* a key of v's bits */
    memmove(a + at, a + at + 1, (bk->len - at - 1) * sizeof *a);
    bk->len--;
    o->first[i] = a[0];
    fenwick_add(o, i, -1);
    o->count--;
    if (bk->len == 0) {
        close_block(o, i); /* the only block: the others are at least half full */
        fenwick_rebuild(o);
    } else if (o->nblocks > 1 && bk->len < o->block / 2) {
        refill(o, i);
    }
}

float crisk__score_order_at(const crisk__score_order *o, size_t i)
{
    size_t k = 0; /* blocks wholly before rank i */
    for (size_t step = o->fenwick_top; step; step /= 2)
        if (k + step <= o->nblocks && o->fenwick[k + step] <= i) {
            k += step;
            i -= o->fenwick[k];
        }
    return value_of(keys_of(o, k)[i]);
}

size_t crisk__score_order_below(const crisk__score_order *o, float v)
{
    /* Below v (float <) is below -0 when v is a zero of either sign. */
    uint32_t k = key_of(v == 0 ? -0.0f : v);
    /* Blocks whose first key is below k: all but the last of them lie wholly below. */
    size_t i = search(o->first, o->nblocks, k, 0);
    if (i == 0)
        return 0;
    return fenwick_prefix(o, i - 1) + count_before(keys_of(o, i - 1), o->blocks[i - 1].len, k, 0);
}

/* One stable counting pass of a radix sort: `n` keys from `src` to `dst` by their 11 bits
 * from `shift`. */
static void radix_pass(const uint32_t *src, uint32_t *dst, size_t n, int shift)
{
    size_t count[2049] = {0};
    for (size_t i = 0; i < n; i++)
        count[((src[i] >> shift) & 2047) + 1]++;
    for (size_t d = 1; d < 2049; d++)
        count[d] += count[d - 1];
    for (size_t i = 0; i < n; i++)
        dst[count[(src[i] >> shift) & 2047]++] = src[i];
}

void crisk__score_order_fill(crisk__score_order *o, const float *values, size_t n,
                             uint32_t *tmp)
{
    if (n == 0)
        return;
    /* Three passes of 11 bits, the store as the other buffer: a load stays linear in the
     * size of the state (qsort's comparisons were most of the time of a large load). */
    for (size_t i = 0; i < n; i++)
        tmp[i] = key_of(values[i]);
    radix_pass(tmp, o->store, n, 0);
    radix_pass(o->store, tmp, n, 11);
    radix_pass(tmp, o->store, n, 22);
    /* Then as few blocks as hold them, evenly filled (so each is at least half full), each
     * moved to its place from the last: a block's place is never before its keys. */
    size_t nb = (n + o->block - 1) / o->block;
    for (size_t k = 0; k < nb; k++)
        o->blocks[k] = (crisk__score_block){(uint32_t)(n * (k + 1) / nb - n * k / nb),
                                             (uint32_t)k};
    for (size_t k = nb; k-- > 0;) {
        uint32_t *dst = o->store + k * o->block;
        memmove(dst, o->store + n * k / nb, o->blocks[k].len * sizeof *dst);
        o->first[k] = dst[0];
    }
    o->nblocks = nb;
    o->nfree = 0;
    for (size_t k = o->max_blocks; k-- > nb;)
        o->free_places[o->nfree++] = (uint32_t)k;
    o->count = n;
    fenwick_rebuild(o);
}
