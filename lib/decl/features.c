/*
 * decl/features.c — building a schema's features from a batch: the one code path behind both
 * crisk_schema_features (scoring, from the fitted state) and crisk_schema_training_matrix
 * (training, with out-of-fold risk indicators), so that the two cannot drift apart.
 */
#include "common/date.h"
#include "common/error.h"
#include "decl/event_features.h"
#include "decl/features.h"
#include "decl/fitted.h"
#include "decl/keys.h"
#include "decl/plain_features.h"
#include "decl/types.h"
#include "common/short_copy.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Returns the smoothed rate (pos + m * prior) / (count + m), or `prior` for a key with no
 * rows. */
static float smoothed_rate(double count, double pos, double m, double prior)
{
    if (count == 0)
        return (float)prior;
    return (float)((pos + m * prior) / (count + m));
}

/* Returns risk feature `f`'s value for a row whose key has index `k` in its table (-1: no
 * key, or unseen), leaving out fold `fold` of `fit`'s folds (fold == folds: none), with the
 * prior of that fold. */
static float risk_value(const crisk__fitted_state *fit, const crisk__schema_feature *f, long k,
                        size_t fold, double prior)
{
    const crisk__risk_table *t = &fit->tables[f->set];
    double count = 0, pos = 0;
    if (k >= 0) {
        count = t->stat[k].count;
        pos = t->stat[k].pos;
        if (fold < fit->folds) {
            count -= t->fold[(size_t)k * fit->folds + fold].count;
            pos -= t->fold[(size_t)k * fit->folds + fold].pos;
        }
    }
    if (f->op == CRISK__OP_RISK_COUNT)
        return (float)count;
    return smoothed_rate(count, pos, isnan(f->smoothing) ? fit->smoothing : f->smoothing, prior);
}

/* Rows are looked up a block at a time, in steps over every key set of the whole block:
 * every key is hashed and its slot prefetched, then each slot's key record, and only then
 * is any key compared (and the found key's counts prefetched), so the dependent cache
 * misses of lookups in large tables overlap instead of adding up: with several tables of
 * tens of thousands of keys, those misses are most of the cost of building features.
 * 256 rows a block (for batches that large) keeps more of them in flight: 5-7% faster
 * features than 32 on the declarations bench. Smaller batches use their size as the
 * block, so that scoring a few rows still needs no malloc. */
#define BLOCK 256

/* The keys of one block, built once and kept for both the hashing and the comparing
 * step: `cap` bytes at `buf` (scratch at first, then `heap` once a block needs more). */
typedef struct key_arena {
    char *buf, *heap;
    size_t used, cap;
} key_arena;

/* Builds row `row`'s key of set `set` at the end of arena `a`, doubling the arena until it
 * fits. Returns its length, -1 when the row has no key, or CRISK_E_NOMEM (below -1). */
static long arena_key(const crisk_schema *s, const crisk_batch *b, size_t set, size_t row,
                      key_arena *a)
{
    long len;
    while ((len = crisk__key_build(s, b, set, row, a->buf + a->used, a->cap - a->used)) == -2) {
        size_t cap = a->cap * 2 + crisk__key_capacity(s);
        char *heap = malloc(cap);
        if (!heap)
            return CRISK_E_NOMEM;
        memcpy(heap, a->buf, a->used);
        free(a->heap);
        a->buf = a->heap = heap;
        a->cap = cap;
    }
    return len;
}

/* Entries of a memo of short keys or values (a power of two). */
#define MEMO_SLOTS 128

/* A short key or value (8 bytes or fewer) already looked up, by its bytes as one word. */
typedef struct text_memo {
    uint64_t word;
    long code;
    int32_t len; /* -1: empty */
} text_memo;

/* Returns the memo slot of the short key `word` of `len` bytes. */
static size_t memo_slot(uint64_t word, size_t len)
{
    return (size_t)(((word ^ len) * 0x9e3779b97f4a7c15ull) >> 57) & (MEMO_SLOTS - 1);
}

/* Empties `memo`. */
static void memo_clear(text_memo *memo)
{
    for (size_t k = 0; k < MEMO_SLOTS; k++)
        memo[k].len = -1;
}

/* Returns the index of `key` (1 to 8 bytes) in `map` (-1: unseen): from `memo` when it
 * holds the key, else looked up at once and kept there. */
static inline long memo_find(text_memo *memo, const crisk__strmap *map, const char *key,
                             size_t len)
{
    uint64_t w = crisk__short_word(key, len);
    text_memo *m = &memo[memo_slot(w, len)];
    if (m->len != (int32_t)len || m->word != w)
        *m = (text_memo){w, crisk__strmap_find(map, key, len), (int32_t)len};
    return m->code;
}

/* Tables this small stay in cache: their short keys go through a memo, looked up at once
 * the first time a block meets them, rather than through the staged, prefetched lookups
 * that large tables need; most rows then take a key met before without a hash or probe. */
#define SMALL_TABLE 256

