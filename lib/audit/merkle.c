/*
 * audit/merkle.c — RFC 6962 / RFC 9162 Merkle tree hashing: roots of any size, audit paths and
 * consistency proofs, and their verification. Everything is iterative; depths are bounded
 * by the 64 bits of a tree size.
 */
#include "audit/merkle.h"

#include "common/digest.h"
#include "common/error.h"

#include <string.h>

/* Writes SHA-256(0x01 || left || right), an inner node's hash, to `out`. Returns 0 or
 * CRISK_E_DEPENDENCY. */
static int node_hash(const unsigned char left[CRISK_HASH_SIZE],
                     const unsigned char right[CRISK_HASH_SIZE],
                     unsigned char out[CRISK_HASH_SIZE])
{
    return crisk__sha256_parts(0x01, left, CRISK_HASH_SIZE, right, CRISK_HASH_SIZE, out);
}

int crisk__merkle_leaf_hash_with(crisk__sha256 *h, const void *data, size_t size,
                                 unsigned char out[CRISK_HASH_SIZE])
{
    return crisk__sha256_with(h, 0x00, data, size, NULL, 0, out);
}

/* Returns the largest power of two smaller than `n` (n >= 2): RFC 6962's split point k. */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while (k < n - k)
        k <<= 1;
    return k;
}

int crisk_merkle_leaf_hash(const void *data, size_t size, unsigned char out[CRISK_HASH_SIZE])
{
    return crisk__merkle_leaf_hash_with(NULL, data, size, out);
}

void crisk__merkle_frontier_init(crisk__merkle_frontier *f)
{
    f->top = 0;
}

int crisk__merkle_frontier_push(crisk__merkle_frontier *f, crisk__sha256 *h,
                                const unsigned char leaf[CRISK_HASH_SIZE])
{
    memcpy(f->hash[f->top], leaf, CRISK_HASH_SIZE);
    f->count[f->top++] = 1;
    /* Two subtrees of one size merge at once, so at most one of each size remains. */
    while (f->top >= 2 && f->count[f->top - 2] == f->count[f->top - 1]) {
        if (crisk__sha256_with(h, 0x01, f->hash[f->top - 2], CRISK_HASH_SIZE,
                               f->hash[f->top - 1], CRISK_HASH_SIZE, f->hash[f->top - 2]) != 0)
            return CRISK_E_DEPENDENCY;
        f->count[f->top - 2] *= 2;
        f->top--;
    }
    return 0;
}

int crisk__merkle_frontier_root(const crisk__merkle_frontier *f,
                                unsigned char out[CRISK_HASH_SIZE])
{
    if (f->top == 0)
        return crisk__sha256_parts(-1, NULL, 0, NULL, 0, out);
    /* MTH splits at the largest power of two: fold the subtrees from the right. */
    memcpy(out, f->hash[f->top - 1], CRISK_HASH_SIZE);
    for (size_t j = f->top - 1; j-- > 0;)
        if (node_hash(f->hash[j], out, out) != 0)
            return CRISK_E_DEPENDENCY;
    return 0;
}

int crisk__merkle_root(const unsigned char (*leaves)[CRISK_HASH_SIZE], uint64_t lo,
                       uint64_t hi, unsigned char out[CRISK_HASH_SIZE])
{
    crisk__merkle_frontier f;
    crisk__merkle_frontier_init(&f);
    for (uint64_t i = lo; i < hi; i++)
        if (crisk__merkle_frontier_push(&f, NULL, leaves[i]) != 0)
            return CRISK_E_DEPENDENCY;
    return crisk__merkle_frontier_root(&f, out);
}

/* Reverses the first `len` hashes of `path` in place (proofs are found top-down and
 * written bottom-up). */
static void reverse(unsigned char path[][CRISK_HASH_SIZE], size_t len)
{
    unsigned char tmp[CRISK_HASH_SIZE];
    for (size_t i = 0, j = len; i + 1 < j; i++, j--) {
        memcpy(tmp, path[i], CRISK_HASH_SIZE);
        memcpy(path[i], path[j - 1], CRISK_HASH_SIZE);
        memcpy(path[j - 1], tmp, CRISK_HASH_SIZE);
    }
}

int crisk__merkle_path(const unsigned char (*leaves)[CRISK_HASH_SIZE], uint64_t index,
                       uint64_t n, unsigned char path[][CRISK_HASH_SIZE], size_t *len)
{
    uint64_t lo = 0, hi = n;
    size_t count = 0;
    while (hi - lo > 1) {
        uint64_t k = split_point(hi - lo);
        int rc = index < lo + k ? crisk__merkle_root(leaves, lo + k, hi, path[count])
                                : crisk__merkle_root(leaves, lo, lo + k, path[count]);
        if (rc)
            return rc;
        count++;
        if (index < lo + k)
            hi = lo + k;
        else
            lo += k;
    }
    reverse(path, count);
    *len = count;
    return 0;
}

