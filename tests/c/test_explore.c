/*
 * test_explore.c — exploration and selection propensities: every decision's propensity
 * by the rule that placed it, the capped Poisson solve against its defining properties,
 * and the empirical frequency of exploration's draws against the propensities it
 * records (binomial tolerances), in batch and stream mode, for uniform, boundary and
 * novelty weights; the policy's refusals.
 */
#include "policy/explore.h"
#include "policy/lanes.h"

#include "check_run.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns a parsed policy from text that must be valid. */
static crisk__policy *policy(const char *text)
{
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    crisk__policy *p = NULL;
    crisk_error err;
    ck_assert_msg(crisk__policy_parse(root, &p, &err) == 0, "%s", err.message);
    cJSON_Delete(root);
    return p;
}

/* A tiny deterministic generator for test scores (xorshift64*), in [0, 1). */
static float next_score(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (float)((*s * 2685821657736338717ULL) >> 40) / (float)(1 << 24);
}

/* Ids "<prefix>-<i>" for n rows, in `buf` (n * 24 bytes), `ids` and `lens`. */
static void make_ids(const char *prefix, size_t n, char *buf, const char **ids, size_t *lens)
{
    for (size_t i = 0; i < n; i++) {
        ids[i] = buf + 24 * i;
        lens[i] = (size_t)snprintf(buf + 24 * i, 24, "%s-%zu", prefix, i);
    }
}

static const char *budget_random =
    "{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"red\", \"yellow\", "
    "\"green\"], \"score_model\": \"fraud\", \"thresholds\": [{\"lane\": \"red\", "
    "\"min_score\": 0.95}], \"budget\": [{\"lane\": \"yellow\", \"share\": 0.1}], "
    "\"random\": {\"lane\": \"yellow\", \"rate\": 0.05, \"seed\": 3}%s}";

/* Deterministic placements have propensity 1; a declaration left to random selection
 * has the rate whether drawn or not; one without an id, which nothing random can draw,
 * has 0; with exploration, 1 - (1 - e)(1 - r). */
START_TEST(test_propensity_by_rule)
{
    char text[1024];
    snprintf(text, sizeof text, budget_random, "");
    crisk__policy *p = policy(text);
    enum { N = 400 };
    static float scores[N];
    static crisk__decision d[N];
    static char buf[N * 24];
    static const char *ids[N];
    static size_t lens[N];
    uint64_t s = 7;
    for (size_t i = 0; i < N; i++)
        scores[i] = next_score(&s);
    make_ids("p", N, buf, ids, lens);
    ids[5] = NULL; /* no id: never drawn */
    memset(d, 0, sizeof d);
    d[0] = (crisk__decision){0, CRISK_REASON_PROFILE, 1, 0, 0, 0, 0};
    ck_assert_int_eq(crisk__lanes_decide(p, NULL, scores, ids, lens, N, d, NULL), 0);
    size_t random = 0;
    for (size_t i = 0; i < N; i++) {
        uint32_t k = d[i].kind;
        if (k == CRISK_REASON_PROFILE || k == CRISK_REASON_THRESHOLD ||
            k == CRISK_REASON_BUDGET)
            ck_assert_double_eq(d[i].propensity, 1);
        else if (i == 5)
            ck_assert_double_eq(d[i].propensity, 0);
        else
            ck_assert_double_eq_tol(d[i].propensity, 0.05, 1e-12);
        random += k == CRISK_REASON_RANDOM;
    }
    ck_assert_uint_gt(random, 0);
    crisk__policy_free(p);

    snprintf(text, sizeof text, budget_random, ", \"explore\": {\"lane\": \"yellow\", "
             "\"share\": 0.02, \"seed\": 11}");
    p = policy(text);
    memset(d, 0, sizeof d);
    ck_assert_int_eq(crisk__lanes_decide(p, NULL, scores, ids, lens, N, d, NULL), 0);
    size_t eligible = 0;
    for (size_t i = 0; i < N; i++)
        eligible += d[i].kind != CRISK_REASON_THRESHOLD && d[i].kind != CRISK_REASON_BUDGET &&
                    ids[i];
    /* Uniform weights: each eligible row e = 0.02 * N / eligible. */
    double e = 0.02 * N / (double)eligible;
    for (size_t i = 0; i < N; i++)
        if (d[i].kind == CRISK_REASON_EXPLORE || d[i].kind == CRISK_REASON_RANDOM ||
            d[i].kind == CRISK_REASON_DEFAULT)
            ck_assert_double_eq_tol(d[i].propensity, i == 5 ? 0 : 1 - (1 - e) * 0.95, 1e-12);
    crisk__policy_free(p);
}
END_TEST

/* The capped solve: probabilities in (0, 1], summing to k; the uncapped proportional to
 * their weights with one factor c, and every capped weight at least 1 / c. */
