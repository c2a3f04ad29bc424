/*
 * common/hex.h — hexadecimal text the library reads beyond crisk/hex.h: a hex string of
 * unknown length. Internal.
 */
#ifndef CRISK_COMMON_HEX_H
#define CRISK_COMMON_HEX_H

#include "crisk.h"

#include <stddef.h>

/* Decodes the NUL-terminated hex text `text` into at most `max` bytes at `out`. Returns
 * the byte count, or -1 when `text` is not an even number of hex digits or is too
 * long. */
long crisk__hex_decode_text(const char *text, unsigned char *out, size_t max);

#endif /* CRISK_COMMON_HEX_H */
