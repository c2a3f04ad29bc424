/*
 * common/short_copy.h — copying the few bytes of a field value or key part without a call to
 * memcpy, which costs more than the copy itself for codes and ids; reading up to eight of
 * them as one word. Internal.
 */
#ifndef CRISK_SHORT_COPY_H
#define CRISK_SHORT_COPY_H

#include <stdint.h>
#include <string.h>

/* Copies `n` bytes from `src` to `dst` (not overlapping): at most two loads and stores of
 * 8 or 4 bytes, that may overlap, for up to 16 bytes; memcpy beyond. */
static inline void crisk__short_copy(char *dst, const char *src, size_t n)
{
    uint64_t a, z;
    uint32_t x, y;
    if (n > 16) {
        memcpy(dst, src, n);
    } else if (n >= 8) {
        memcpy(&a, src, 8);
        memcpy(&z, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &z, 8);
    } else if (n >= 4) {
        memcpy(&x, src, 4);
        memcpy(&y, src + n - 4, 4);
        memcpy(dst, &x, 4);
        memcpy(dst + n - 4, &y, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
    }
}

/* Returns the `n` (1 to 8) bytes at `src` as a word that, for a given `n`, differs for
 * any other bytes (every byte is in it): loads of 4 or 8 bytes that may overlap, no call. */
static inline uint64_t crisk__short_word(const char *src, size_t n)
{
    const unsigned char *u = (const unsigned char *)src;
    uint64_t w;
    uint32_t x, y;
    if (n == 8) {
        memcpy(&w, src, 8);
        return w;
    }
    if (n >= 4) {
        memcpy(&x, src, 4);
        memcpy(&y, src + n - 4, 4);
        return (uint64_t)x << 32 | y;
    }
    return (uint64_t)u[0] << 16 | (uint64_t)u[n >> 1] << 8 | u[n - 1];
}

#endif /* CRISK_SHORT_COPY_H */