/* Fewer rows than this in a block go without memos: emptying one would cost more than it
 * saves (a single declaration's call). */
#define MEMO_MIN_ROWS 32

/* Marks in `off` a key the memo looked up (idx then holds its index, not its length). */
#define MEMO_FOUND SIZE_MAX

/* Looks up the key of every risk set for rows [r0, r0 + n) of `b` in the tables of
 * `fit`, storing each row's key index (-1: no key, or unseen) in idx[set * bs + i]
 * (n <= bs, the block's stride). Each key is built once into arena `a`, its offset kept
 * in `off` and its hash in `h` (both of nsets * bs); a short key of a small table is
 * looked up through the set's memo at once (its `off` MEMO_FOUND). Returns 0 or
 * CRISK_E_NOMEM. */
static int lookup_keys(const crisk_schema *s, const crisk__fitted_state *fit, const crisk_batch *b,
                       size_t r0, size_t n, size_t bs, key_arena *a, size_t *off, uint64_t *h,
                       long *idx)
{
    a->used = 0;
    for (size_t set = 0; set < s->nsets; set++) {
        const crisk__strmap *map = &fit->tables[set].keys;
        text_memo memo[MEMO_SLOTS];
        int small = n >= MEMO_MIN_ROWS && map->size <= SMALL_TABLE;
        if (small)
            memo_clear(memo);
        for (size_t i = 0, j = set * bs; i < n; i++, j++) {
            /* Until the lookup, idx holds the key's length (-1: no key). */
            idx[j] = map->size ? arena_key(s, b, set, r0 + i, a) : -1;
            if (idx[j] < -1)
                return (int)idx[j];
            if (idx[j] > 0 && idx[j] <= 8 && small) {
                idx[j] = memo_find(memo, map, a->buf + a->used, (size_t)idx[j]);
                off[j] = MEMO_FOUND;
            } else if (idx[j] >= 0) {
                off[j] = a->used;
                a->used += (size_t)idx[j];
                h[j] = crisk__hash_bytes(a->buf + off[j], (size_t)idx[j]);
                crisk__strmap_prefetch(map, h[j]);
            }
        }
    }
    for (size_t set = 0; set < s->nsets; set++)
        for (size_t i = 0, j = set * bs; i < n; i++, j++)
            if (idx[j] >= 0 && off[j] != MEMO_FOUND)
                crisk__strmap_prefetch_record(&fit->tables[set].keys, h[j]);
    for (size_t set = 0; set < s->nsets; set++) {
        const crisk__risk_table *t = &fit->tables[set];
        for (size_t i = 0, j = set * bs; i < n; i++, j++) {
            if (idx[j] < 0 || off[j] == MEMO_FOUND)
                continue;
            idx[j] = crisk__strmap_find_hashed(&t->keys, a->buf + off[j], (size_t)idx[j], h[j]);
            if (idx[j] >= 0)
                __builtin_prefetch(&t->stat[idx[j]]);
        }
    }
    return 0;
}

/* Looks up text field `field` of rows [r0, r0 + n) in dictionary `map`, storing codes in
 * `idx` (-1: unseen, -2: missing). A dictionary is small and most of its values short:
 * those go through a memo (as small tables' keys do); longer ones are hashed and their
 * slots prefetched before any is compared. */
static void lookup_texts(const crisk_batch *b, size_t field, const crisk__strmap *map,
                         size_t r0, size_t n, long *idx)
{
    uint64_t h[BLOCK];
    text_memo memo[MEMO_SLOTS];
    int memo_on = n >= MEMO_MIN_ROWS;
    if (memo_on)
        memo_clear(memo);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *t = crisk__batch_text_at(b, r0 + i, field, &len);
        idx[i] = t ? 0 : -2;
        if (memo_on && t && len && len <= 8) {
            idx[i] = memo_find(memo, map, t, len);
        } else if (t) {
            h[i] = crisk__hash_bytes(t, len);
            crisk__strmap_prefetch(map, h[i]);
            idx[i] = -3; /* looked up below */
        }
    }
    for (size_t i = 0; i < n; i++)
        if (idx[i] == -3) {
            size_t len;
            const char *t = crisk__batch_text_at(b, r0 + i, field, &len);
            idx[i] = crisk__strmap_find_hashed(map, t, len, h[i]);
        }
}

/* Builds every feature of every row of `b` from `fit` into `out`; returns 0 or
 * CRISK_E_NOMEM. */