START_TEST(test_explore_solve)
{
    enum { M = 300 };
    double w[M], p[M];
    uint64_t s = 99;
    for (size_t i = 0; i < M; i++)
        w[i] = 0.01 + (i % 50 == 0 ? 100.0 : (double)next_score(&s)); /* heavy ones */
    const double ks[] = {0.5, 3, 10, 40, 299.5, 300, 500};
    for (size_t t = 0; t < sizeof ks / sizeof *ks; t++) {
        ck_assert_int_eq(crisk__explore_solve(w, M, ks[t], p, NULL), 0);
        double sum = 0, c = -1;
        for (size_t i = 0; i < M; i++) {
            ck_assert(p[i] > 0 && p[i] <= 1);
            sum += p[i];
            if (p[i] < 1) {
                if (c < 0)
                    c = p[i] / w[i];
                ck_assert_double_eq_tol(p[i] / w[i], c, 1e-9 * c);
            }
        }
        ck_assert_double_eq_tol(sum, ks[t] < M ? ks[t] : M, 1e-9);
        for (size_t i = 0; c > 0 && i < M; i++)
            if (p[i] == 1)
                ck_assert(c * w[i] >= 1 - 1e-9);
    }
    /* k = 10 with 6 weights of 100: those 6 are capped and the rest share 4. */
    ck_assert_int_eq(crisk__explore_solve(w, M, 10, p, NULL), 0);
    for (size_t i = 0; i < M; i += 50)
        ck_assert_double_eq(p[i], 1);
}
END_TEST

/* Checks counts of `reps` draws against their probabilities: per row within 5 binomial
 * standard deviations (plus one for the discreteness), and the total within 5. */
static void check_frequencies(const double *p, const unsigned *count, size_t n, unsigned reps)
{
    double want = 0, var = 0, got = 0;
    for (size_t i = 0; i < n; i++) {
        double sd = sqrt(reps * p[i] * (1 - p[i]));
        ck_assert_msg(fabs(count[i] - reps * p[i]) <= 5 * sd + 1, "row %zu: drawn %u of %u "
                      "times at probability %g", i, count[i], reps, p[i]);
        want += reps * p[i];
        var += reps * p[i] * (1 - p[i]);
        got += count[i];
    }
    ck_assert_msg(fabs(got - want) <= 5 * sqrt(var), "drawn %g times, expected %g", got, want);
}

static const char *explore_policy =
    "{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"red\", \"yellow\", "
    "\"green\"], \"score_model\": \"fraud\", \"budget\": [{\"lane\": \"red\", \"share\": "
    "0.05}], \"stream\": {\"window\": 200, \"warmup\": 50}, \"explore\": {\"lane\": "
    "\"yellow\", \"share\": %s, \"seed\": 5, \"weight\": \"boundary\", \"floor\": 0.05}}";

/* Batch mode: over 3000 batches of the same 200 scores under fresh ids, each row is
 * explored as often as its recorded propensity says; the propensities sum to the
 * explore budget, rise with the score below the budget and never fall to 0. */
START_TEST(test_explore_batch_frequencies)
{
    char text[1024];
    snprintf(text, sizeof text, explore_policy, "0.1");
    crisk__policy *p = policy(text);
    enum { N = 200, REPS = 3000 };
    static float scores[N];
    static double prop[N];
    static unsigned count[N];
    static crisk__decision d[N];
    static char buf[N * 24];
    static const char *ids[N];
    static size_t lens[N];
    uint64_t s = 42;
    for (size_t i = 0; i < N; i++)
        scores[i] = next_score(&s);
    scores[7] = 0; /* nothing below it: the floor weight */
    for (unsigned r = 0; r < REPS; r++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "b%u", r);
        make_ids(prefix, N, buf, ids, lens);
        memset(d, 0, sizeof d);
        ck_assert_int_eq(crisk__lanes_decide(p, NULL, scores, ids, lens, N, d, NULL), 0);
        double sum = 0;
        for (size_t i = 0; i < N; i++) {
            if (d[i].kind != CRISK_REASON_EXPLORE && d[i].kind != CRISK_REASON_DEFAULT)
                continue;
            ck_assert(d[i].propensity > 0);
            if (r == 0)
                prop[i] = d[i].propensity;
            ck_assert_double_eq(d[i].propensity, prop[i]); /* ids do not change it */
            sum += prop[i];
            count[i] += d[i].kind == CRISK_REASON_EXPLORE;
        }
        ck_assert_double_eq_tol(sum, 0.1 * N, 1e-9);
    }
    for (size_t i = 0; i < N; i++)
        if (d[i].kind != CRISK_REASON_EXPLORE && d[i].kind != CRISK_REASON_DEFAULT)
            prop[i] = 0, count[i] = 0;
    check_frequencies(prop, count, N, REPS);
    for (size_t i = 0; i < N; i++) /* score 0: the least weight of all */
        ck_assert(prop[i] == 0 || prop[7] <= prop[i]);
    ck_assert(prop[7] > 0);
    crisk__policy_free(p);
}
END_TEST

