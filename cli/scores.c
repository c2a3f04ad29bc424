/*
 * scores.c — every output of a bundle's models for one declaration, as `crisk score` and
 * the decision log write them: CSV header cells and cells, or a JSON value. A model with
 * one output (binary, regression, multi:softmax's class index) is one column / number; a
 * multi-class model (multi:softprob, LightGBM multiclass, multinomial logistic) is one
 * column "<model>:score_<k>" / one array element per class, in the model's class order.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Returns how many values model `m` of `bundle` gives per declaration. */
size_t cli_model_outputs(const crisk_bundle *bundle, size_t m)
{
    return crisk_model_num_outputs(crisk_bundle_model(bundle, m));
}

/* Writes one header cell per output of every model, each after a comma: the model's name
 * for a model with one output, "<name>:score_<k>" for output k of a multi-class model
 * (neither the manifest nor the model files name the classes). Returns 0, or -1 when out
 * of memory. */
int cli_scores_header(FILE *out, const crisk_bundle *bundle)
{
    for (size_t m = 0; m < crisk_bundle_num_models(bundle); m++) {
        const char *name = crisk_bundle_model_name(bundle, m);
        size_t outputs = cli_model_outputs(bundle, m), len = strlen(name);
        if (outputs == 1) {
            fputc(',', out);
            cli_write_csv_text(out, name, len);
            continue;
        }
        /* ":score_" and at most 20 digits of k, and the terminating NUL. */
        char *cell = malloc(len + 28);
        if (!cell)
            return -1;
        for (size_t k = 0; k < outputs; k++) {
            fputc(',', out);
            cli_write_csv_text(out, cell, (size_t)snprintf(cell, len + 28, "%s:score_%zu",
                                                           name, k));
        }
        free(cell);
    }
    return 0;
}

/* Writes every output of every model for row `row` of `res` as CSV cells, each after a
 * comma (%.9g; empty when NaN, e.g. a logistic model and a missing feature). */
void cli_scores_csv(FILE *out, const crisk_bundle *bundle, const crisk_results *res,
                    size_t row)
{
    char num[CLI_FLOAT_BYTES];
    for (size_t m = 0; m < crisk_bundle_num_models(bundle); m++)
        for (size_t k = 0, outputs = cli_model_outputs(bundle, m); k < outputs; k++) {
            float s = crisk_results_score_k(res, row, m, k);
            putc_unlocked(',', out);
            if (!isnan(s))
                cli_put(out, num, cli_format_float(s, num));
        }
}

/* Writes `v` as a JSON number (%.9g), or null when it is NaN. */
void cli_write_json_float(FILE *out, float v)
{
    char num[CLI_FLOAT_BYTES];
    if (isnan(v))
        fputs("null", out);
    else
        fwrite(num, 1, cli_format_float(v, num), out);
}

/* Writes model `m`'s outputs for row `row` of `res` as one JSON value: a number (null
 * when NaN) for a model with one output, an array of one per class for a multi-class
 * model. */
void cli_scores_json(FILE *out, const crisk_bundle *bundle, const crisk_results *res,
                     size_t row, size_t m)
{
    size_t outputs = cli_model_outputs(bundle, m);
    if (outputs == 1) {
        cli_write_json_float(out, crisk_results_score(res, row, m));
        return;
    }
    for (size_t k = 0; k < outputs; k++) {
        fputc(k ? ',' : '[', out);
        cli_write_json_float(out, crisk_results_score_k(res, row, m, k));
    }
    fputc(']', out);
}
