/*
 * test_bundle.c — bundles end to end: a bundle directory built here in a temporary
 * directory (a schema fitted with crisk_schema_fit, a hand-written logistic model, an
 * XGBoost model that libxgboost trained on the schema's training matrix, committed under
 * tests/c/fixtures, risk profiles, a lane policy), loaded and used to score declarations.
 * Scores are checked against the logistic formula and against libxgboost's own
 * predictions on the same features (committed with the model); lanes, hits and reasons
 * against the precedence worked out here; then streaming, and the manifest's refusals.
 */
#include "crisk.h"
#include "decl/fitted.h"
#include "decl/schema.h"

#include "check_run.h"
#include "decl_families.h"
#include "test_files.h"

#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The fraud model: logistic over (log_value, importer_rate). */
#define FRAUD_B0 (-4.5)
#define FRAUD_W_LOG 0.3
#define FRAUD_W_RATE 6.0
static const char *const FRAUD =
    "{\"format\": \"crisk-logistic\", \"version\": 1,"
    " \"feature_names\": [\"log_value\", \"importer_rate\"], \"classes\": [0, 1],"
    " \"multi_class\": \"binary\", \"coef\": [[0.3, 6.0]], \"intercept\": [-4.5]}";

static const char *const PROFILES =
    "{\"format\": \"crisk-profiles\", \"version\": 1,"
    " \"watchlists\": {\"wl\": [\"IMP-3\"]},"
    " \"rules\": ["
    "  {\"id\": \"P-1\", \"description\": \"importer on the watch list\", \"lane\": \"red\","
    "   \"mandatory\": true, \"when\": {\"field\": \"importer_id\", \"watchlist\": \"wl\"}},"
    "  {\"id\": \"P-2\", \"description\": \"unit value below the band\", \"lane\": \"yellow\","
    "   \"when\": {\"band\": \"unit_value_band\", \"outside\": \"below\"}},"
    "  {\"id\": \"P-3\", \"description\": \"a 2020 campaign\", \"lane\": \"red\","
    "   \"mandatory\": true, \"active\": {\"from\": \"2020-01-01\", \"to\": \"2020-12-31\"},"
    "   \"when\": {\"field\": \"declared_value\", \"range\": [null, null]}},"
    "  {\"id\": \"P-4\", \"description\": \"textiles from XA\", \"lane\": \"blue\","
    "   \"mandatory\": true, \"when\": {\"all\": [{\"field\": \"origin\", \"equals\": \"XA\"},"
    "   {\"field\": \"hs_code\", \"hs_prefix\": [\"61\"]}]}}]}";

static const char *const POLICY =
    "{\"format\": \"crisk-policy\", \"version\": 1,"
    " \"lanes\": [\"red\", \"yellow\", \"blue\", \"green\"], \"default_lane\": \"green\","
    " \"score_model\": \"fraud\", \"thresholds\": [{\"lane\": \"red\", \"min_score\": 0.55}],"
    " \"budget\": [{\"lane\": \"yellow\", \"share\": 0.1}], \"stream\": {\"window\": 40,"
    " \"warmup\": 10}, \"random\": {\"lane\": \"blue\", \"rate\": 0.25, \"seed\": 99}}";

static const char *const MANIFEST =
    "{\"format\": \"crisk-bundle\", \"version\": 1, \"schema\": \"schema.json\","
    " \"models\": [{\"name\": \"fraud\", \"file\": \"fraud.json\","
    "              \"features\": [\"log_value\", \"importer_rate\"]},"
    "             {\"name\": \"revenue\", \"file\": \"revenue.json\","
    "              \"features\": [\"log_value\", \"unit_value\", \"importer_count\"]}],"
    " \"profiles\": \"profiles.json\", \"policy\": \"policy.json\"}";

/* The temporary bundle directory of the current test. */
static char dir[64];

/* Writes text to file `name` in the bundle directory. */
static void write_text(const char *name, const char *text)
{
    crisk_test_write_file(dir, name, text, strlen(text));
}

enum { NTRAIN = BUNDLE_NTRAIN, NSCORE = BUNDLE_NSCORE };

