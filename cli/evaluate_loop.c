/*
 * evaluate_loop.c — `crisk evaluate --decisions D --outcomes O`: joins what officers found
 * to the decisions `crisk score` wrote (by declaration id), reports every outcome that
 * cannot be used, and prints off-policy estimates for the logging policy's score and for
 * a candidate's (docs/loop.md, "Evaluation").
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The decisions, one per declaration, joined to the outcomes. */
typedef struct logged {
    size_t n, cap;
    char **ids;
    double *pi, *score, *cand, *hit, *rev, *model;
    unsigned char *d, *selected;
    char **lanes;
} logged;

typedef struct loop_args {
    const char *decisions, *outcomes, *score, *candidate, *cand_score, *top, *boot, *seed,
        *model;
} loop_args;

/* Frees what `l` holds. */
static void logged_free(logged *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->ids[i]);
        free(l->lanes[i]);
    }
    free(l->ids);
    free(l->lanes);
    free(l->pi);
    free(l->score);
    free(l->cand);
    free(l->hit);
    free(l->rev);
    free(l->model);
    free(l->d);
    free(l->selected);
}

/* Grows every array of `l` to hold one more row. Returns 0 or -1. */
static int logged_grow(logged *l)
{
    if (l->n < l->cap)
        return 0;
    size_t cap = l->cap ? 2 * l->cap : 1024;
    void **arrays[] = {(void **)&l->ids, (void **)&l->lanes, (void **)&l->pi,
                       (void **)&l->score, (void **)&l->cand, (void **)&l->hit,
                       (void **)&l->rev, (void **)&l->model, (void **)&l->d,
                       (void **)&l->selected};
    size_t sizes[] = {sizeof(char *), sizeof(char *), 8, 8, 8, 8, 8, 8, 1, 1};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        void *p = realloc(*arrays[k], cap * sizes[k]);
        if (!p)
            return -1;
        *arrays[k] = p;
    }
    l->cap = cap;
    return 0;
}

/* Returns the index of column `name` among the `n` header names, or -1. */
static long column(const char **names, size_t n, const char *name)
{
    for (size_t j = 0; j < n; j++)
        if (strcmp(names[j], name) == 0)
            return (long)j;
    return -1;
}

/* Parses a number cell; empty is NaN. Returns 0, or -1 when it is not a number. */
static int number(const char *s, double *out)
{
    char *end;
    if (!*s) {
        *out = NAN;
        return 0;
    }
    *out = strtod(s, &end);
    return *end ? -1 : 0;
}

/* Reads a CSV written by `crisk score` from `path`: per row the id (first column), the
 * score column `score` and, when `first`, the propensity, lane, whether selected and the
 * outcome model's column `model` (NULL: none); else the candidate's score. A later file
 * must list the same ids in the same order. Returns 0, or 1 after reporting. */
