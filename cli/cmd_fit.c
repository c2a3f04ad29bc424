/*
 * cmd_fit.c — `crisk fit`: reads labelled declarations, fits a schema's dictionaries,
 * risk-indicator tables and bands, writes the fitted schema, and optionally the training
 * matrix (out-of-fold features) and the scoring features (full tables) of the same rows.
 * The labels are a column of the declarations, or what inspections found (--outcomes),
 * joined by declaration id: then only the inspected declarations are fitted.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows read at a time (all of them are kept: fitting needs every row). */
#define READ_ROWS 8192

/* What the command line asks of `crisk fit`. */
typedef struct fit_args {
    const char *label, *output, *matrix, *features, *folds, *seed;
    const char *outcomes, *decisions, *weights;
    crisk_fit_options opts;
    cli_decl_cmd cmd;
} fit_args;

/* Parses and checks the command line into `a`. Returns 0, CLI_HELP or CLI_EXIT_USAGE. */
static int parse(int argc, char **argv, fit_args *a)
{
    memset(a, 0, sizeof *a);
    const cli_option opts[] = {
        {"--output", &a->output, NULL},     {"--label", &a->label, NULL},
        {"--matrix", &a->matrix, NULL},     {"--features", &a->features, NULL},
        {"--folds", &a->folds, NULL},       {"--seed", &a->seed, NULL},
        {"--outcomes", &a->outcomes, NULL}, {"--decisions", &a->decisions, NULL},
        {"--weights", &a->weights, NULL},
    };
    int rc = cli_decl_cmd_parse(&a->cmd, CLI_FROM_SCHEMA, "fit", argc, argv, opts,
                                CLI_NOPTS(opts), 1, 0);
    if (rc)
        return rc;
    const char *bad = !a->label == !a->outcomes ? "give --label or --outcomes, one of them"
                      : a->decisions && !a->outcomes ? "--decisions needs --outcomes"
                      : a->weights && strcmp(a->weights, "ipw") != 0
                          ? "--weights takes ipw (1 / propensity)"
                      : a->weights && !a->decisions
                          ? "--weights ipw needs --decisions (the propensities)" : NULL;
    if (bad) {
        fprintf(stderr, "crisk fit: %s\n", bad);
        return CLI_EXIT_USAGE;
    }
    crisk_fit_options_init(&a->opts, CRISK_FIT_OPTIONS_VERSION);
    long folds = (long)a->opts.folds, seed = (long)a->opts.seed;
    if ((rc = cli_parse_int("--folds", a->folds, 2, 1000, &folds)) != 0 ||
        (rc = cli_parse_int("--seed", a->seed, 0, 0x7fffffffL, &seed)) != 0)
        return rc;
    a->opts.folds = (unsigned)folds;
    a->opts.seed = (uint64_t)seed;
    return 0;
}

/* The labels of the rows fitted, and their weights. */
typedef struct fit_rows {
    float *labels, *weights;
    size_t n, cap, unlabelled;
} fit_rows;

/* Appends one row's label and weight. Returns 0 or CRISK_E_NOMEM with `err` filled. */
static int rows_push(fit_rows *r, float label, float weight, crisk_error *err)
{
    size_t cap = r->cap;
    float *l = cli_grow(r->labels, &cap, r->n + 1, sizeof *l, READ_ROWS, "labels", err);
    if (l)
        r->labels = l;
    cap = r->cap;
    float *w = l ? cli_grow(r->weights, &cap, r->n + 1, sizeof *w, READ_ROWS, "weights", err)
                 : NULL;
    if (!w)
        return CRISK_E_NOMEM;
    r->weights = w;
    r->cap = cap;
    r->labels[r->n] = label;
    r->weights[r->n++] = weight;
    return 0;
}

/* Keeps the rows of `chunk` that have an outcome in `from`: copies them into `batch` with
 * their labels and weights, and counts the others. Returns 0 or a negative crisk code. */