int crisk__merkle_consistency(const unsigned char (*leaves)[CRISK_HASH_SIZE], uint64_t m,
                              uint64_t n, unsigned char path[][CRISK_HASH_SIZE],
                              size_t *len)
{
    /* SUBPROOF(m, D[lo:hi], b), unrolled: each step keeps one half and records the
     * other's root; the old tree's own root ends the descent unless it is the whole old
     * tree (b still true). */
    uint64_t lo = 0, hi = n;
    int whole_old_tree = 1;
    size_t count = 0;
    unsigned char found[CRISK_MERKLE_MAX_PROOF][CRISK_HASH_SIZE];
    while (m != hi - lo) {
        uint64_t k = split_point(hi - lo);
        int rc;
        if (m <= k) {
            rc = crisk__merkle_root(leaves, lo + k, hi, found[count]);
            hi = lo + k;
        } else {
            rc = crisk__merkle_root(leaves, lo, lo + k, found[count]);
            m -= k;
            lo += k;
            whole_old_tree = 0;
        }
        if (rc)
            return rc;
        count++;
    }
    size_t out = 0;
    if (!whole_old_tree && crisk__merkle_root(leaves, lo, hi, path[out++]) != 0)
        return CRISK_E_DEPENDENCY;
    for (size_t i = count; i-- > 0;)
        memcpy(path[out++], found[i], CRISK_HASH_SIZE);
    *len = out;
    return 0;
}

/* Shifts `fn` and `sn` right together until fn's lowest bit is set or fn is 0. */
static void shift_while_even(uint64_t *fn, uint64_t *sn)
{
    while (*fn != 0 && (*fn & 1) == 0) {
        *fn >>= 1;
        *sn >>= 1;
    }
}

int crisk_merkle_verify_inclusion(const unsigned char leaf_hash[CRISK_HASH_SIZE],
                                  uint64_t index, uint64_t tree_size,
                                  const unsigned char path[][CRISK_HASH_SIZE], size_t len,
                                  const unsigned char root[CRISK_HASH_SIZE], crisk_error *err)
{
    if (!leaf_hash || !root || (!path && len > 0))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "NULL hash or path");
    if (index >= tree_size)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "inclusion proof: entry %llu is not in a tree of %llu entries",
                           (unsigned long long)index, (unsigned long long)tree_size);
    uint64_t fn = index, sn = tree_size - 1;
    unsigned char r[CRISK_HASH_SIZE];
    memcpy(r, leaf_hash, CRISK_HASH_SIZE);
    for (size_t i = 0; i < len; i++) {
        if (sn == 0)
            return crisk__fail(err, CRISK_E_INTEGRITY,
                               "inclusion proof: %zu hashes, more than the tree needs", len);
        int rc;
        if ((fn & 1) || fn == sn) {
            rc = node_hash(path[i], r, r);
            shift_while_even(&fn, &sn);
        } else {
            rc = node_hash(r, path[i], r);
        }
        if (rc)
            return crisk__fail(err, rc, "OpenSSL could not compute a SHA-256");
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "inclusion proof: %zu hashes, fewer than the tree needs", len);
    if (memcmp(r, root, CRISK_HASH_SIZE) != 0)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "inclusion proof: the path leads to another root: entry %llu is "
                           "not in this tree as given",
                           (unsigned long long)index);
    return 0;
}

int crisk_merkle_verify_consistency(uint64_t old_size,
                                    const unsigned char old_root[CRISK_HASH_SIZE],
                                    uint64_t new_size,
                                    const unsigned char new_root[CRISK_HASH_SIZE],
                                    const unsigned char path[][CRISK_HASH_SIZE], size_t len,
                                    crisk_error *err)
{
    if (!old_root || !new_root || (!path && len > 0))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "NULL hash or path");
    if (old_size == 0 || old_size > new_size)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "consistency proof: old size %llu is not in [1, new size %llu]",
                           (unsigned long long)old_size, (unsigned long long)new_size);
    if (old_size == new_size) {
        if (len != 0 || memcmp(old_root, new_root, CRISK_HASH_SIZE) != 0)
            return crisk__fail(err, CRISK_E_INTEGRITY,
                               "consistency proof: two trees of %llu entries with different "
                               "roots (or a non-empty proof)",
                               (unsigned long long)old_size);
        return 0;
    }
    /* When the old tree is a perfect subtree its root is the proof's implicit first
     * element. */
    int implicit = (old_size & (old_size - 1)) == 0;
    if (len + (size_t)implicit == 0 || len > CRISK_MERKLE_MAX_PROOF)
        return crisk__fail(err, CRISK_E_INTEGRITY, "consistency proof: %zu hashes", len);
    uint64_t fn = old_size - 1, sn = new_size - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    const unsigned char *first = implicit ? old_root : path[0];
    unsigned char fr[CRISK_HASH_SIZE], sr[CRISK_HASH_SIZE];
    memcpy(fr, first, CRISK_HASH_SIZE);
    memcpy(sr, first, CRISK_HASH_SIZE);
    for (size_t i = implicit ? 0 : 1; i < len; i++) {
        if (sn == 0)
            return crisk__fail(err, CRISK_E_INTEGRITY,
                               "consistency proof: %zu hashes, more than the trees need", len);
        int rc = 0;
        if ((fn & 1) || fn == sn) {
            rc |= node_hash(path[i], fr, fr);
            rc |= node_hash(path[i], sr, sr);
            shift_while_even(&fn, &sn);
        } else {
            rc |= node_hash(sr, path[i], sr);
        }
        if (rc)
            return crisk__fail(err, CRISK_E_DEPENDENCY, "OpenSSL could not compute a SHA-256");
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "consistency proof: %zu hashes, fewer than the trees need", len);
    if (memcmp(fr, old_root, CRISK_HASH_SIZE) != 0)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "consistency proof: does not lead to the old root (tree of %llu)",
                           (unsigned long long)old_size);
    if (memcmp(sr, new_root, CRISK_HASH_SIZE) != 0)
        return crisk__fail(err, CRISK_E_INTEGRITY,
                           "consistency proof: does not lead to the new root (tree of %llu)",
                           (unsigned long long)new_size);
    return 0;
}
