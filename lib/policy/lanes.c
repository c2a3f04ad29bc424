/*
 * policy/lanes.c — the lane policy: parse it, and place declarations by the precedence
 * mandatory profile (placed by the caller) -> unscored -> score threshold -> budget ->
 * random -> default, in a batch or against a streaming state (lane_state.c,
 * lane_state_file.c).
 */
#include "policy/lanes.h"
#include "policy/explore.h"
#include "policy/propensity.h"

#include "policy/lane_state.h"
#include "policy/lane_state_file.h"

#include "common/error.h"
#include "common/fixed.h"
#include "common/jsonfile.h"
#include "common/siphash.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The second half of the random draw's SipHash key ("crisk-rn"); the first is the seed. */
#define RANDOM_KEY1 0x637269736b2d726eULL

/* Bytes of a number as %g ("-1.23457e-308" and its NUL fit). */
#define POLICY_G_BYTES 24

/* A lane with a number: a threshold's min_score or a budget's share. */
typedef struct lane_value {
    size_t lane;
    double value;
} lane_value;

struct crisk__policy {
    char *lanes[CRISK__MAX_LANES];
    size_t num_lanes;
    size_t default_lane;
    size_t unscored_lane;                  /* where a declaration without a score goes */
    char *score_model;                     /* NULL: none */
    lane_value thresholds[CRISK__MAX_LANES];/* by lane, most severe first */
    size_t num_thresholds;
    lane_value budget[CRISK__MAX_LANES];    /* by lane, most severe first */
    double budget_cumulative[CRISK__MAX_LANES]; /* shares summed up to each entry */
    size_t num_budget;
    size_t window, warmup;
    int has_random;
    size_t random_lane;
    double random_rate;
    uint64_t random_seed;
    crisk__explore explore;                /* explore.on 0: none */
    uint64_t fingerprint;
    /* The numbers of the reasons that name them, as %g, formatted once. */
    char threshold_text[CRISK__MAX_LANES][POLICY_G_BYTES];  /* thresholds[i].value */
    char share_text[CRISK__MAX_LANES][POLICY_G_BYTES];      /* 100 * budget[i].value */
    char cumulative_text[CRISK__MAX_LANES][POLICY_G_BYTES]; /* 100 * budget_cumulative[i] */
};

/* ---- parsing ---------------------------------------------------------------------- */

/* Finds the lane named by string item `v` (at `where`) and stores its index in `*lane`. */
static int lane_of(const crisk__policy *p, const cJSON *v, const char *where, size_t *lane,
                   crisk_error *err)
{
    if (!cJSON_IsString(v))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected a lane name", where);
    for (size_t i = 0; i < p->num_lanes; i++)
        if (strcmp(p->lanes[i], v->valuestring) == 0) {
            *lane = i;
            return 0;
        }
    return crisk__fail(err, CRISK_E_FORMAT, "%s: unknown lane \"%.64s\"", where, v->valuestring);
}

/* Parses the "lanes" array, "default_lane" and "unscored_lane" (default: the most severe
 * lane, so that a declaration the score model cannot score is controlled, not waved
 * through by default). */
static int parse_lanes(crisk__policy *p, const cJSON *root, crisk_error *err)
{
    const cJSON *lanes = cJSON_GetObjectItemCaseSensitive(root, "lanes");
    int n = cJSON_GetArraySize(lanes);
    if (!cJSON_IsArray(lanes) || n < 1 || n > CRISK__MAX_LANES)
        return crisk__fail(err, CRISK_E_FORMAT, "lanes: expected an array of 1 to %d lane "
                           "names, most severe first", CRISK__MAX_LANES);
    for (const cJSON *l = lanes->child; l; l = l->next) {
        size_t i = p->num_lanes;
        if (!cJSON_IsString(l) || !l->valuestring[0] || strlen(l->valuestring) > 64)
            return crisk__fail(err, CRISK_E_FORMAT, "lanes[%zu]: expected a name of 1 to 64 "
                               "bytes", i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(p->lanes[j], l->valuestring) == 0)
                return crisk__fail(err, CRISK_E_FORMAT, "lanes[%zu]: \"%s\" named twice", i,
                                   l->valuestring);
        if (!(p->lanes[i] = strdup(l->valuestring)))
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
        p->num_lanes++;
    }
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(root, "default_lane");
    const cJSON *unscored = cJSON_GetObjectItemCaseSensitive(root, "unscored_lane");
    p->default_lane = p->num_lanes - 1;
    p->unscored_lane = 0;
    int rc = def ? lane_of(p, def, "default_lane", &p->default_lane, err) : 0;
    if (rc == 0 && unscored)
        rc = lane_of(p, unscored, "unscored_lane", &p->unscored_lane, err);
    return rc;
}

