/*
 * crisk/pool.h — thread pools: worker threads a caller creates once and passes to
 * scoring calls. Part of the public API; include <crisk.h>.
 */
#ifndef INCLUDE_crisk_pool_h
#define INCLUDE_crisk_pool_h

#include "crisk/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A set of worker threads that calls splitting their rows over several threads
 * (crisk_predict, crisk_contributions, crisk_interactions, crisk_bundle_score) reuse
 * instead of starting and joining threads of their own on every call. Owned by the
 * caller and passed in the options (crisk_predict_options.pool, crisk_score_options.pool);
 * the library keeps none of its own. Its workers sleep while no call uses it.
 *
 * A pool serves one call at a time: a call that finds it busy with another call (from
 * another thread) runs on its own calling thread alone rather than oversubscribe the
 * cores, and gives the same results. With a pool, the options' `threads` caps how many of
 * the pool's threads a call uses (0: all of them; 1, the default: the calling thread
 * alone); a call of few rows uses fewer. A call with a pool allocates no memory for its
 * threads. */
typedef struct crisk_pool crisk_pool;

/* Creates a pool for calls of `threads` threads (0: one per online CPU) and stores it in
 * `*out`: it starts threads - 1 workers, the calling thread of each call being the last
 * one. A worker that cannot be started is no failure: the pool then has fewer workers
 * (crisk_pool_threads says how many threads it has).
 *
 * Returns 0, or CRISK_E_INVALID_ARGUMENT (out NULL, threads negative) or CRISK_E_NOMEM
 * (the pool takes under 1 KiB per thread besides its workers' stacks), with `*out` NULL
 * on failure. Thread-safe. */
CRISK_API int crisk_pool_create(int threads, crisk_pool **out, crisk_error *err);

/* Stops and joins the pool's workers and frees it. NULL is a no-op. It must not be called
 * while a call uses the pool (from any thread): free it only once every call given it has
 * returned. */
CRISK_API void crisk_pool_free(crisk_pool *pool);

/* Returns the number of threads a call with `pool` may use: its workers plus the calling
 * thread (at least 1), or 0 for NULL. Thread-safe. */
CRISK_API int crisk_pool_threads(const crisk_pool *pool);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_pool_h */
