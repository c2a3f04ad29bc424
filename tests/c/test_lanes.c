/*
 * test_lanes.c — the lane policy: SipHash against the reference vectors, policy
 * refusals, precedence, the batch budget and the streaming threshold against brute-force
 * recomputations written here, state save/restore, the state file's lock and names
 * (never followed through a planted symlink), and random selection's rate and
 * reproducibility.
 */
#include "policy/lanes.h"
#include "policy/lane_state.h"
#include "common/siphash.h"

#include "check_run.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Parses policy text into `*out`; returns the code. */
static int parse_policy(const char *text, crisk__policy **out, crisk_error *err)
{
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    int rc = crisk__policy_parse(root, out, err);
    cJSON_Delete(root);
    return rc;
}

/* Returns a parsed policy from text that must be valid. */
static crisk__policy *policy(const char *text)
{
    crisk__policy *p = NULL;
    crisk_error err;
    ck_assert_msg(parse_policy(text, &p, &err) == 0, "%s", err.message);
    return p;
}

/* A tiny deterministic generator for test scores (xorshift64*). */
static float next_score(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (float)((*s * 2685821657736338717ULL) >> 40) / (float)(1 << 24);
}

START_TEST(test_siphash_vectors)
{
    /* The reference vectors: key 00 01 .. 0f, message 00 01 .. (len - 1). */
    unsigned char msg[16];
    for (int i = 0; i < 16; i++)
        msg[i] = (unsigned char)i;
    uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
    ck_assert_uint_eq(crisk__siphash(k0, k1, msg, 0), 0x726fdb47dd0e0e31ULL);
    ck_assert_uint_eq(crisk__siphash(k0, k1, msg, 1), 0x74f839c593dc67fdULL);
    ck_assert_uint_eq(crisk__siphash(k0, k1, msg, 15), 0xa129ca6149be45e5ULL);
}
END_TEST

START_TEST(test_policy_refusals)
{
    const char *cases[][2] = {
        {"{\"format\": \"crisk-policy\", \"version\": 1}", "lanes"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\", \"a\"]}",
         "named twice"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\"], \"default_lane\":"
         " \"b\"}", "default_lane: unknown lane \"b\""},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\", \"b\"], "
         "\"thresholds\": [{\"lane\": \"a\", \"min_score\": 0.5}]}", "score_model: required"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\", \"b\"], "
         "\"score_model\": \"m\", \"thresholds\": [{\"lane\": \"c\", \"min_score\": 0.5}]}",
         "thresholds[0]: unknown lane \"c\""},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\", \"b\"], "
         "\"score_model\": \"m\", \"thresholds\": [{\"lane\": \"a\", \"min_score\": 0.5}, "
         "{\"lane\": \"a\", \"min_score\": 0.4}]}", "thresholds[1]: lane \"a\" given twice"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\", \"b\"], "
         "\"score_model\": \"m\", \"budget\": [{\"lane\": \"a\", \"share\": 0.7}, "
         "{\"lane\": \"b\", \"share\": 0.4}]}", "add up to"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\", \"b\"], "
         "\"score_model\": \"m\", \"budget\": [{\"lane\": \"a\", \"share\": 0}]}", "(0, 1]"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\", \"b\"], "
         "\"score_model\": \"m\", \"budget\": [{\"lane\": \"a\", \"portion\": 0.1}]}",
         "budget[0]: unknown key \"portion\""},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\"], \"random\": "
         "{\"lane\": \"a\", \"rate\": 1.5, \"seed\": 1}}", "random.rate"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\"], \"random\": "
         "{\"lane\": \"a\", \"rate\": 0.5, \"seed\": -1}}", "random.seed"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\"], \"random\": "
         "{\"lane\": \"a\", \"rate\": 0.5}}", "random.seed"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\"], \"stream\": "
         "{\"window\": 0}}", "stream.window"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\"], \"stream\": "
         "{\"window\": 10, \"warmup\": 11}}", "stream.warmup"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\"], \"budgets\": []}",
         "unknown key \"budgets\""},
        {"{\"format\": \"crisk-profiles\", \"version\": 1, \"lanes\": [\"a\"]}", "format"},
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"a\"], "
         "\"unscored_lane\": \"b\"}", "unscored_lane: unknown lane \"b\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        crisk__policy *p = (crisk__policy *)&p;
        crisk_error err;
        ck_assert_int_eq(parse_policy(cases[i][0], &p, &err), CRISK_E_FORMAT);
        ck_assert_ptr_null(p);
        ck_assert_msg(strstr(err.message, cases[i][1]), "case %zu: \"%s\" lacks \"%s\"", i,
                      err.message, cases[i][1]);
    }
}
END_TEST

