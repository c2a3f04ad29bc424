/*
 * engine/planes_avx512.c — the PLANES layout's AVX-512 kernel (x86-64 builds only): a block
 * of up to 128 rows binned into a table of split masks, then walked through one tree at a
 * time as bit planes (one bitwise mux a split), and each tree's leaves looked up 16 rows
 * at a time and added to the rows' float sums, kept in registers, in tree order.
 */
#include "engine/layout.h"

#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

/* 16-row chunks of a block. */
#define CHUNKS (ENGINE_PLANES_ROWS / 16)

/* Returns, for each of 16 values x of feature f (its search levels at `search`), how many
 * of its cuts are <= x (0 for NaN, 256 above the 256th): eight steps of a binary search,
 * each probe looked up in registers by permutes. */
TARGET static inline __m512i bin16(const float *search, __m512 x)
{
    __m512i pos = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (uint32_t k = 0; k < 8; k++) {
        /* Probe index: the outcome of the steps so far. */
        __m512i idx = _mm512_srli_epi32(pos, (unsigned)(8 - k));
        const float *lv = search + 16 * crisk__engine_planes_level(k);
        __m512 probe[8];
        size_t n = k < 5 ? 1 : (size_t)1 << (k - 5);
        for (size_t g = 0; g < n; g++)
            probe[g] = k < 5 ? _mm512_permutexvar_ps(idx, _mm512_loadu_ps(lv))
                             : _mm512_permutex2var_ps(_mm512_loadu_ps(lv + 32 * g), idx,
                                                      _mm512_loadu_ps(lv + 32 * g + 16));
        for (uint32_t bit = 5; bit < k; bit++) {
            __mmask16 hi = _mm512_test_epi32_mask(idx, _mm512_set1_epi32(1 << bit));
            for (size_t g = 0; g < n >> (bit - 4); g++)
                probe[g] = _mm512_mask_blend_ps(hi, probe[2 * g], probe[2 * g + 1]);
        }
        __mmask16 le = _mm512_cmp_ps_mask(probe[0], x, _CMP_LE_OQ);
        pos = _mm512_mask_add_epi32(pos, le, pos, _mm512_set1_epi32(1 << (7 - k)));
    }
    /* The steps reach 255 at most: the 256th cut is <= x only after all the others. */
    __mmask16 last = _mm512_cmp_ps_mask(_mm512_set1_ps(search[1]), x, _CMP_LE_OQ);
    return _mm512_mask_add_epi32(pos, last, pos, _mm512_set1_epi32(1));
}

/* Bins the `nrows` rows at `rows`, feature by feature 16 rows at a time, and writes their
 * table of masks (layout.h) to table[0 .. planes_code(nfeatures, 0)); rows beyond nrows
 * are binned as zeros, and never read. */
TARGET static void build_table(const crisk__engine_planes *p, const crisk__engine_bytes *b,
                               const float *rows, size_t nrows, __m128i *table)
{
    size_t F = b->nfeatures;
    _Alignas(64) uint8_t keys[ENGINE_PLANES_ROWS];
    uint16_t top[CHUNKS];
    uint16_t *nan = (uint16_t *)(table + 1);
    table[0] = _mm_setzero_si128();
    const __m512i stride = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)F));
    const __m512i one = _mm512_set1_epi8(1), above = _mm512_set1_epi32(256);
    for (size_t f = 0; f < F; f++) {
        const float *search = p->search + f * ENGINE_PLANES_SEARCH;
        for (size_t c = 0; c < CHUNKS; c++) {
            size_t left = nrows > 16 * c ? nrows - 16 * c : 0;
            __mmask16 valid = (__mmask16)(left >= 16 ? 0xffff : (1u << left) - 1);
            __m512 x = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, stride,
                                                rows + 16 * c * F + f, 4);
            __m512i pos = bin16(search, x);
            /* A bin of 256 is 255 with its TOP bit. */
            _mm_store_si128((__m128i *)(keys + 16 * c), _mm512_cvtusepi32_epi8(pos));
            nan[8 * f + c] = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
            top[c] = _mm512_cmpeq_epi32_mask(pos, above);
        }
        /* A NaN's bin is 0: left at every cut, its NaN mask says where it goes. */
        __m512i k0 = _mm512_load_si512(keys), k1 = _mm512_load_si512(keys + 64);
        size_t n = b->cut_begin[f + 1] - b->cut_begin[f];
        uint64_t *out = (uint64_t *)(table + crisk__engine_planes_code(b, f, 0));
        __m512i rank = _mm512_setzero_si512();
        for (size_t r = 0; r < n && r < 255; r++) {
            out[2 * r] = _mm512_cmpgt_epu8_mask(k0, rank);
            out[2 * r + 1] = _mm512_cmpgt_epu8_mask(k1, rank);
            rank = _mm512_add_epi8(rank, one);
        }
        if (n == 256)
            memcpy(out + 2 * 255, top, sizeof top);
    }
}

