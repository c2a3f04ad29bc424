/*
 * test_reasons.c — reason codes: which declaration fields each schema feature derives
 * from (on a hand-made schema, against a table written here), and the reasons of a
 * bundle scored with explain = K. The bundle is built here: a schema fitted on
 * generated declarations and an XGBoost model that libxgboost trained on its training
 * matrix (committed under tests/c/fixtures). The
 * reasons are checked against crisk_contributions grouped by this file's own table, and
 * against the score model's margin: every field's contribution plus the bias sums to it.
 */
#include "crisk.h"
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

/* The fields each feature of reasons_schema (decl_families.c) derives from, written out
 * by hand: one field, a ratio's two, a composite key's distinct fields (the last key
 * names hs_code twice). */
static const char *const SOURCES[][3] = {
    {"declared_value"}, {"declared_value", "net_mass_kg"}, {"declaration_date"},
    {"hs_code"}, {"origin"}, {"importer_id"}, {"hs_code", "origin"}, {"hs_code"}};
#define NFEAT (sizeof SOURCES / sizeof SOURCES[0])

static const char *const POLICY =
    "{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"red\", \"green\"],"
    " \"default_lane\": \"green\", \"score_model\": \"fraud\","
    " \"thresholds\": [{\"lane\": \"red\", \"min_score\": 0.8}]}";

static const char *const POLICY_NO_SCORE =
    "{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"red\", \"green\"],"
    " \"default_lane\": \"green\"}";

static const char *const MANIFEST =
    "{\"format\": \"crisk-bundle\", \"version\": 1, \"schema\": \"schema.json\","
    " \"models\": [{\"name\": \"fraud\", \"file\": \"fraud.json\", \"features\":"
    "  [\"log_value\", \"unit_value\", \"month\", \"hs2\", \"origin_code\","
    "   \"importer_rate\", \"hs6_origin_rate\", \"hs_pair_count\"]}],"
    " \"policy\": \"policy.json\"}";

enum { NTRAIN = REASONS_NTRAIN, NSCORE = REASONS_NSCORE };

/* The temporary bundle directory. */
static char dir[64];

/* Makes the temporary directory and loads the unfitted schema from a file written
 * there. */