/* Compares two lane_value by lane for qsort. */
static int cmp_lane(const void *a, const void *b)
{
    size_t x = ((const lane_value *)a)->lane, y = ((const lane_value *)b)->lane;
    return (x > y) - (x < y);
}

/* Parses "thresholds" (`key_name` "min_score") or "budget" ("share") into `out`: an
 * array of {lane, key_name: number} with distinct lanes, sorted by lane. */
static int parse_lane_values(const crisk__policy *p, const cJSON *arr, const char *what,
                             const char *key_name, lane_value *out, size_t *count,
                             crisk_error *err)
{
    *count = 0;
    if (!arr)
        return 0;
    if (!cJSON_IsArray(arr))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an array", what);
    const char *const keys[] = {"lane", key_name, NULL};
    char where[64];
    for (const cJSON *e = arr->child; e; e = e->next) {
        size_t i = *count;
        snprintf(where, sizeof where, "%s[%zu]", what, i);
        if (i == p->num_lanes)
            return crisk__fail(err, CRISK_E_FORMAT, "%s: more entries than lanes", where);
        if (!cJSON_IsObject(e))
            return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an object", where);
        int rc = crisk__json_check_keys(e, keys, where, err);
        if (rc == 0)
            rc = lane_of(p, cJSON_GetObjectItemCaseSensitive(e, "lane"), where, &out[i].lane,
                         err);
        if (rc)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (out[j].lane == out[i].lane)
                return crisk__fail(err, CRISK_E_FORMAT, "%s: lane \"%s\" given twice", where,
                                   p->lanes[out[i].lane]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, key_name);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
            return crisk__fail(err, CRISK_E_FORMAT, "%s.%s: expected a finite number", where,
                               key_name);
        out[i].value = v->valuedouble;
        (*count)++;
    }
    qsort(out, *count, sizeof *out, cmp_lane);
    return 0;
}

/* Reads a non-negative integer no larger than `max` from `v` (at `where`). */
static int parse_count(const cJSON *v, const char *where, double max, double *out,
                       crisk_error *err)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > max ||
        v->valuedouble != floor(v->valuedouble))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an integer from 0 to %.0f", where,
                           max);
    *out = v->valuedouble;
    return 0;
}

/* Parses "stream" {window, warmup} and "random" {lane, rate, seed}. */
static int parse_stream_random(crisk__policy *p, const cJSON *root, crisk_error *err)
{
    static const char *const skeys[] = {"window", "warmup", NULL};
    static const char *const rkeys[] = {"lane", "rate", "seed", NULL};
    const cJSON *stream = cJSON_GetObjectItemCaseSensitive(root, "stream");
    double window = CRISK__STREAM_DEFAULT_WINDOW, warmup = -1, seed = 0;
    if (stream) {
        if (!cJSON_IsObject(stream))
            return crisk__fail(err, CRISK_E_FORMAT, "stream: expected an object");
        const cJSON *w = cJSON_GetObjectItemCaseSensitive(stream, "window");
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(stream, "warmup");
        int rc = crisk__json_check_keys(stream, skeys, "stream", err);
        if (rc == 0 && w)
            rc = parse_count(w, "stream.window", CRISK__STREAM_MAX_WINDOW, &window, err);
        if (rc == 0 && window < 1)
            rc = crisk__fail(err, CRISK_E_FORMAT, "stream.window: must be at least 1");
        if (rc == 0 && u)
            rc = parse_count(u, "stream.warmup", window, &warmup, err);
        if (rc)
            return rc;
    }
    p->window = (size_t)window;
    p->warmup = warmup >= 0 ? (size_t)warmup
                            : (p->window < CRISK__STREAM_DEFAULT_WARMUP
                                   ? p->window : CRISK__STREAM_DEFAULT_WARMUP);
    const cJSON *random = cJSON_GetObjectItemCaseSensitive(root, "random");
    if (!random)
        return 0;
    if (!cJSON_IsObject(random))
        return crisk__fail(err, CRISK_E_FORMAT, "random: expected an object");
    int rc = crisk__json_check_keys(random, rkeys, "random", err);
    if (rc == 0)
        rc = lane_of(p, cJSON_GetObjectItemCaseSensitive(random, "lane"), "random.lane",
                     &p->random_lane, err);
    const cJSON *rate = cJSON_GetObjectItemCaseSensitive(random, "rate");
    if (rc == 0 && (!cJSON_IsNumber(rate) || !(rate->valuedouble >= 0) ||
                    rate->valuedouble > 1))
        rc = crisk__fail(err, CRISK_E_FORMAT, "random.rate: expected a number from 0 to 1");
    /* Seeds are JSON numbers, so integers up to 2^53 keep every digit. */
    if (rc == 0)
        rc = parse_count(cJSON_GetObjectItemCaseSensitive(random, "seed"), "random.seed",
                         9007199254740992.0, &seed, err);
    if (rc)
        return rc;
    p->has_random = 1;
    p->random_rate = rate->valuedouble;
    p->random_seed = (uint64_t)seed;
    return 0;
}

