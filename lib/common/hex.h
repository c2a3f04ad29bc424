/*
 * common/hex.h — hexadecimal text of bytes: digests, keys and audit values. Internal.
 */
#ifndef CRISK_COMMON_HEX_H
#define CRISK_COMMON_HEX_H

#include <stddef.h>

/* Writes `size` bytes at `data` as lower-case hex plus a NUL to `out` (2 * size + 1
 * chars). */
void crisk__hex_encode(const unsigned char *data, size_t size, char *out);

/* Decodes exactly `size` bytes from the `2 * size` hex digits (either case) at `text`
 * into `out`. Returns 0, or -1 when `text` has a character that is not a hex digit. */
int crisk__hex_decode(const char *text, size_t size, unsigned char *out);

/* Decodes the NUL-terminated hex text `text` into at most `max` bytes at `out`. Returns
 * the byte count, or -1 when `text` is not an even number of hex digits or is too
 * long. */
long crisk__hex_decode_text(const char *text, unsigned char *out, size_t max);

#endif /* CRISK_COMMON_HEX_H */
