/*
 * evaluate_candidate.c — `crisk evaluate --decisions D --bundle CANDIDATE --input DECL`:
 * scores the logged declarations with a candidate bundle, in one batch (a budget in the
 * candidate's policy then spans them all, as it would over the period), and hands each
 * declaration's id and score to the caller, which lines them up with the decisions.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Rows read at a time, all into one batch. */
#define READ_ROWS 8192

/* Hands the score of model `m` of every row of the scored `batch` to `each`. */
static int each_score(const crisk_batch *batch, const crisk_results *res, size_t m,
                      cli_candidate_fn each, void *ctx)
{
    for (size_t i = 0; i < crisk_batch_size(batch); i++) {
        char buf[CLI_ID_BYTES];
        size_t len = 0;
        const char *id = cli_batch_id(batch, i, buf, &len);
        if (each(ctx, id ? id : "", id ? len : 0, crisk_results_score(res, i, m)) != 0)
            return 1;
    }
    return 0;
}

int cli_score_candidate(const char *dir, const char *input, const char *model,
                        cli_candidate_fn each, void *ctx)
{
    crisk_bundle *bundle = NULL;
    crisk_batch *batch = NULL;
    crisk_results *res = NULL;
    cli_decl_input in = {0};
    cli_rejects rejects = {0};
    crisk_error err;
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    int rc = 1;
    size_t got = 0;
    uint64_t rejected = 0;
    if (crisk_bundle_load(dir, NULL, &bundle, &err) != 0) {
        cli_report(dir, err.message);
        return 1;
    }
    long m = cli_pick_model(bundle, model, "evaluate");
    crisk_decl_format format = cli_input_format(input, NULL);
    if (m < 0 || !format ||
        cli_decl_input_open(&in, input, format, crisk_bundle_schema(bundle), NULL, 0) != 0)
        goto done;
    int bad = crisk_batch_new(crisk_bundle_schema(bundle), &batch, &err);
    do /* appending to the one batch */
        bad = bad ? bad : crisk_decl_read(in.reader, batch, READ_ROWS, NULL,
                                          cli_rejects_write, &rejects, &got, &err);
    while (!bad && got);
    if (bad || crisk_bundle_score(bundle, batch, &opts, &res, &err) != 0) {
        cli_report(in.name, err.message);
        goto done;
    }
    crisk_decl_rows_read(in.reader, &rejected);
    if (rejected) { /* the candidate must score every logged declaration */
        fprintf(stderr, "crisk: %s: %llu declarations rejected: the candidate cannot be "
                "scored on the logged declarations\n", in.name, (unsigned long long)rejected);
        goto done;
    }
    rc = each_score(batch, res, (size_t)m, each, ctx);
done:
    crisk_results_free(res);
    crisk_batch_free(batch);
    cli_decl_input_close(&in);
    crisk_bundle_free(bundle);
    return rc;
}
