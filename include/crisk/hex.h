/*
 * crisk/hex.h — hexadecimal text of bytes, the form in which crisk writes and reads
 * digests, keys and audit values (a model's SHA-256 to pin, a bundle digest, a keyed
 * hash). Part of the public API; include <crisk.h>.
 */
#ifndef INCLUDE_crisk_hex_h
#define INCLUDE_crisk_hex_h

#include "crisk/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes `size` bytes at `data` as lower-case hex plus a NUL to `out` (2 * size + 1
 * chars). Thread-safe. */
CRISK_API void crisk_hex_encode(const unsigned char *data, size_t size, char *out);

/* Decodes exactly `size` bytes from the `2 * size` hex digits (either case) at `text`
 * into `out` (`size` bytes); it reads no further than the first character that is not a
 * hex digit. Returns 0, or -1 when one of the `2 * size` characters is not a hex digit
 * (a shorter text included). Thread-safe. */
CRISK_API int crisk_hex_decode(const char *text, size_t size, unsigned char *out);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_hex_h */
