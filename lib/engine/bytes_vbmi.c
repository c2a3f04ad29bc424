/*
 * engine/bytes_vbmi.c — the BYTES layout's AVX-512 kernels (x86-64 builds only): binning a
 * row with float compares 16 cuts at a time, and the VBMI walk of four rows at once
 * through 64 trees per instruction. Each of the top six levels selects every lane's node
 * with masked byte permutes of the level's bytes (loaded once for the four rows), looks
 * the row's bin up with a byte permute and compares bytes; levels 6 and 7 gather 32-bit
 * words.
 */
#include "engine/layout.h"

#include <immintrin.h>

/* Returns how many of feature f's cuts are <= x (0 for NaN) with two 16-wide compares:
 * against its fences, then one segment. NaN padding compares false, so only real cuts
 * count; segments before the last one whose first cut is <= x lie wholly <= x. */
__attribute__((target("avx512f"), always_inline)) static inline size_t
cuts_le_avx512(const crisk__engine_bytes *b, size_t f, float x)
{
    __m512 xv = _mm512_set1_ps(x);
    unsigned c = (unsigned)__builtin_popcount(
        _mm512_cmp_ps_mask(_mm512_loadu_ps(b->fences + f * 16), xv, _CMP_LE_OQ));
    /* Without a branch: with c 0 (x below every cut, or NaN) segment 0 counts 0 too. */
    unsigned s = c - (c != 0);
    const float *seg = b->segments + f * 256 + 16 * s;
    return 16 * s + (unsigned)__builtin_popcount(
                        _mm512_cmp_ps_mask(_mm512_loadu_ps(seg), xv, _CMP_LE_OQ));
}

__attribute__((target("avx512f"))) void
crisk__engine_bytes_bin(const crisk__engine_bytes *b, const float *row, uint8_t *bins)
{
    crisk__engine_bytes_bin_with(b, row, bins, cuts_le_avx512);
}

/* Rows the VBMI kernel walks through a block at once: they share every load of the
 * block's nodes, which bound the walk of one row. */
#define WALK_ROWS 4

/* Selects, for each of `nr` walks (a constant after inlining) and each of the 64 lanes,
 * the byte of `base + r * step` (walk r's level bytes, laid out as bytes.c's top_at says) for the
 * lane's node of level `level` (off[r]: the node's offset from the first node of the
 * level) into sel[r]. Each pair of 64-byte registers holds the 2^level nodes of
 * 128 / 2^level lanes: one masked byte permute a pair selects their lanes' nodes, and
 * leaves the other lanes' bytes (indices still, or bytes selected before) as they are.
 * With `step` a constant 0 the walks share every load. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline)) static inline void
select_level(const uint8_t *base, size_t step, const __m512i *off, uint32_t level,
             const int nr, __m512i *sel)
{
    if (level == 0) {
        for (int r = 0; r < nr; r++)
            sel[r] = _mm512_loadu_si512(base + r * step);
        return;
    }
    const __m512i lane = _mm512_set_epi8(
        63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43, 42,
        41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20,
        19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    /* Lanes a pair of registers serves, and each lane's first index into its pair:
     * (lane mod per_pair) << level, shifted bytewise (16-bit shift, then mask). */
    const uint32_t per_pair = 128u >> level;
    const __m512i first = _mm512_and_si512(
        _mm512_slli_epi16(_mm512_and_si512(lane, _mm512_set1_epi8((char)(per_pair - 1))),
                          (int)level),
        _mm512_set1_epi8((char)(0xff << level)));
    for (int r = 0; r < nr; r++)
        sel[r] = _mm512_add_epi8(first, off[r]);
    for (uint32_t g = 0; g < (1u << level) / 2; g++) {
        __mmask64 mine = per_pair >= 64 ? ~(__mmask64)0
                                        : (((__mmask64)1 << per_pair) - 1) << (g * per_pair);
        for (int r = 0; r < nr; r++) {
            const uint8_t *pair = base + r * step + 128 * (size_t)g;
            sel[r] = _mm512_mask2_permutex2var_epi8(_mm512_loadu_si512(pair), sel[r], mine,
                                                    _mm512_loadu_si512(pair + 64));
        }
    }
}