/* Stream mode: a long stream; rows grouped by their recorded propensity (10 bins) are
 * explored as often as the bins' propensities sum to, within binomial tolerance. */
START_TEST(test_explore_stream_frequencies)
{
    char text[1024];
    snprintf(text, sizeof text, explore_policy, "0.05");
    crisk__policy *p = policy(text);
    crisk_lane_state *st = NULL;
    ck_assert_int_eq(crisk__lane_state_create(p, &st, NULL), 0);
    enum { N = 1000, ROUNDS = 60, BINS = 10 };
    static float scores[N];
    static crisk__decision d[N];
    static char buf[N * 24];
    static const char *ids[N];
    static size_t lens[N];
    double pbin[BINS] = {0};
    unsigned cbin[BINS] = {0};
    double total = 0;
    size_t rows = 0;
    uint64_t s = 1234;
    for (unsigned r = 0; r < ROUNDS; r++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "s%u", r);
        make_ids(prefix, N, buf, ids, lens);
        for (size_t i = 0; i < N; i++)
            scores[i] = next_score(&s);
        memset(d, 0, sizeof d);
        ck_assert_int_eq(crisk__lanes_decide(p, st, scores, ids, lens, N, d, NULL), 0);
        for (size_t i = 0; i < N; i++, rows++) {
            if (d[i].kind == CRISK_REASON_BUDGET)
                continue;
            ck_assert(d[i].propensity > 0 && d[i].propensity < 1);
            size_t b = (size_t)(d[i].propensity / 0.2 * BINS);
            b = b < BINS ? b : BINS - 1;
            pbin[b] += d[i].propensity;
            cbin[b] += d[i].kind == CRISK_REASON_EXPLORE;
            total += d[i].propensity;
        }
    }
    for (size_t b = 0; b < BINS; b++)
        /* A sum of Bernoulli(p_i): variance at most the sum of p_i. */
        ck_assert_msg(fabs(cbin[b] - pbin[b]) <= 5 * sqrt(pbin[b]) + 1, "bin %zu: %u drawn, "
                      "propensities sum to %g", b, cbin[b], pbin[b]);
    /* About share * rows explored in all (the rank of an eligible row is near uniform). */
    ck_assert_double_eq_tol(total / (double)rows, 0.05, 0.005);
    crisk_lane_state_free(st);
    crisk__policy_free(p);
}
END_TEST

/* Novelty weights: a declaration whose key the tables saw c times weighs
 * floor + (1 - floor) / (1 + c) (a missing count: 1); the probabilities follow the
 * weights, sum to the budget, and the draws follow the probabilities. */
START_TEST(test_explore_novelty)
{
    crisk__policy *p = policy("{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": "
                              "[\"red\", \"yellow\", \"green\"], \"explore\": {\"lane\": "
                              "\"yellow\", \"share\": 0.05, \"seed\": 9, \"weight\": "
                              "\"novelty\", \"feature\": \"pair_count\", \"floor\": 0.1}}");
    ck_assert_str_eq(crisk__policy_explore_feature(p), "pair_count");
    enum { N = 200, REPS = 3000 };
    static float counts[N];
    static double prop[N];
    static unsigned count[N];
    static crisk__decision d[N];
    static char buf[N * 24];
    static const char *ids[N];
    static size_t lens[N];
    for (size_t i = 0; i < N; i++)
        counts[i] = i % 7 == 0 ? NAN : (float)(i % 20);
    for (unsigned r = 0; r < REPS; r++) {
        char prefix[16];
        snprintf(prefix, sizeof prefix, "n%u", r);
        make_ids(prefix, N, buf, ids, lens);
        memset(d, 0, sizeof d);
        ck_assert_int_eq(crisk__lanes_decide_novelty(p, NULL, NULL, counts, ids, lens, N, d,
                                                     NULL), 0);
        for (size_t i = 0; i < N; i++) {
            prop[i] = d[i].propensity;
            count[i] += d[i].kind == CRISK_REASON_EXPLORE;
        }
    }
    double sum = 0, c = prop[1] / (0.1 + 0.9 / 2); /* row 1: count 1 */
    for (size_t i = 0; i < N; i++) {
        double w = 0.1 + 0.9 / (1 + (isnan(counts[i]) ? 0 : counts[i]));
        ck_assert_double_eq_tol(prop[i], c * w, 1e-12);
        sum += prop[i];
    }
    ck_assert_double_eq_tol(sum, 0.05 * N, 1e-9);
    check_frequencies(prop, count, N, REPS);
    crisk__policy_free(p);
}
END_TEST

