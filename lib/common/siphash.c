/*
 * common/siphash.c — SipHash-2-4 (Aumasson and Bernstein, 2012), written from the paper's
 * description: two compression rounds per 8-byte word, four finalisation rounds.
 */
#include "common/siphash.h"

/* Rotates `x` left by `b` bits. */
static uint64_t rotl(uint64_t x, unsigned b)
{
    return (x << b) | (x >> (64 - b));
}

/* One SipRound on the state v[0..3]. */
static void sipround(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl(v[1], 13);
    v[1] ^= v[0];
    v[0] = rotl(v[0], 32);
    v[2] += v[3];
    v[3] = rotl(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rotl(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rotl(v[1], 17);
    v[1] ^= v[2];
    v[2] = rotl(v[2], 32);
}

/* Returns the little-endian 64-bit word of `n` <= 8 bytes at `p` (missing bytes zero). */
static uint64_t load_le(const unsigned char *p, size_t n)
{
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w |= (uint64_t)p[i] << (8 * i);
    return w;
}

/* Absorbs one message word `m` with the two compression rounds. */
static void absorb(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sipround(v);
    sipround(v);
    v[0] ^= m;
}

uint64_t crisk__siphash(uint64_t k0, uint64_t k1, const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                     k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
    size_t full = len / 8 * 8;
    for (size_t i = 0; i < full; i += 8)
        absorb(v, load_le(p + i, 8));
    /* The last word carries the remaining bytes and the length's low byte on top. */
    absorb(v, load_le(p + full, len - full) | ((uint64_t)(len & 0xff) << 56));
    v[2] ^= 0xff;
    for (int r = 0; r < 4; r++)
        sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}