/* Parses "explore" {lane, share, seed, weight, floor}; `budget` is the budget shares'
 * sum, which the explore share must fit beside. */
static int parse_explore(crisk__policy *p, const cJSON *root, double budget, crisk_error *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "explore");
    if (!v)
        return 0;
    int rc = crisk__explore_parse(v, &p->explore, err);
    if (rc == 0)
        rc = lane_of(p, cJSON_GetObjectItemCaseSensitive(v, "lane"), "explore.lane",
                     &p->explore.lane, err);
    if (rc == 0 && p->explore.lane == p->default_lane)
        rc = crisk__fail(err, CRISK_E_FORMAT, "explore.lane: the default lane \"%s\" "
                         "inspects nothing", p->lanes[p->default_lane]);
    if (rc == 0 && budget + p->explore.share > 1 + 1e-12)
        rc = crisk__fail(err, CRISK_E_FORMAT, "explore.share: with the budget's shares it "
                         "adds up to %g, more than 1", budget + p->explore.share);
    if (rc == 0 && p->explore.boundary && !p->score_model)
        rc = crisk__fail(err, CRISK_E_FORMAT, "explore.weight: \"boundary\" needs a "
                         "score_model");
    return rc;
}

/* Computes the policy's fingerprint from a canonical text of every setting. */
static void fingerprint(crisk__policy *p)
{
    char text[8192];
    size_t used = 0;
#define PUT(...) used += (size_t)snprintf(text + used, used < sizeof text ? sizeof text - used : 0, __VA_ARGS__)
    for (size_t i = 0; i < p->num_lanes; i++)
        PUT("lane=%s;", p->lanes[i]);
    PUT("default=%zu;unscored=%zu;score=%s;", p->default_lane, p->unscored_lane,
        p->score_model ? p->score_model : "");
    for (size_t i = 0; i < p->num_thresholds; i++)
        PUT("threshold=%zu:%.17g;", p->thresholds[i].lane, p->thresholds[i].value);
    for (size_t i = 0; i < p->num_budget; i++)
        PUT("budget=%zu:%.17g;", p->budget[i].lane, p->budget[i].value);
    PUT("window=%zu;warmup=%zu;", p->window, p->warmup);
    if (p->has_random)
        PUT("random=%zu:%.17g:%llu;", p->random_lane, p->random_rate,
            (unsigned long long)p->random_seed);
    if (p->explore.on) /* absent, the text is as before explore existed */
        PUT("explore=%zu:%.17g:%llu:%d:%.17g:%d:%s;", p->explore.lane, p->explore.share,
            (unsigned long long)p->explore.seed, p->explore.boundary, p->explore.floor,
            p->explore.novelty, p->explore.feature);
#undef PUT
    /* 32 lanes of 64 bytes and every setting fit in the buffer. */
    p->fingerprint = crisk__siphash(0, 0, text, used < sizeof text ? used : sizeof text);
}