static const char *full_policy =
    "{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"red\", \"yellow\", "
    "\"blue\", \"green\"], \"default_lane\": \"green\", \"score_model\": \"fraud\", "
    "\"thresholds\": [{\"lane\": \"yellow\", \"min_score\": 0.6}, {\"lane\": \"red\", "
    "\"min_score\": 0.9}], \"budget\": [{\"lane\": \"yellow\", \"share\": 0.15}, "
    "{\"lane\": \"red\", \"share\": 0.1}], \"stream\": {\"window\": 50, \"warmup\": 10}, "
    "\"random\": {\"lane\": \"blue\", \"rate\": 0.2, \"seed\": 20261127}}";

/* Precedence: a pre-placed (profile) decision stays; thresholds go most severe first;
 * the batch budget takes ceil(share * n) per lane, riskiest first, ties by row order,
 * never a NaN score; then random, then the default lane. */
START_TEST(test_precedence_and_batch_budget)
{
    crisk__policy *p = policy(full_policy);
    /* 20 rows: red's budget is ceil(0.1 * 20) = 2 rows, yellow's ceil(0.15 * 20) = 3. */
    float scores[20] = {0.95f, 0.7f, 0.5f, 0.5f, 0.1f, 0.2f, 0.55f, 0.3f, 0.5f, 0.91f,
                        NAN,   0.4f, 0.45f, 0.05f, 0.0f, 0.58f, 0.1f, 0.2f, 0.3f, 0.4f};
    crisk__decision d[20];
    memset(d, 0, sizeof d);
    d[9] = (crisk__decision){3, CRISK_REASON_PROFILE, 7, 0, 0, 0, 0}; /* a mandatory hit */
    ck_assert_int_eq(crisk__lanes_decide(p, NULL, scores, NULL, NULL, 20, d, NULL), 0);
    ck_assert_uint_eq(d[9].kind, CRISK_REASON_PROFILE); /* beats its 0.91 */
    ck_assert_uint_eq(d[9].lane, 3);
    ck_assert_uint_eq(d[0].kind, CRISK_REASON_THRESHOLD);
    ck_assert_uint_eq(d[0].lane, 0); /* 0.95: red before yellow */
    ck_assert_uint_eq(d[1].kind, CRISK_REASON_THRESHOLD);
    ck_assert_uint_eq(d[1].lane, 1);
    /* Unplaced, by score: 0.58 (15), 0.55 (6), then the 0.5s in row order 2, 3, 8. */
    int red[] = {15, 6}, yellow[] = {2, 3, 8};
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(d[red[i]].kind, CRISK_REASON_BUDGET);
        ck_assert_uint_eq(d[red[i]].lane, 0);
        ck_assert_uint_eq(d[red[i]].rank, (unsigned)i + 1);
    }
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(d[yellow[i]].kind, CRISK_REASON_BUDGET);
        ck_assert_uint_eq(d[yellow[i]].lane, 1);
    }
    /* The NaN score (the model could not score row 10) goes to the most severe lane,
     * never to the default one (issue 15, defect 3). */
    ck_assert_uint_eq(d[10].kind, CRISK_REASON_UNSCORED);
    ck_assert_uint_eq(d[10].lane, 0);
    /* Without ids nothing is drawn: the rest go to the default lane. */
    for (int i = 0; i < 20; i++)
        if (i != 0 && i != 1 && i != 9 && i != 10 && i != 15 && i != 6 && i != 2 && i != 3
            && i != 8) {
            ck_assert_uint_eq(d[i].kind, CRISK_REASON_DEFAULT);
            ck_assert_uint_eq(d[i].lane, 3);
        }
    char reason[256];
    crisk__lanes_reason(p, &d[0], scores[0], NULL, NULL, reason, sizeof reason);
    ck_assert_str_eq(reason, "fraud score 0.9500 >= red threshold 0.9");
    crisk__lanes_reason(p, &d[6], scores[6], NULL, NULL, reason, sizeof reason);
    ck_assert_str_eq(reason, "budget: fraud score 0.5500 ranks 2 in the riskiest 10% of the "
                             "batch sent to red");
    crisk__lanes_reason(p, &d[9], scores[9], "P-9", "why", reason, sizeof reason);
    ck_assert_str_eq(reason, "profile P-9: why");
    crisk__lanes_reason(p, &d[10], scores[10], NULL, NULL, reason, sizeof reason);
    ck_assert_str_eq(reason, "unscored: fraud gave no score (nan); sent to red, the policy's "
                             "unscored_lane");
    crisk__lanes_reason(p, &d[4], scores[4], NULL, NULL, reason, 12);
    ck_assert_str_eq(reason, "default lan"); /* cut to fit */
    crisk__policy_free(p);
}
END_TEST

/* share * n that is a whole number in decimal but not in binary: 0.07 * 100 takes 7. */
/* The policy names where an unscored declaration goes ("unscored_lane"); it is part of
 * the fingerprint, and a score of NaN or infinity is no score. */
