/*
 * common/canon.c — the canonical form of identifiers and codes (canon.h). No Unicode
 * tables: the narrow, well-known look-alikes (full-width ASCII, the ideographic space)
 * are mapped, and every other non-ASCII character is refused by name, so that nothing
 * invisible or look-alike passes silently.
 */
#include "common/canon.h"
#include "common/short_copy.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ASCII white space, trimmed at both ends of a value. */
static int is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Returns the code point of the valid 2- to 4-byte UTF-8 sequence at `s` (`n` bytes
 * left) with its length in `*seq`, or -1 when the bytes are not valid UTF-8. */
static long decode(const unsigned char *s, size_t n, size_t *seq)
{
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : 2;
    static const long min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (s[0] < 0xC2 || s[0] > 0xF4 || n < len)
        return -1;
    long cp = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return -1;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    *seq = len;
    return cp;
}

/* Maps the character at s[*i] to the ASCII byte it stands for, advancing *i; returns -1
 * (with `why` filled) for a character that has none. */
static int map_char(const char *s, size_t len, size_t *i, char *why)
{
    const unsigned char *u = (const unsigned char *)s + *i;
    size_t at = *i, seq = 1;
    if (u[0] < 0x80) {
        (*i)++;
        if (u[0] >= 0x20 && u[0] != 0x7F)
            return u[0];
        if (is_space(u[0]))
            return u[0]; /* trimmed at the ends; refused inside */
        snprintf(why, CRISK__CANON_WHY_BYTES, "has a control character (\\x%02x) at byte %zu",
                 u[0], at);
        return -1;
    }
    long cp = decode(u, len - at, &seq);
    *i += seq;
    if (cp >= 0xFF01 && cp <= 0xFF5E)
        return (int)(cp - 0xFF01 + 0x21);
    if (cp == 0x3000)
        return ' ';
    if (cp < 0)
        snprintf(why, CRISK__CANON_WHY_BYTES, "is not valid UTF-8 at byte %zu", at);
    else
        snprintf(why, CRISK__CANON_WHY_BYTES, "has U+%04lX at byte %zu: an identifier or code "
                 "is printable ASCII", (unsigned long)cp, at);
    return -1;
}

/* Returns 1 when byte `c` may stand in a canonical value: printable ASCII, no lower case. */
static int canonical_byte(char c)
{
    return c >= ' ' && c <= '~' && !(c >= 'a' && c <= 'z');
}

/* Returns the high bit of each byte of `w` that may not stand in a canonical value (see
 * canonical_byte), eight bytes at once: on the low seven bits of a byte, adding 0x80 - t
 * sets its high bit exactly when the byte is at least t, without a carry into the next. */
static uint64_t bad_bytes(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t x = w & ~high;
    uint64_t printable = (x + ones * (0x80 - ' ')) & ~(x + ones * (0x80 - 0x7f)) & high;
    uint64_t lower = (x + ones * (0x80 - 'a')) & ~(x + ones * (0x80 - 'z' - 1)) & high;
    return (w & high) | (~printable & high) | lower;
}

/* Checks the canonical form without writing it; see canon.h. */
int crisk__canon_is(const char *s, size_t len)
{
    if (len == 0 || s[0] == ' ' || s[len - 1] == ' ')
        return 0;
    if (len < 8) {
        for (size_t i = 0; i < len; i++)
            if (!canonical_byte(s[i]))
                return 0;
        return 1;
    }
    uint64_t bad = 0, w;
    for (size_t i = 0; i + 8 < len; i += 8) {
        memcpy(&w, s + i, 8);
        bad |= bad_bytes(w);
    }
    memcpy(&w, s + len - 8, 8); /* the last eight bytes, overlapping the words before */
    return (bad | bad_bytes(w)) == 0;
}

/* Maps, trims, upper-cases and checks; see canon.h. */
int crisk__canon_code(const char *s, size_t len, char *out, size_t *out_len, char *why)
{
    if (crisk__canon_is(s, len)) { /* most values: one check and a copy */
        crisk__short_copy(out, s, len);
        *out_len = len;
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        int c = map_char(s, len, &i, why);
        if (c < 0)
            return -1;
        out[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    }
    size_t start = 0;
    while (start < n && is_space((unsigned char)out[start]))
        start++;
    while (n > start && is_space((unsigned char)out[n - 1]))
        n--;
    for (size_t k = start; k < n; k++)
        if (out[k] != ' ' && is_space((unsigned char)out[k])) {
            snprintf(why, CRISK__CANON_WHY_BYTES, "has a control character (\\x%02x) inside",
                     (unsigned char)out[k]);
            return -1;
        }
    memmove(out, out + start, n - start);
    *out_len = n - start;
    return 0;
}

/* The common case of crisk__canon_hs: `s` holds only digits and dots, `min_digits` to 12
 * digits. Writes them to `out` (NUL-terminated) and returns 1; else returns 0 and leaves
 * the value to the general path, which says what is wrong with it. */
static int digits_and_dots(const char *s, size_t len, size_t min_digits, char *out,
                           size_t *out_len)
{
    size_t n = 0;
    for (size_t k = 0; k < len; k++) {
        if (s[k] >= '0' && s[k] <= '9') {
            if (n == 12)
                return 0;
            out[n++] = s[k];
        } else if (s[k] != '.') {
            return 0;
        }
    }
    if (n < min_digits)
        return 0;
    out[n] = '\0';
    *out_len = n;
    return 1;
}

/* The digits of an HS code's canonical form; see canon.h. */
int crisk__canon_hs(const char *s, size_t len, size_t min_digits, char *out, size_t *out_len,
                    char *why)
{
    char code[64];
    size_t n = 0, clen;
    if (len <= sizeof code && digits_and_dots(s, len, min_digits, out, out_len))
        return 0;
    if (len > sizeof code) {
        snprintf(why, CRISK__CANON_WHY_BYTES, "is too long for an HS code (%zu bytes)", len);
        return -1;
    }
    if (crisk__canon_code(s, len, code, &clen, why) != 0)
        return -1;
    for (size_t k = 0; k < clen; k++) {
        if (code[k] == '.' || code[k] == ' ')
            continue;
        if (code[k] < '0' || code[k] > '9') {
            snprintf(why, CRISK__CANON_WHY_BYTES,
                     "is not an HS code (digits, dots and spaces only)");
            return -1;
        }
        if (n == 12) {
            snprintf(why, CRISK__CANON_WHY_BYTES, "has more than 12 digits; an HS code has "
                     "%zu to 12", min_digits);
            return -1;
        }
        out[n++] = code[k];
    }
    out[n] = '\0';
    *out_len = n;
    if (n < min_digits) {
        snprintf(why, CRISK__CANON_WHY_BYTES, "has fewer than %zu digits; an HS code has %zu "
                 "to 12", min_digits, min_digits);
        return -1;
    }
    return 0;
}
