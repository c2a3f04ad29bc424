/*
 * audit/merkle.h — RFC 6962 Merkle tree hashes and proofs over an array of leaf hashes.
 * Internal to the library.
 */
#ifndef CRISK_MERKLE_H
#define CRISK_MERKLE_H

#include "crisk.h"
#include "common/digest.h"

#include <stdint.h>

/* The roots of the perfect subtrees that make up a growing tree, largest first: enough to
 * give the root after each append in O(log n), without keeping the leaves. */
typedef struct crisk__merkle_frontier {
    unsigned char hash[65][CRISK_HASH_SIZE];
    uint64_t      count[65];   /* leaves under hash[i], a power of two */
    size_t        top;
} crisk__merkle_frontier;

/* Empties `f`. */
void crisk__merkle_frontier_init(crisk__merkle_frontier *f);

/* Adds the leaf with hash `leaf` to the right of `f`, hashing with `h` (NULL: a context
 * per hash). Returns 0 or CRISK_E_DEPENDENCY. */
int crisk__merkle_frontier_push(crisk__merkle_frontier *f, crisk__sha256 *h,
                                const unsigned char leaf[CRISK_HASH_SIZE]);

/* crisk_merkle_leaf_hash() with the SHA-256 context `h` (NULL: one for this hash). */
int crisk__merkle_leaf_hash_with(crisk__sha256 *h, const void *data, size_t size,
                                 unsigned char out[CRISK_HASH_SIZE]);

/* Writes the RFC 6962 root of the leaves pushed to `f` to `out`. Returns 0 or
 * CRISK_E_DEPENDENCY. */
int crisk__merkle_frontier_root(const crisk__merkle_frontier *f,
                                unsigned char out[CRISK_HASH_SIZE]);

/* Writes MTH(D[lo:hi]), the root of the leaves whose hashes are leaves[lo .. hi-1], to
 * `out` (SHA-256 of nothing when lo == hi). Returns 0 or CRISK_E_DEPENDENCY. */
int crisk__merkle_root(const unsigned char (*leaves)[CRISK_HASH_SIZE], uint64_t lo,
                       uint64_t hi, unsigned char out[CRISK_HASH_SIZE]);

/* Writes PATH(index, D[0:n]) (RFC 6962, 2.1.1), bottom-up, to `path` and its length to
 * `*len`. Requires index < n. Returns 0 or CRISK_E_DEPENDENCY. */
int crisk__merkle_path(const unsigned char (*leaves)[CRISK_HASH_SIZE], uint64_t index,
                       uint64_t n, unsigned char path[][CRISK_HASH_SIZE], size_t *len);

/* Writes PROOF(m, D[0:n]) (RFC 6962, 2.1.2) to `path` and its length to `*len`. Requires
 * 1 <= m <= n. Returns 0 or CRISK_E_DEPENDENCY. */
int crisk__merkle_consistency(const unsigned char (*leaves)[CRISK_HASH_SIZE], uint64_t m,
                              uint64_t n, unsigned char path[][CRISK_HASH_SIZE],
                              size_t *len);

#endif /* CRISK_MERKLE_H */