static crisk_schema *unfitted_schema(void)
{
    strcpy(dir, "/tmp/crisk_reasons_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    crisk_test_write_file(dir, "schema_unfitted.json", reasons_schema, strlen(reasons_schema));
    char path[256];
    snprintf(path, sizeof path, "%s/schema_unfitted.json", dir);
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_msg(crisk_schema_load(path, &s, &err) == 0, "%s", err.message);
    return s;
}

/* Builds the bundle: fits the schema, writes the files (the fraud model, trained on the
 * training matrix, from tests/c/fixtures; policy.json from `policy`). */
static void build_bundle(const char *policy)
{
    crisk_schema *s = unfitted_schema();
    crisk_error err;
    char path[256];
    static float labels[NTRAIN];
    crisk_batch *b = family_fit(s, reasons_decl, NTRAIN, labels);
    snprintf(path, sizeof path, "%s/schema.json", dir);
    ck_assert_msg(crisk_schema_save(s, path, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(crisk_schema_num_features(s), NFEAT);
    size_t json_size = 0;
    unsigned char *json = crisk_test_read_fixture("reasons_fraud.json", &json_size);
    crisk_test_write_file(dir, "fraud.json", json, json_size);
    crisk_test_write_file(dir, "policy.json", policy, strlen(policy));
    crisk_test_write_file(dir, "manifest.json", MANIFEST, strlen(MANIFEST));
    free(json);
    crisk_batch_free(b);
    crisk_schema_free(s);
}


/* Scores `b` with `bundle` keeping `k` reasons on `threads` threads. */
static crisk_results *score(const crisk_bundle *bundle, const crisk_batch *b, unsigned k,
                            int threads)
{
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    opts.explain = k;
    opts.threads = threads;
    crisk_results *res = NULL;
    crisk_error err;
    ck_assert_msg(crisk_bundle_score(bundle, b, &opts, &res, &err) == 0, "%s", err.message);
    return res;
}

START_TEST(test_feature_fields_on_a_hand_made_schema)
{
    crisk_schema *s = unfitted_schema();
    ck_assert_uint_eq(crisk_schema_num_features(s), NFEAT);
    for (size_t j = 0; j < NFEAT; j++) {
        size_t fields[CRISK__FEATURE_MAX_FIELDS], want = 0;
        while (want < 3 && SOURCES[j][want])
            want++;
        size_t n = crisk__schema_feature_fields(s, j, fields);
        ck_assert_msg(n == want, "feature %s: %zu fields, want %zu",
                      crisk_schema_feature_name(s, j), n, want);
        for (size_t i = 0; i < n; i++)
            ck_assert_str_eq(crisk_schema_field_name(s, fields[i]), SOURCES[j][i]);
    }
    size_t fields[CRISK__FEATURE_MAX_FIELDS];
    ck_assert_uint_eq(crisk__schema_feature_fields(s, NFEAT, fields), 0);
    crisk_schema_free(s);
    crisk_test_remove_dir(dir);
}
END_TEST

/* Returns the grouped contribution of field `name` from one row's contributions `c`
 * (NFEAT columns then the bias), by the table SOURCES: equal shares of every feature
 * the field is a source of. */
static double grouped(const float *c, const char *name)
{
    double sum = 0;
    for (size_t j = 0; j < NFEAT; j++) {
        size_t n = 0, hit = 0;
        for (; n < 3 && SOURCES[j][n]; n++)
            hit |= strcmp(SOURCES[j][n], name) == 0;
        if (hit)
            sum += (double)c[j] / (double)n;
    }
    return sum;
}

/* Returns the text the declaration `d` holds in field `name`, as a reason shows it. */
static const char *field_text(const decl_text *d, const crisk_schema *s, const char *name)
{
    return d->v[crisk_schema_field_index(s, name)];
}

START_TEST(test_reasons_add_up_to_the_margin)
{
    build_bundle(POLICY);
    crisk_bundle *bundle = crisk_test_load_bundle(dir);
    const crisk_schema *s = crisk_bundle_schema(bundle);
    crisk_batch *b = NULL;
    ck_assert_int_eq(crisk_batch_new(s, &b, NULL), 0);
    static decl_text decls[NSCORE];
    for (int i = 0; i < NSCORE; i++)
        reasons_decl_text(b, "S", i, &decls[i]);
    /* The reference: contributions and margins on the scoring features (the manifest
     * lists every feature in schema order, so they are the model's columns). */
    static float x[NSCORE * NFEAT], contrib[NSCORE * (NFEAT + 1)], margin[NSCORE];
    crisk_error err;
    ck_assert_int_eq(crisk_schema_features(s, b, x, &err), 0);
    const crisk_model *model = crisk_bundle_model(bundle, 0);
    crisk_predict_options po;
    crisk_predict_options_init(&po, CRISK_PREDICT_OPTIONS_VERSION);
    po.output = CRISK_OUTPUT_MARGIN;
    ck_assert_int_eq(crisk_predict(model, x, NSCORE, NFEAT, &po, margin, &err), 0);
    ck_assert_int_eq(crisk_contributions(model, x, NSCORE, NFEAT, &po, contrib, &err), 0);

    crisk_results *all = score(bundle, b, 1000, 1);
    crisk_results *top3 = score(bundle, b, 3, 1);
    crisk_results *top3_threads = score(bundle, b, 3, 2);
    size_t with_missing_origin = 0;
    for (size_t r = 0; r < NSCORE; r++) {
        const float *c = contrib + r * (NFEAT + 1);
        size_t n = crisk_results_num_reasons(all, r);
        ck_assert_uint_le(n, REASONS_NFIELDS);
        double sum = crisk_results_explain_bias(all, r);
        ck_assert_float_eq(crisk_results_explain_bias(all, r), c[NFEAT]);
        ck_assert_double_eq_tol(crisk_results_explain_rest(all, r), 0, 1e-6);
        size_t nonzero = 0;
        for (size_t f = 0; f < REASONS_NFIELDS; f++)
            nonzero += grouped(c, crisk_schema_field_name(s, f)) != 0;
        ck_assert_uint_eq(n, nonzero);
        for (size_t k = 0; k < n; k++) {
            const char *field = crisk_results_reason_field(all, r, k);
            float v = crisk_results_reason_contribution(all, r, k);
            ck_assert_ptr_nonnull(field);
            ck_assert_str_ne(field, "note"); /* no feature derives from it */
            ck_assert_double_eq_tol(v, grouped(c, field), 1e-6);
            ck_assert_str_eq(crisk_results_reason_value(all, r, k),
                             field_text(&decls[r], s, field));
            if (k > 0)
                ck_assert_float_le(fabsf(v), fabsf(crisk_results_reason_contribution(all, r,
                                                                                  k - 1)));
            with_missing_origin += strcmp(field, "origin") == 0 && !decls[r].v[F_ORIGIN][0];
            sum += v;
        }
        /* Every field's contribution plus the bias is the margin. */
        ck_assert_double_eq_tol(sum, margin[r], 2e-5 * (1 + fabs(margin[r])));

        /* The top 3 are the first 3 of all, and the rest completes the sum. */
        size_t n3 = crisk_results_num_reasons(top3, r);
        ck_assert_uint_eq(n3, n < 3 ? n : 3);
        double sum3 = crisk_results_explain_bias(top3, r) + crisk_results_explain_rest(top3, r);
        for (size_t k = 0; k < n3; k++) {
            ck_assert_str_eq(crisk_results_reason_field(top3, r, k),
                             crisk_results_reason_field(all, r, k));
            ck_assert_str_eq(crisk_results_reason_value(top3, r, k),
                             crisk_results_reason_value(all, r, k));
            ck_assert_float_eq(crisk_results_reason_contribution(top3, r, k),
                               crisk_results_reason_contribution(all, r, k));
            ck_assert_str_eq(crisk_results_reason_field(top3_threads, r, k),
                             crisk_results_reason_field(top3, r, k));
            ck_assert_float_eq(crisk_results_reason_contribution(top3_threads, r, k),
                               crisk_results_reason_contribution(top3, r, k));
            sum3 += crisk_results_reason_contribution(top3, r, k);
        }
        ck_assert_double_eq_tol(sum3, margin[r], 2e-5 * (1 + fabs(margin[r])));
        ck_assert_ptr_null(crisk_results_reason_field(top3, r, n3));
        ck_assert_ptr_null(crisk_results_reason_value(top3, r, n3));
        ck_assert(isnan(crisk_results_reason_contribution(top3, r, n3)));
    }
    /* A missing origin that explains a score shows as an empty value. */
    ck_assert_uint_gt(with_missing_origin, 0);
    /* Out of range rows. */
    ck_assert_uint_eq(crisk_results_num_reasons(all, NSCORE), 0);
    ck_assert(isnan(crisk_results_explain_bias(all, NSCORE)));
    ck_assert(isnan(crisk_results_explain_rest(all, NSCORE)));
    ck_assert_ptr_null(crisk_results_reason_field(all, NSCORE, 0));
    crisk_results_free(all);
    crisk_results_free(top3);
    crisk_results_free(top3_threads);

    /* Without explain there are no reasons. */
    crisk_results *plain = score(bundle, b, 0, 1);
    ck_assert_uint_eq(crisk_results_num_reasons(plain, 0), 0);
    ck_assert_ptr_null(crisk_results_reason_field(plain, 0, 0));
    ck_assert(isnan(crisk_results_explain_bias(plain, 0)));
    crisk_results_free(plain);
    crisk_batch_free(b);
    crisk_bundle_free(bundle);
    crisk_test_remove_dir(dir);
}
END_TEST

/* One scoring of a shared bundle and batch, run on its own thread. */
typedef struct score_job {
    const crisk_bundle *bundle;
    const crisk_batch *batch;
    crisk_results *res;
} score_job;

/* Scores the job's batch with 2 reasons (a pthread start routine). */
static void *score_thread(void *arg)
{
    score_job *job = arg;
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    opts.explain = 2;
    crisk_bundle_score(job->bundle, job->batch, &opts, &job->res, NULL);
    return NULL;
}

START_TEST(test_first_explanations_race_safely)
{
    /* Two threads ask a fresh bundle for reasons at once: both may build the score
     * model's explainer, one is kept; both get the reasons a later call gets. */
    build_bundle(POLICY);
    crisk_bundle *bundle = crisk_test_load_bundle(dir);
    crisk_batch *b = NULL;
    ck_assert_int_eq(crisk_batch_new(crisk_bundle_schema(bundle), &b, NULL), 0);
    for (int i = 0; i < NSCORE; i++)
        reasons_decl(b, "S", i);
    score_job jobs[2] = {{bundle, b, NULL}, {bundle, b, NULL}};
    pthread_t th[2];
    for (int t = 0; t < 2; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, score_thread, &jobs[t]), 0);
    for (int t = 0; t < 2; t++)
        pthread_join(th[t], NULL);
    crisk_results *later = score(bundle, b, 2, 1);
    for (int t = 0; t < 2; t++) {
        ck_assert_ptr_nonnull(jobs[t].res);
        for (size_t r = 0; r < NSCORE; r++) {
            ck_assert_uint_eq(crisk_results_num_reasons(jobs[t].res, r),
                              crisk_results_num_reasons(later, r));
            for (size_t k = 0; k < crisk_results_num_reasons(later, r); k++) {
                ck_assert_str_eq(crisk_results_reason_field(jobs[t].res, r, k),
                                 crisk_results_reason_field(later, r, k));
                ck_assert_float_eq(crisk_results_reason_contribution(jobs[t].res, r, k),
                                   crisk_results_reason_contribution(later, r, k));
            }
        }
        crisk_results_free(jobs[t].res);
    }
    crisk_results_free(later);
    crisk_batch_free(b);
    crisk_bundle_free(bundle);
    crisk_test_remove_dir(dir);
}
END_TEST

START_TEST(test_explain_needs_a_score_model)
{
    build_bundle(POLICY_NO_SCORE);
    crisk_bundle *bundle = crisk_test_load_bundle(dir);
    crisk_batch *b = NULL;
    ck_assert_int_eq(crisk_batch_new(crisk_bundle_schema(bundle), &b, NULL), 0);
    reasons_decl(b, "S", 0);
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    opts.explain = 2;
    crisk_results *res = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_bundle_score(bundle, b, &opts, &res, &err),
                     CRISK_E_INVALID_ARGUMENT);
    ck_assert_ptr_null(res);
    ck_assert_ptr_nonnull(strstr(err.message, "score_model"));
    crisk_batch_free(b);
    crisk_bundle_free(bundle);
    crisk_test_remove_dir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reasons");
    TCase *tc = tcase_create("reasons");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_feature_fields_on_a_hand_made_schema);
    tcase_add_test(tc, test_reasons_add_up_to_the_margin);
    tcase_add_test(tc, test_first_explanations_race_safely);
    tcase_add_test(tc, test_explain_needs_a_score_model);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