/* Builds the bundle directory: fits the schema on NTRAIN labelled declarations, writes
 * every file, the revenue model (trained on their out-of-fold training matrix) from
 * tests/c/fixtures. */
static void setup(void)
{
    strcpy(dir, "/tmp/crisk_bundle_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_text("schema_unfitted.json", bundle_schema);
    char path[256];
    snprintf(path, sizeof path, "%s/schema_unfitted.json", dir);
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_msg(crisk_schema_load(path, &s, &err) == 0, "%s", err.message);
    static float labels[NTRAIN];
    crisk_batch *b = family_fit(s, bundle_decl, NTRAIN, labels);
    snprintf(path, sizeof path, "%s/schema.json", dir);
    ck_assert_msg(crisk_schema_save(s, path, &err) == 0, "%s", err.message);
    size_t json_size = 0;
    unsigned char *json = crisk_test_read_fixture("bundle_revenue.json", &json_size);
    crisk_test_write_file(dir, "revenue.json", json, json_size);
    free(json);
    write_text("fraud.json", FRAUD);
    write_text("profiles.json", PROFILES);
    write_text("policy.json", POLICY);
    write_text("manifest.json", MANIFEST);
    crisk_batch_free(b);
    crisk_schema_free(s);
}

/* Removes the bundle directory. */
static void teardown(void)
{
    crisk_test_remove_dir(dir);
}

/* A batch of the NSCORE scoring declarations, in order, or reversed. */
static crisk_batch *scoring_batch(const crisk_bundle *bundle, int reversed)
{
    crisk_batch *b = NULL;
    ck_assert_int_eq(crisk_batch_new(crisk_bundle_schema(bundle), &b, NULL), 0);
    for (int i = 0; i < NSCORE; i++)
        bundle_decl(b, "S", reversed ? NSCORE - 1 - i : i);
    return b;
}

/* Returns whether a scoring declaration's text field `f` equals `v`. */
static int text_is(const crisk_batch *b, size_t row, int f, const char *v)
{
    size_t len = 0;
    const char *t = crisk_batch_text(b, row, (size_t)f, &len);
    return t && len == strlen(v) && memcmp(t, v, len) == 0;
}

START_TEST(test_scores_hits_lanes)
{
    crisk_bundle *bundle = crisk_test_load_bundle(dir);
    ck_assert_uint_eq(crisk_bundle_num_models(bundle), 2);
    ck_assert_str_eq(crisk_bundle_model_name(bundle, 1), "revenue");
    ck_assert_ptr_null(crisk_bundle_model_name(bundle, 2));
    ck_assert_uint_eq(crisk_bundle_num_lanes(bundle), 4);
    ck_assert_str_eq(crisk_bundle_lane_name(bundle, 2), "blue");
    ck_assert_ptr_null(crisk_bundle_lane_name(bundle, 4));
    const crisk_schema *s = crisk_bundle_schema(bundle);
    crisk_batch *b = scoring_batch(bundle, 0);
    crisk_results *res = NULL;
    crisk_error err;
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    ck_assert_msg(crisk_bundle_score(bundle, b, &opts, &res, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(crisk_results_size(res), NSCORE);

    /* Scores: the logistic formula, and libxgboost on the same features. */
    size_t nf = crisk_schema_num_features(s);
    float *x = malloc(NSCORE * nf * sizeof(float));
    ck_assert_int_eq(crisk_schema_features(s, b, x, &err), 0);
    long fcols[2] = {crisk_schema_feature_index(s, "log_value"),
                     crisk_schema_feature_index(s, "importer_rate")};
    size_t nref = 0;
    float *ref = crisk_test_read_fixture_floats("bundle_revenue_scores.txt", &nref);
    ck_assert_uint_eq(nref, NSCORE);
    float fraud[NSCORE];
    for (size_t r = 0; r < NSCORE; r++) {
        double z = FRAUD_B0 + FRAUD_W_LOG * x[r * nf + (size_t)fcols[0]] +
                   FRAUD_W_RATE * x[r * nf + (size_t)fcols[1]];
        fraud[r] = crisk_results_score(res, r, 0);
        ck_assert_float_eq_tol(fraud[r], (float)(1 / (1 + exp(-z))), 1e-6);
        ck_assert_float_eq(crisk_results_score(res, r, 1), ref[r]);
    }
    free(ref);

    /* Hits and mandatory placements, worked out from the fields. */
    int placed[NSCORE] = {0}, n_profile = 0, n_threshold = 0;
    char reason[256];
    for (size_t r = 0; r < NSCORE; r++) {
        int p1 = text_is(b, r, F_IMPORTER, "IMP-3");
        size_t len = 0;
        const char *hs = crisk_batch_text(b, r, F_HS, &len);
        int p4 = text_is(b, r, F_ORIGIN, "XA") && len >= 2 && memcmp(hs, "61", 2) == 0;
        int p2 = crisk__schema_band_position(s, (size_t)crisk__schema_band_index(s,
                                            "unit_value_band"), b, r, x + r * nf) == -1;
        const char *expect[3];
        size_t ne = 0;
        if (p1)
            expect[ne++] = "P-1";
        if (p2)
            expect[ne++] = "P-2";
        if (p4)
            expect[ne++] = "P-4";
        ck_assert_uint_eq(crisk_results_num_hits(res, r), ne);
        for (size_t k = 0; k < ne; k++)
            ck_assert_str_eq(crisk_results_hit_id(res, r, k), expect[k]);
        if (p2)
            ck_assert_str_eq(crisk_results_hit_description(res, r, p1 ? 1 : 0),
                             "unit value below the band");
        crisk_reason_kind kind = crisk_results_reason(res, r, reason, sizeof reason);
        if (p1 || p4) {
            ck_assert_int_eq(kind, CRISK_REASON_PROFILE);
            ck_assert_uint_eq(crisk_results_lane(res, r), p1 ? 0 : 2);
            ck_assert_str_eq(reason, p1 ? "profile P-1: importer on the watch list"
                                        : "profile P-4: textiles from XA");
            placed[r] = 1;
            n_profile++;
        } else if (fraud[r] >= 0.55f) {
            ck_assert_int_eq(kind, CRISK_REASON_THRESHOLD);
            ck_assert_uint_eq(crisk_results_lane(res, r), 0);
            ck_assert_ptr_nonnull(strstr(reason, ">= red threshold 0.55"));
            placed[r] = 1;
            n_threshold++;
        }
    }
    ck_assert_int_gt(n_profile, 0);
    ck_assert_int_gt(n_threshold, 0);
    /* Budget: ceil(0.1 * 90) = 9 of the rest, the highest fraud scores (ties by row). */
    int n_budget = 0;
    for (size_t r = 0; r < NSCORE; r++) {
        if (placed[r])
            continue;
        size_t better = 0;
        for (size_t q = 0; q < NSCORE; q++)
            better += !placed[q] && (fraud[q] > fraud[r] || (fraud[q] == fraud[r] && q < r));
        crisk_reason_kind kind = crisk_results_reason(res, r, reason, sizeof reason);
        if (better < 9) {
            ck_assert_int_eq(kind, CRISK_REASON_BUDGET);
            ck_assert_uint_eq(crisk_results_lane(res, r), 1);
            n_budget++;
        } else if (kind == CRISK_REASON_RANDOM) {
            ck_assert_uint_eq(crisk_results_lane(res, r), 2);
            ck_assert_str_eq(reason, "random: drawn for blue at rate 0.25 with seed 99");
        } else {
            ck_assert_int_eq(kind, CRISK_REASON_DEFAULT);
            ck_assert_uint_eq(crisk_results_lane(res, r), 3);
        }
    }
    ck_assert_int_eq(n_budget, 9);

    /* Out of range. */
    ck_assert(isnan(crisk_results_score(res, NSCORE, 0)));
    ck_assert(isnan(crisk_results_score(res, 0, 2)));
    ck_assert(isnan(crisk_results_score_k(res, 0, 0, 1)));
    ck_assert_uint_eq(crisk_results_lane(res, NSCORE), 4);
    ck_assert_int_eq(crisk_results_reason(res, NSCORE, reason, sizeof reason), 0);
    ck_assert_str_eq(reason, "");
    ck_assert_uint_eq(crisk_results_num_hits(res, NSCORE), 0);
    ck_assert_ptr_null(crisk_results_hit_id(res, 0, 5));

    /* The same declarations in reverse order: a declaration's random draw depends on its
     * id alone, so each row left for random selection is drawn as before. */
    crisk_batch *rb = scoring_batch(bundle, 1);
    crisk_results *rres = NULL;
    ck_assert_int_eq(crisk_bundle_score(bundle, rb, &opts, &rres, &err), 0);
    for (size_t r = 0; r < NSCORE; r++) {
        size_t q = NSCORE - 1 - r;
        crisk_reason_kind a = crisk_results_reason(res, r, NULL, 0);
        crisk_reason_kind c = crisk_results_reason(rres, q, NULL, 0);
        if (a == CRISK_REASON_RANDOM || a == CRISK_REASON_DEFAULT)
            ck_assert_int_eq(a, c);
        ck_assert_float_eq(crisk_results_score(res, r, 1), crisk_results_score(rres, q, 1));
    }
    crisk_results_free(rres);
    crisk_batch_free(rb);

    /* today inside P-3's 2020 range: every declaration with a value hits it (red). */
    opts.today = 18414; /* 2020-06-01 */
    ck_assert_int_eq(crisk_bundle_score(bundle, b, &opts, &rres, &err), 0);
    for (size_t r = 0; r < NSCORE; r++) {
        ck_assert_uint_eq(crisk_results_lane(rres, r), 0);
        ck_assert_int_eq(crisk_results_reason(rres, r, reason, sizeof reason),
                         CRISK_REASON_PROFILE);
        /* The first rule in file order among the red ones names the reason. */
        ck_assert_str_eq(reason, text_is(b, r, F_IMPORTER, "IMP-3")
                                     ? "profile P-1: importer on the watch list"
                                     : "profile P-3: a 2020 campaign");
    }
    crisk_results_free(rres);
    free(x);
    crisk_results_free(res);
    crisk_batch_free(b);
    crisk_bundle_free(bundle);
}
END_TEST

/* Returns the lanes of `n` declarations scored as one stream in batches of `step`, with
 * the state saved and restored between batches when `save` is set. */
static void stream_lanes(const crisk_bundle *bundle, size_t step, int save, size_t *lanes)
{
    crisk_lane_state *st = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_lane_state_new(bundle, &st, &err), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/state.json", dir);
    for (size_t start = 0; start < NSCORE; start += step) {
        crisk_batch *b = NULL;
        ck_assert_int_eq(crisk_batch_new(crisk_bundle_schema(bundle), &b, NULL), 0);
        for (size_t i = start; i < start + step && i < NSCORE; i++)
            bundle_decl(b, "S", (int)i);
        crisk_score_options opts;
        crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
        opts.stream = st;
        crisk_results *res = NULL;
        ck_assert_msg(crisk_bundle_score(bundle, b, &opts, &res, &err) == 0, "%s",
                      err.message);
        for (size_t i = 0; i < crisk_results_size(res); i++)
            lanes[start + i] = crisk_results_lane(res, i);
        crisk_results_free(res);
        crisk_batch_free(b);
        if (save) {
            ck_assert_int_eq(crisk_lane_state_save(st, path, &err), 0);
            crisk_lane_state_free(st);
            st = NULL;
            ck_assert_msg(crisk_lane_state_load(bundle, path, &st, &err) == 0, "%s",
                          err.message);
        }
    }
    crisk_lane_state_free(st);
}

/* A stream gives the same lanes whether declarations arrive one at a time, in batches,
 * or across saved and restored states; and it budgets some declarations. */
START_TEST(test_streaming)
{
    crisk_bundle *bundle = crisk_test_load_bundle(dir);
    size_t whole[NSCORE], ones[NSCORE], saved[NSCORE];
    stream_lanes(bundle, NSCORE, 0, whole);
    stream_lanes(bundle, 1, 0, ones);
    stream_lanes(bundle, 17, 1, saved);
    for (size_t i = 0; i < NSCORE; i++) {
        ck_assert_uint_eq(whole[i], ones[i]);
        ck_assert_uint_eq(whole[i], saved[i]);
    }
    crisk_bundle_free(bundle);
}
END_TEST

/* Replaces file `name` with `text`, expects the bundle to be refused with `code` and a
 * message holding `what`, and restores `original`. */
static void expect_refusal(const char *name, const char *text, const char *original, int code,
                           const char *what)
{
    write_text(name, text);
    crisk_bundle *bundle = (crisk_bundle *)&bundle;
    crisk_error err;
    ck_assert_int_eq(crisk_bundle_load(dir, NULL, &bundle, &err), code);
    ck_assert_ptr_null(bundle);
    ck_assert_msg(strstr(err.message, what), "\"%s\" lacks \"%s\"", err.message, what);
    write_text(name, original);
}

/* Returns `text` with the first `from` replaced by `to`, in a static buffer. */
static const char *patch(const char *text, const char *from, const char *to)
{
    static char out[8192];
    const char *at = strstr(text, from);
    ck_assert_ptr_nonnull(at);
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

START_TEST(test_refusals)
{
    expect_refusal("manifest.json", patch(MANIFEST, "\"importer_rate\"]", "\"nope\"]"),
                   MANIFEST, CRISK_E_FORMAT, "models[0].features[1]: not a feature of the schema");
    expect_refusal("manifest.json", patch(MANIFEST, ", \"importer_rate\"]", "]"), MANIFEST,
                   CRISK_E_FORMAT, "the model takes 2 features, the manifest lists 1");
    expect_refusal("manifest.json",
                   patch(MANIFEST, "[\"log_value\", \"importer_rate\"]",
                         "[\"importer_rate\", \"log_value\"]"),
                   MANIFEST, CRISK_E_FORMAT,
                   "feature 0 is \"log_value\" in the model file but \"importer_rate\"");
    expect_refusal("manifest.json",
                   patch(MANIFEST, "[\"log_value\", \"unit_value\", \"importer_count\"]",
                         "[\"unit_value\", \"log_value\", \"importer_count\"]"),
                   MANIFEST, CRISK_E_FORMAT, "models[1] (revenue): feature 0");
    expect_refusal("manifest.json", patch(MANIFEST, "\"schema.json\"", "\"../schema.json\""),
                   MANIFEST, CRISK_E_FORMAT, "leaves the bundle directory");
    expect_refusal("manifest.json", patch(MANIFEST, "\"schema.json\"", "\"/etc/passwd\""),
                   MANIFEST, CRISK_E_FORMAT, "is absolute");
    expect_refusal("manifest.json", patch(MANIFEST, "\"name\": \"revenue\"", "\"name\": \"fraud\""),
                   MANIFEST, CRISK_E_FORMAT, "model name \"fraud\" given twice");
    expect_refusal("manifest.json", patch(MANIFEST, "\"crisk-bundle\"", "\"crisk-bundel\""),
                   MANIFEST, CRISK_E_FORMAT, "format");
    expect_refusal("manifest.json", patch(MANIFEST, "\"fraud.json\"", "\"missing.json\""),
                   MANIFEST, CRISK_E_IO, "missing.json");
    expect_refusal("policy.json", patch(POLICY, "\"score_model\": \"fraud\"",
                                        "\"score_model\": \"nope\""),
                   POLICY, CRISK_E_FORMAT, "score_model: no model named \"nope\"");
    expect_refusal("policy.json", patch(POLICY, "\"share\": 0.1", "\"share\": 2"), POLICY,
                   CRISK_E_FORMAT, "policy.json: budget");
    expect_refusal("profiles.json", patch(PROFILES, "\"lane\": \"blue\"", "\"lane\": \"pink\""),
                   PROFILES, CRISK_E_FORMAT, "profiles.json: rules[3] (P-4): unknown lane");
    expect_refusal("profiles.json", patch(PROFILES, "\"field\": \"origin\"",
                                          "\"field\": \"country\""),
                   PROFILES, CRISK_E_FORMAT,
                   "rules[3] (P-4): when.all[0]: unknown field \"country\"");
    expect_refusal("profiles.json", patch(PROFILES, "\"unit_value_band\"", "\"value_band\""),
                   PROFILES, CRISK_E_FORMAT, "rules[1] (P-2): when: unknown band");

    crisk_bundle *bundle = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_bundle_load("/nonexistent/bundle", NULL, &bundle, &err), CRISK_E_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "manifest.json"));

    /* Scoring refuses a batch of another schema, and explanations (not implemented). */
    bundle = crisk_test_load_bundle(dir);
    char path[256];
    snprintf(path, sizeof path, "%s/schema.json", dir);
    crisk_schema *other = NULL;
    ck_assert_int_eq(crisk_schema_load(path, &other, &err), 0);
    crisk_batch *b = NULL;
    ck_assert_int_eq(crisk_batch_new(other, &b, &err), 0);
    crisk_results *res = (crisk_results *)&res;
    ck_assert_int_eq(crisk_bundle_score(bundle, b, NULL, &res, &err),
                     CRISK_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(res);
    crisk_batch_free(b);
    crisk_schema_free(other);
    b = scoring_batch(bundle, 0);
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    /* Reasons of the logistic score model: log_value counts toward declared_value,
     * importer_rate toward importer_id; with the bias they sum to the score's logit. */
    opts.explain = 2;
    ck_assert_msg(crisk_bundle_score(bundle, b, &opts, &res, &err) == 0, "%s", err.message);
    for (size_t r = 0; r < NSCORE; r++) {
        double p = crisk_results_score(res, r, 0), sum = crisk_results_explain_bias(res, r);
        ck_assert_double_eq_tol(sum, FRAUD_B0, 1e-6);
        ck_assert_uint_eq(crisk_results_num_reasons(res, r), 2);
        for (size_t k = 0; k < 2; k++) {
            const char *f = crisk_results_reason_field(res, r, k);
            ck_assert(strcmp(f, "declared_value") == 0 || strcmp(f, "importer_id") == 0);
            sum += crisk_results_reason_contribution(res, r, k);
        }
        ck_assert_double_eq_tol(sum, log(p / (1 - p)), 1e-4);
    }
    crisk_results_free(res);
    /* An empty batch scores to empty results. */
    crisk_batch_clear(b);
    ck_assert_int_eq(crisk_bundle_score(bundle, b, NULL, &res, &err), 0);
    ck_assert_uint_eq(crisk_results_size(res), 0);
    crisk_results_free(res);
    crisk_batch_free(b);
    crisk_bundle_free(bundle);
}
END_TEST

/* Makes `name` in the bundle directory a symlink to `target`. */
static void link_in_bundle(const char *target, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    remove(path);
    ck_assert_int_eq(symlink(target, path), 0);
}

/* A symlink inside the bundle that leads out of it (to a file, through a directory, or
 * as manifest.json itself) is refused, though the file it reaches is valid; one that
 * stays inside the bundle loads. */
START_TEST(test_symlinks_out_of_the_bundle)
{
    char out[] = "/tmp/crisk_outside_XXXXXX", path[256];
    ck_assert_ptr_nonnull(mkdtemp(out));
    crisk_test_write_file(out, "policy.json", POLICY, strlen(POLICY));
    crisk_test_write_file(out, "manifest.json", MANIFEST, strlen(MANIFEST));
    snprintf(path, sizeof path, "%s/policy.json", out);
    link_in_bundle(path, "policy.json");
    crisk_bundle *bundle = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_bundle_load(dir, NULL, &bundle, &err), CRISK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "policy: \""));
    ck_assert_ptr_nonnull(strstr(err.message, "outside the bundle directory"));
    link_in_bundle(out, "sub");
    snprintf(path, sizeof path, "%s/policy.json", dir);
    remove(path);
    write_text("policy.json", POLICY);
    expect_refusal("manifest.json", patch(MANIFEST, "\"policy.json\"", "\"sub/policy.json\""),
                   MANIFEST, CRISK_E_FORMAT, "outside the bundle directory");
    snprintf(path, sizeof path, "%s/manifest.json", out);
    link_in_bundle(path, "manifest.json");
    ck_assert_ptr_null(bundle);
    ck_assert_int_eq(crisk_bundle_load(dir, NULL, &bundle, &err), CRISK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "manifest.json: \""));
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    remove(path);
    write_text("manifest.json", patch(MANIFEST, "\"policy.json\"", "\"policy_link.json\""));
    link_in_bundle("policy.json", "policy_link.json");
    bundle = crisk_test_load_bundle(dir);
    crisk_bundle_free(bundle);
    write_text("manifest.json", MANIFEST);
    crisk_test_remove_dir(out);
}
END_TEST

