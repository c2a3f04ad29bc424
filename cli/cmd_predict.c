/*
 * cmd_predict.c — `crisk predict`: scores the cases of a CSV file batch by batch and
 * writes one CSV line of outputs (or, with --contribs, of SHAP contributions) per case.
 */
#include "cli.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Rows per batch unless --batch-rows says otherwise. */
#define DEFAULT_BATCH_ROWS 4096
/* Floats of input a batch may hold, so that wide models get shorter batches. */
#define MAX_BATCH_FLOATS ((size_t)16 * 1024 * 1024)

/* What the command line asks of `crisk predict`. */
typedef struct predict_args {
    cli_model_args model;
    const char *input, *output, *threads, *batch_rows;
    int margin, ignore_extra, contribs;
    crisk_predict_options opts;
    size_t batch;
} predict_args;

/* Parses and checks the command line into `a`. Returns 0, CLI_HELP or CLI_EXIT_USAGE. */
static int parse(int argc, char **argv, predict_args *a)
{
    memset(a, 0, sizeof *a);
    const cli_option opts[] = {
        {"--model", &a->model.path, NULL},  {"--input", &a->input, NULL},
        {"--output", &a->output, NULL},     {"--threads", &a->threads, NULL},
        {"--batch-rows", &a->batch_rows, NULL}, {"--sha256", &a->model.sha256, NULL},
        {"--margin", NULL, &a->margin},     {"--ignore-extra", NULL, &a->ignore_extra},
        {"--contribs", NULL, &a->contribs},
    };
    int rc = cli_parse_args("predict", argc, argv, opts, CLI_NOPTS(opts), 2);
    if (rc || (rc = cli_model_args_check(&a->model)) != 0)
        return rc;
    crisk_predict_options_init(&a->opts, CRISK_PREDICT_OPTIONS_VERSION);
    a->opts.output = a->margin ? CRISK_OUTPUT_MARGIN : CRISK_OUTPUT_TRANSFORMED;
    long threads = a->opts.threads, batch = DEFAULT_BATCH_ROWS;
    if ((rc = cli_parse_int("--threads", a->threads, 0, INT_MAX, &threads)) != 0 ||
        (rc = cli_parse_int("--batch-rows", a->batch_rows, 1, 1L << 24, &batch)) != 0)
        return rc;
    a->opts.threads = (int)threads;
    a->batch = (size_t)batch;
    return 0;
}

/* Writes the output header: "score", or "class_0,...,class_{k-1}" for k outputs. */
static void write_header(FILE *out, size_t outputs)
{
    if (outputs == 1) {
        fputs("score\n", out);
        return;
    }
    for (size_t k = 0; k < outputs; k++)
        fprintf(out, "%sclass_%zu", k ? "," : "", k);
    fputc('\n', out);
}

/* Writes `name` as a CSV field, quoted (with doubled quotes) when it holds a comma, a
 * quote or a line break. */
static void write_field(FILE *out, const char *name)
{
    if (!strpbrk(name, ",\"\r\n")) {
        fputs(name, out);
        return;
    }
    fputc('"', out);
    for (; *name; name++) {
        if (*name == '"')
            fputc('"', out);
        fputc(*name, out);
    }
    fputc('"', out);
}

/* Writes the --contribs header: one column per feature (its name, or f<index> when the
 * model stores none) and "bias", each prefixed "class_<k>:" when the model has several
 * margins. */
static void write_contrib_header(FILE *out, const crisk_model *model)
{
    size_t F = crisk_model_num_features(model), G = crisk_model_num_margins(model);
    char buf[64];
    for (size_t g = 0; g < G; g++)
        for (size_t j = 0; j <= F; j++) {
            if (g || j)
                fputc(',', out);
            if (G > 1)
                fprintf(out, "class_%zu:", g);
            const char *name = j < F ? crisk_model_feature_name(model, j) : "bias";
            if (!name) {
                snprintf(buf, sizeof buf, "f%zu", j);
                name = buf;
            }
            write_field(out, name);
        }
    fputc('\n', out);
}

/* Writes `nrows` lines of `outputs` values each from `scores`. */
static void write_scores(FILE *out, const float *scores, size_t nrows, size_t outputs)
{
    for (size_t i = 0; i < nrows; i++)
        for (size_t k = 0; k < outputs; k++)
            fprintf(out, "%.9g%c", (double)scores[i * outputs + k],
                    k + 1 == outputs ? '\n' : ',');
}

/* Streams the table through the model into `out`. Returns 0 or a negative crisk code
 * with `err` filled. */