int crisk__features_build(const crisk_schema *s, const crisk__fitted_state *fit,
                          const crisk_batch *b, const uint32_t *folds_of, float *out,
                          crisk_error *err)
{
    size_t nf = s->nfeatures, folds = fit->folds;
    int rc = 0;
    /* Scratch: per block the key index, key offset and hash of each risk set, the code of
     * each category dictionary, the priors, and the block's keys (room for keys of 16
     * bytes on average, grown on the heap when a block needs more). Scoring a few rows
     * with a schema of the default sizes stays on the stack: no malloc per declaration. */
    size_t bs = b->rows < BLOCK ? (b->rows ? b->rows : 1) : BLOCK; /* the block's stride */
    size_t nidx = (s->nsets + s->ndicts) * bs, nkeys = s->nsets * bs;
    size_t arena_bytes = nkeys * 16 + crisk__key_capacity(s);
    size_t bytes = nidx * sizeof(long) + (folds + 1) * sizeof(double)
                   + nkeys * (sizeof(uint64_t) + sizeof(size_t)) + arena_bytes;
    _Alignas(double) char stack[16384];
    char *scratch = bytes <= sizeof stack ? stack : malloc(bytes);
    if (!scratch)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory building features");
    uint64_t *hashes = (uint64_t *)scratch;
    size_t *offsets = (size_t *)(hashes + nkeys);
    double *prior = (double *)(offsets + nkeys);
    long *idx = (long *)(prior + folds + 1), *codes = idx + nkeys;
    key_arena arena = {(char *)(idx + nidx), NULL, 0, arena_bytes};
    /* prior[folds] is the whole fit's; prior[f] leaves fold f out. */
    for (size_t f = 0; f <= folds; f++) {
        uint64_t rows = fit->rows - (f < folds ? fit->fold_rows[f] : 0);
        uint64_t pos = fit->positives - (f < folds ? fit->fold_positives[f] : 0);
        prior[f] = rows ? (double)pos / (double)rows : NAN;
    }
    for (size_t r0 = 0; r0 < b->rows; r0 += bs) {
        size_t n = b->rows - r0 < bs ? b->rows - r0 : bs;
        if (lookup_keys(s, fit, b, r0, n, bs, &arena, offsets, hashes, idx)) {
            rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory for the keys of rows %zu to "
                             "%zu", r0, r0 + n);
            break;
        }
        for (size_t j = 0; j < nf; j++)
            if (s->features[j].op == CRISK__OP_CATEGORY)
                lookup_texts(b, s->features[j].field, &fit->dicts[s->features[j].dict], r0, n,
                             codes + s->features[j].dict * bs);
        for (size_t i = 0; i < n; i++) {
            size_t r = r0 + i, fold = folds_of ? folds_of[r] : folds;
            crisk__civil_date date = {0}; /* the row's date parts, decomposed once */
            float *o = out + r * nf;
            for (size_t j = 0; j < nf; j++) {
                const crisk__schema_feature *f = &s->features[j];
                switch (f->op) {
                case CRISK__OP_CATEGORY: {
                    long code = codes[f->dict * bs + i];
                    o[j] = code >= 0 ? (float)code
                           : code == -1 && f->arg ? (float)fit->dicts[f->dict].size : NAN;
                    break;
                }
                case CRISK__OP_RISK_RATE:
                case CRISK__OP_RISK_COUNT:
                    o[j] = risk_value(fit, f, idx[f->set * bs + i], fold, prior[fold]);
                    break;
                case CRISK__OP_EVENT_COUNT:
                case CRISK__OP_EVENT_FLAG:
                case CRISK__OP_EVENT_HOURS_SINCE:
                case CRISK__OP_EVENT_MAX:
                    /* Without events every event feature is missing: no join to try. */
                    o[j] = b->events ? crisk__event_feature(s, b, f, r) : NAN;
                    break;
                default:
                    o[j] = crisk__feature_plain(b, f, r, &date);
                    break;
                }
            }
        }
    }
    free(arena.heap);
    if (scratch != stack)
        free(scratch);
    return rc;
}

/* Builds the scoring features of `b` from the schema's fitted state; returns 0 or an error
 * code. */
int crisk_schema_features(const crisk_schema *s, const crisk_batch *b, float *out,
                          crisk_error *err)
{
    if (!s || !b || (!out && b->rows))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "schema, batch and out must not be "
                           "NULL");
    if (b->schema != s)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the batch was made for another "
                           "schema");
    if (!s->fit.present)
        for (size_t j = 0; j < s->nfeatures; j++)
            if (crisk__feature_needs_fit(&s->features[j]))
                return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "feature \"%s\" needs fitted "
                                   "tables, and the schema has none (crisk_schema_fit)",
                                   s->features[j].name);
    return crisk__features_build(s, &s->fit, b, NULL, out, err);
}

/* Builds the training features of `b` with out-of-fold risk indicators; returns 0 or an
 * error code. */
int crisk_schema_training_matrix(const crisk_schema *s, const crisk_batch *b,
                                 const float *labels, size_t nlabels,
                                 const crisk_fit_options *opts, float *out, crisk_error *err)
{
    /* Refused before fitting, which a large batch would pay for nothing. */
    if (b && !out && b->rows)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "out must not be NULL");
    crisk__fitted_state fit;
    uint32_t *folds_of;
    int rc = crisk__fit(s, b, labels, nlabels, opts, &folds_of, &fit, err);
    if (rc)
        return rc;
    rc = crisk__features_build(s, &fit, b, folds_of, out, err);
    crisk__fitted_free(s, &fit);
    free(folds_of);
    return rc;
}
