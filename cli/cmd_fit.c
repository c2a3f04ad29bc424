/*
 * cmd_fit.c — `crisk fit`: reads labelled declarations, fits a schema's dictionaries,
 * risk-indicator tables and bands, writes the fitted schema, and optionally the training
 * matrix (out-of-fold features) and the scoring features (full tables) of the same rows.
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
    crisk_fit_options opts;
    cli_decl_cmd cmd;
} fit_args;

/* Parses and checks the command line into `a`. Returns 0, CLI_HELP or CLI_EXIT_USAGE. */
static int parse(int argc, char **argv, fit_args *a)
{
    memset(a, 0, sizeof *a);
    const cli_option opts[] = {
        {"--label", &a->label, NULL},       {"--output", &a->output, NULL},
        {"--matrix", &a->matrix, NULL},     {"--features", &a->features, NULL},
        {"--folds", &a->folds, NULL},       {"--seed", &a->seed, NULL},
    };
    int rc = cli_decl_cmd_parse(&a->cmd, CLI_FROM_SCHEMA, "fit", argc, argv, opts,
                                CLI_NOPTS(opts), 2, 0);
    if (rc)
        return rc;
    crisk_fit_options_init(&a->opts, CRISK_FIT_OPTIONS_VERSION);
    long folds = (long)a->opts.folds, seed = (long)a->opts.seed;
    if ((rc = cli_parse_int("--folds", a->folds, 2, 1000, &folds)) != 0 ||
        (rc = cli_parse_int("--seed", a->seed, 0, 0x7fffffffL, &seed)) != 0)
        return rc;
    a->opts.folds = (unsigned)folds;
    a->opts.seed = (uint64_t)seed;
    return 0;
}

/* Reads every row of the input into `batch` and their labels into `*labels` (malloc'd,
 * `*n` of them). Returns 0 or a negative crisk code with `err` filled. */
static int read_all(cli_decl_run *run, crisk_batch *batch, float **labels, size_t *n,
                    crisk_error *err)
{
    double chunk[READ_ROWS];
    size_t cap = 0;
    *labels = NULL;
    *n = 0;
    for (;;) {
        size_t got;
        int rc = crisk_decl_read(run->in.reader, batch, READ_ROWS, chunk, cli_rejects_write,
                                 &run->rejects, &got, err);
        if (rc)
            return rc;
        if (got == 0)
            return 0;
        cli_decl_run_progress(run, 0);
        float *grown = cli_grow(*labels, &cap, *n + got, sizeof *grown, READ_ROWS, "labels",
                                err);
        if (!grown)
            return CRISK_E_NOMEM;
        *labels = grown;
        for (size_t i = 0; i < got; i++)
            (*labels)[*n + i] = (float)chunk[i];
        *n += got;
    }
}

/* Writes a matrix of the batch's rows to the CSV file `path`: a header (the id field,
 * every feature, and the label column `label_name` when `labels` is given), then per row
 * its id, features (%.9g, empty when missing) and label. Returns 0 or -1 after reporting. */
static int write_matrix(const char *path, const crisk_batch *batch, const float *x,
                        const float *labels, const char *label_name)
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
        fputc('\n', out);
    }
    return cli_finish_output(out, path);
}

/* Builds the out-of-fold training matrix (`training` 1) or the scoring features
 * (`training` 0) of the batch and writes them to `path`. Returns 0 or -1 after
 * reporting. */
static int export_matrix(const char *path, int training, const crisk_schema *schema,
                         const crisk_batch *batch, const float *labels, const fit_args *a)
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
    int rc = training ? crisk_schema_training_matrix(schema, batch, labels, N, &a->opts, x,
                                                     &err)
                      : crisk_schema_features(schema, batch, x, &err);
    if (rc)
        cli_report(path, err.message);
    else
        rc = write_matrix(path, batch, x, training ? labels : NULL, a->label);
    free(x);
    return rc ? -1 : 0;
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
    float *labels = NULL;
    size_t n = 0;
    const crisk_decl_extra label = {a.label, 1, 1};
    if ((rc = cli_decl_cmd_load(&a.cmd)) != 0 ||
        (rc = cli_decl_cmd_open(&a.cmd, &label, 1)) != 0) {
        status = rc;
        goto done;
    }
    crisk_schema *schema = a.cmd.own_schema;
    cli_decl_run *run = &a.cmd.run;
    /* Events join the whole training batch, so the matrices hold the event features that
     * scoring builds. */
    if (crisk_batch_new(schema, &batch, &err) != 0 ||
        read_all(run, batch, &labels, &n, &err) != 0
        || cli_events_attach(&run->events, schema, batch, &err) != 0) {
        cli_report(run->in.name, err.message);
        goto done;
    }
    if (cli_decl_cmd_finish(&a.cmd, "fitted") != 0)
        goto done;
    if (crisk_schema_fit(schema, batch, labels, n, &a.opts, &err) != 0) {
        cli_report(run->in.name, err.message);
        goto done;
    }
    if (crisk_schema_save(schema, a.output, &err) != 0) {
        cli_report(a.output, err.message);
        goto done;
    }
    if (a.matrix && export_matrix(a.matrix, 1, schema, batch, labels, &a) != 0)
        goto done;
    if (a.features && export_matrix(a.features, 0, schema, batch, labels, &a) != 0)
        goto done;
    status = CLI_EXIT_OK;
done:
    free(labels);
    crisk_batch_free(batch);
    cli_decl_cmd_close(&a.cmd);
    return status;
}

const cli_command cli_cmd_fit = {
    "fit",
    "  crisk fit --schema SCHEMA.json --input FILE --label COLUMN --output FITTED.json\n"
    "            [--matrix FILE.csv] [--features FILE.csv] [--folds N] [--seed N]\n"
    "            [--rejects FILE] [--input-format csv|jsonl] [EVENT OPTIONS]\n",
    "fits a schema's tables from labelled declarations",
    "fit      fits the schema's tables from labelled declarations (the label column\n"
    "         holds 0 or 1; a row without one is rejected) and writes the fitted\n"
    "         schema; --matrix writes the training matrix (id, features with\n"
    "         out-of-fold risk indicators, label), --features the features as\n"
    "         scoring builds them (full tables) for the same rows.\n",
    1,
    run,
};
