/*
 * cmd_report.c — `crisk report`: scores labelled declarations and writes one
 * self-contained HTML page of charts (cli/report_html.c): how well the model selects, how
 * the lanes split, how far the declarations drift from the bundle's reference, and why
 * the red lane's declarations went there.
 */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

/* Reason codes kept per declaration for the red lane's chart. */
#define REPORT_REASONS 3

/* What the command line asks of `crisk report`. */
typedef struct report_args {
    const char *label, *revenue, *model, *output, *outcomes;
    cli_decl_cmd cmd;
} report_args;

/* What each scored batch adds to: the drift counts, the red lane's reason fields and the
 * outcomes joined. */
typedef struct report_acc {
    crisk_drift *drift;     /* NULL without a reference */
    size_t *reason_counts;  /* per schema field; NULL without reason codes */
    cli_report_outcomes *outcomes; /* NULL without --outcomes */
} report_acc;

/* Parses the command line into `a`. Returns 0, CLI_HELP or CLI_EXIT_USAGE. */
static int parse(int argc, char **argv, report_args *a)
{
    memset(a, 0, sizeof *a);
    const cli_option opts[] = {
        {"--output", &a->output, NULL},     {"--label", &a->label, NULL},
        {"--outcomes", &a->outcomes, NULL}, {"--revenue", &a->revenue, NULL},
        {"--model", &a->model, NULL},
    };
    int rc = cli_decl_cmd_parse(&a->cmd, CLI_FROM_BUNDLE, "report", argc, argv, opts,
                                CLI_NOPTS(opts), 1, 1L << 20);
    if (rc == 0 && !a->label && !a->outcomes) {
        fprintf(stderr, "crisk report: give the labels: --label COLUMN, --outcomes FILE or "
                "both\n");
        rc = CLI_EXIT_USAGE;
    }
    return rc;
}

/* Adds a scored batch to the drift counts and the red lane's reason counts. */
static int accumulate(void *ctx, const crisk_batch *batch, const crisk_results *res,
                      crisk_error *err)
{
    report_acc *acc = ctx;
    int rc = acc->drift ? crisk_drift_add(acc->drift, batch, res, err) : 0;
    if (rc == 0 && acc->outcomes)
        rc = cli_report_outcomes_add(acc->outcomes, batch, res, err);
    const crisk_schema *schema = crisk_batch_schema(batch);
    for (size_t r = 0; rc == 0 && acc->reason_counts && r < crisk_results_size(res); r++)
        for (size_t k = 0; crisk_results_lane(res, r) == 0 &&
                           k < crisk_results_num_reasons(res, r); k++) {
            long field = crisk_schema_field_index(schema,
                                                  crisk_results_reason_field(res, r, k));
            if (field >= 0)
                acc->reason_counts[field]++;
        }
    return rc;
}

/* Returns whether the bundle can give reason codes: a policy score model of one margin. */
static int explains(const crisk_bundle *bundle)
{
    long m = crisk_bundle_score_model(bundle);
    return m >= 0 && crisk_model_num_margins(crisk_bundle_model(bundle, (size_t)m)) == 1;
}

/* Sets up the drift counts (when the bundle has a reference) and the reason counts.
 * Returns 0, or CLI_EXIT_FAILURE after reporting. */
static int open_acc(const crisk_bundle *bundle, const char *dir, crisk_reference **ref,
                    report_acc *acc)
{
    crisk_error err;
    int rc = crisk_reference_load(bundle, ref, &err);
    if (rc == 0)
        rc = crisk_drift_new(*ref, 0, &acc->drift, &err);
    if (rc != 0 && rc != CRISK_E_UNSUPPORTED) { /* no reference: a page without drift */
        cli_report(dir, err.message);
        return CLI_EXIT_FAILURE;
    }
    size_t nf = crisk_schema_num_fields(crisk_bundle_schema(bundle));
    if (explains(bundle) && !(acc->reason_counts = calloc(nf ? nf : 1, sizeof(size_t)))) {
        cli_report(NULL, "out of memory");
        return CLI_EXIT_FAILURE;
    }
    return 0;
}

/* With labels from the outcomes alone, labels each row by its outcome and keeps only the
 * inspected ones (the others have no label); returns how many rows remain. */
static size_t label_by_outcomes(const report_args *a, const report_acc *acc,
                                cli_scored *rows, size_t n)
{
    if (a->label || !acc->outcomes)
        return n;
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (acc->outcomes->found[rows[i].order] >= 0) {
            rows[kept] = rows[i];
            rows[kept++].label = acc->outcomes->found[rows[i].order];
        }
    return kept;
}