/* Returns the rows going right at split j of a tree's codes: the OR of its two masks
 * (codes count 8-byte words). */
TARGET static inline __m128i split_right(const __m128i *table, const uint16_t *code, size_t j)
{
    const uint64_t *words = (const uint64_t *)table;
    return _mm_or_si128(_mm_load_si128((const __m128i *)(words + code[2 * j])),
                        _mm_load_si128((const __m128i *)(words + code[2 * j + 1])));
}

/* Returns, bit by bit, b where s is set and a where it is not. */
TARGET static inline __m128i mux(__m128i s, __m128i a, __m128i b)
{
    return _mm_ternarylogic_epi64(s, b, a, 0xca);
}

/* Unrolls level_plane's loop over a level's splits. Under AddressSanitizer (the
 * sanitizer and fuzz builds, gcc's and clang's) the compilers cannot honour the
 * annotation on the instrumented loop and warn, which -Werror makes fatal; those builds
 * check correctness, not speed. */
#if defined(__SANITIZE_ADDRESS__)
#define PLANES_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PLANES_ASAN 1
#endif
#endif
#ifdef PLANES_ASAN
#define UNROLL_LEVEL
#else
#define UNROLL_LEVEL _Pragma("GCC unroll 128")
#endif

/* Returns level k's bit plane of a tree: for each row, whether it goes right at the split
 * of level k its planes above (plane[0 .. k), most significant first) lead it to. The
 * splits are read in order and folded as a binary counter carries: pending[i] holds the
 * selection, over planes i+1 .. k-1, of the half of subtree i whose plane-i bit is 0. */
TARGET __attribute__((always_inline)) static inline __m128i
level_plane(const __m128i *table, const uint16_t *code, const __m128i *plane, const uint32_t k)
{
    __m128i pending[ENGINE_PLANES_MAX_DEPTH], v = _mm_setzero_si128();
    size_t first = ((size_t)1 << k) - 1;
    UNROLL_LEVEL
    for (size_t o = 0; o < ((size_t)1 << k); o++) {
        v = split_right(table, code, first + o);
        uint32_t i = k;
        for (size_t x = o; x & 1; x >>= 1) {
            i--;
            v = mux(plane[i], pending[i], v);
        }
        if (i > 0)
            pending[i - 1] = v;
    }
    return v;
}

/* Adds the leaves of trees [t0, t1) of depth `depth` (a constant after inlining) to the
 * block's sums acc[0 .. CHUNKS). */
