/*
 * policy/explore.c — exploration: the "explore" object of a lane policy, the weights
 * (uniform, or rising with the score's rank toward the decision boundary, never below a
 * floor), their exact inclusion probabilities (capped Poisson sampling, re-solved after
 * capping so they still sum to the budget; never trimmed or topped up after the draw)
 * and the keyed draw.
 */
#include "policy/explore.h"

#include "common/error.h"
#include "common/jsonfile.h"
#include "common/siphash.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The second half of the explore draw's SipHash key ("crisk-ex"): independent of the
 * random draw's key, so the two draws are independent. */
#define EXPLORE_KEY1 0x637269736b2d6578ULL

int crisk__explore_parse(const cJSON *v, crisk__explore *e, crisk_error *err)
{
    static const char *const keys[] = {"lane", "share", "seed", "weight", "floor", "feature",
                                       NULL};
    if (!cJSON_IsObject(v))
        return crisk__fail(err, CRISK_E_FORMAT, "explore: expected an object");
    int rc = crisk__json_check_keys(v, keys, "explore", err);
    if (rc)
        return rc;
    const cJSON *share = cJSON_GetObjectItemCaseSensitive(v, "share");
    const cJSON *seed = cJSON_GetObjectItemCaseSensitive(v, "seed");
    const cJSON *weight = cJSON_GetObjectItemCaseSensitive(v, "weight");
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(v, "floor");
    if (!cJSON_IsNumber(share) || !(share->valuedouble > 0) || share->valuedouble > 1)
        return crisk__fail(err, CRISK_E_FORMAT, "explore.share: expected a number in (0, 1]");
    /* Seeds are JSON numbers, so integers up to 2^53 keep every digit. */
    if (!cJSON_IsNumber(seed) || !(seed->valuedouble >= 0) ||
        seed->valuedouble > 9007199254740992.0 || seed->valuedouble != floor(seed->valuedouble))
        return crisk__fail(err, CRISK_E_FORMAT, "explore.seed: expected an integer from 0 to "
                           "9007199254740992");
    const char *kind = cJSON_IsString(weight) ? weight->valuestring : weight ? "" : "uniform";
    if (strcmp(kind, "uniform") && strcmp(kind, "boundary") && strcmp(kind, "novelty"))
        return crisk__fail(err, CRISK_E_FORMAT, "explore.weight: expected \"uniform\", "
                           "\"boundary\" or \"novelty\"");
    const cJSON *feature = cJSON_GetObjectItemCaseSensitive(v, "feature");
    int novelty = strcmp(kind, "novelty") == 0;
    if (novelty != (feature != NULL) ||
        (feature && (!cJSON_IsString(feature) || !feature->valuestring[0] ||
                     strlen(feature->valuestring) >= sizeof e->feature)))
        return crisk__fail(err, CRISK_E_FORMAT, "explore.feature: a feature name of 1 to %zu "
                           "bytes, given with \"novelty\" weights only", sizeof e->feature - 1);
    if (fl && (!cJSON_IsNumber(fl) || !(fl->valuedouble > 0) || fl->valuedouble > 1))
        return crisk__fail(err, CRISK_E_FORMAT, "explore.floor: expected a number in (0, 1]");
    e->on = 1;
    e->share = share->valuedouble;
    e->seed = (uint64_t)seed->valuedouble;
    e->boundary = strcmp(kind, "boundary") == 0;
    e->novelty = novelty;
    if (novelty)
        strcpy(e->feature, feature->valuestring);
    e->floor = fl ? fl->valuedouble : 0.1;
    return 0;
}

double crisk__explore_rank(size_t below, size_t m, float score)
{
    if (isnan(score))
        return 0;
    if (m == 0)
        return 0.5;
    return (double)below / (double)m;
}

/* Returns how many of the ascending `sorted` (m scores) are strictly below `score`. */
static size_t count_below(const float *sorted, size_t m, float score)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < score)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}


/* Orders floats ascending for qsort (the inputs are finite). */
static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

int crisk__explore_batch_ranks(const float *scores, size_t n, double *q, crisk_error *err)
{
    float *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu exploration ranks", n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(scores[i]))
            sorted[m++] = scores[i];
    qsort(sorted, m, sizeof *sorted, cmp_float);
    for (size_t i = 0; i < n; i++)
        q[i] = crisk__explore_rank(count_below(sorted, m, scores[i]), m, scores[i]);
    free(sorted);
    return 0;
}

