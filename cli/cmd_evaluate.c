/*
 * cmd_evaluate.c — `crisk evaluate`: scores labelled declarations with a bundle and prints
 * the measures customs-fraud studies use: the AUC, and for the top 1, 2, 5 and 10% of
 * declarations by score, precision, recall and the share of revenue they hold.
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Declarations scored at a time (every score is kept: ranking needs all of them). */
#define EVAL_BATCH_ROWS 8192

/* What the command line asks of `crisk evaluate`. */
typedef struct eval_args {
    const char *label, *revenue, *model;
    cli_decl_cmd cmd;
} eval_args;

/* One scored declaration: its score (NaN ranks last), label, revenue and input order. */
typedef struct scored {
    double score;
    double label;
    double revenue;
    size_t order;
} scored;

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

/* Orders by score, highest first, NaN last; equal scores by input order. */
static int by_score_desc(const void *pa, const void *pb)
{
    const scored *a = pa, *b = pb;
    int an = isnan(a->score), bn = isnan(b->score);
    if (an != bn)
        return an - bn;
    if (!an && a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Returns the AUC of `rows` (sorted by by_score_desc): the Mann-Whitney statistic with
 * tied scores given their average rank (NaN scores tie with each other, below all). NaN
 * when either class is empty. */
static double auc(const scored *rows, size_t n)
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

/* Prints the evaluation table of `rows` (sorted) for model `model_name`. */
static void print_table(const scored *rows, size_t n, const char *model_name, int revenue)
{
    double pos = 0, rev_total = 0;
    for (size_t i = 0; i < n; i++) {
        pos += rows[i].label;
        rev_total += revenue ? rows[i].revenue : 0;
    }
    printf("model: %s\n", model_name);
    printf("declarations: %zu, positives: %.0f\n", n, pos);
    printf("auc: %.6f\n", auc(rows, n));
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

/* Returns whether model `m` gives one score to rank by; reports why not when it does not:
 * a multi-class model has a probability per class and multi:softmax gives a class index,
 * neither of which ranks declarations for a 0/1 label. */
static int ranks_by_one_score(const crisk_bundle *bundle, size_t m)
{
    const crisk_model *model = crisk_bundle_model(bundle, m);
    size_t outputs = crisk_model_num_outputs(model), margins = crisk_model_num_margins(model);
    if (outputs == 1 && margins == 1)
        return 1;
    fprintf(stderr, "crisk evaluate: model \"%s\" ", crisk_bundle_model_name(bundle, m));
    if (outputs > 1)
        fprintf(stderr, "has %zu outputs (one per class)", outputs);
    else
        fprintf(stderr, "outputs a class index of %zu classes", margins);
    fputs(", but evaluate ranks declarations by one score against a 0/1 label: name a "
          "model with one output with --model\n", stderr);
    return 0;
}

/* Returns the index of the model to evaluate: `name`, else the policy's score model,
 * else the first; -1 after reporting when `name` is no model of the bundle or the model
 * has no single score to rank by. */
static long pick_model(const crisk_bundle *bundle, const char *name)
{
    long m = -1;
    if (!name)
        m = crisk_bundle_score_model(bundle) >= 0 ? crisk_bundle_score_model(bundle) : 0;
    for (size_t i = 0; name && m < 0 && i < crisk_bundle_num_models(bundle); i++)
        if (strcmp(crisk_bundle_model_name(bundle, i), name) == 0)
            m = (long)i;
    if (m < 0)
        fprintf(stderr, "crisk evaluate: the bundle has no model \"%s\"\n", name);
    return m >= 0 && ranks_by_one_score(bundle, (size_t)m) ? m : -1;
}

/* Reads and scores every declaration, appending (score, label, revenue) to `*rows`
 * (malloc'd, `*n` of them). Returns 0 or a negative crisk code with `err` filled. */
static int score_all(const crisk_bundle *bundle, size_t model, cli_decl_run *run,
                     int threads, int revenue, scored **rows, size_t *n, crisk_error *err)
{
    crisk_batch *batch = NULL;
    double *extras = malloc(EVAL_BATCH_ROWS * 2 * sizeof *extras);
    size_t cap = 0;
    int rc = extras ? crisk_batch_new(crisk_bundle_schema(bundle), &batch, err)
                    : crisk_error_set(err, CRISK_E_NOMEM, "out of memory for a batch");
    crisk_score_options opts;
    crisk_score_options_init(&opts, CRISK_SCORE_OPTIONS_VERSION);
    opts.threads = threads;
    size_t nx = revenue ? 2 : 1;
    while (rc == 0) {
        size_t got;
        crisk_results *res = NULL;
        scored *grown;
        if ((rc = cli_decl_run_next(run, crisk_bundle_schema(bundle), batch, EVAL_BATCH_ROWS,
                                    extras, &got, err)) != 0 || got == 0)
            break;
        if (!(grown = cli_grow(*rows, &cap, *n + got, sizeof *grown, EVAL_BATCH_ROWS,
                               "scores", err))) {
            rc = CRISK_E_NOMEM;
            break;
        }
        *rows = grown;
        if ((rc = crisk_bundle_score(bundle, batch, &opts, &res, err)) != 0)
            break;
        for (size_t i = 0; i < got; i++) {
            scored *s = &(*rows)[*n + i];
            s->score = crisk_results_score(res, i, model);
            s->label = extras[i * nx];
            s->revenue = revenue ? extras[i * nx + 1] : 0;
            s->order = *n + i;
        }
        *n += got;
        crisk_results_free(res);
    }
    crisk_batch_free(batch);
    free(extras);
    return rc;
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
    scored *rows = NULL;
    size_t n = 0;
    const crisk_decl_extra extras[2] = {{a.label, 1, 1}, {a.revenue, 1, 0}};
    if ((rc = cli_decl_cmd_load(&a.cmd)) != 0) {
        status = rc;
        goto done;
    }
    const crisk_bundle *bundle = a.cmd.bundle;
    long model = pick_model(bundle, a.model);
    if (model < 0) {
        status = CLI_EXIT_USAGE;
        goto done;
    }
    if ((rc = cli_decl_cmd_open(&a.cmd, extras, a.revenue ? 2 : 1)) != 0) {
        status = rc;
        goto done;
    }
    if (score_all(bundle, (size_t)model, &a.cmd.run, a.cmd.threads, a.revenue != NULL, &rows,
                  &n, &err) != 0) {
        cli_report(a.cmd.run.in.name, err.message);
        goto done;
    }
    if (cli_decl_cmd_finish(&a.cmd, "scored") != 0)
        goto done;
    qsort(rows, n, sizeof *rows, by_score_desc);
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
    "  crisk evaluate --decisions SCORED.csv --outcomes FILE(.csv|.jsonl) [--score COL]\n"
    "                 [--candidate SCORED.csv [--candidate-score COL]] [--top K]\n"
    "                 [--bootstrap N] [--seed N] [--outcome-model COL]\n",
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
    "         another bundle): self-normalised and plain inverse propensity weighting\n"
    "         and doubly robust, with --bootstrap (500) intervals at 90%, the\n"
    "         effective sample size and the picks without support. Every outcome\n"
    "         not used is reported with its line. --outcome-model names a column of\n"
    "         the decisions holding a probability of a hit (e.g. a score model fitted\n"
    "         before the period) for the doubly robust estimator; by default the\n"
    "         evaluated score is calibrated on the inspected declarations.\n",
    1,
    run,
};