START_TEST(test_unscored_lane)
{
    const char *at = strstr(full_policy, "\"score_model\"");
    char text[1024];
    snprintf(text, sizeof text, "%.*s\"unscored_lane\": \"yellow\", %s",
             (int)(at - full_policy), full_policy, at);
    crisk__policy *p = policy(text), *q = policy(full_policy);
    ck_assert_uint_ne(crisk__policy_fingerprint(p), crisk__policy_fingerprint(q));
    /* 10 rows: the smallest batch the budget's 10% share allows. */
    float scores[10] = {NAN, INFINITY, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f, 0.1f};
    crisk__decision d[10];
    memset(d, 0, sizeof d);
    ck_assert_int_eq(crisk__lanes_decide(p, NULL, scores, NULL, NULL, 10, d, NULL), 0);
    for (int i = 0; i < 2; i++) {
        ck_assert_uint_eq(d[i].kind, CRISK_REASON_UNSCORED);
        ck_assert_uint_eq(d[i].lane, 1);
    }
    ck_assert_uint_ne(d[2].kind, CRISK_REASON_UNSCORED);
    crisk__policy_free(p);
    crisk__policy_free(q);
}
END_TEST

START_TEST(test_budget_count_rounding)
{
    crisk__policy *p = policy("{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": "
                              "[\"r\", \"g\"], \"score_model\": \"m\", \"budget\": "
                              "[{\"lane\": \"r\", \"share\": 0.07}]}");
    for (size_t n = 1; n <= 300; n++) {
        float scores[300];
        crisk__decision d[300];
        memset(d, 0, sizeof d);
        uint64_t s = n;
        for (size_t i = 0; i < n; i++)
            scores[i] = next_score(&s);
        crisk_error err;
        int rc = crisk__lanes_decide(p, NULL, scores, NULL, NULL, n, d, &err);
        if (n < 15) { /* 0.07 * 14 < 1: too small for the share (test_small_batch) */
            ck_assert_int_eq(rc, CRISK_E_INVALID_ARGUMENT);
            continue;
        }
        ck_assert_msg(rc == 0, "%zu rows: %s", n, err.message);
        size_t red = 0;
        for (size_t i = 0; i < n; i++)
            red += d[i].lane == 0;
        /* The exact ceil(7n/100) in integers. */
        ck_assert_uint_eq(red, (7 * n + 99) / 100);
    }
    crisk__policy_free(p);
}
END_TEST

/* A batch too small for a budget share is refused, naming the lane, the smallest batch
 * and stream mode, instead of sending ceil(share * n) = 1 declaration in n to inspection
 * (issue 16, defect 2: 100 declarations scored one per call all went to red). With a
 * lane state the same declarations, one per call, keep the share. */
START_TEST(test_small_batch)
{
    crisk__policy *p = policy("{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": "
                              "[\"red\", \"yellow\", \"green\"], \"score_model\": \"m\", "
                              "\"budget\": [{\"lane\": \"red\", \"share\": 0.02}, {\"lane\": "
                              "\"yellow\", \"share\": 0.05}], \"stream\": {\"window\": 1000, "
                              "\"warmup\": 100}}");
    enum { N = 1000 };
    static float scores[N];
    static crisk__decision d[N];
    uint64_t seed = 16;
    for (size_t i = 0; i < N; i++)
        scores[i] = next_score(&seed);
    crisk_error err;
    size_t smallest = 50; /* ceil(1 / 0.02): red's share needs 50 declarations */
    for (size_t n = 1; n < smallest; n++) {
        memset(d, 0, sizeof d);
        ck_assert_int_eq(crisk__lanes_decide(p, NULL, scores, NULL, NULL, n, d, &err),
                         CRISK_E_INVALID_ARGUMENT);
        ck_assert_msg(strstr(err.message, "lane \"red\"'s share 0.02")
                          && strstr(err.message, "at least 50")
                          && strstr(err.message, "stream mode with a lane state"),
                      "%s", err.message);
    }
    memset(d, 0, sizeof d);
    ck_assert_int_eq(crisk__lanes_decide(p, NULL, scores, NULL, NULL, smallest, d, &err), 0);
    /* One per call with a state: red keeps about its 2% (the window's quantile), far
     * from the 100% that one-row batches would give. */
    crisk_lane_state *s = NULL;
    ck_assert_int_eq(crisk__lane_state_create(p, &s, &err), 0);
    size_t red = 0;
    for (size_t i = 0; i < N; i++) {
        crisk__decision one = {0, 0, 0, 0, 0, 0, 0};
        ck_assert_int_eq(crisk__lanes_decide(p, s, &scores[i], NULL, NULL, 1, &one, &err), 0);
        red += one.lane == 0;
    }
    ck_assert_uint_gt(red, 0);
    ck_assert_uint_lt(red, 2 * N * 2 / 100);
    crisk_lane_state_free(s);
    crisk__policy_free(p);
}
END_TEST