/* Walks `nr` rows (row[r]: its bins; flags[r]: their flags) through blocks of trees of
 * depth `depth`, a constant after inlining so that every level's selection unrolls into
 * registers: row r through the block whose node bytes are at feat + r * step and
 * rank + r * step (`step` 0: one block for all). Leaves each lane's leaf
 * (0 .. 2^depth - 1) of walk r as bytes in off[r]. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline)) static inline void
walk_block(const uint8_t *feat, const uint8_t *rank, size_t step, const __m512i *row,
           const __m512i *flags, const uint32_t depth, const int nr, __m512i *off)
{
    const __m512i one = _mm512_set1_epi8(1);
    const __m512i nan = _mm512_set1_epi8((char)ENGINE_BYTE_FLAG_NAN);
    const __m512i top = _mm512_set1_epi8((char)ENGINE_BYTE_FLAG_TOP);
    /* Each lane's node as its offset within the level. */
    for (int r = 0; r < nr; r++)
        off[r] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (uint32_t l = 0; l < depth; l++) {
        __m512i fv[WALK_ROWS], rv[WALK_ROWS];
        size_t level_at = (((size_t)1 << l) - 1) * ENGINE_BYTE_LANES;
        select_level(feat + level_at, step, off, l, nr, fv);
        select_level(rank + level_at, step, off, l, nr, rv);
        for (int r = 0; r < nr; r++) {
            __m512i x = _mm512_permutexvar_epi8(fv[r], row[r]);
            __m512i xf = _mm512_permutexvar_epi8(fv[r], flags[r]);
            __mmask64 missing = _mm512_test_epi8_mask(xf, nan);
            __mmask64 le = _mm512_cmple_epu8_mask(x, rv[r]) & ~_mm512_test_epi8_mask(xf, top);
            __mmask64 left = (le & ~missing) | (missing & _mm512_movepi8_mask(fv[r]));
            off[r] = _mm512_add_epi8(off[r], off[r]);
            off[r] = _mm512_mask_add_epi8(off[r], ~left, off[r], one);
        }
    }
}

/* Walks 16 lanes (lanes `lanes`, at offsets `off` within level ENGINE_BYTE_BLEND_DEPTH)
 * on through the levels below it, held as words in `lower` (the block's), with 32-bit
 * gathers, and returns each lane's leaf. */
__attribute__((target("avx512f,avx512bw,avx512vbmi"))) static __m512i
walk_lower(const uint32_t *lower, uint32_t depth, __m512i row, __m512i flags, __m512i lanes,
           __m512i off)
{
    const __m512i byte = _mm512_set1_epi32(0xff), one = _mm512_set1_epi32(1);
    const __m512i nan = _mm512_set1_epi32(ENGINE_BYTE_FLAG_NAN);
    const __m512i top = _mm512_set1_epi32(ENGINE_BYTE_FLAG_TOP);
    const __m512i dl = _mm512_set1_epi32(ENGINE_BYTE_DEFAULT_LEFT);
    for (uint32_t l = ENGINE_BYTE_BLEND_DEPTH; l < depth; l++) {
        /* Node (2^l - 1) + off, counted from the first node below the byte levels. */
        int first = (1 << l) - (1 << ENGINE_BYTE_BLEND_DEPTH);
        __m512i n = _mm512_add_epi32(off, _mm512_set1_epi32(first));
        __m512i w = _mm512_i32gather_epi32(
            _mm512_add_epi32(_mm512_slli_epi32(n, 6), lanes), lower, 4);
        /* Byte 0 of each word is the feature: permute bytes, keep byte 0. */
        __m512i x = _mm512_and_si512(_mm512_permutexvar_epi8(w, row), byte);
        __m512i xf = _mm512_and_si512(_mm512_permutexvar_epi8(w, flags), byte);
        __m512i rank = _mm512_and_si512(_mm512_srli_epi32(w, 8), byte);
        __mmask16 missing = _mm512_test_epi32_mask(xf, nan);
        __mmask16 le = _mm512_cmple_epu32_mask(x, rank) & ~_mm512_test_epi32_mask(xf, top);
        __mmask16 left = (le & ~missing) | (missing & _mm512_test_epi32_mask(w, dl));
        off = _mm512_add_epi32(off, off);
        off = _mm512_mask_add_epi32(off, ~left, off, one);
    }
    return off;
}

/* Walks `nr` binned rows (walk r: bins[r]) through blocks of the layout and writes walk
 * r's leaves (leaf * 64 + lane) to out[r * stride ...]. `nr` and `blocks` are constants
 * after inlining: with `blocks` 0 every walk goes through block `blk`, sharing its loads
 * (a batch); with `blocks` 1 walk r goes through block blk + r (the blocks of one row,
 * walked at once so that their chains of permutes overlap). */
