/*
 * common/csv_split.c — splitting a CSV line without quotes at its commas (csv_split.h):
 * words of eight bytes in plain C, or 64-byte vectors with AVX-512BW, whose masked loads
 * read no byte past the line.
 */
#include "common/csv_split.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CSV_SPLIT_X86 1
#else
#define CSV_SPLIT_X86 0
#endif

/* Returns 0x80 in each byte of `w` that equals `c`, 0 in the others (exact: no carry
 * crosses bytes). */
static uint64_t bytes_equal(uint64_t w, unsigned char c)
{
    const uint64_t low7 = 0x7f7f7f7f7f7f7f7full;
    uint64_t x = w ^ (0x0101010101010101ull * c);
    return ~(((x & low7) + low7) | x | low7);
}

/* A line being split: its fields so far and where the next one starts. */
typedef struct splitting {
    const unsigned char *p;
    const char **fields;
    size_t *lengths;
    size_t cap, nf, start;
} splitting;

/* Ends a field at each comma of `commas`, whose bit k stands for byte at + k / scale.
 * Returns 0 when the fields would pass the cap. */
static inline int take_commas(splitting *f, uint64_t commas, unsigned scale, size_t at)
{
    for (; commas; commas &= commas - 1) {
        size_t end = at + (size_t)__builtin_ctzll(commas) / scale;
        if (f->nf + 1 >= f->cap)
            return 0;
        f->fields[f->nf] = (const char *)f->p + f->start;
        f->lengths[f->nf++] = end - f->start;
        f->start = end + 1;
    }
    return 1;
}

/* Ends the last field at the line's end (`len`); returns the field count, or 0 past the
 * cap. */
static inline size_t last_field(splitting *f, size_t len)
{
    if (f->nf >= f->cap)
        return 0;
    f->fields[f->nf] = (const char *)f->p + f->start;
    f->lengths[f->nf++] = len - f->start;
    return f->nf;
}

size_t crisk__csv_split_swar(const unsigned char *p, size_t len, const char **fields,
                             size_t *lengths, size_t cap, int *ascii)
{
    splitting f = {p, fields, lengths, cap, 0, 0};
    uint64_t high = 0;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = 0x2020202020202020ull; /* spaces after the line's last bytes */
        memcpy(&w, p + i, len - i < 8 ? len - i : 8);
        high |= w;
        if (bytes_equal(w, '"') | bytes_equal(w, '\r') | bytes_equal(w, 0))
            return 0;
        if (!take_commas(&f, bytes_equal(w, ','), 8, i))
            return 0;
    }
    *ascii = (high & 0x8080808080808080ull) == 0;
    return last_field(&f, len);
}

#if CSV_SPLIT_X86
__attribute__((target("avx512f,avx512bw"))) size_t
crisk__csv_split_avx512(const unsigned char *p, size_t len, const char **fields,
                        size_t *lengths, size_t cap, int *ascii)
{
    const __m512i comma = _mm512_set1_epi8(','), quote = _mm512_set1_epi8('"');
    const __m512i cr = _mm512_set1_epi8('\r'), nul = _mm512_setzero_si512();
    __m512i high = _mm512_setzero_si512();
    splitting f = {p, fields, lengths, cap, 0, 0};
    for (size_t i = 0; i < len; i += 64) {
        /* The bytes of the line in this vector; the others load as 0 and match nothing. */
        __mmask64 live = len - i >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (len - i)) - 1;
        __m512i w = _mm512_maskz_loadu_epi8(live, p + i);
        high = _mm512_or_si512(high, w);
        if (_mm512_mask_cmpeq_epi8_mask(live, w, quote) | _mm512_mask_cmpeq_epi8_mask(live, w, cr)
            | _mm512_mask_cmpeq_epi8_mask(live, w, nul))
            return 0;
        if (!take_commas(&f, _mm512_cmpeq_epi8_mask(w, comma), 1, i))
            return 0;
    }
    *ascii = _mm512_movepi8_mask(high) == 0;
    return last_field(&f, len);
}
#endif

crisk__csv_split_fn crisk__csv_splitter(void)
{
#if CSV_SPLIT_X86
    /* libgcc fills the CPU model in a constructor: no __builtin_cpu_init needed here. */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        return crisk__csv_split_avx512;
#endif
    return crisk__csv_split_swar;
}
