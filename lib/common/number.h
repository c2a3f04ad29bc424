/*
 * common/number.h — the one grammar for numbers given as text (declaration fields, extra
 * columns, `crisk predict` cells): number.c. Internal to the library; the public
 * entry point is crisk_number_parse (crisk/reader.h).
 */
#ifndef CRISK_COMMON_NUMBER_H
#define CRISK_COMMON_NUMBER_H

#include <locale.h>
#include <stddef.h>

/* Converts the `len` bytes at `s` to the correctly rounded double in `*out`, by the
 * grammar [+-](digits[.[digits]] | .digits)[(e|E)[+-]digits]: no spaces, no hex, no
 * inf/nan, whatever the process locale. `c_locale` is a C locale for the rare inputs the
 * exact fast path cannot convert, or (locale_t)0 to make one for that call. Returns 0,
 * -1 (not a number by the grammar) or -2 (beyond the range of a double). */
int crisk__number_parse(const char *s, size_t len, locale_t c_locale, double *out);

#endif /* CRISK_COMMON_NUMBER_H */
