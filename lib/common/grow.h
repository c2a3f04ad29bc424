/*
 * common/grow.h — growing a heap array by doubling, with overflow checks. Internal.
 *
 * Every growable array in the library grows the same way: from a first capacity chosen by
 * its owner (a guess at a typical size), doubled until the items needed fit, so that
 * appending n items costs O(n) copies in all. Owners that keep parallel arrays (one
 * capacity for several arrays) take the capacity from crisk__grow_capacity and resize
 * each array with crisk__resize; the others call crisk__grow.
 */
#ifndef CRISK_COMMON_GROW_H
#define CRISK_COMMON_GROW_H

#include <stddef.h>

/* The capacity for `need` items given `cap` now: `cap` (`first` when it is 0, 1 when both
 * are) doubled until it is at least `need`; `need` itself when doubling would overflow. `cap` when it
 * already holds `need`. */
size_t crisk__grow_capacity(size_t cap, size_t need, size_t first);

/* Reallocates `*items` to `count` items of `item_size` bytes. Returns 0, or
 * CRISK_E_NOMEM (`*items` unchanged) when the bytes overflow a size_t or realloc
 * fails. */
int crisk__resize(void **items, size_t count, size_t item_size);

/* Makes the array `*items` of capacity `*cap` items (of `item_size` bytes) hold at least
 * `need` items, with crisk__grow_capacity's rule. Returns 0, or CRISK_E_NOMEM with
 * `*items` and `*cap` unchanged. Callers pass `(void **)&array` of a typed pointer. */
int crisk__grow(void **items, size_t *cap, size_t need, size_t item_size, size_t first);

#endif