int crisk__policy_parse(const cJSON *root, crisk__policy **out, crisk_error *err)
{
    static const char *const keys[] = {"format", "version", "lanes", "default_lane",
                                       "unscored_lane", "score_model", "thresholds",
                                       "budget", "stream", "random", "explore", "monitor",
                                       NULL};
    *out = NULL;
    if (!cJSON_IsObject(root))
        return crisk__fail(err, CRISK_E_FORMAT, "the document is not a JSON object");
    crisk__policy *p = calloc(1, sizeof *p);
    if (!p)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "score_model");
    int rc = crisk__json_check_keys(root, keys, "top level", err);
    if (rc == 0 && (!cJSON_IsString(format) || strcmp(format->valuestring, "crisk-policy")))
        rc = crisk__fail(err, CRISK_E_FORMAT, "format: expected \"crisk-policy\"");
    if (rc == 0 && (!cJSON_IsNumber(version) || version->valuedouble != 1))
        rc = crisk__fail(err, CRISK_E_FORMAT, "version: expected 1");
    if (rc == 0)
        rc = parse_lanes(p, root, err);
    if (rc == 0)
        rc = parse_lane_values(p, cJSON_GetObjectItemCaseSensitive(root, "thresholds"),
                               "thresholds", "min_score", p->thresholds, &p->num_thresholds,
                               err);
    if (rc == 0)
        rc = parse_lane_values(p, cJSON_GetObjectItemCaseSensitive(root, "budget"), "budget",
                               "share", p->budget, &p->num_budget, err);
    double total = 0;
    for (size_t i = 0; rc == 0 && i < p->num_budget; i++) {
        if (!(p->budget[i].value > 0) || p->budget[i].value > 1)
            rc = crisk__fail(err, CRISK_E_FORMAT, "budget: the share of lane \"%s\" must be in "
                             "(0, 1]", p->lanes[p->budget[i].lane]);
        total += p->budget[i].value;
        p->budget_cumulative[i] = total;
    }
    if (rc == 0 && total > 1 + 1e-12)
        rc = crisk__fail(err, CRISK_E_FORMAT, "budget: the shares add up to %g, more than 1",
                         total);
    if (rc == 0 && model && (!cJSON_IsString(model) || !model->valuestring[0]))
        rc = crisk__fail(err, CRISK_E_FORMAT, "score_model: expected a model name");
    if (rc == 0 && !model && (p->num_thresholds || p->num_budget))
        rc = crisk__fail(err, CRISK_E_FORMAT, "score_model: required by thresholds and budget");
    if (rc == 0 && model && !(p->score_model = strdup(model->valuestring)))
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = parse_stream_random(p, root, err);
    if (rc == 0)
        rc = parse_explore(p, root, total, err);
    if (rc) {
        crisk__policy_free(p);
        return rc;
    }
    fingerprint(p);
    for (size_t i = 0; i < p->num_thresholds; i++)
        snprintf(p->threshold_text[i], POLICY_G_BYTES, "%g", p->thresholds[i].value);
    for (size_t i = 0; i < p->num_budget; i++) {
        snprintf(p->share_text[i], POLICY_G_BYTES, "%g", 100 * p->budget[i].value);
        snprintf(p->cumulative_text[i], POLICY_G_BYTES, "%g", 100 * p->budget_cumulative[i]);
    }
    *out = p;
    return 0;
}

void crisk__policy_free(crisk__policy *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->num_lanes; i++)
        free(p->lanes[i]);
    free(p->score_model);
    free(p);
}

const char *const *crisk__policy_lanes(const crisk__policy *p)
{
    return (const char *const *)p->lanes;
}

size_t crisk__policy_num_lanes(const crisk__policy *p)
{
    return p->num_lanes;
}

const char *crisk__policy_score_model(const crisk__policy *p)
{
    return p->score_model;
}

uint64_t crisk__policy_fingerprint(const crisk__policy *p)
{
    return p->fingerprint;
}

/* ---- the streaming state ---------------------------------------------------------- */

int crisk__lane_state_create(const crisk__policy *p, crisk_lane_state **out, crisk_error *err)
{
    if (!p || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "policy and out must not be NULL");
    return crisk__lane_state_make(p->fingerprint, p->window, p->warmup, out, err);
}