/* Returns the smallest batch crisk__lanes_decide accepts for `p` (searched from 1 up to
 * `limit`; limit + 1 when none is), from scores it draws itself. */
static size_t smallest_accepted(const crisk__policy *p, size_t limit)
{
    float *scores = malloc(limit * sizeof *scores);
    crisk__decision *d = malloc(limit * sizeof *d);
    ck_assert(scores && d);
    uint64_t seed = 3;
    for (size_t i = 0; i < limit; i++)
        scores[i] = next_score(&seed);
    size_t n = 1;
    for (; n <= limit; n++) {
        memset(d, 0, n * sizeof *d);
        crisk_error err;
        int rc = crisk__lanes_decide(p, NULL, scores, NULL, NULL, n, d, &err);
        ck_assert_msg(rc == 0 || rc == CRISK_E_INVALID_ARGUMENT, "%s", err.message);
        if (rc == 0)
            break;
    }
    free(scores);
    free(d);
    return n;
}

/* crisk__policy_min_batch (behind crisk_bundle_min_batch, which `crisk score` keeps every
 * batch at) is exactly the smallest batch the budget accepts: the largest ceil(1 / share),
 * 1 without a budget; a share too small for any batch gives SIZE_MAX, named as such in
 * the refusal (no overflow in ceil(1 / share)). */
