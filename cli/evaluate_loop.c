/*
 * evaluate_loop.c — `crisk evaluate --decisions D --outcomes O`: joins what officers found
 * to the decisions `crisk score` wrote (its output, or its decision log, whose leaves name
 * the bundle that decided and may hold keyed hashes of the ids), by declaration id,
 * reports every outcome that cannot be used, and prints off-policy estimates for the
 * logging policy's score and for a candidate's (docs/loop.md, "Evaluation").
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
    unsigned char *d, *selected, *hashed;
    char **lanes;
} logged;

typedef struct loop_args {
    const char *decisions, *outcomes, *score, *candidate, *cand_score, *top, *boot, *seed,
        *model, *id_key, *logged_bundle, *bundle, *input;
} loop_args;

/* --id-key: the key the decisions' ids were hashed with (crisk score --protect-ids). */
typedef struct id_key {
    const char *path;  /* NULL: none given */
    unsigned char bytes[CLI_PROTECT_KEY_MAX];
    size_t size;
} id_key;

/* Returns whether `id` is decision `row`'s id: equal, or, when the decisions hold keyed
 * hashes, equal once hashed with `key`. */
static int same_id(const logged *l, size_t row, const char *id, const id_key *key)
{
    char hash[2 * CRISK_PROTECTED_ID_BYTES + 1];
    if (!l->hashed[row])
        return strcmp(l->ids[row], id) == 0;
    return crisk_protect_id(key->bytes, key->size, id, strlen(id), hash, NULL) == 0 &&
           strcmp(l->ids[row], hash) == 0;
}

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
    free(l->hashed);
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
                       (void **)&l->selected, (void **)&l->hashed};
    size_t sizes[] = {sizeof(char *), sizeof(char *), 8, 8, 8, 8, 8, 8, 1, 1, 1};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        void *p = realloc(*arrays[k], cap * sizes[k]);
        if (!p)
            return -1;
        *arrays[k] = p;
    }
    l->cap = cap;
    return 0;
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
                       const id_key *key, logged *l)
{
    FILE *f;
    crisk_csv_reader *r;
    crisk_error err;
    if (cli_open_csv(path, &f, &r) != 0)
        return 1;
    const char **v;
    size_t nv, row = 0;
    long cs = -1, cp = -1, cl = -1, cr = -1, cm = -1;
    int rc = crisk_csv_next(r, &v, &nv, &err) == 1 ? 0 : 1;
    if (rc == 0) {
        cs = score ? cli_csv_column(v, nv, score) : (nv > 1 ? 1 : -1);
        cp = cli_csv_column(v, nv, "propensity");
        cl = cli_csv_column(v, nv, "lane");
        cr = cli_csv_column(v, nv, "reason");
        cm = model ? cli_csv_column(v, nv, model) : -1;
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
            l->hashed[l->n] = 0;
            l->d[l->n] = 0;
            l->cand[l->n++] = s;
        } else if (row >= l->n || !same_id(l, row, v[0], key)) {
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

/* The bundles whose decisions a log holds, and the one they must come from. */
#define MAX_BUNDLES 8
typedef struct log_read {
    logged *l;
    const char *path, *expected;    /* expected: --logged-bundle's digest in hex, or NULL */
    char bundles[MAX_BUNDLES][65];  /* the first MAX_BUNDLES digests seen ... */
    size_t counts[MAX_BUNDLES + 1]; /* ... their decisions, and those of any other */
    size_t nbundles, foreign;       /* digests seen; decisions not of `expected` */
    uint64_t first_foreign;
} log_read;

/* Counts a decision of bundle `digest`. */
static void count_bundle(log_read *r, const char *digest)
{
    size_t b = 0;
    while (b < r->nbundles && strcmp(r->bundles[b], digest) != 0)
        b++;
    if (b == r->nbundles && b < MAX_BUNDLES)
        snprintf(r->bundles[r->nbundles++], sizeof r->bundles[0], "%.64s", digest);
    r->counts[b]++;
}

/* Adds one decision of the log (a cli_log_fn); a decision of another bundle than
 * --logged-bundle's is counted and left out. */
static int add_leaf(void *ctx, uint64_t index, const cli_log_decision *d)
{
    log_read *r = ctx;
    logged *l = r->l;
    count_bundle(r, d->bundle);
    if (r->expected && strcmp(d->bundle, r->expected) != 0) {
        r->first_foreign = r->foreign++ ? r->first_foreign : index;
        return 0;
    }
    if (logged_grow(l) != 0 || !(l->ids[l->n] = strdup(d->id)) ||
        !(l->lanes[l->n] = strdup(d->lane))) {
        cli_report(r->path, "out of memory");
        return 1;
    }
    l->pi[l->n] = d->propensity;
    l->model[l->n] = d->model;
    l->score[l->n] = d->score;
    l->selected[l->n] = cli_decision_selected(d->reason);
    l->hashed[l->n] = (unsigned char)d->hashed;
    l->d[l->n] = 0;
    l->cand[l->n++] = d->score;
    return 0;
}

/* Says which bundles decided: the decisions of another bundle than --logged-bundle's
 * left out (their outcomes then meet no declaration), or, without it, a warning when
 * several bundles decided. */
static void report_bundles(const log_read *r)
{
    if (r->foreign)
        fprintf(stderr, "crisk: %s: %zu decisions (the first: entry %llu) were made by "
                "another bundle than --logged-bundle's %.12s...: not used\n", r->path,
                r->foreign, (unsigned long long)r->first_foreign, r->expected);
    if (r->expected || r->nbundles < 2)
        return;
    fprintf(stderr, "crisk: warning: %s: decisions of %zu bundles:", r->path, r->nbundles);
    for (size_t b = 0; b < r->nbundles; b++)
        fprintf(stderr, " %.12s... %zu,", r->bundles[b], r->counts[b]);
    fprintf(stderr, " others %zu; give --logged-bundle to keep one\n",
            r->counts[MAX_BUNDLES]);
}

/* Returns the hex digest of the bundle in `dir` in `hex`, or 1 after reporting. */
static int bundle_hex(const char *dir, char hex[65])
{
    crisk_bundle *b = NULL;
    crisk_error err;
    unsigned char digest[32];
    if (crisk_bundle_load(dir, NULL, &b, &err) != 0) {
        cli_report(dir, err.message);
        return 1;
    }
    crisk_bundle_digest(b, digest);
    crisk_bundle_free(b);
    for (size_t i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

/* Reads the decisions at `a->decisions`: the decision log, or else crisk score's CSV
 * (which names no bundle: --logged-bundle then is refused). Returns 0, or 1 after
 * reporting. */
static int read_decisions(const loop_args *a, logged *l)
{
    char hex[65];
    log_read r = {.l = l, .path = a->decisions};
    if (a->logged_bundle && bundle_hex(a->logged_bundle, hex) != 0)
        return 1;
    r.expected = a->logged_bundle ? hex : NULL;
    int rc = cli_log_read(a->decisions, a->score, a->model, add_leaf, &r);
    if (rc != CLI_LOG_NOT_A_LOG) {
        report_bundles(&r);
        return rc;
    }
    if (a->logged_bundle) {
        cli_report(a->decisions, "crisk score's output names no bundle: give its decision "
                   "log (crisk score --audit) to check --logged-bundle");
        return 1;
    }
    return read_scores(a->decisions, a->score, a->model, 1, NULL, l);
}

/* An outcome's id as a keyed hash, to join decisions logged with protected ids. */
typedef struct hashed_id {
    char hash[2 * CRISK_PROTECTED_ID_BYTES + 1];
    size_t k; /* the outcome */
} hashed_id;

/* Orders hashed ids by their hash. */
static int by_hash(const void *a, const void *b)
{
    return strcmp(((const hashed_id *)a)->hash, ((const hashed_id *)b)->hash);
}

/* Reads --id-key when the decisions hold keyed hashes of the ids, and refuses to go on
 * without it. Returns 0, or 1 after reporting. */
static int load_key(const logged *l, id_key *key)
{
    int hashed = 0;
    for (size_t i = 0; i < l->n && !hashed; i++)
        hashed = l->hashed[i];
    if (hashed && !key->path) {
        fprintf(stderr, "crisk evaluate: the decisions hold keyed hashes of the ids "
                "(crisk score --protect-ids): give the same key as --id-key\n");
        return 1;
    }
    return hashed ? cli_protect_key_read(key->path, key->bytes, &key->size) != 0 : 0;
}

/* Hashes every outcome's id with `key` and sorts them into `*out` (NULL when no key was
 * read: the decisions hold ids in clear). Returns 0, or 1 after reporting. */
static int hash_outcomes(const crisk_outcomes *o, const id_key *key, hashed_id **out)
{
    size_t n = crisk_outcomes_size(o);
    crisk_error err;
    *out = NULL;
    if (!key->size)
        return 0;
    if (!(*out = malloc((n ? n : 1) * sizeof **out))) {
        cli_report(key->path, "out of memory");
        return 1;
    }
    for (size_t k = 0; k < n; k++) {
        size_t len;
        const char *id = crisk_outcomes_id(o, k, &len);
        (*out)[k].k = k;
        if (crisk_protect_id(key->bytes, key->size, id, len, (*out)[k].hash, &err) != 0) {
            cli_report(key->path, err.message);
            return 1;
        }
    }
    qsort(*out, n, sizeof **out, by_hash);
    return 0;
}

/* Returns the outcome of decision `i` (by its id, or its keyed hash), or -1. A withdrawn
 * (conflicted) outcome is none, as crisk_outcomes_find() has it. */
static long find_outcome(const logged *l, size_t i, const crisk_outcomes *o,
                         const hashed_id *h)
{
    if (!l->hashed[i])
        return crisk_outcomes_find(o, l->ids[i], strlen(l->ids[i]));
    hashed_id want;
    snprintf(want.hash, sizeof want.hash, "%s", l->ids[i]);
    const hashed_id *hit = bsearch(&want, h, crisk_outcomes_size(o), sizeof *h, by_hash);
    return hit && crisk_outcomes_result(o, hit->k) >= 0 ? (long)hit->k : -1;
}

/* Lines the candidate's scores up with the decisions. */
typedef struct candidate_rows {
    logged *l;
    const id_key *key;
    const char *input;
    size_t row;
} candidate_rows;

/* Stores the candidate's score of the next declaration (a cli_candidate_fn), which must
 * be the next decision's. */
static int add_candidate(void *ctx, const char *id, size_t len, double score)
{
    candidate_rows *c = ctx;
    char *text = strndup(id, len);
    int same = text && c->row < c->l->n && same_id(c->l, c->row, text, c->key);
    if (!same)
        fprintf(stderr, "crisk: %s: declaration %zu (\"%.64s\") is not the decisions' "
                "row %zu: give the declarations the decisions were made on, in their "
                "order\n", c->input, c->row + 1, text ? text : "?", c->row + 1);
    free(text);
    if (!same)
        return 1;
    c->l->cand[c->row++] = score;
    return 0;
}

/* Scores the logged declarations (--input) with the candidate bundle (--bundle) into
 * l->cand. Returns 0, or 1 after reporting. */
static int score_candidate(const loop_args *a, const id_key *key, logged *l)
{
    candidate_rows c = {l, key, a->input, 0};
    if (cli_score_candidate(a->bundle, a->input, a->cand_score, add_candidate, &c) != 0)
        return 1;
    if (c.row == l->n)
        return 0;
    fprintf(stderr, "crisk: %s: %zu declarations, the decisions have %zu\n", a->input,
            c.row, l->n);
    return 1;
}

/* Joins the outcomes to the decisions; reports each outcome not used, with its line:
 * an unknown declaration, or one the logging policy did not select. Returns the number
 * of outcomes not used. */
static size_t join(logged *l, const crisk_outcomes *o, const hashed_id *h, const char *path)
{
    size_t no = crisk_outcomes_size(o), unused = 0, missing = 0;
    unsigned char *used = calloc(no ? no : 1, 1);
    for (size_t i = 0; i < l->n; i++) {
        long k = find_outcome(l, i, o, h);
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
        {"--outcome-model", &a.model, NULL}, {"--id-key", &a.id_key, NULL},
        {"--logged-bundle", &a.logged_bundle, NULL}, {"--bundle", &a.bundle, NULL},
        {"--input", &a.input, NULL},
    };
    int rc = cli_parse_args("evaluate", argc, argv, opts, CLI_NOPTS(opts), 2);
    if (rc)
        return rc;
    if (!a.bundle != !a.input || (a.bundle && a.candidate)) {
        fprintf(stderr, "crisk evaluate: the candidate is --candidate SCORED.csv, or "
                "--bundle DIR with --input (the logged declarations)\n");
        return CLI_EXIT_USAGE;
    }
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
    hashed_id *hashes = NULL;
    id_key key = {.path = a.id_key};
    if (read_decisions(&a, &l) != 0 || load_key(&l, &key) != 0 ||
        (a.candidate && read_scores(a.candidate, a.cand_score, NULL, 0, &key, &l) != 0) ||
        (a.bundle && score_candidate(&a, &key, &l) != 0))
        goto done;
    if (crisk_outcomes_read(a.outcomes, &out, &err) != 0) {
        cli_report(a.outcomes, err.message);
        goto done;
    }
    for (size_t k = 0; k < crisk_outcomes_num_rejects(out); k++)
        fprintf(stderr, "crisk: %s: line %zu: %s\n", a.outcomes,
                crisk_outcomes_reject_line(out, k), crisk_outcomes_reject_reason(out, k));
    if (hash_outcomes(out, &key, &hashes) != 0)
        goto done;
    size_t unused = join(&l, out, hashes, a.outcomes), used = 0;
    for (size_t i = 0; i < l.n; i++)
        used += l.d[i];
    fprintf(stderr, "outcomes used: %zu, lines rejected: %zu, not used: %zu\n", used,
            crisk_outcomes_num_rejects(out), unused);
    lane_rates(&l);
    if (report("logged policy", &l, l.score, a.model != NULL, &o) != 0 ||
        ((a.candidate || a.bundle) &&
         report("candidate", &l, l.cand, a.model != NULL, &o) != 0))
        goto done;
    status = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
done:
    free(hashes);
    crisk_outcomes_free(out);
    logged_free(&l);
    return status;
}