size_t crisk__lane_state_count(const crisk_lane_state *s)
{
    return s->count;
}

int crisk__lane_state_read(const crisk__policy *p, const char *path, crisk_lane_state **out,
                           crisk_error *err)
{
    if (!p || !path || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "arguments must not be NULL");
    crisk_lane_state *s = NULL;
    int rc = crisk__lane_state_create(p, &s, err);
    if (rc == 0)
        rc = crisk__lane_state_read_file(s, path, err);
    if (rc) {
        crisk_lane_state_free(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

/* Adds to a refusal of the state file `path` how to recover (docs/bundle.md, "Streaming
 * state file"): the file is left as it is, never replaced by a fresh window unasked. */
static int recovery_hint(crisk_error *err, int code, const char *path)
{
    if (!err)
        return code;
    char why[sizeof err->message];
    snprintf(why, sizeof why, "%s", err->message);
    return crisk__fail(err, code, "%s; the file is left as it is: restore %s.prev (the "
                       "state before the last save) or move it aside to start a fresh "
                       "window", why, path);
}

int crisk__lane_state_open(const crisk__policy *p, const char *path, crisk_lane_state **out,
                           crisk_error *err)
{
    if (!p || !path || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "arguments must not be NULL");
    crisk_lane_state *s = NULL;
    int rc = crisk__lane_state_create(p, &s, err);
    if (rc == 0)
        rc = crisk__lane_state_lock(s, path, err);
    /* Under the lock, so that no other run creates the file in between. */
    if (rc == 0 && access(path, F_OK) == 0) {
        rc = crisk__lane_state_read_file(s, path, err);
        if (rc == CRISK_E_FORMAT)
            rc = recovery_hint(err, rc, path);
    }
    else if (rc == 0 && errno != ENOENT)
        rc = crisk__fail(err, CRISK_E_IO, "%s: %s", path, strerror(errno));
    if (rc) {
        crisk_lane_state_free(s);
        s = NULL;
    }
    *out = s;
    return rc;
}

/* ---- deciding --------------------------------------------------------------------- */

/* Returns ceil(share * n), forgiving the rounding of share's binary form (0.07 * 100 is
 * 7.000000000000001 in doubles, and must give 7). */
static size_t share_count(double share, size_t n)
{
    double x = share * (double)n;
    return (size_t)ceil(x - 1e-9 * (x > 1 ? x : 1));
}

/* Rows to rank for the batch budget, and the scores they are ranked by. */
typedef struct rank_entry {
    size_t row;
    float score;
} rank_entry;

/* Orders rank entries by score, highest first, then by row order. */
static int cmp_rank(const void *a, const void *b)
{
    const rank_entry *x = a, *y = b;
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return (x->row > y->row) - (x->row < y->row);
}

/* Moves the `k` first entries of r[0..m) in cmp_rank order to the front, in no particular
 * order (k < m): a quickselect with a median-of-three pivot, which falls back to sorting
 * everything when the input makes it partition badly, so no input makes it quadratic. */
static void select_front(rank_entry *r, size_t m, size_t k)
{
    size_t lo = 0, hi = m, rounds = 0, limit = 64;
    for (size_t v = m; v > 1; v >>= 1)
        limit += 2;
    while (hi - lo > 1) {
        if (++rounds > limit) {
            qsort(r + lo, hi - lo, sizeof *r, cmp_rank);
            return;
        }
        size_t mid = lo + (hi - lo) / 2;
        rank_entry *a = &r[lo], *b = &r[mid], *c = &r[hi - 1], *med;
        if (cmp_rank(a, b) < 0)
            med = cmp_rank(b, c) < 0 ? b : (cmp_rank(a, c) < 0 ? c : a);
        else
            med = cmp_rank(a, c) < 0 ? a : (cmp_rank(b, c) < 0 ? c : b);
        rank_entry pivot = *med, t;
        *med = r[hi - 1];
        r[hi - 1] = pivot;
        size_t store = lo; /* entries are distinct (rows differ): a two-way split */
        for (size_t i = lo; i + 1 < hi; i++)
            if (cmp_rank(&r[i], &pivot) < 0) {
                t = r[i];
                r[i] = r[store];
                r[store++] = t;
            }
        r[hi - 1] = r[store];
        r[store] = pivot;
        if (store == k || store + 1 == k)
            return;
        if (store > k)
            hi = store;
        else
            lo = store + 1;
    }
}

/* The batch budget: budget lane j takes the next ceil(share_j * n) unplaced rows with a
 * finite score, riskiest first (ties by row order). */
static int budget_batch(const crisk__policy *p, const float *scores, size_t n,
                        crisk__decision *d, crisk_error *err)
{
    rank_entry *r = malloc((n ? n : 1) * sizeof *r);
    if (!r)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for the budget of %zu rows", n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!d[i].kind && isfinite(scores[i]))
            r[m++] = (rank_entry){i, scores[i]};
    /* Only the rows the budget lanes take need ranking: select them, then sort those. */
    size_t want = 0;
    for (size_t j = 0; j < p->num_budget; j++)
        want += share_count(p->budget[j].value, n);
    if (want < m) {
        select_front(r, m, want);
        m = want;
    }
    qsort(r, m, sizeof *r, cmp_rank);
    size_t next = 0;
    for (size_t j = 0; j < p->num_budget; j++) {
        size_t k = share_count(p->budget[j].value, n);
        for (size_t rank = 1; rank <= k && next < m; rank++, next++)
            d[r[next].row] = (crisk__decision){(uint32_t)p->budget[j].lane, CRISK_REASON_BUDGET,
                                              (uint32_t)j, (uint32_t)rank, 0, 0, 0};
    }
    free(r);
    return 0;
}

/* Returns the smallest batch a budget share takes as a share: ceil(1 / share), forgiving
 * rounding as share_count does (SIZE_MAX when beyond a size_t). Below it share * n < 1,
 * and a lane would still take ceil(share * n) = 1, one declaration in n instead of the
 * share (every single declaration scored alone would go to inspection). */
static size_t share_min_batch(double share)
{
    double x = 1 / share;
    return x >= (double)SIZE_MAX ? SIZE_MAX : share_count(x, 1);
}

size_t crisk__policy_min_batch(const crisk__policy *p)
{
    size_t least = 1;
    for (size_t j = 0; j < p->num_budget; j++) {
        size_t need = share_min_batch(p->budget[j].value);
        least = need > least ? need : least;
    }
    return least;
}

/* Refuses a batch of `n` declarations smaller than a budget share takes
 * (share_min_batch). Only a lane state, which ranks each declaration against the window
 * of those before it, can keep the share for small batches. */
static int budget_batch_fits(const crisk__policy *p, size_t n, crisk_error *err)
{
    for (size_t j = 0; n && j < p->num_budget; j++) {
        double share = p->budget[j].value;
        size_t need = share_min_batch(share);
        if (n < need)
            return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "budget: a batch of %zu "
                               "declaration%s is too small for lane \"%s\"'s share %g (it "
                               "needs at least %zu, else one declaration is more than the "
                               "share): score in stream mode with a lane state "
                               "(crisk_score_options.stream; crisk score --state FILE; "
                               "bundle.stream() in Python and Java), or in larger batches",
                               n, n == 1 ? "" : "s", p->lanes[p->budget[j].lane], share, need);
    }
    return 0;
}

/* The streaming budget for one unplaced row: budget lane j holds scores at or above the
 * ceil(c_j * m)-th largest of the window's m scores, where c_j sums the shares of lanes
 * up to j (the (1 - c_j) quantile), so that together the lanes keep their shares as in a
 * batch. Nothing is budgeted before the window holds `warmup` scores. */
static void budget_stream(const crisk__policy *p, const crisk_lane_state *s, float score,
                          crisk__decision *d)
{
    if (s->count == 0 || s->count < s->warmup || !isfinite(score))
        return;
    for (size_t j = 0; j < p->num_budget; j++) {
        size_t k = share_count(p->budget_cumulative[j], s->count);
        float cut = crisk__score_order_at(&s->sorted,
                                          s->count - (k < 1 ? 1 : k > s->count ? s->count : k));
        if (score >= cut) {
            *d = (crisk__decision){(uint32_t)p->budget[j].lane, CRISK_REASON_BUDGET,
                                  (uint32_t)j, 0, (uint32_t)s->count, cut, 0};
            return;
        }
    }
}

/* Returns whether the declaration with id `id` (`len` bytes) is drawn: SipHash-2-4 under
 * the key (seed, RANDOM_KEY1) is below rate * 2^64. */
static int random_draw(const crisk__policy *p, const char *id, size_t len)
{
    if (p->random_rate >= 1)
        return 1;
    uint64_t limit = (uint64_t)ldexp(p->random_rate, 64);
    return crisk__siphash(p->random_seed, RANDOM_KEY1, id, len) < limit;
}

/* Places rows by exploration: ranks the scores for boundary weights (in a stream, each
 * against the window as it stood before it, in `q`, filled by the caller), then draws. */
static int explore_step(const crisk__policy *p, int stream, const float *scores, double *q,
                        const char *const *ids, const size_t *id_lens, size_t n,
                        crisk__decision *d, crisk_error *err)
{
    int rc = q && !stream && p->explore.boundary ? crisk__explore_batch_ranks(scores, n, q, err)
                                                 : 0;
    double budget = p->num_budget ? p->budget_cumulative[p->num_budget - 1] : 0;
    if (rc == 0)
        rc = crisk__explore_place(&p->explore, budget, stream, q, ids, id_lens, n, d, err);
    return rc;
}

const char *crisk__policy_explore_feature(const crisk__policy *p)
{
    return p->explore.on && p->explore.novelty ? p->explore.feature : NULL;
}

int crisk__lanes_decide(const crisk__policy *p, crisk_lane_state *stream, const float *scores,
                        const char *const *ids, const size_t *id_lens, size_t n,
                        crisk__decision *d, crisk_error *err)
{
    return crisk__lanes_decide_novelty(p, stream, scores, NULL, ids, id_lens, n, d, err);
}

int crisk__lanes_decide_novelty(const crisk__policy *p, crisk_lane_state *stream,
                                const float *scores, const float *counts,
                                const char *const *ids, const size_t *id_lens, size_t n,
                                crisk__decision *d, crisk_error *err)
{
    if (stream && stream->fingerprint != p->fingerprint)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the streaming state was made for "
                           "another policy");
    /* A score that is no number (NaN: a model that could not score the row) meets no
     * threshold or budget: without this it would fall through to the default lane. */
    for (size_t i = 0; scores && i < n; i++)
        if (!d[i].kind && !isfinite(scores[i]))
            d[i] = (crisk__decision){(uint32_t)p->unscored_lane, CRISK_REASON_UNSCORED, 0, 0, 0,
                                    0, 0};
    double *q = NULL;
    if (p->explore.on && ((p->explore.boundary && scores) || (p->explore.novelty && counts)) &&
        !(q = malloc((n ? n : 1) * sizeof *q)))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu exploration weights", n);
    if (q && p->explore.novelty)
        crisk__explore_novelty(counts, n, q);
    for (size_t i = 0; scores && i < n; i++)
        for (size_t t = 0; !d[i].kind && t < p->num_thresholds; t++)
            if (scores[i] >= p->thresholds[t].value)
                d[i] = (crisk__decision){(uint32_t)p->thresholds[t].lane, CRISK_REASON_THRESHOLD,
                                        (uint32_t)t, 0, 0, 0, 0};
    int rc = 0;
    if (scores && stream) {
        /* In arrival order: each row meets the window as it stood before it. */
        for (size_t i = 0; i < n; i++) {
            if (q && p->explore.boundary)
                q[i] = crisk__explore_rank(crisk__score_order_below(&stream->sorted, scores[i]),
                                           stream->count, scores[i]);
            if (!d[i].kind)
                budget_stream(p, stream, scores[i], &d[i]);
            if (isfinite(scores[i]))
                crisk__lane_state_push(stream, scores[i]);
        }
    } else if (scores && p->num_budget) {
        rc = budget_batch_fits(p, n, err);
        if (rc == 0)
            rc = budget_batch(p, scores, n, d, err);
    }
    if (rc == 0 && p->explore.on)
        rc = explore_step(p, stream != NULL, scores, q, ids, id_lens, n, d, err);
    free(q);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (d[i].kind)
            continue;
        double pe = d[i].propensity; /* exploration's probability, kept for the total */
        if (p->has_random && ids && ids[i] && random_draw(p, ids[i], id_lens[i]))
            d[i] = (crisk__decision){(uint32_t)p->random_lane, CRISK_REASON_RANDOM, 0, 0, 0, 0,
                                     pe};
        else
            d[i] = (crisk__decision){(uint32_t)p->default_lane, CRISK_REASON_DEFAULT, 0, 0, 0,
                                     0, pe};
    }
    crisk__propensity_finish(d, n, p->has_random ? p->random_rate : 0, ids);
    return 0;
}

