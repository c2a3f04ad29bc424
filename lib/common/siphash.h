/*
 * common/siphash.h — SipHash-2-4, a keyed 64-bit pseudo-random function. Internal to the library.
 *
 * The lanes use it for random selection (keyed by the policy's seed, so the draw is
 * reproducible by whoever holds the seed and unpredictable to whoever does not) and for
 * the policy fingerprint a saved streaming state carries.
 */
#ifndef CRISK_SIPHASH_H
#define CRISK_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/* Returns SipHash-2-4 of the `len` bytes at `data` under the 128-bit key (k0, k1), where
 * k0 holds key bytes 0-7 and k1 bytes 8-15, each read little-endian (the reference
 * implementation's key layout). */
uint64_t crisk__siphash(uint64_t k0, uint64_t k1, const void *data, size_t len);

#endif /* CRISK_SIPHASH_H */