TARGET __attribute__((always_inline)) static inline void
walk_trees(const crisk__engine_planes *p, const __m128i *table, size_t t0, size_t t1,
           const uint32_t depth, __m512 *acc)
{
    enum { LOW = 5 };   /* leaf bits a two-register permute looks up */
    const uint32_t low = depth < LOW ? depth : LOW;
    /* Two-register permutes a lookup takes (p->leaf_stride / 32, as a constant). */
    const size_t groups = depth <= LOW ? 1 : (size_t)1 << (depth - LOW);
    const size_t inner = ((size_t)1 << depth) - 1;
    for (size_t t = t0; t < t1; t++) {
        const uint16_t *code = p->code + t * 2 * inner;
        const float *leaf = p->leaf + t * p->leaf_stride;
        __m128i plane[ENGINE_PLANES_MAX_DEPTH];
#pragma GCC unroll 8
        for (uint32_t k = 0; k < depth; k++)
            plane[k] = level_plane(table, code, plane, k);
        /* bits[k][c]: plane k's bits of chunk c's rows. */
        _Alignas(16) uint16_t bits[ENGINE_PLANES_MAX_DEPTH][CHUNKS];
        for (uint32_t k = 0; k < depth; k++)
            _mm_store_si128((__m128i *)bits[k], plane[k]);
        __m512 vals[2 << (ENGINE_PLANES_MAX_DEPTH - LOW)];
        for (size_t g = 0; g < 2 * groups; g++)
            vals[g] = _mm512_loadu_ps(leaf + 16 * g);
#pragma GCC unroll 8
        for (size_t c = 0; c < CHUNKS; c++) {
            /* The leaf's low bits (plane depth-1 is bit 0) as indices, then its high bits
             * choose among the permutes' results. */
            __m512i idx = _mm512_setzero_si512();
            for (uint32_t bit = 0; bit < low; bit++)
                idx = _mm512_mask_or_epi32(idx, bits[depth - 1 - bit][c], idx,
                                           _mm512_set1_epi32(1 << bit));
            __m512 v[1 << (ENGINE_PLANES_MAX_DEPTH - LOW)];
            for (size_t g = 0; g < groups; g++)
                v[g] = _mm512_permutex2var_ps(vals[2 * g], idx, vals[2 * g + 1]);
            for (uint32_t bit = LOW; bit < depth; bit++)
                for (size_t g = 0; g < groups >> (bit - LOW + 1); g++)
                    v[g] = _mm512_mask_blend_ps(bits[depth - 1 - bit][c], v[2 * g],
                                                v[2 * g + 1]);
            acc[c] = _mm512_add_ps(acc[c], v[0]);
        }
    }
}

TARGET void crisk__engine_planes_avx512(const crisk__engine_planes *p, const crisk__engine_bytes *b,
                                        const float *rows, size_t nrows, size_t t0, size_t t1,
                                        double *margins)
{
    _Alignas(64) __m128i table[ENGINE_PLANES_TABLE / sizeof(__m128i)];
    build_table(p, b, rows, nrows, table);
    _Alignas(64) float sums[ENGINE_PLANES_ROWS] = {0};
    for (size_t r = 0; r < nrows; r++)
        sums[r] = (float)margins[r];
    __m512 acc[CHUNKS];
    for (size_t c = 0; c < CHUNKS; c++)
        acc[c] = _mm512_load_ps(sums + 16 * c);
    switch (p->depth) {
    case 1: walk_trees(p, table, t0, t1, 1, acc); break;
    case 2: walk_trees(p, table, t0, t1, 2, acc); break;
    case 3: walk_trees(p, table, t0, t1, 3, acc); break;
    case 4: walk_trees(p, table, t0, t1, 4, acc); break;
    case 5: walk_trees(p, table, t0, t1, 5, acc); break;
    case 6: walk_trees(p, table, t0, t1, 6, acc); break;
    case 7: walk_trees(p, table, t0, t1, 7, acc); break;
    default: walk_trees(p, table, t0, t1, 8, acc); break;
    }
    for (size_t c = 0; c < CHUNKS; c++)
        _mm512_store_ps(sums + 16 * c, acc[c]);
    for (size_t r = 0; r < nrows; r++)
        margins[r] = sums[r];
}