static int read_scores(const char *path, const char *score, const char *model, int first,
                       logged *l)
{
    FILE *f = fopen(path, "rb");
    crisk_csv_reader *r = NULL;
    crisk_error err;
    if (!f || crisk_csv_open(f, NULL, &r, &err) != 0) {
        cli_report(path, f ? err.message : "cannot open");
        if (f)
            fclose(f);
        return 1;
    }
    const char **v;
    size_t nv, row = 0;
    long cs = -1, cp = -1, cl = -1, cr = -1, cm = -1;
    int rc = crisk_csv_next(r, &v, &nv, &err) == 1 ? 0 : 1;
    if (rc == 0) {
        cs = score ? column(v, nv, score) : (nv > 1 ? 1 : -1);
        cp = column(v, nv, "propensity");
        cl = column(v, nv, "lane");
        cr = column(v, nv, "reason");
        cm = model ? column(v, nv, model) : -1;
        if (cs < 0 || (first && (cp < 0 || cl < 0 || cr < 0 || (model && cm < 0)))) {
            cli_report(path, first ? "line 1: the header needs the score and model columns, "
                                     "propensity, lane and reason (a crisk score output)"
                                   : "line 1: no such score column");
            rc = 1;
        }
    }
    int got;
    while (rc == 0 && (got = crisk_csv_next(r, &v, &nv, &err)) == 1) {
        char where[64];
        snprintf(where, sizeof where, "line %zu", crisk_csv_line(r));
        double s, p = 1, m = NAN;
        if ((size_t)cs >= nv || number(v[cs], &s) != 0 ||
            (first && ((size_t)cp >= nv || number(v[cp], &p) != 0 || !(p >= 0 && p <= 1))) ||
            (cm >= 0 && ((size_t)cm >= nv || number(v[cm], &m) != 0 || !(m >= 0 && m <= 1)))) {
            fprintf(stderr, "crisk: %s: %s: a bad score, propensity or model probability\n",
                    path, where);
            rc = 1;
            break;
        }
        if (first) {
            if (logged_grow(l) != 0 || !(l->ids[l->n] = strdup(v[0])) ||
                !(l->lanes[l->n] = strdup(v[cl]))) {
                cli_report(path, "out of memory");
                rc = 1;
                break;
            }
            l->pi[l->n] = p;
            l->model[l->n] = m;
            l->score[l->n] = s;
            l->selected[l->n] = cli_decision_selected(v[cr]);
            l->d[l->n] = 0;
            l->cand[l->n++] = s;
        } else if (row >= l->n || strcmp(l->ids[row], v[0]) != 0) {
            fprintf(stderr, "crisk: %s: %s: declaration \"%.64s\" is not the decisions' row "
                    "%zu: score the same declarations in the same order\n", path, where, v[0],
                    row + 1);
            rc = 1;
        } else {
            l->cand[row] = s;
        }
        row++;
    }
    if (rc == 0 && got < 0) {
        cli_report(path, err.message);
        rc = 1;
    }
    if (rc == 0 && !first && row != l->n) {
        fprintf(stderr, "crisk: %s: %zu rows, the decisions have %zu\n", path, row, l->n);
        rc = 1;
    }
    crisk_csv_free(r);
    fclose(f);
    return rc;
}

/* Joins the outcomes to the decisions; reports each outcome not used, with its line:
 * an unknown declaration, or one the logging policy did not select. Returns the number
 * of outcomes not used. */
static size_t join(logged *l, const crisk_outcomes *o, const char *path)
{
    size_t no = crisk_outcomes_size(o), unused = 0, missing = 0;
    unsigned char *used = calloc(no ? no : 1, 1);
    for (size_t i = 0; i < l->n; i++) {
        long k = crisk_outcomes_find(o, l->ids[i], strlen(l->ids[i]));
        l->hit[i] = NAN;
        l->rev[i] = 0;
        if (k < 0) {
            missing += l->selected[i];
            continue;
        }
        if (used)
            used[k] = 1;
        if (!l->selected[i]) {
            fprintf(stderr, "crisk: %s: line %zu: declaration %.64s was not selected by the "
                    "logged policy: outcome not used\n", path, crisk_outcomes_line(o, k),
                    l->ids[i]);
            unused++;
            continue;
        }
        l->d[i] = 1;
        l->hit[i] = crisk_outcomes_result(o, (size_t)k) > 0;
        l->rev[i] = crisk_outcomes_revenue(o, (size_t)k);
    }
    for (size_t k = 0; used && k < no; k++)
        if (!used[k] && crisk_outcomes_result(o, k) >= 0) {
            size_t len;
            const char *id = crisk_outcomes_id(o, k, &len);
            fprintf(stderr, "crisk: %s: line %zu: unknown declaration %.*s\n", path,
                    crisk_outcomes_line(o, k), (int)(len > 64 ? 64 : len), id);
            unused++;
        }
    if (missing)
        fprintf(stderr, "crisk: warning: %zu selected declarations have no outcome; they "
                "count as not inspected, which biases the estimates if they differ\n", missing);
    free(used);
    return unused;
}

/* Prints one estimate line. */
static void print_estimate(const char *name, crisk_estimate e)
{
    printf("  %-24s %.4f  [%.4f, %.4f]\n", name, e.value, e.low, e.high);
}