START_TEST(test_min_batch_is_the_smallest_accepted)
{
    const char *budgets[] = {
        "", "{\"lane\": \"r\", \"share\": 0.02}, {\"lane\": \"y\", \"share\": 0.05}",
        "{\"lane\": \"r\", \"share\": 0.07}", "{\"lane\": \"y\", \"share\": 0.3333333333333333}",
        "{\"lane\": \"r\", \"share\": 0.25}, {\"lane\": \"y\", \"share\": 0.003}",
        "{\"lane\": \"r\", \"share\": 1}", "{\"lane\": \"r\", \"share\": 0.1}"};
    for (size_t k = 0; k < sizeof budgets / sizeof *budgets; k++) {
        char text[512];
        snprintf(text, sizeof text, "{\"format\": \"crisk-policy\", \"version\": 1, "
                 "\"lanes\": [\"r\", \"y\", \"g\"], \"score_model\": \"m\", "
                 "\"budget\": [%s]}", budgets[k]);
        crisk__policy *p = policy(text);
        size_t least = crisk__policy_min_batch(p);
        ck_assert_msg(least >= 1 && least <= 1000, "%s: %zu", budgets[k], least);
        ck_assert_msg(smallest_accepted(p, 1000) == least, "%s: %zu", budgets[k], least);
        crisk__policy_free(p);
    }
    crisk__policy *p = policy("{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": "
                              "[\"r\", \"g\"], \"score_model\": \"m\", \"budget\": "
                              "[{\"lane\": \"r\", \"share\": 1e-300}]}");
    ck_assert_uint_eq(crisk__policy_min_batch(p), SIZE_MAX);
    float scores[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    crisk__decision d[4];
    memset(d, 0, sizeof d);
    crisk_error err;
    ck_assert_int_eq(crisk__lanes_decide(p, NULL, scores, NULL, NULL, 4, d, &err),
                     CRISK_E_INVALID_ARGUMENT);
    char least[64];
    snprintf(least, sizeof least, "at least %zu,", (size_t)SIZE_MAX);
    ck_assert_msg(strstr(err.message, least), "%s", err.message);
    crisk__policy_free(p);
}
END_TEST

/* The streaming budget against a brute-force recomputation of the window threshold: for
 * each row, the previous <= 50 finite scores, sorted; budget lane j's cut is the
 * ceil(c_j * m)-th largest, c_j the shares summed up to j. */
START_TEST(test_stream_budget)
{
    crisk__policy *p = policy(full_policy);
    crisk_lane_state *st = NULL;
    ck_assert_int_eq(crisk__lane_state_create(p, &st, NULL), 0);
    enum { N = 400 };
    static float scores[N];
    uint64_t s = 42;
    for (int i = 0; i < N; i++)
        scores[i] = i % 37 == 5 ? NAN : 0.6f * next_score(&s); /* below the thresholds */
    static crisk__decision d[N];
    memset(d, 0, sizeof d);
    /* Three calls, as declarations arrive in pieces. */
    ck_assert_int_eq(crisk__lanes_decide(p, st, scores, NULL, NULL, 7, d, NULL), 0);
    ck_assert_int_eq(crisk__lanes_decide(p, st, scores + 7, NULL, NULL, 200, d + 7, NULL), 0);
    ck_assert_int_eq(crisk__lanes_decide(p, st, scores + 207, NULL, NULL, N - 207, d + 207,
                                         NULL), 0);
    ck_assert_uint_eq(crisk__lane_state_count(st), 50);
    int budgeted = 0;
    for (int i = 0; i < N; i++) {
        float win[50];
        int m = 0;
        for (int j = i - 1; j >= 0 && m < 50; j--)
            if (!isnan(scores[j]))
                win[m++] = scores[j];
        int lane = isnan(scores[i]) ? 0 : 3; /* unscored: red; else green unless budgeted */
        float cut = 0;
        if (m >= 10 && !isnan(scores[i])) {
            /* Sort descending, by insertion. */
            for (int a = 1; a < m; a++)
                for (int b = a; b > 0 && win[b] > win[b - 1]; b--) {
                    float t = win[b];
                    win[b] = win[b - 1];
                    win[b - 1] = t;
                }
            int k_red = (int)ceil(0.10 * m - 1e-9), k_yellow = (int)ceil(0.25 * m - 1e-9);
            if (scores[i] >= win[k_red - 1]) {
                lane = 0;
                cut = win[k_red - 1];
            } else if (scores[i] >= win[k_yellow - 1]) {
                lane = 1;
                cut = win[k_yellow - 1];
            }
        }
        ck_assert_msg(d[i].lane == (unsigned)lane, "row %d: lane %u, expected %d", i,
                      d[i].lane, lane);
        if (isnan(scores[i])) {
            ck_assert_uint_eq(d[i].kind, CRISK_REASON_UNSCORED);
        } else if (lane != 3) {
            budgeted++;
            ck_assert_uint_eq(d[i].kind, CRISK_REASON_BUDGET);
            ck_assert_float_eq(d[i].cut, cut);
            ck_assert_uint_eq(d[i].window, (unsigned)m);
        } else {
            ck_assert_uint_ne(d[i].kind, CRISK_REASON_BUDGET);
        }
    }
    /* About a quarter of the scored rows past the warm-up. */
    ck_assert_int_gt(budgeted, 60);
    ck_assert_int_lt(budgeted, 150);
    char reason[256];
    for (int i = 0; i < N; i++)
        if (d[i].kind == CRISK_REASON_BUDGET && d[i].lane == 0) {
            crisk__lanes_reason(p, &d[i], scores[i], NULL, NULL, reason, sizeof reason);
            ck_assert_ptr_nonnull(strstr(reason, "red stream threshold"));
            char expect[64];
            snprintf(expect, sizeof expect, "top 10%% of the last %u scores", d[i].window);
            ck_assert_msg(strstr(reason, expect), "%s", reason);
            break;
        }
    crisk_lane_state_free(st);
    crisk__policy_free(p);
}
END_TEST

/* A state saved mid-stream and restored decides the rest exactly as the uninterrupted
 * stream; a state is refused under another policy, and malformed files are refused. */
START_TEST(test_state_save_load)
{
    crisk__policy *p = policy(full_policy);
    enum { N = 300, CUT = 130 };
    static float scores[N];
    uint64_t s = 7;
    for (int i = 0; i < N; i++)
        scores[i] = 0.6f * next_score(&s);
    static crisk__decision a[N], b[N];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    crisk_lane_state *st = NULL, *restored = NULL;
    ck_assert_int_eq(crisk__lane_state_create(p, &st, NULL), 0);
    ck_assert_int_eq(crisk__lanes_decide(p, st, scores, NULL, NULL, N, a, NULL), 0);
    crisk_lane_state_free(st);

    char path[] = "/tmp/crisk_state_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    crisk_error err;
    ck_assert_int_eq(crisk__lane_state_create(p, &st, NULL), 0);
    ck_assert_int_eq(crisk__lanes_decide(p, st, scores, NULL, NULL, CUT, b, NULL), 0);
    ck_assert_int_eq(crisk_lane_state_save(st, path, &err), 0);
    crisk_lane_state_free(st);
    ck_assert_msg(crisk__lane_state_read(p, path, &restored, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(crisk__lane_state_count(restored), 50);
    ck_assert_int_eq(crisk__lanes_decide(p, restored, scores + CUT, NULL, NULL, N - CUT,
                                         b + CUT, NULL), 0);
    for (int i = 0; i < N; i++) {
        ck_assert_uint_eq(a[i].lane, b[i].lane);
        ck_assert_uint_eq(a[i].kind, b[i].kind);
    }

    /* The same settings with another window: another fingerprint, refused. */
    char other_text[2048];
    snprintf(other_text, sizeof other_text, "%s", full_policy);
    char *w = strstr(other_text, "\"window\": 50");
    memcpy(w, "\"window\": 51", 12);
    crisk__policy *other = policy(other_text);
    ck_assert_uint_ne(crisk__policy_fingerprint(other), crisk__policy_fingerprint(p));
    crisk_lane_state *x = NULL;
    ck_assert_int_eq(crisk__lane_state_read(other, path, &x, &err), CRISK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "saved for another policy"));
    crisk__decision one = {0, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(crisk__lanes_decide(other, restored, scores, NULL, NULL, 1, &one, &err),
                     CRISK_E_INVALID_ARGUMENT);
    crisk_lane_state_free(restored);

    const char *bad[][2] = {
        {"{\"format\": \"crisk-lane-state\", \"version\": 1, \"policy\": \"%s\", \"window\": "
         "50, \"scores\": [0.1, \"x\"]}", "scores[1]"},
        {"{\"format\": \"crisk-lane-state\", \"version\": 1, \"policy\": \"%s\", \"window\": "
         "49, \"scores\": []}", "window"},
        {"{\"format\": \"crisk-lane-state\", \"version\": 2, \"policy\": \"%s\", \"window\": "
         "50, \"scores\": []}", "not a crisk lane state"},
        {"{\"format\": \"crisk-lane-state\", \"version\": 1, \"policy\": \"%s\", \"window\": "
         "50, \"scores\": [1e39]}", "scores[0]"},
        {"{\"format\": \"crisk-lane-state\", \"version\": 1, \"policy\": \"%s\", \"window\": "
         "50, \"scores\": []} trailing", "text after"},
    };
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)crisk__policy_fingerprint(p));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        FILE *f = fopen(path, "w");
        fprintf(f, bad[i][0], hex);
        fclose(f);
        ck_assert_int_eq(crisk__lane_state_read(p, path, &x, &err), CRISK_E_FORMAT);
        ck_assert_ptr_null(x);
        ck_assert_msg(strstr(err.message, bad[i][1]), "\"%s\" lacks \"%s\"", err.message,
                      bad[i][1]);
    }
    /* 51 scores in a window of 50. */
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"format\": \"crisk-lane-state\", \"version\": 1, \"policy\": \"%s\", "
            "\"window\": 50, \"scores\": [0", hex);
    for (int i = 0; i < 50; i++)
        fprintf(f, ", 0.5");
    fprintf(f, "]}");
    fclose(f);
    ck_assert_int_eq(crisk__lane_state_read(p, path, &x, &err), CRISK_E_FORMAT);
    remove(path);
    ck_assert_int_eq(crisk__lane_state_read(p, path, &x, &err), CRISK_E_IO);
    crisk__policy_free(other);
    crisk__policy_free(p);
}
END_TEST