/* A declaration without a value: the logistic fraud model, which takes no missing
 * values, gives NaN for it (the others are still scored); a NaN score meets no threshold
 * and no budget, and the declaration goes to the policy's unscored lane, by default the
 * most severe, never to the default lane (issue 15, defect 3). */
START_TEST(test_missing_values)
{
    crisk_bundle *bundle = crisk_test_load_bundle(dir);
    crisk_batch *b = NULL;
    ck_assert_int_eq(crisk_batch_new(crisk_bundle_schema(bundle), &b, NULL), 0);
    bundle_decl(b, "S", 5);
    const char *row[BUNDLE_NFIELDS] = {"S-missing", "2025-03-02", "851712", "CN", "IMP-1", NULL,
                                "4"};
    size_t lens[BUNDLE_NFIELDS];
    for (int f = 0; f < BUNDLE_NFIELDS; f++)
        lens[f] = row[f] ? strlen(row[f]) : 0;
    crisk_error err;
    ck_assert_int_eq(crisk_batch_append_text(b, row, lens, 2, &err), 0);
    for (int i = 6; i < 14; i++) /* 10 rows: the smallest batch the 10% budget allows */
        bundle_decl(b, "S", i);
    crisk_results *res = NULL;
    ck_assert_msg(crisk_bundle_score(bundle, b, NULL, &res, &err) == 0, "%s", err.message);
    ck_assert(!isnan(crisk_results_score(res, 0, 0)));
    ck_assert(isnan(crisk_results_score(res, 1, 0)));
    ck_assert(!isnan(crisk_results_score(res, 2, 0)));
    ck_assert(!isnan(crisk_results_score(res, 1, 1)));
    char reason[256];
    ck_assert_int_eq(crisk_results_reason(res, 1, reason, sizeof reason),
                     CRISK_REASON_UNSCORED);
    ck_assert_uint_eq(crisk_results_lane(res, 1), 0);
    ck_assert_msg(strncmp(reason, "unscored: ", 10) == 0, "%s", reason);
    crisk_results_free(res);
    crisk_batch_free(b);
    crisk_bundle_free(bundle);
}
END_TEST

