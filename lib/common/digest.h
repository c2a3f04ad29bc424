/*
 * common/digest.h — SHA-256 through OpenSSL's EVP interface, for model pinning, bundle
 * digests and the audit log. Internal to the library.
 */
#ifndef CRISK_DIGEST_H
#define CRISK_DIGEST_H

#include "crisk.h"

#include <stddef.h>

#define CRISK__SHA256_SIZE 32
/* Characters of a SHA-256 digest in hex, without the terminating NUL. */
#define CRISK__SHA256_HEX 64

/* Writes SHA-256(prefix || a || b) to `out`: one optional prefix byte (`prefix` < 0 means
 * none) then two byte strings (either may be empty). Returns 0, or CRISK_E_DEPENDENCY
 * when the crypto library fails. The Merkle tree's leaf and node hashes are of this
 * shape. */
int crisk__sha256_parts(int prefix, const void *a, size_t a_size, const void *b,
                        size_t b_size, unsigned char out[CRISK__SHA256_SIZE]);

/* A SHA-256 context kept for many hashes: hashing through EVP_sha256() looks the
 * algorithm up (under a lock) and allocates a context for every hash, which costs more
 * than hashing a short record. One thread at a time per context. */
typedef struct crisk__sha256 crisk__sha256;

/* Returns a new context, or NULL when out of memory or the crypto library fails. */
crisk__sha256 *crisk__sha256_new(void);

/* Frees a context. NULL is a no-op. */
void crisk__sha256_free(crisk__sha256 *h);

/* crisk__sha256_parts() with the context `h` (NULL: a context for this hash alone). */
int crisk__sha256_with(crisk__sha256 *h, int prefix, const void *a, size_t a_size,
                       const void *b, size_t b_size, unsigned char out[CRISK__SHA256_SIZE]);

/* Writes to `out` SHA-256 over the `n` files at `paths`, in order, each as its size (8
 * bytes, big-endian) then its bytes, so that no two file lists hash alike. A file larger
 * than `max_bytes` is refused. Returns 0, or CRISK_E_IO / CRISK_E_LIMIT naming the file,
 * CRISK_E_DEPENDENCY. */
int crisk__sha256_files(const char *const *paths, size_t n, size_t max_bytes,
                        unsigned char out[CRISK__SHA256_SIZE], crisk_error *err);

#endif /* CRISK_DIGEST_H */