/* A reason's text being written to `buf` (`size` > 0 bytes), cut to fit and
 * NUL-terminated as snprintf would: most declarations' reasons are joined by hand, since
 * snprintf's number formatting costs more than the rest of writing a record. */
typedef struct reason_text {
    char *buf;
    size_t size, used;
} reason_text;

/* Appends `s`. */
static void put(reason_text *t, const char *s)
{
    size_t n = strlen(s), room = t->size - 1 - t->used;
    if (n > room)
        n = room;
    memcpy(t->buf + t->used, s, n);
    t->used += n;
    t->buf[t->used] = '\0';
}

/* Appends score `v` as %.4f. */
static void put_score(reason_text *t, double v)
{
    char num[512]; /* %.4f of the largest double, for the rare value fixed.c leaves */
    if (!crisk__fixed_text(v, 4, num))
        snprintf(num, sizeof num, "%.4f", v);
    put(t, num);
}

/* Appends `v` as %u. */
static void put_count(reason_text *t, unsigned v)
{
    char num[21];
    crisk__uint_text(v, num);
    put(t, num);
}

void crisk__lanes_reason(const crisk__policy *p, const crisk__decision *d, float score,
                         const char *rule_id, const char *rule_description, char *buf,
                         size_t size)
{
    if (!buf || size == 0)
        return;
    const char *lane = d->lane < p->num_lanes ? p->lanes[d->lane] : "?";
    const char *model = p->score_model ? p->score_model : "";
    reason_text t = {buf, size, 0};
    buf[0] = '\0';
    switch (d->kind) {
    case CRISK_REASON_PROFILE:
        put(&t, "profile ");
        put(&t, rule_id);
        put(&t, ": ");
        put(&t, rule_description);
        break;
    case CRISK_REASON_THRESHOLD:
        put(&t, model);
        put(&t, " score ");
        put_score(&t, (double)score);
        put(&t, " >= ");
        put(&t, lane);
        put(&t, " threshold ");
        put(&t, p->threshold_text[d->ref]);
        break;
    case CRISK_REASON_BUDGET:
        put(&t, "budget: ");
        put(&t, model);
        put(&t, " score ");
        put_score(&t, (double)score);
        if (d->window) {
            put(&t, " >= ");
            put(&t, lane);
            put(&t, " stream threshold ");
            put_score(&t, (double)d->cut);
            put(&t, " (top ");
            put(&t, p->cumulative_text[d->ref]);
            put(&t, "% of the last ");
            put_count(&t, d->window);
            put(&t, " scores)");
        } else {
            put(&t, " ranks ");
            put_count(&t, d->rank);
            put(&t, " in the riskiest ");
            put(&t, p->share_text[d->ref]);
            put(&t, "% of the batch sent to ");
            put(&t, lane);
        }
        break;
    case CRISK_REASON_UNSCORED:
        snprintf(buf, size, "unscored: %s gave no score (%g); sent to %s, the policy's "
                 "unscored_lane", model, (double)score, lane);
        break;
    case CRISK_REASON_RANDOM:
        snprintf(buf, size, "random: drawn for %s at rate %g with seed %llu", lane,
                 p->random_rate, (unsigned long long)p->random_seed);
        break;
    case CRISK_REASON_EXPLORE:
        snprintf(buf, size, "explore: drawn for %s with probability %.4g (%s weights, seed "
                 "%llu)", lane, d->propensity,
                 p->explore.boundary ? "boundary" : p->explore.novelty ? "novelty" : "uniform",
                 (unsigned long long)p->explore.seed);
        break;
    default:
        put(&t, "default lane ");
        put(&t, lane);
        put(&t, ": no mandatory profile, threshold, budget or random selection");
        break;
    }
}