void crisk__explore_novelty(const float *counts, size_t n, double *q)
{
    for (size_t i = 0; i < n; i++)
        q[i] = counts[i] > 0 ? 1 / (1 + (double)counts[i]) : 1;
}

/* A weight and the unit it belongs to, so that sorting by weight keeps the unit. */
typedef struct weighted {
    double w;
    size_t i;
} weighted;

/* Orders weights largest first, ties by unit, for qsort. */
static int cmp_weight_desc(const void *a, const void *b)
{
    const weighted *x = a, *y = b;
    if (x->w != y->w)
        return x->w < y->w ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

int crisk__explore_solve(const double *w, size_t m, double k, double *p, crisk_error *err)
{
    if (k >= (double)m) {
        for (size_t i = 0; i < m; i++)
            p[i] = 1;
        return 0;
    }
    weighted *s = malloc((m ? m : 1) * sizeof *s);
    if (!s)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu inclusion "
                           "probabilities", m);
    double rest = 0;
    for (size_t i = 0; i < m; i++) {
        s[i] = (weighted){w[i], i};
        rest += w[i];
    }
    qsort(s, m, sizeof *s, cmp_weight_desc);
    /* Cap the largest weights one at a time while c * w would pass 1: each capped unit
     * takes one from the budget and leaves the others' c to be solved again. */
    size_t capped = 0;
    double c = k / rest;
    while (capped < m && c * s[capped].w >= 1) {
        rest -= s[capped].w;
        capped++;
        c = rest > 0 ? (k - (double)capped) / rest : 0;
    }
    for (size_t j = 0; j < m; j++)
        p[s[j].i] = j < capped ? 1 : c * s[j].w;
    free(s);
    return 0;
}

/* Returns the weight of declaration i, from the floor to 1: by its novelty q[i], or by
 * its score's rank q[i] rescaled to the share below the budget (`budget_share`), where
 * exploration draws. */
static double weight_of(const crisk__explore *e, const double *q, size_t i, double budget_share)
{
    if (!q)
        return 1;
    double below = 1 - budget_share;
    double r = e->novelty ? q[i] : below > 0 ? q[i] / below : 1;
    return e->floor + (1 - e->floor) * (r < 1 ? r : 1);
}

/* Returns whether the declaration with id `id` (`len` bytes) is drawn at probability p:
 * SipHash-2-4 under the key (seed, EXPLORE_KEY1) below p * 2^64. */
static int draw(const crisk__explore *e, const char *id, size_t len, double p)
{
    if (p >= 1)
        return 1;
    return crisk__siphash(e->seed, EXPLORE_KEY1, id, len) < (uint64_t)ldexp(p, 64);
}

int crisk__explore_place(const crisk__explore *e, double budget_share, int stream,
                         const double *q, const char *const *ids, const size_t *id_lens,
                         size_t n, crisk__decision *d, crisk_error *err)
{
    size_t *rows = malloc((n ? n : 1) * sizeof *rows);
    double *w = malloc((n ? n : 1) * sizeof *w);
    double *p = malloc((n ? n : 1) * sizeof *p);
    if (!rows || !w || !p) {
        free(rows);
        free(w);
        free(p);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for exploring %zu rows", n);
    }
    size_t m = 0;
    for (size_t i = 0; ids && i < n; i++)
        if (!d[i].kind && ids[i]) {
            rows[m] = i;
            w[m++] = weight_of(e, q, i, budget_share);
        }
    int rc = 0;
    if (stream) {
        /* One at a time, the batch is unknown: scale by the mean weight of an eligible
         * declaration, whose rescaled rank is uniform below the budget (novelty weights
         * take the same scale: the count explored is then only near its target). */
        double mean = q ? (1 + e->floor) / 2 : 1;
        double below = 1 - budget_share > 0 ? 1 - budget_share : 1;
        for (size_t j = 0; j < m; j++) {
            double pj = e->share * w[j] / (below * mean);
            p[j] = pj < 1 ? pj : 1;
        }
    } else {
        rc = crisk__explore_solve(w, m, e->share * (double)n, p, err);
    }
    for (size_t j = 0; rc == 0 && j < m; j++) {
        size_t i = rows[j];
        d[i].propensity = p[j];
        if (draw(e, ids[i], id_lens[i], p[j])) {
            d[i].lane = (uint32_t)e->lane;
            d[i].kind = CRISK_REASON_EXPLORE;
        }
    }
    free(rows);
    free(w);
    free(p);
    return rc;
}