/* Counts the rows drawn by random selection among `n` ids "D<i>" under `text`. */
static size_t draws(const char *text, size_t n, unsigned char *drawn)
{
    crisk__policy *p = policy(text);
    char (*ids)[16] = malloc(n * sizeof *ids);
    const char **ptrs = malloc(n * sizeof *ptrs);
    size_t *lens = malloc(n * sizeof *lens);
    crisk__decision *d = calloc(n, sizeof *d);
    for (size_t i = 0; i < n; i++) {
        lens[i] = (size_t)snprintf(ids[i], sizeof ids[i], "D%zu", i);
        ptrs[i] = i % 1000 == 999 ? NULL : ids[i]; /* a row without an id */
    }
    ck_assert_int_eq(crisk__lanes_decide(p, NULL, NULL, ptrs, lens, n, d, NULL), 0);
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        drawn[i] = d[i].kind == CRISK_REASON_RANDOM;
        count += drawn[i];
        if (drawn[i])
            ck_assert_uint_eq(d[i].lane, 1);
        else
            ck_assert_uint_eq(d[i].kind, CRISK_REASON_DEFAULT);
        if (!ptrs[i])
            ck_assert(!drawn[i]);
    }
    if (count) {
        char reason[256];
        for (size_t i = 0; i < n; i++)
            if (drawn[i]) {
                crisk__lanes_reason(p, &d[i], NAN, NULL, NULL, reason, sizeof reason);
                ck_assert_ptr_nonnull(strstr(reason, "random: drawn for y at rate"));
                ck_assert_ptr_nonnull(strstr(reason, "with seed "));
                break;
            }
    }
    free(ids);
    free(ptrs);
    free(lens);
    free(d);
    crisk__policy_free(p);
    return count;
}

/* Random selection: the rate holds, the same seed draws the same rows, another seed
 * other rows, rate 0 none and rate 1 every row with an id. */