/* Scores the input and writes the page; returns the exit code. */
static int write_report(report_args *a, size_t model, report_acc *acc)
{
    crisk_error err;
    cli_scored *rows = NULL;
    size_t n = 0;
    int status = CLI_EXIT_FAILURE;
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    opts.threads = a->cmd.threads;
    opts.explain = acc->reason_counts ? REPORT_REASONS : 0;
    if (cli_score_labelled(a->cmd.bundle, model, &a->cmd.run, &opts, a->label != NULL,
                           a->revenue != NULL, accumulate, acc, &rows, &n, &err) != 0)
        cli_report(a->cmd.run.in.name, err.message);
    else if (cli_decl_cmd_finish(&a->cmd, "scored") == 0) {
        if (acc->outcomes)
            cli_report_outcomes_finish(acc->outcomes);
        n = label_by_outcomes(a, acc, rows, n);
        qsort(rows, n, sizeof *rows, cli_by_score_desc);
        cli_report_data d = {a->cmd.path, a->cmd.run.input,
                             crisk_bundle_model_name(a->cmd.bundle, model), a->cmd.bundle,
                             rows, n, a->revenue != NULL, acc->drift, acc->reason_counts,
                             acc->outcomes, a->label == NULL};
        cli_output out;
        if (cli_output_open(&out, a->output) == 0) {
            cli_report_html(out.f, &d);
            if (cli_finish_output(out.f, a->output) == 0)
                status = CLI_EXIT_OK;
            else
                cli_output_discard(&out); /* no half-written page left behind */
        }
    }
    free(rows);
    return status;
}

/* Runs `crisk report`; returns the exit code. */
static int run(int argc, char **argv)
{
    report_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc; /* CLI_HELP included: main() prints the usage */
    crisk_reference *ref = NULL;
    cli_report_outcomes outcomes = {0};
    report_acc acc = {NULL, NULL, NULL};
    crisk_decl_extra extras[2], *x = extras;
    if (a.label)
        *x++ = (crisk_decl_extra){a.label, 1, 1};
    if (a.revenue)
        *x++ = (crisk_decl_extra){a.revenue, 1, 0};
    long model = -1;
    if ((rc = cli_decl_cmd_load(&a.cmd)) == 0 &&
        (model = cli_pick_model(a.cmd.bundle, a.model, "report")) < 0)
        rc = CLI_EXIT_USAGE;
    if (rc == 0 && a.outcomes && (rc = cli_report_outcomes_open(&outcomes, a.outcomes)) == 0)
        acc.outcomes = &outcomes;
    if (rc == 0)
        rc = open_acc(a.cmd.bundle, a.cmd.path, &ref, &acc);
    if (rc == 0)
        rc = cli_decl_cmd_open(&a.cmd, extras, (size_t)(x - extras));
    if (rc == 0)
        rc = write_report(&a, (size_t)model, &acc);
    crisk_drift_free(acc.drift);
    crisk_reference_free(ref);
    free(acc.reason_counts);
    cli_report_outcomes_free(&outcomes);
    cli_decl_cmd_close(&a.cmd);
    return rc;
}

const cli_command cli_cmd_report = {
    "report",
    "  crisk report --bundle DIR --input FILE (--label COLUMN | --outcomes FILE)\n"
    "               --output REPORT.html [--revenue COLUMN] [--model NAME]\n"
    "               [--rejects FILE] [--threads N]\n"
    "               [--input-format csv|jsonl] [EVENT OPTIONS]\n",
    "writes an HTML page of charts on labelled declarations (gains, drift, ...)",
    "report scores labelled declarations and writes one self-contained HTML file\n"
    "         (charts inline as SVG; it opens offline): cumulative gains and lift;\n"
    "         precision, recall and --revenue at k%; score distributions by\n"
    "         outcome; calibration; the lane mix; drift per feature against the\n"
    "         bundle's reference (when it has one); the red lane's most frequent\n"
    "         reason codes (when the policy's score model gives them). The model\n"
    "         is chosen as evaluate chooses it.\n"
    "  --label COLUMN    the input's 0/1 label column\n"
    "  --outcomes FILE   officers' outcomes (docs/loop.md), joined by declaration id:\n"
    "                    without --label, the labels of the inspected declarations,\n"
    "                    on which alone the charts are drawn; the page shows each\n"
    "                    lane's hit rate. Rejected lines and outcomes of no input\n"
    "                    declaration are reported on stderr\n",
    1,
    run,
};
