/*
 * policy/score_order.c — the ordered multiset of scores of score_order.h: sorted blocks
 * found by their first values, counted by a Fenwick tree, split when full and merged with a
 * neighbour when under half full.
 */
#include "policy/score_order.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The order: ascending, -0 before +0. */
static int before(float a, float b)
{
    return a < b || (a == b && signbit(a) && !signbit(b));
}

/* Returns the first position in the ascending `a` of `n` whose value comes after `v`. */
static size_t upper_bound(const float *a, size_t n, float v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (before(v, a[mid]))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

size_t crisk__scores_below(const float *a, size_t n, float v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Returns the values of block `i`. */
static float *values_of(const crisk__score_order *o, size_t i)
{
    return o->store + (size_t)o->blocks[i].at * o->block;
}

/* Returns the block where `v` goes, or is: the last whose first value does not come after
 * it (block 0 for a value before every block). */
static size_t block_of(const crisk__score_order *o, float v)
{
    size_t lo = 0, hi = o->nblocks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (before(v, o->blocks[mid].first))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo ? lo - 1 : 0;
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
    o->free_places = malloc(most * sizeof *o->free_places);
    o->fenwick = malloc((most + 1) * sizeof *o->fenwick);
    if (!o->store || !o->blocks || !o->free_places || !o->fenwick) {
        crisk__score_order_free(o);
        return -1;
    }
    o->capacity = capacity;
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
    free(o->free_places);
    free(o->fenwick);
    memset(o, 0, sizeof *o);
}

/* Inserts an empty block at position `i` of the order and returns its values. The caller
 * fills it and rebuilds the Fenwick tree. */
static float *open_block(crisk__score_order *o, size_t i)
{
    memmove(o->blocks + i + 1, o->blocks + i, (o->nblocks - i) * sizeof *o->blocks);
    o->blocks[i] = (crisk__score_block){0.0f, 0, o->free_places[--o->nfree]};
    o->nblocks++;
    return values_of(o, i);
}

/* Removes block `i` from the order and frees its place. The caller rebuilds the Fenwick
 * tree. */
static void close_block(crisk__score_order *o, size_t i)
{
    o->free_places[o->nfree++] = o->blocks[i].at;
    memmove(o->blocks + i, o->blocks + i + 1, (o->nblocks - i - 1) * sizeof *o->blocks);
    o->nblocks--;
}

/* Splits the full block `i` into two halves. */
static void split(crisk__score_order *o, size_t i)
{
    size_t half = o->block / 2;
    float *right = open_block(o, i + 1), *left = values_of(o, i);
    memcpy(right, left + half, (o->block - half) * sizeof *right);
    o->blocks[i + 1].len = (uint32_t)(o->block - half);
    o->blocks[i + 1].first = right[0];
    o->blocks[i].len = (uint32_t)half;
    fenwick_rebuild(o);
}

/* Restores the half-full rule after block `i` fell under it: merges it with a neighbour
 * when both fit one block, else evens the two out. */
static void refill(crisk__score_order *o, size_t i)
{
    size_t l = i + 1 < o->nblocks ? i : i - 1, r = l + 1;
    crisk__score_block *bl = &o->blocks[l], *br = &o->blocks[r];
    float *a = values_of(o, l), *b = values_of(o, r);
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
    } else {
        size_t move = bl->len - total / 2;
        memmove(b + move, b, br->len * sizeof *b);
        memcpy(b, a + bl->len - move, move * sizeof *b);
        bl->len -= (uint32_t)move;
        br->len += (uint32_t)move;
    }
    o->blocks[l].first = a[0];
    if (l + 1 < o->nblocks)
        o->blocks[l + 1].first = values_of(o, l + 1)[0];
    fenwick_rebuild(o);
}

void crisk__score_order_insert(crisk__score_order *o, float v)
{
    if (o->nblocks == 0) {
        open_block(o, 0);
        fenwick_rebuild(o);
    }
    size_t i = block_of(o, v);
    if (o->blocks[i].len == o->block) {
        split(o, i);
        if (!before(v, o->blocks[i + 1].first))
            i++;
    }
    crisk__score_block *bk = &o->blocks[i];
    float *a = values_of(o, i);
    size_t at = upper_bound(a, bk->len, v);
    memmove(a + at + 1, a + at, (bk->len - at) * sizeof *a);
    a[at] = v;
    bk->len++;
    bk->first = a[0];
    fenwick_add(o, i, 1);
    o->count++;
}

void crisk__score_order_remove(crisk__score_order *o, float v)
{
    size_t i = block_of(o, v);
    crisk__score_block *bk = &o->blocks[i];
    float *a = values_of(o, i);
    size_t at = upper_bound(a, bk->len, v) - 1; /* the bits of v: equal values are equal bits */
    memmove(a + at, a + at + 1, (bk->len - at - 1) * sizeof *a);
    bk->len--;
    bk->first = a[0];
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
    return values_of(o, k)[i];
}

size_t crisk__score_order_below(const crisk__score_order *o, float v)
{
    /* Blocks whose first value is below v: all but the last of them lie wholly below. */
    size_t lo = 0, hi = o->nblocks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (o->blocks[mid].first < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return 0;
    return fenwick_prefix(o, lo - 1) +
           crisk__scores_below(values_of(o, lo - 1), o->blocks[lo - 1].len, v);
}

/* Returns a key whose unsigned order is before()'s order of the finite float `v`: the
 * bits with the sign flipped for positives and all flipped for negatives. */
static uint32_t sort_key(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u & 0x80000000u ? ~u : u | 0x80000000u;
}

/* One stable counting pass of a radix sort: `n` floats from `src` to `dst` by the 11 bits
 * of their keys from `shift`. */
static void radix_pass(const float *src, float *dst, size_t n, int shift)
{
    size_t count[2049] = {0};
    for (size_t i = 0; i < n; i++)
        count[((sort_key(src[i]) >> shift) & 2047) + 1]++;
    for (size_t d = 1; d < 2049; d++)
        count[d] += count[d - 1];
    for (size_t i = 0; i < n; i++)
        dst[count[(sort_key(src[i]) >> shift) & 2047]++] = src[i];
}

void crisk__score_order_fill(crisk__score_order *o, const float *values, size_t n, float *tmp)
{
    if (n == 0)
        return;
    /* Three passes of 11 bits, the store as the other buffer: a load stays linear in the
     * size of the state (qsort's comparisons were most of the time of a large load). */
    radix_pass(values, o->store, n, 0);
    radix_pass(o->store, tmp, n, 11);
    radix_pass(tmp, o->store, n, 22);
    /* Then as few blocks as hold them, evenly filled (so each is at least half full), each
     * moved to its place from the last: a block's place is never before its values. */
    size_t nb = (n + o->block - 1) / o->block;
    for (size_t k = 0; k < nb; k++)
        o->blocks[k] = (crisk__score_block){0.0f, (uint32_t)(n * (k + 1) / nb - n * k / nb),
                                             (uint32_t)k};
    for (size_t k = nb; k-- > 0;) {
        float *dst = o->store + k * o->block;
        memmove(dst, o->store + n * k / nb, o->blocks[k].len * sizeof *dst);
        o->blocks[k].first = dst[0];
    }
    o->nblocks = nb;
    o->nfree = 0;
    for (size_t k = o->max_blocks; k-- > nb;)
        o->free_places[o->nfree++] = (uint32_t)k;
    o->count = n;
    fenwick_rebuild(o);
}
