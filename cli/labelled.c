/*
 * labelled.c — what `crisk evaluate` and `crisk report` share: choosing the model to rank
 * by, scoring labelled declarations into (score, label, revenue, lane) rows, ordering them
 * by score, and the AUC.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Declarations scored at a time (every score is kept: ranking needs all of them). */
#define LABELLED_BATCH_ROWS 8192

int cli_by_score_desc(const void *pa, const void *pb)
{
    const cli_scored *a = pa, *b = pb;
    int an = isnan(a->score), bn = isnan(b->score);
    if (an != bn)
        return an - bn;
    if (!an && a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

double cli_auc(const cli_scored *rows, size_t n)
{
    double pos = 0, rank_sum = 0;
    /* Ranks ascend with the score: row i of the descending order has rank n - i. */
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && (rows[j].score == rows[i].score ||
                         (isnan(rows[j].score) && isnan(rows[i].score))))
            j++;
        double avg = ((double)(n - i) + (double)(n - j + 1)) / 2.0;
        for (size_t k = i; k < j; k++)
            if (rows[k].label == 1.0) {
                pos += 1;
                rank_sum += avg;
            }
        i = j;
    }
    double neg = (double)n - pos;
    if (pos == 0 || neg == 0)
        return NAN;
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg);
}

/* Returns whether model `m` gives one score to rank by; reports why not when it does not:
 * a multi-class model has a probability per class and multi:softmax gives a class index,
 * neither of which ranks declarations for a 0/1 label. */
static int ranks_by_one_score(const crisk_bundle *bundle, size_t m, const char *command)
{
    const crisk_model *model = crisk_bundle_model(bundle, m);
    size_t outputs = crisk_model_num_outputs(model), margins = crisk_model_num_margins(model);
    if (outputs == 1 && margins == 1)
        return 1;
    fprintf(stderr, "crisk %s: model \"%s\" ", command, crisk_bundle_model_name(bundle, m));
    if (outputs > 1)
        fprintf(stderr, "has %zu outputs (one per class)", outputs);
    else
        fprintf(stderr, "outputs a class index of %zu classes", margins);
    fprintf(stderr, ", but %s ranks declarations by one score against a 0/1 label: name a "
            "model with one output with --model\n", command);
    return 0;
}

long cli_pick_model(const crisk_bundle *bundle, const char *name, const char *command)
{
    long m = -1;
    if (!name)
        m = crisk_bundle_score_model(bundle) >= 0 ? crisk_bundle_score_model(bundle) : 0;
    for (size_t i = 0; name && m < 0 && i < crisk_bundle_num_models(bundle); i++)
        if (strcmp(crisk_bundle_model_name(bundle, i), name) == 0)
            m = (long)i;
    if (m < 0)
        fprintf(stderr, "crisk %s: the bundle has no model \"%s\"\n", command, name);
    return m >= 0 && ranks_by_one_score(bundle, (size_t)m, command) ? m : -1;
}

int cli_score_labelled(const crisk_bundle *bundle, size_t model, cli_decl_run *run,
                       const crisk_score_options *opts, int label, int revenue,
                       cli_labelled_fn each, void *ctx, cli_scored **rows, size_t *n,
                       crisk_error *err)
{
    size_t cap = 0, nx = (label != 0) + (revenue != 0);
    cli_decl_batches batches;
    int rc = cli_decl_batches_init(&batches, bundle, opts, LABELLED_BATCH_ROWS, nx, err);
    while (rc == 0) {
        size_t got;
        crisk_results *res = NULL;
        cli_scored *grown;
        if ((rc = cli_decl_run_next(run, &batches, &got, err)) != 0 || got == 0)
            break;
        const crisk_batch *batch = batches.now.batch;
        const double *extras = batches.now.extras;
        if (!(grown = cli_grow(*rows, &cap, *n + got, sizeof *grown, LABELLED_BATCH_ROWS,
                               "scores", err))) {
            rc = CRISK_E_NOMEM;
            break;
        }
        *rows = grown;
        if ((rc = crisk_bundle_score(bundle, batch, opts, &res, err)) == 0 && each)
            rc = each(ctx, batch, res, err);
        for (size_t i = 0; rc == 0 && i < got; i++) {
            cli_scored *s = &(*rows)[*n + i];
            s->score = crisk_results_score(res, i, model);
            s->label = label ? extras[i * nx] : NAN;
            s->revenue = revenue ? extras[i * nx + nx - 1] : 0;
            s->order = *n + i;
            s->lane = crisk_results_lane(res, i);
        }
        *n += rc == 0 ? got : 0;
        crisk_results_free(res);
    }
    cli_decl_batches_free(&batches);
    return rc;
}