START_TEST(test_random_selection)
{
    enum { N = 20000 };
    static unsigned char a[N], b[N], c[N];
    const char *fmt = "{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"r\", "
                      "\"y\", \"g\"], \"random\": {\"lane\": \"y\", \"rate\": %s, \"seed\": "
                      "%s}}";
    char text[512];
    snprintf(text, sizeof text, fmt, "0.1", "20261127");
    size_t na = draws(text, N, a);
    /* Binomial(19980, 0.1): mean 1998, sd 42; 5 sd either side. */
    ck_assert_uint_gt(na, 1998 - 212);
    ck_assert_uint_lt(na, 1998 + 212);
    ck_assert_uint_eq(draws(text, N, b), na);
    ck_assert_int_eq(memcmp(a, b, N), 0);
    snprintf(text, sizeof text, fmt, "0.1", "20261128");
    draws(text, N, c);
    size_t both = 0;
    for (int i = 0; i < N; i++)
        both += a[i] && c[i];
    ck_assert_uint_lt(both, 400); /* independent draws overlap on about 1% of rows */
    snprintf(text, sizeof text, fmt, "0", "1");
    ck_assert_uint_eq(draws(text, N, c), 0);
    snprintf(text, sizeof text, fmt, "1", "1");
    ck_assert_uint_eq(draws(text, N, c), N - N / 1000);
}
END_TEST

/* Every single-byte edit (from a small alphabet) and truncation of a full policy that
 * still parses as JSON is accepted or refused with a message, never a crash; an accepted
 * one can place a batch. */
START_TEST(test_policy_mutations)
{
    size_t n = strlen(full_policy);
    static char copy[4096];
    const char alphabet[] = "{}[]\",:0.9-";
    size_t parsed = 0;
    float scores[8] = {0.1f, 0.95f, 0.5f, 0.7f, NAN, 0.2f, 0.3f, 0.61f};
    const char *ids[8] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    size_t lens[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a <= sizeof alphabet - 1; a++) {
            memcpy(copy, full_policy, n + 1);
            copy[i] = a == sizeof alphabet - 1 ? '\0' : alphabet[a];
            cJSON *root = cJSON_Parse(copy);
            if (!root)
                continue;
            parsed++;
            crisk__policy *p = NULL;
            crisk_error err = {0, ""};
            if (crisk__policy_parse(root, &p, &err) == 0) {
                crisk__decision d[8];
                memset(d, 0, sizeof d);
                /* 8 rows: too small for a budget share under 1/8, refused as such */
                int rc = crisk__lanes_decide(p, NULL, scores, ids, lens, 8, d, &err);
                if (rc != 0)
                    ck_assert_msg(rc == CRISK_E_INVALID_ARGUMENT
                                      && strstr(err.message, "stream mode"), "%s", err.message);
                for (int r = 0; rc == 0 && r < 8; r++)
                    ck_assert_uint_lt(d[r].lane, crisk__policy_num_lanes(p));
            } else {
                ck_assert(err.message[0] != '\0');
            }
            crisk__policy_free(p);
            cJSON_Delete(root);
        }
    ck_assert_uint_gt(parsed, 100);
}
END_TEST

/* A loaded state's window, filled at once and sorted by radix, is bit for bit the window
 * the live state built one score at a time: negative, signed zero, tiny and huge scores,
 * repeated ones, and more scores than the window holds. */
