/*
 * cmd_evaluate.c — `crisk evaluate`: scores labelled declarations with a bundle and prints
 * the measures customs-fraud studies use: the AUC, and for the top 1, 2, 5 and 10% of
 * declarations by score, precision, recall and the share of revenue they hold.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What the command line asks of `crisk evaluate`. */
typedef struct eval_args {
    const char *label, *revenue, *model;
    cli_decl_cmd cmd;
} eval_args;

/* Parses and checks the command line into `a`. Returns 0, CLI_HELP or CLI_EXIT_USAGE. */
static int parse(int argc, char **argv, eval_args *a)
{
    memset(a, 0, sizeof *a);
    const cli_option opts[] = {
        {"--label", &a->label, NULL}, {"--revenue", &a->revenue, NULL},
        {"--model", &a->model, NULL},
    };
    /* evaluate has always taken at most 2^20 threads; score, INT_MAX. */
    return cli_decl_cmd_parse(&a->cmd, CLI_FROM_BUNDLE, "evaluate", argc, argv, opts,
                              CLI_NOPTS(opts), 1, 1L << 20);
}

/* Prints the evaluation table of `rows` (sorted) for model `model_name`. */
static void print_table(const cli_scored *rows, size_t n, const char *model_name, int revenue)
{
    double pos = 0, rev_total = 0;
    for (size_t i = 0; i < n; i++) {
        pos += rows[i].label;
        rev_total += revenue ? rows[i].revenue : 0;
    }
    printf("model: %s\n", model_name);
    printf("declarations: %zu, positives: %.0f\n", n, pos);
    printf("auc: %.6f\n", cli_auc(rows, n));
    printf("%-6s %8s %10s %10s%s\n", "top", "n", "precision", "recall",
           revenue ? "    revenue" : "");
    static const int percents[] = {1, 2, 5, 10};
    for (size_t p = 0; p < sizeof percents / sizeof percents[0]; p++) {
        /* ceil(n * pct / 100) in integers, so that no rounding of a double decides. */
        size_t k = (n * (size_t)percents[p] + 99) / 100;
        double hit = 0, rev = 0;
        for (size_t i = 0; i < k; i++) {
            hit += rows[i].label;
            rev += revenue ? rows[i].revenue : 0;
        }
        char top[8];
        snprintf(top, sizeof top, "%d%%", percents[p]);
        printf("%-6s %8zu %10.6f %10.6f", top, k, k ? hit / (double)k : NAN,
               pos > 0 ? hit / pos : NAN);
        if (revenue)
            printf(" %10.6f", rev_total != 0 ? rev / rev_total : NAN);
        putchar('\n');
    }
}

/* Runs `crisk evaluate`; returns the exit code. */
static int run(int argc, char **argv)
{
    for (int i = 0; i < argc; i++) /* the logged-inspections form: evaluate_loop.c */
        if (strncmp(argv[i], "--decisions", 11) == 0)
            return cli_evaluate_loop(argc, argv);
    eval_args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc; /* CLI_HELP included: main() prints the usage */
    crisk_error err;
    int status = CLI_EXIT_FAILURE;
    cli_scored *rows = NULL;
    size_t n = 0;
    const crisk_decl_extra extras[2] = {{a.label, 1, 1}, {a.revenue, 1, 0}};
    if ((rc = cli_decl_cmd_load(&a.cmd)) != 0) {
        status = rc;
        goto done;
    }
    const crisk_bundle *bundle = a.cmd.bundle;
    long model = cli_pick_model(bundle, a.model, "evaluate");
    if (model < 0) {
        status = CLI_EXIT_USAGE;
        goto done;
    }
    if ((rc = cli_decl_cmd_open(&a.cmd, extras, a.revenue ? 2 : 1)) != 0) {
        status = rc;
        goto done;
    }
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    opts.threads = a.cmd.threads;
    if (cli_score_labelled(bundle, (size_t)model, &a.cmd.run, &opts, 1, a.revenue != NULL,
                           NULL, NULL, &rows, &n, &err) != 0) {
        cli_report(a.cmd.run.in.name, err.message);
        goto done;
    }
    if (cli_decl_cmd_finish(&a.cmd, "scored") != 0)
        goto done;
    qsort(rows, n, sizeof *rows, cli_by_score_desc);
    print_table(rows, n, crisk_bundle_model_name(bundle, (size_t)model), a.revenue != NULL);
    status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
done:
    free(rows);
    cli_decl_cmd_close(&a.cmd);
    return status;
}

const cli_command cli_cmd_evaluate = {
    "evaluate",
    "  crisk evaluate --bundle DIR --input FILE --label COLUMN [--revenue COLUMN]\n"
    "                 [--model NAME] [--rejects FILE] [--threads N]\n"
    "                 [--input-format csv|jsonl] [EVENT OPTIONS]\n"
    "  crisk evaluate --decisions SCORED.csv|LOG --outcomes FILE(.csv|.jsonl) [--score COL]\n"
    "                 [--candidate SCORED.csv | --bundle CANDIDATE --input FILE]\n"
    "                 [--candidate-score COL] [--top K] [--bootstrap N] [--seed N]\n"
    "                 [--outcome-model COL] [--id-key KEY] [--logged-bundle DIR]\n",
    "measures a bundle's model on labelled declarations (AUC, top k%)",
    "evaluate scores labelled declarations and prints the AUC and, for the top 1,\n"
    "         2, 5 and 10% by score (ceil(n% x N) rows; ties in input order):\n"
    "         precision, recall and the share of --revenue. The model is --model,\n"
    "         else the policy's score model, else the first; it must have one\n"
    "         output (a multi-class model is refused, exit 2).\n"
    "         With --decisions (the output of score, with propensities) and\n"
    "         --outcomes (what inspections found, docs/loop.md), it estimates instead,\n"
    "         from the logged inspections, the precision, recall and revenue of the\n"
    "         top K% (default 5) by the logged score (--score, default the first\n"
    "         score column) and by --candidate's (the same declarations scored by\n"
    "         another bundle), or by the candidate bundle --bundle, which scores\n"
    "         the logged declarations (--input, in the decisions' order) in one\n"
    "         batch: self-normalised and plain inverse propensity weighting\n"
    "         and doubly robust, with --bootstrap (500) intervals at 90%, the\n"
    "         effective sample size and the picks without support. Every outcome\n"
    "         not used is reported with its line. --outcome-model names a column of\n"
    "         the decisions holding a probability of a hit (e.g. a score model fitted\n"
    "         before the period) for the doubly robust estimator; by default the\n"
    "         evaluated score is calibrated on the inspected declarations.\n"
    "         --decisions may be score's decision log (--audit): --id-key joins the\n"
    "         outcomes to ids logged as keyed hashes (--protect-ids), and\n"
    "         --logged-bundle DIR keeps only the decisions of that bundle (by its\n"
    "         digest), counting the others; without it, decisions of several\n"
    "         bundles are a warning.\n",
    1,
    run,
};