/* The same policy and rows give the same draws; another explore seed other draws. */
START_TEST(test_explore_deterministic)
{
    char text[1024], other[1024];
    snprintf(text, sizeof text, explore_policy, "0.2");
    snprintf(other, sizeof other, explore_policy, "0.2");
    char *seed = strstr(other, "\"seed\": 5");
    seed[8] = '6';
    crisk__policy *p = policy(text), *q = policy(other);
    enum { N = 500 };
    static float scores[N];
    static crisk__decision a[N], b[N], c[N];
    static char buf[N * 24];
    static const char *ids[N];
    static size_t lens[N];
    uint64_t s = 3;
    for (size_t i = 0; i < N; i++)
        scores[i] = next_score(&s);
    make_ids("d", N, buf, ids, lens);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    memset(c, 0, sizeof c);
    ck_assert_int_eq(crisk__lanes_decide(p, NULL, scores, ids, lens, N, a, NULL), 0);
    ck_assert_int_eq(crisk__lanes_decide(p, NULL, scores, ids, lens, N, b, NULL), 0);
    ck_assert_int_eq(crisk__lanes_decide(q, NULL, scores, ids, lens, N, c, NULL), 0);
    ck_assert_int_eq(memcmp(a, b, sizeof a), 0);
    size_t differ = 0;
    for (size_t i = 0; i < N; i++)
        differ += (a[i].kind == CRISK_REASON_EXPLORE) != (c[i].kind == CRISK_REASON_EXPLORE);
    ck_assert_uint_gt(differ, 10);
    ck_assert(crisk__policy_fingerprint(p) != crisk__policy_fingerprint(q));
    crisk__policy_free(p);
    crisk__policy_free(q);
}
END_TEST

/* Bad explore objects are refused naming the key. */
START_TEST(test_explore_refusals)
{
    static const char *const head = "{\"format\": \"crisk-policy\", \"version\": 1, "
        "\"lanes\": [\"r\", \"g\"], \"budget\": [{\"lane\": \"r\", \"share\": 0.9}], "
        "\"score_model\": \"m\", \"explore\": ";
    static const char *const cases[][2] = {
        {"[]", "explore: expected an object"},
        {"{\"lane\": \"g\", \"share\": 0.05, \"seed\": 1}", "explore.lane"},
        {"{\"lane\": \"x\", \"share\": 0.05, \"seed\": 1}", "explore.lane"},
        {"{\"lane\": \"r\", \"share\": 0.2, \"seed\": 1}", "explore.share"},
        {"{\"lane\": \"r\", \"share\": 0, \"seed\": 1}", "explore.share"},
        {"{\"lane\": \"r\", \"share\": 0.05}", "explore.seed"},
        {"{\"lane\": \"r\", \"share\": 0.05, \"seed\": 1, \"weight\": \"novel\"}",
         "explore.weight"},
        {"{\"lane\": \"r\", \"share\": 0.05, \"seed\": 1, \"floor\": 0}", "explore.floor"},
        {"{\"lane\": \"r\", \"share\": 0.05, \"seed\": 1, \"rate\": 1}", "rate"},
        {"{\"lane\": \"r\", \"share\": 0.05, \"seed\": 1, \"weight\": \"novelty\"}",
         "explore.feature"},
        {"{\"lane\": \"r\", \"share\": 0.05, \"seed\": 1, \"feature\": \"x\"}",
         "explore.feature"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s}", head, cases[i][0]);
        cJSON *root = cJSON_Parse(text);
        crisk__policy *p = NULL;
        crisk_error err;
        ck_assert_int_eq(crisk__policy_parse(root, &p, &err), CRISK_E_FORMAT);
        ck_assert_msg(strstr(err.message, cases[i][1]), "case %zu: \"%s\" lacks \"%s\"", i,
                      err.message, cases[i][1]);
        cJSON_Delete(root);
    }
    cJSON *root = cJSON_Parse("{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": "
                              "[\"r\", \"g\"], \"explore\": {\"lane\": \"r\", \"share\": 0.1, "
                              "\"seed\": 1, \"weight\": \"boundary\"}}");
    crisk__policy *p = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk__policy_parse(root, &p, &err), CRISK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "score_model"));
    cJSON_Delete(root);
}
END_TEST

/* Returns the suite. */
static Suite *explore_suite(void)
{
    Suite *s = suite_create("explore");
    TCase *tc = tcase_create("explore");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_propensity_by_rule);
    tcase_add_test(tc, test_explore_solve);
    tcase_add_test(tc, test_explore_batch_frequencies);
    tcase_add_test(tc, test_explore_stream_frequencies);
    tcase_add_test(tc, test_explore_novelty);
    tcase_add_test(tc, test_explore_deterministic);
    tcase_add_test(tc, test_explore_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return crisk_check_run(explore_suite());
}