/* Returns a batch of rows [first, first + n) of `src`. */
static crisk_batch *rows_of(const crisk_batch *src, size_t first, size_t n)
{
    crisk_batch *b = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_batch_new(crisk_batch_schema(src), &b, &err), 0);
    ck_assert_msg(crisk_batch_append_rows(b, src, first, n, &err) == 0, "%s", err.message);
    return b;
}

/* Checks that `a` and `b` give the same decision to every declaration. */
static void same_decisions(const crisk_results *a, const crisk_results *b)
{
    ck_assert_uint_eq(crisk_results_size(a), crisk_results_size(b));
    for (size_t r = 0; r < crisk_results_size(a); r++) {
        char ra[256], rb[256];
        ck_assert_int_eq(crisk_results_reason(a, r, ra, sizeof ra),
                         crisk_results_reason(b, r, rb, sizeof rb));
        ck_assert_str_eq(ra, rb);
        ck_assert_uint_eq(crisk_results_lane(a, r), crisk_results_lane(b, r));
        ck_assert_float_eq(crisk_results_score(a, r, 0), crisk_results_score(b, r, 0));
    }
}

/* crisk_bundle_min_batch is the smallest batch crisk_bundle_score takes without a lane
 * state (one row fewer is refused naming it), 0 for NULL; a batch whose last rows were
 * appended from another (crisk_batch_append_rows, as `crisk score` joins a small last
 * batch) is scored as the same rows appended as text. */
