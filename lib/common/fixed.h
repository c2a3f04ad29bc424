/*
 * common/fixed.h — fixed-point decimal text of a double, the same as printf's "%.Nf"
 * without its cost (reason texts format a score for many declarations), and of an unsigned
 * integer. Internal.
 */
#ifndef CRISK_COMMON_FIXED_H
#define CRISK_COMMON_FIXED_H

#include <stddef.h>
#include <stdint.h>

/* Bytes crisk__fixed_text may write, its NUL included. */
#define CRISK__FIXED_BYTES 32

/* Writes `v` with `digits` (at most 9) digits after the point to `buf` (CRISK__FIXED_BYTES
 * bytes), NUL-terminated, exactly as snprintf("%.*f", digits, v) does in the C locale:
 * the exact binary value rounded half to even, a minus sign for every negative value and
 * for -0. Returns its length, or 0 (nothing written) when v is not finite or |v| >= 1e9:
 * the caller formats those with snprintf. */
size_t crisk__fixed_text(double v, unsigned digits, char *buf);

/* Writes `v` in decimal to `buf` (21 bytes suffice), NUL-terminated, as printf's %llu
 * would; returns its length. */
size_t crisk__uint_text(uint64_t v, char *buf);

#endif /* CRISK_COMMON_FIXED_H */
