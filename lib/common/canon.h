/*
 * common/canon.h — the canonical form of identifiers, codes and HS codes (canon.c), which
 * declarations, risk profiles and watch lists all go through, so that two spellings of
 * one id can never compare different. Internal to the library.
 */
#ifndef CRISK_COMMON_CANON_H
#define CRISK_COMMON_CANON_H

#include <stddef.h>

/* Room for a message from the functions below. */
#define CRISK__CANON_WHY_BYTES 96

/* Writes the canonical form of the identifier or code in the `len` bytes at `s` to `out`
 * (room for `len` bytes; the form is never longer) and its length to `*out_len` (0: the
 * value is blank). The form (docs/schema.md, "Canonical identifiers"): full-width ASCII
 * U+FF01..U+FF5E mapped to U+0021..U+007E and the ideographic space U+3000 to a space;
 * ASCII white space trimmed at both ends; ASCII letters upper-cased; what is left must be
 * printable ASCII, spaces inside included. Returns 0, or -1 with the reason in `why`
 * (CRISK__CANON_WHY_BYTES): any other byte or character (a control, a NUL, a byte order
 * mark, a zero-width or look-alike character, invalid UTF-8), naming its byte offset. */
int crisk__canon_code(const char *s, size_t len, char *out, size_t *out_len, char *why);

/* Returns 1 when the `len` bytes at `s` are already in the canonical form of
 * crisk__canon_code (and not blank), else 0: for values read back from a fitted schema,
 * which must match declarations byte for byte. */
int crisk__canon_is(const char *s, size_t len);

/* Writes the digits of the HS code in the `len` bytes at `s` (its canonical code form,
 * then dots and spaces dropped) to `out` (room for 13 bytes, NUL-terminated) and their
 * number to `*out_len`. Returns 0, or -1 with the reason in `why`: not a code, a
 * character other than digits, dots and spaces, fewer than `min_digits` or more than 12
 * digits. */
int crisk__canon_hs(const char *s, size_t len, size_t min_digits, char *out, size_t *out_len,
                    char *why);

#endif /* CRISK_COMMON_CANON_H */