START_TEST(test_min_batch)
{
    crisk_bundle *bundle = crisk_test_load_bundle(dir);
    size_t least = crisk_bundle_min_batch(bundle);
    ck_assert_uint_eq(crisk_bundle_min_batch(NULL), 0);
    ck_assert(least > 1 && least < NSCORE);
    crisk_batch *all = scoring_batch(bundle, 0);
    crisk_batch *small = rows_of(all, 0, least - 1), *enough = rows_of(all, 0, least);
    crisk_results *res = NULL, *want = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_bundle_score(bundle, small, NULL, &res, &err),
                     CRISK_E_INVALID_ARGUMENT);
    char at_least[64];
    snprintf(at_least, sizeof at_least, "at least %zu,", least);
    ck_assert_msg(strstr(err.message, at_least), "%s", err.message);
    ck_assert_msg(crisk_bundle_score(bundle, enough, NULL, &res, &err) == 0, "%s",
                  err.message);
    crisk_results_free(res);
    /* A head of NSCORE - least + 1 rows joined by a tail of least - 1. */
    crisk_batch *joined = rows_of(all, 0, NSCORE - least + 1);
    ck_assert_int_eq(crisk_batch_append_rows(joined, small, 0, least - 1, &err), 0);
    crisk_batch *text = NULL;
    ck_assert_int_eq(crisk_batch_new(crisk_bundle_schema(bundle), &text, NULL), 0);
    for (size_t i = 0; i < NSCORE; i++) /* the same declarations, as text */
        bundle_decl(text, "S", (int)(i < NSCORE - least + 1 ? i : i - (NSCORE - least + 1)));
    ck_assert_msg(crisk_bundle_score(bundle, joined, NULL, &res, &err) == 0, "%s",
                  err.message);
    ck_assert_msg(crisk_bundle_score(bundle, text, NULL, &want, &err) == 0, "%s", err.message);
    same_decisions(res, want);
    crisk_results_free(res);
    crisk_results_free(want);
    crisk_batch *batches[] = {all, small, enough, joined, text};
    for (size_t i = 0; i < 5; i++)
        crisk_batch_free(batches[i]);
    crisk_bundle_free(bundle);
}
END_TEST