__attribute__((target("avx512f,avx512bw,avx512vbmi"), always_inline)) static inline void
walk_rows(const crisk__engine_bytes *b, const uint8_t *const *bins, size_t blk, const int nr,
          const size_t blocks, int32_t *out, size_t stride)
{
    _Static_assert(ENGINE_BYTE_BLEND_DEPTH == 6, "walk_block is instantiated for depths 0-6");
    size_t top = crisk__engine_bytes_top(b), low = ((size_t)1 << b->depth) - 1 - top;
    size_t step = blocks * top * ENGINE_BYTE_LANES;
    const uint8_t *feat = b->feature + blk * top * ENGINE_BYTE_LANES;
    const uint8_t *rank = b->rank + blk * top * ENGINE_BYTE_LANES;
    __m512i row[WALK_ROWS], flags[WALK_ROWS], leaf[WALK_ROWS];
    for (int r = 0; r < nr; r++) {
        row[r] = _mm512_loadu_si512(bins[r]);
        flags[r] = _mm512_loadu_si512(bins[r] + ENGINE_BYTE_MAX_FEATURES);
    }
    switch (b->depth) {
    case 0: walk_block(feat, rank, step, row, flags, 0, nr, leaf); break;
    case 1: walk_block(feat, rank, step, row, flags, 1, nr, leaf); break;
    case 2: walk_block(feat, rank, step, row, flags, 2, nr, leaf); break;
    case 3: walk_block(feat, rank, step, row, flags, 3, nr, leaf); break;
    case 4: walk_block(feat, rank, step, row, flags, 4, nr, leaf); break;
    case 5: walk_block(feat, rank, step, row, flags, 5, nr, leaf); break;
    default: walk_block(feat, rank, step, row, flags, 6, nr, leaf); break;
    }
    const __m512i lane16 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                                             14, 15);
    for (int r = 0; r < nr; r++) {
        uint8_t leaves[ENGINE_BYTE_LANES];
        _mm512_storeu_si512(leaves, leaf[r]);
        for (int q = 0; q < 4; q++) {
            __m512i l32 = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(leaves + 16 * q)));
            __m512i lanes = _mm512_add_epi32(lane16, _mm512_set1_epi32(16 * q));
            if (b->depth > ENGINE_BYTE_BLEND_DEPTH)
                l32 = walk_lower(b->lower + (blk + r * blocks) * low * ENGINE_BYTE_LANES,
                                 b->depth, row[r], flags[r], lanes, l32);
            _mm512_storeu_si512(out + r * stride + 16 * q,
                                _mm512_add_epi32(_mm512_slli_epi32(l32, 6), lanes));
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vbmi"))) void
crisk__engine_bytes_vbmi(const crisk__engine_bytes *b, const uint8_t *const *bins, size_t nrows,
                         size_t b0, size_t b1, int32_t *out, size_t stride)
{
    size_t blk = b0;
    /* Fewer rows than a walk takes: each row walks up to WALK_ROWS blocks at once instead,
     * the last few blocks together too (a model of 150 trees is three blocks). */
    while (nrows < WALK_ROWS && blk < b1) {
        size_t n = b1 - blk < WALK_ROWS ? b1 - blk : WALK_ROWS;
        for (size_t r = 0; r < nrows; r++) {
            const uint8_t *same[WALK_ROWS];
            for (int k = 0; k < WALK_ROWS; k++)
                same[k] = bins[r];
            int32_t *o = out + r * stride + (blk - b0) * ENGINE_BYTE_LANES;
            switch (n) { /* a constant count for each instance of the walk */
            case 1: walk_rows(b, same, blk, 1, 1, o, ENGINE_BYTE_LANES); break;
            case 2: walk_rows(b, same, blk, 2, 1, o, ENGINE_BYTE_LANES); break;
            case 3: walk_rows(b, same, blk, 3, 1, o, ENGINE_BYTE_LANES); break;
            default: walk_rows(b, same, blk, WALK_ROWS, 1, o, ENGINE_BYTE_LANES); break;
            }
        }
        blk += n;
    }
    for (; blk < b1; blk++) {
        int32_t *o = out + (blk - b0) * ENGINE_BYTE_LANES;
        size_t r = 0;
        for (; r + WALK_ROWS <= nrows; r += WALK_ROWS)
            walk_rows(b, bins + r, blk, WALK_ROWS, 0, o + r * stride, stride);
        for (; r < nrows; r++)
            walk_rows(b, bins + r, blk, 1, 0, o + r * stride, stride);
    }
}