/* Evaluates and prints the selection by `score`. Returns 0 or 1. */
static int report(const char *title, const logged *l, const double *score, int model,
                  const crisk_offpolicy_options *opts)
{
    crisk_offpolicy_result r;
    crisk_error err;
    if (crisk_offpolicy_evaluate(l->n, l->pi, l->d, l->hit, l->rev, model ? l->model : NULL,
                                 score, opts, &r, &err) != 0) {
        cli_report(title, err.message);
        return 1;
    }
    printf("%s: top %g%% = %zu of %zu declarations, %zu of them inspected\n", title,
           100 * opts->top_share, r.selected, r.population, r.labelled);
    print_estimate("precision (snips)", r.precision_snips);
    print_estimate("precision (ipw)", r.precision_ipw);
    print_estimate("precision (dr)", r.precision_dr);
    print_estimate("precision (dr, support)", r.precision_dr_supported);
    print_estimate("recall (dr)", r.recall_dr);
    print_estimate("revenue (dr)", r.revenue_dr);
    printf("  %-24s %.1f\n", "effective sample size", r.ess);
    printf("  %-24s %zu (%.2f%% of the selection)\n", "no support", r.zero_support,
           r.selected ? 100.0 * (double)r.zero_support / (double)r.selected : 0);
    printf("  %-24s %zu (propensity < %g)\n", "near-zero support", r.near_zero,
           opts->near_zero);
    if (r.zero_support)
        fprintf(stderr, "crisk: warning: %s: %zu picks had no support under the logged "
                "policy; only the model speaks for them\n", title, r.zero_support);
    return 0;
}

/* Prints each lane's observed hit rate over its inspected declarations. */
static void lane_rates(const logged *l)
{
    printf("lanes (inspected, hit rate):");
    for (size_t i = 0; i < l->n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(l->lanes[j], l->lanes[i]) == 0;
        if (seen || !l->selected[i])
            continue;
        size_t n = 0;
        double hits = 0;
        for (size_t j = i; j < l->n; j++)
            if (l->d[j] && strcmp(l->lanes[j], l->lanes[i]) == 0) {
                n++;
                hits += l->hit[j];
            }
        printf(" %s %zu %.4f", l->lanes[i], n, n ? hits / (double)n : NAN);
    }
    printf("\n");
}

int cli_evaluate_loop(int argc, char **argv)
{
    loop_args a = {0};
    const cli_option opts[] = {
        {"--decisions", &a.decisions, NULL}, {"--outcomes", &a.outcomes, NULL},
        {"--score", &a.score, NULL},         {"--candidate", &a.candidate, NULL},
        {"--candidate-score", &a.cand_score, NULL}, {"--top", &a.top, NULL},
        {"--bootstrap", &a.boot, NULL},      {"--seed", &a.seed, NULL},
        {"--outcome-model", &a.model, NULL},
    };
    int rc = cli_parse_args("evaluate", argc, argv, opts, CLI_NOPTS(opts), 2);
    if (rc)
        return rc;
    crisk_offpolicy_options o;
    crisk_offpolicy_options_init(&o, CRISK_OFFPOLICY_OPTIONS_VERSION);
    long top = 5, boot = 500, seed = 1;
    if (cli_parse_int("--top", a.top, 1, 100, &top) || cli_parse_int("--bootstrap", a.boot, 0,
                                                                      100000, &boot) ||
        cli_parse_int("--seed", a.seed, 0, 2147483647, &seed))
        return CLI_EXIT_USAGE;
    o.top_share = (double)top / 100;
    o.bootstrap = (unsigned)boot;
    o.seed = (uint64_t)seed;
    logged l = {0};
    crisk_outcomes *out = NULL;
    crisk_error err;
    int status = CLI_EXIT_FAILURE;
    if (read_scores(a.decisions, a.score, a.model, 1, &l) != 0 ||
        (a.candidate && read_scores(a.candidate, a.cand_score, NULL, 0, &l) != 0))
        goto done;
    if (crisk_outcomes_read(a.outcomes, &out, &err) != 0) {
        cli_report(a.outcomes, err.message);
        goto done;
    }
    for (size_t k = 0; k < crisk_outcomes_num_rejects(out); k++)
        fprintf(stderr, "crisk: %s: line %zu: %s\n", a.outcomes,
                crisk_outcomes_reject_line(out, k), crisk_outcomes_reject_reason(out, k));
    size_t unused = join(&l, out, a.outcomes), used = 0;
    for (size_t i = 0; i < l.n; i++)
        used += l.d[i];
    fprintf(stderr, "outcomes used: %zu, lines rejected: %zu, not used: %zu\n", used,
            crisk_outcomes_num_rejects(out), unused);
    lane_rates(&l);
    if (report("logged policy", &l, l.score, a.model != NULL, &o) != 0 ||
        (a.candidate && report("candidate", &l, l.cand, a.model != NULL, &o) != 0))
        goto done;
    status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
done:
    crisk_outcomes_free(out);
    logged_free(&l);
    return status;
}