static int keep_inspected(const crisk_batch *chunk, cli_fit_labels *from, crisk_batch *batch,
                          fit_rows *r, crisk_error *err)
{
    for (size_t i = 0; i < crisk_batch_size(chunk); i++) {
        char idbuf[CLI_ID_BYTES];
        size_t len = 0;
        float label, weight;
        const char *id = cli_batch_id(chunk, i, idbuf, &len);
        if (!cli_fit_labels_get(from, id, len, &label, &weight)) {
            r->unlabelled++;
            continue;
        }
        int rc = cli_batch_copy_row(batch, chunk, i, err);
        if (rc == 0)
            rc = rows_push(r, label, weight, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Reads every row of the input into `batch` with its label, from the label column or,
 * given `from`, from the outcomes (only the rows with one). Returns 0 or a negative
 * crisk code with `err` filled. */
static int read_all(cli_decl_run *run, crisk_batch *batch, cli_fit_labels *from, fit_rows *r,
                    crisk_error *err)
{
    double chunk[READ_ROWS];
    crisk_batch *scratch = NULL;
    int rc = from ? crisk_batch_new(crisk_batch_schema(batch), &scratch, err) : 0;
    while (rc == 0) {
        size_t got;
        crisk_batch *into = from ? scratch : batch;
        if (from)
            crisk_batch_clear(scratch);
        rc = crisk_decl_read(run->in.reader, into, READ_ROWS, chunk, cli_rejects_write,
                             &run->rejects, &got, err);
        if (rc || got == 0)
            break;
        cli_decl_run_progress(run, 0);
        if (from)
            rc = keep_inspected(scratch, from, batch, r, err);
        for (size_t i = 0; !from && rc == 0 && i < got; i++)
            rc = rows_push(r, (float)chunk[i], 1, err);
    }
    crisk_batch_free(scratch);
    return rc;
}

/* Writes a matrix of the batch's rows to the CSV file `path`: a header (the id field,
 * every feature, the label column `label_name` when `labels` is given and "weight" when
 * `weights` is), then per row its id, features (%.9g, empty when missing), label and
 * weight. Returns 0 or -1 after reporting. */
static int write_matrix(const char *path, const crisk_batch *batch, const float *x,
                        const float *labels, const float *weights, const char *label_name)
{
    FILE *out = fopen(path, "w");
    if (!out) {
        cli_report(path, strerror(errno));
        return -1;
    }
    const crisk_schema *schema = crisk_batch_schema(batch);
    size_t F = crisk_schema_num_features(schema), N = crisk_batch_size(batch);
    const char *idname = cli_id_name(schema);
    cli_write_csv_text(out, idname, strlen(idname));
    for (size_t j = 0; j < F; j++) {
        const char *name = crisk_schema_feature_name(schema, j);
        fputc(',', out);
        cli_write_csv_text(out, name, strlen(name));
    }
    if (labels) {
        fputc(',', out);
        cli_write_csv_text(out, label_name, strlen(label_name));
    }
    if (weights)
        fputs(",weight", out);
    fputc('\n', out);
    for (size_t i = 0; i < N; i++) {
        char idbuf[CLI_ID_BYTES];
        size_t len = 0;
        const char *id = cli_batch_id(batch, i, idbuf, &len);
        if (id)
            cli_write_csv_text(out, id, len);
        for (size_t j = 0; j < F; j++) {
            float v = x[i * F + j];
            if (isnan(v))
                fputc(',', out);
            else
                fprintf(out, ",%.9g", (double)v);
        }
        if (labels)
            fprintf(out, ",%.9g", (double)labels[i]);
        if (weights)
            fprintf(out, ",%.9g", (double)weights[i]);
        fputc('\n', out);
    }
    return cli_finish_output(out, path);
}

/* Builds the out-of-fold training matrix (`training` 1) or the scoring features
 * (`training` 0) of the batch and writes them to `path`. Returns 0 or -1 after
 * reporting. */
static int export_matrix(const char *path, int training, const crisk_schema *schema,
                         const crisk_batch *batch, const fit_rows *r, const fit_args *a)
{
    size_t F = crisk_schema_num_features(schema), N = crisk_batch_size(batch);
    if (F && N > (size_t)-1 / sizeof(float) / F) {
        cli_report(path, "the matrix is too large");
        return -1;
    }
    float *x = malloc((N && F ? N * F : 1) * sizeof *x);
    if (!x) {
        cli_report(path, "out of memory for the matrix");
        return -1;
    }
    crisk_error err;
    int rc = training ? crisk_schema_training_matrix(schema, batch, r->labels, N, &a->opts, x,
                                                     &err)
                      : crisk_schema_features(schema, batch, x, &err);
    if (rc)
        cli_report(path, err.message);
    else
        rc = write_matrix(path, batch, x, training ? r->labels : NULL,
                          training && a->weights ? r->weights : NULL,
                          a->label ? a->label : "label");
    free(x);
    return rc ? -1 : 0;
}

/* With --outcomes: reports the outcomes not used and the declarations without one.
 * Returns 0, or -1 when no declaration has an outcome to fit on. */
static int report_join(cli_fit_labels *from, const fit_rows *r)
{
    size_t unused = cli_fit_labels_finish(from);
    fprintf(stderr, "outcomes used: %zu, not used: %zu; declarations without an outcome (not "
            "inspected, not fitted): %zu\n", r->n, unused, r->unlabelled);
    if (r->n)
        return 0;
    cli_report(from->path, "no declaration has a usable outcome: nothing to fit");
    return -1;
}

/* Runs `crisk fit`; returns the exit code. */
static int run(int argc, char **argv)
{
    fit_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc; /* CLI_HELP included: main() prints the usage */
    crisk_error err;
    int status = CLI_EXIT_FAILURE;
    crisk_batch *batch = NULL;
    fit_rows rows = {0};
    cli_fit_labels from = {0};
    const crisk_decl_extra label = {a.label, 1, 1};
    if (a.outcomes && cli_fit_labels_open(&from, a.outcomes, a.decisions) != 0)
        goto done;
    if ((rc = cli_decl_cmd_load(&a.cmd)) != 0 ||
        (rc = cli_decl_cmd_open(&a.cmd, a.label ? &label : NULL, a.label ? 1 : 0)) != 0) {
        status = rc;
        goto done;
    }
    crisk_schema *schema = a.cmd.own_schema;
    cli_decl_run *run = &a.cmd.run;
    /* Events join the whole training batch, so the matrices hold the event features that
     * scoring builds. */
    if (crisk_batch_new(schema, &batch, &err) != 0 ||
        read_all(run, batch, a.outcomes ? &from : NULL, &rows, &err) != 0
        || cli_events_attach(&run->events, schema, batch, &err) != 0) {
        cli_report(run->in.name, err.message);
        goto done;
    }
    if (cli_decl_cmd_finish(&a.cmd, "fitted") != 0 ||
        (a.outcomes && report_join(&from, &rows) != 0))
        goto done;
    if (crisk_schema_fit(schema, batch, rows.labels, rows.n, &a.opts, &err) != 0) {
        cli_report(run->in.name, err.message);
        goto done;
    }
    if (crisk_schema_save(schema, a.output, &err) != 0) {
        cli_report(a.output, err.message);
        goto done;
    }
    if (a.matrix && export_matrix(a.matrix, 1, schema, batch, &rows, &a) != 0)
        goto done;
    if (a.features && export_matrix(a.features, 0, schema, batch, &rows, &a) != 0)
        goto done;
    status = CLI_EXIT_OK;
done:
    free(rows.labels);
    free(rows.weights);
    crisk_batch_free(batch);
    cli_fit_labels_close(&from);
    cli_decl_cmd_close(&a.cmd);
    return status;
}

const cli_command cli_cmd_fit = {
    "fit",
    "  crisk fit --schema SCHEMA.json --input FILE --label COLUMN --output FITTED.json\n"
    "            [--matrix FILE.csv] [--features FILE.csv] [--folds N] [--seed N]\n"
    "            [--rejects FILE] [--input-format csv|jsonl] [EVENT OPTIONS]\n"
    "  crisk fit --schema SCHEMA.json --input FILE --outcomes FILE(.csv|.jsonl)\n"
    "            [--decisions SCORED.csv [--weights ipw]] --output FITTED.json\n"
    "            [--matrix FILE.csv] [--features FILE.csv] [--folds N] [--seed N]\n"
    "            [--rejects FILE] [--input-format csv|jsonl] [EVENT OPTIONS]\n",
    "fits a schema's tables from labelled declarations",
    "fit      fits the schema's tables from labelled declarations (the label column\n"
    "         holds 0 or 1; a row without one is rejected) and writes the fitted\n"
    "         schema; --matrix writes the training matrix (id, features with\n"
    "         out-of-fold risk indicators, label), --features the features as\n"
    "         scoring builds them (full tables) for the same rows.\n"
    "         With --outcomes (what inspections found, docs/loop.md) the labels are\n"
    "         the outcomes joined by declaration id (irregularity or critical: 1),\n"
    "         and only the declarations with one are fitted; every outcome not used\n"
    "         is reported with its line. --decisions (crisk score's output for\n"
    "         them) drops outcomes of declarations the logged policy did not\n"
    "         select; --weights ipw adds a weight column (1 / propensity) to the\n"
    "         training matrix.\n",
    1,
    run,
};