START_TEST(test_loaded_window_matches_the_live_one)
{
    crisk__policy *p = policy(full_policy); /* window 50 */
    const float odd[] = {-0.0f, 0.0f, -1e-38f, 1e-45f, -3.4e38f, 3.4e38f, 0.5f, -0.5f, 0.0f,
                         -0.0f, 0.5f};
    enum { N = 173 };
    float scores[N];
    uint64_t g = 11;
    for (int i = 0; i < N; i++)
        scores[i] = i % 3 ? odd[i % 11] : 4 * next_score(&g) - 2;
    crisk_lane_state *live = NULL, *loaded = NULL;
    ck_assert_int_eq(crisk__lane_state_create(p, &live, NULL), 0);
    static crisk__decision d[N];
    ck_assert_int_eq(crisk__lanes_decide(p, live, scores, NULL, NULL, N, d, NULL), 0);
    char path[] = "/tmp/crisk_state_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    crisk_error err;
    ck_assert_int_eq(crisk_lane_state_save(live, path, &err), 0);
    ck_assert_msg(crisk__lane_state_read(p, path, &loaded, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(loaded->count, live->count);
    for (size_t i = 0; i < live->count; i++) {
        float a = crisk__score_order_at(&loaded->sorted, i);
        float b = crisk__score_order_at(&live->sorted, i);
        ck_assert_mem_eq(&a, &b, sizeof(float));
        ck_assert_mem_eq(&loaded->ring[i], &live->ring[(live->head + i) % live->window],
                         sizeof(float));
    }
    crisk_lane_state_free(live);
    crisk_lane_state_free(loaded);
    char prev[64];
    snprintf(prev, sizeof prev, "%s.prev", path);
    remove(path);
    remove(prev);
    crisk__policy_free(p);
}
END_TEST

/* Writes `text` to `path`. */
static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* Returns the first line of the file at `path` in `buf` ("" when it cannot be read). */
static const char *read_line(const char *path, char *buf, int size)
{
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (f) {
        if (!fgets(buf, size, f))
            buf[0] = '\0';
        fclose(f);
    }
    return buf;
}

/* A symlink planted at any name the save or the lock uses (the old fixed PATH.tmp, the
 * backup PATH.prev, the lock PATH.lock) is never written through: its target keeps its
 * bytes, the state lands in PATH itself, and a planted lock refuses the open. */
START_TEST(test_state_file_names_are_never_followed)
{
    crisk__policy *p = policy(full_policy);
    char dir[] = "/tmp/crisk_state_dir_XXXXXX", path[64], victim[64], name[80], line[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/lanes.state", dir);
    snprintf(victim, sizeof victim, "%s/victim", dir);
    write_text(victim, "precious\n");
    const char *suffixes[] = {".tmp", ".prev", ".lock"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        ck_assert_int_eq(symlink(victim, name), 0);
    }
    crisk_lane_state *st = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk__lane_state_open(p, path, &st, &err), CRISK_E_IO);
    ck_assert_ptr_null(st);
    ck_assert_ptr_nonnull(strstr(err.message, ".lock"));
    ck_assert_int_eq(crisk__lane_state_create(p, &st, NULL), 0);
    ck_assert_int_eq(crisk__lanes_decide(p, st, (const float[]){0.25f, 0.5f}, NULL, NULL, 2,
                                         (crisk__decision[2]){{0}}, NULL), 0);
    for (int round = 0; round < 2; round++) /* the second save replaces a real PATH */
        ck_assert_msg(crisk_lane_state_save(st, path, &err) == 0, "%s", err.message);
    crisk_lane_state_free(st);
    ck_assert_str_eq(read_line(victim, line, sizeof line), "precious\n");
    ck_assert_ptr_nonnull(strstr(read_line(path, line, sizeof line), "crisk-lane-state"));
    struct stat sb;
    ck_assert_int_eq(lstat(path, &sb), 0);
    ck_assert(S_ISREG(sb.st_mode));
    ck_assert_msg(crisk__lane_state_read(p, path, &st, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(crisk__lane_state_count(st), 2);
    crisk_lane_state_free(st);
    for (size_t i = 0; i < 3; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        remove(name);
    }
    remove(path);
    remove(victim);
    ck_assert_int_eq(rmdir(dir), 0);
    crisk__policy_free(p);
}
END_TEST

/* An open state file is locked until its state is freed: a second open of the same path
 * fails at once, in the same process too, and leaves no state; once freed, the next open
 * loads what was saved. A missing file opens as a fresh window. */
START_TEST(test_state_open_locks_the_file)
{
    crisk__policy *p = policy(full_policy);
    char dir[] = "/tmp/crisk_state_dir_XXXXXX", path[64], name[80];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/lanes.state", dir);
    crisk_lane_state *a = NULL, *b = NULL;
    crisk_error err;
    ck_assert_msg(crisk__lane_state_open(p, path, &a, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(crisk__lane_state_count(a), 0);
    ck_assert_int_eq(crisk__lane_state_open(p, path, &b, &err), CRISK_E_IO);
    ck_assert_ptr_null(b);
    ck_assert_ptr_nonnull(strstr(err.message, "in use by another run"));
    ck_assert_int_eq(crisk__lanes_decide(p, a, (const float[]){0.125f, 0.75f, 0.5f}, NULL,
                                         NULL, 3, (crisk__decision[3]){{0}}, NULL), 0);
    ck_assert_int_eq(crisk_lane_state_save(a, path, &err), 0);
    crisk_lane_state_free(a);
    ck_assert_msg(crisk__lane_state_open(p, path, &b, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(crisk__lane_state_count(b), 3);
    crisk_lane_state_free(b);
    remove(path);
    snprintf(name, sizeof name, "%s.lock", path);
    remove(name);
    ck_assert_int_eq(rmdir(dir), 0);
    crisk__policy_free(p);
}
END_TEST

/* Returns the suite. */
static Suite *lanes_suite(void)
{
    Suite *s = suite_create("lanes");
    TCase *tc = tcase_create("lanes");
    tcase_add_test(tc, test_siphash_vectors);
    tcase_add_test(tc, test_policy_refusals);
    tcase_add_test(tc, test_precedence_and_batch_budget);
    tcase_add_test(tc, test_unscored_lane);
    tcase_add_test(tc, test_budget_count_rounding);
    tcase_add_test(tc, test_small_batch);
    tcase_add_test(tc, test_min_batch_is_the_smallest_accepted);
    tcase_add_test(tc, test_stream_budget);
    tcase_add_test(tc, test_state_save_load);
    tcase_add_test(tc, test_loaded_window_matches_the_live_one);
    tcase_add_test(tc, test_state_file_names_are_never_followed);
    tcase_add_test(tc, test_state_open_locks_the_file);
    tcase_add_test(tc, test_random_selection);
    tcase_add_test(tc, test_policy_mutations);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return crisk_check_run(lanes_suite());
}
