/*
 * common/pool.h — running a call's work in pieces over the threads of a crisk_pool: the one
 * place where items are split across threads and claimed. Internal to the library.
 */
#ifndef CRISK_POOL_H
#define CRISK_POOL_H

#include "crisk.h"

#include <stddef.h>

/* Work on items [begin, end) of a call; returns 0 or an error code with `err` filled. */
typedef int (*crisk__slice_fn)(void *ctx, size_t begin, size_t end, crisk_error *err);

/* Returns the number of online CPUs (at least 1). */
size_t crisk__online_cpus(void);

/* Runs `fn` over items [0, n) on `nthreads` threads of `pool` (at most all of them), the
 * calling thread being one. The items go in contiguous pieces (several per thread)
 * claimed one at a time, so a thread that is late to wake leaves its work to the others.
 * With `pool` NULL, `nthreads` 1, or a pool busy with another call, `fn` runs over all
 * items on the calling thread alone. Returns 0, or the code of a failing piece with its
 * message in `err` (no piece starts after one has failed). Allocates nothing. */
int crisk__pool_run(crisk_pool *pool, size_t nthreads, size_t n, crisk__slice_fn fn,
                    void *ctx, crisk_error *err);

#endif /* CRISK_POOL_H */