/* What one scoring thread shares and returns. */
typedef struct score_job {
    const crisk_bundle *bundle;
    const crisk_batch *batch;
    int threads;
    crisk_results *res;
    int rc;
} score_job;

/* Scores the job's batch with its bundle (a thread's body). */
static void *score_thread(void *arg)
{
    score_job *job = arg;
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    opts.threads = job->threads;
    job->rc = crisk_bundle_score(job->bundle, job->batch, &opts, &job->res, NULL);
    return NULL;
}

/* One bundle and batch scored by two threads at once, one of them splitting its models'
 * rows over two threads itself, gives the same results as a plain call. */
START_TEST(test_threads)
{
    crisk_bundle *bundle = crisk_test_load_bundle(dir);
    crisk_batch *b = scoring_batch(bundle, 0);
    score_job plain = {bundle, b, 1, NULL, -1}, jobs[2] = {{bundle, b, 1, NULL, -1},
                                                            {bundle, b, 2, NULL, -1}};
    score_thread(&plain);
    ck_assert_int_eq(plain.rc, 0);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, score_thread, &jobs[i]), 0);
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(jobs[i].rc, 0);
        for (size_t r = 0; r < NSCORE; r++) {
            for (size_t m = 0; m < 2; m++)
                ck_assert_float_eq(crisk_results_score(jobs[i].res, r, m),
                                   crisk_results_score(plain.res, r, m));
            ck_assert_uint_eq(crisk_results_lane(jobs[i].res, r),
                              crisk_results_lane(plain.res, r));
            ck_assert_uint_eq(crisk_results_num_hits(jobs[i].res, r),
                              crisk_results_num_hits(plain.res, r));
        }
        crisk_results_free(jobs[i].res);
    }
    crisk_results_free(plain.res);
    crisk_batch_free(b);
    crisk_bundle_free(bundle);
}
END_TEST

/* Returns the suite. */
static Suite *bundle_suite(void)
{
    Suite *s = suite_create("bundle");
    TCase *tc = tcase_create("bundle");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_scores_hits_lanes);
    tcase_add_test(tc, test_streaming);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_symlinks_out_of_the_bundle);
    tcase_add_test(tc, test_missing_values);
    tcase_add_test(tc, test_min_batch);
    tcase_add_test(tc, test_threads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return crisk_check_run(bundle_suite());
}