static int score_all(const crisk_model *model, cli_table *table, const predict_args *a,
                     FILE *out, crisk_error *err)
{
    /* Values per row: margins may be wider than outputs (multi:softmax). */
    size_t F = crisk_model_num_features(model), G = crisk_model_num_margins(model);
    size_t K = a->opts.output == CRISK_OUTPUT_MARGIN ? G : crisk_model_num_outputs(model);
    if (a->contribs)
        K = G * (F + 1);
    size_t batch = a->batch;
    if (F > 0 && batch > MAX_BATCH_FLOATS / F)
        batch = MAX_BATCH_FLOATS / F > 0 ? MAX_BATCH_FLOATS / F : 1;
    float *rows = malloc(batch * (F ? F : 1) * sizeof *rows);
    float *scores = malloc(batch * K * sizeof *scores);
    int rc = 0;
    if (!rows || !scores)
        rc = crisk_error_set(err, CRISK_E_NOMEM, "out of memory for a batch of %zu rows",
                             batch);
    else if (a->contribs)
        write_contrib_header(out, model);
    else
        write_header(out, K);
    while (rc == 0) {
        size_t n, first = 0, last = 0;
        rc = cli_table_read(table, rows, batch, &n, &first, &last, err);
        if (rc || n == 0)
            break;
        rc = a->contribs ? crisk_contributions(model, rows, n, F, &a->opts, scores, err)
                         : crisk_predict(model, rows, n, F, &a->opts, scores, err);
        if (rc) {
            /* The library counts rows (from 0) and columns within this call. */
            char where[96];
            snprintf(where, sizeof where, "the cases on lines %zu to %zu (row 0 is line %zu)",
                     first, last, first);
            cli_fail_prefix(err, rc, where);
        } else {
            write_scores(out, scores, n, K);
        }
    }
    free(rows);
    free(scores);
    return rc;
}

/* Runs `crisk predict`; returns the exit code. */
static int run(int argc, char **argv)
{
    predict_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc; /* CLI_HELP included: main() prints the usage */
    crisk_model *model = cli_load_model(&a.model);
    if (!model)
        return CLI_EXIT_FAILURE;
    int status = CLI_EXIT_FAILURE;
    cli_table *table = NULL;
    cli_output out;
    const char *input_name = strcmp(a.input, "-") == 0 ? "stdin" : a.input;
    FILE *in = cli_open_input(a.input);
    if (!in)
        goto done;
    crisk_error err;
    if (cli_table_open(in, model, a.ignore_extra, &table, &err) != 0) {
        cli_report(input_name, err.message);
        goto done;
    }
    if (cli_output_open(&out, a.output) != 0)
        goto done;
    rc = score_all(model, table, &a, out.f, &err);
    if (rc)
        cli_report(input_name, err.message);
    if (cli_finish_output(out.f, a.output ? a.output : "stdout") == 0 && rc == 0)
        status = CLI_EXIT_OK;
    else
        cli_output_discard(&out); /* no half-written results left behind */
done:
    cli_table_free(table);
    if (in && in != stdin)
        fclose(in);
    crisk_model_free(model);
    return status;
}

const cli_command cli_cmd_predict = {
    "predict",
    "  crisk predict --model MODEL --input CASES.csv [--output FILE] [--margin]\n"
    "                [--threads N] [--ignore-extra] [--batch-rows N] [--contribs]\n"
    "                [--sha256 HEX]\n",
    "scores the cases of a CSV file with a model",
    "predict  scores each case (row) of a CSV file and writes one CSV line of\n"
    "         outputs per case: a header 'score', or 'class_0,...,class_{k-1}' for a\n"
    "         model with k outputs, then the values (%.9g).\n"
    "  --model MODEL     an XGBoost (JSON, UBJSON, legacy binary), LightGBM (text) or\n"
    "                    crisk logistic model file\n"
    "  --input FILE      CSV (RFC 4180, UTF-8, LF, CRLF or CR): a header row of\n"
    "                    feature names, then one case per row; '-' reads stdin.\n"
    "                    Spaces and tabs around a cell are ignored. An empty cell,\n"
    "                    NA or NaN (any case) is a missing value; any other cell\n"
    "                    must be a decimal number (no hex, inf or nan).\n"
    "                    If the model stores feature names, columns are matched by\n"
    "                    name; otherwise there must be one column per feature, in\n"
    "                    the model's order. A feature whose model stores category\n"
    "                    values (see inspect) takes the values as text, not codes.\n"
    "  --output FILE     where to write the scores (default: stdout); removed again\n"
    "                    if scoring fails part-way, when the run created it\n"
    "  --margin          raw margins instead of transformed outputs (probabilities)\n"
    "  --threads N       threads per batch; 0 = all cores (default 1)\n"
    "  --ignore-extra    skip header columns that are not features of the model\n"
    "                    (by default they are an error)\n"
    "  --batch-rows N    cases read and scored at a time (default 4096)\n"
    "  --sha256 HEX      refuse the model unless its SHA-256 is HEX (pinning)\n"
    "  --contribs        exact SHAP contributions instead of scores, in margin space:\n"
    "                    a column per feature (its name, or f<index>) and 'bias',\n"
    "                    prefixed 'class_<k>:' for a model with several margins;\n"
    "                    each line's values sum to the margin\n",
    0,
    run,
};
