/*
 * loop/offpolicy.c — off-policy estimates of a selection's precision, recall and revenue
 * from logged inspections: inverse propensity weighting (plain and self-normalised), the
 * doubly robust estimator over a binned outcome model, support and effective sample size,
 * and bootstrap percentile intervals over declarations.
 */
#include "crisk.h"

#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Quantile bins of the score for the outcome model crisk calibrates itself. */
#define MODEL_BINS 10

/* The estimates one (re)sample gives, in crisk_offpolicy_result's order. */
enum { E_IPW, E_SNIPS, E_DR, E_DR_SUP, E_RECALL, E_REVENUE, E_COUNT };

/* One evaluation's inputs, checked, with the selection and the outcome models. */
typedef struct eval {
    size_t n;
    const double *pi, *y, *r;
    const unsigned char *d;
    unsigned char *sel;  /* in the selection */
    double *m, *mr;      /* outcome models: hit probability, revenue */
} eval;

int crisk_offpolicy_options_init(crisk_offpolicy_options *opts, unsigned int version)
{
    if (!opts || version != CRISK_OFFPOLICY_OPTIONS_VERSION)
        return CRISK_E_INVALID_ARGUMENT;
    *opts = (crisk_offpolicy_options){version, 0.05, 500, 0.9, 1, 0.001};
    return 0;
}

/* Row order for the selection: score descending, NaN last, ties by row. */
typedef struct ranked {
    double s;
    size_t i;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    int xn = isnan(x->s), yn = isnan(y->s);
    if (xn != yn)
        return xn - yn;
    if (!xn && x->s != y->s)
        return x->s < y->s ? 1 : -1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Marks in e->sel the top `share` of the rows by `score`, and fills `bin` (n) with each
 * row's quantile bin of the score (NaN: bin 0). Returns 0 or CRISK_E_NOMEM. */
static int select_and_bin(eval *e, const double *score, double share, unsigned char *bin,
                          crisk_error *err)
{
    ranked *r = malloc((e->n ? e->n : 1) * sizeof *r);
    if (!r)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory ranking %zu rows", e->n);
    for (size_t i = 0; i < e->n; i++)
        r[i] = (ranked){score[i], i};
    qsort(r, e->n, sizeof *r, cmp_ranked);
    double x = share * (double)e->n;
    size_t k = (size_t)ceil(x - 1e-9 * (x > 1 ? x : 1)), finite = 0;
    for (size_t j = 0; j < e->n; j++)
        finite += !isnan(r[j].s);
    for (size_t j = 0; j < e->n; j++) {
        e->sel[r[j].i] = j < k && j < finite;
        /* rank j of `finite` from the top: bin MODEL_BINS - 1 holds the highest */
        bin[r[j].i] = j < finite ? (unsigned char)(MODEL_BINS - 1 - j * MODEL_BINS / finite)
                                 : 0;
    }
    free(r);
    return 0;
}

/* Fills the outcome models per bin: the self-normalised weighted hit rate and mean
 * revenue of the bin's inspected rows, or the overall ones for a bin with none. The
 * hit model is taken from `model` instead when given. */
static void fit_models(eval *e, const unsigned char *bin, const double *model)
{
    double w[MODEL_BINS + 1] = {0}, wy[MODEL_BINS + 1] = {0}, wr[MODEL_BINS + 1] = {0};
    for (size_t i = 0; i < e->n; i++) {
        if (!e->d[i])
            continue;
        double v = 1 / e->pi[i];
        int b[2] = {bin[i], MODEL_BINS};
        for (int t = 0; t < 2; t++) {
            w[b[t]] += v;
            wy[b[t]] += v * e->y[i];
            wr[b[t]] += v * (e->r ? e->r[i] : 0);
        }
    }
    for (size_t i = 0; i < e->n; i++) {
        int b = w[bin[i]] > 0 ? bin[i] : MODEL_BINS;
        e->m[i] = model ? model[i] : (w[b] > 0 ? wy[b] / w[b] : 0);
        e->mr[i] = w[b] > 0 ? wr[b] / w[b] : 0;
    }
}

/* Computes every estimate over the rows weighted by their multiplicity `c` (NULL: 1
 * each), into v[E_COUNT]; NaN where a denominator is 0. */
static void estimate(const eval *e, const unsigned *c, double v[E_COUNT])
{
    double ns = 0, a = 0, b = 0, dr = 0, nsup = 0, drsup = 0, all = 0, rev = 0;
    for (size_t i = 0; i < e->n; i++) {
        double k = c ? c[i] : 1;
        if (k == 0)
            continue;
        double w = e->d[i] ? 1 / e->pi[i] : 0;
        double yi = e->d[i] ? e->y[i] : 0, ri = e->d[i] && e->r ? e->r[i] : 0;
        double t = e->m[i] + w * (yi - e->m[i]);
        all += k * t;
        if (!e->sel[i])
            continue;
        ns += k;
        a += k * w * yi;
        b += k * w;
        dr += k * t;
        rev += k * (e->mr[i] + w * (ri - e->mr[i]));
        if (e->pi[i] > 0) {
            nsup += k;
            drsup += k * t;
        }
    }
    v[E_IPW] = ns > 0 ? a / ns : NAN;
    v[E_SNIPS] = b > 0 ? a / b : NAN;
    v[E_DR] = ns > 0 ? dr / ns : NAN;
    v[E_DR_SUP] = nsup > 0 ? drsup / nsup : NAN;
    v[E_RECALL] = all > 0 ? dr / all : NAN;
    v[E_REVENUE] = rev;
}

/* splitmix64: the bootstrap's generator, its state in the caller's hands. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Returns the q-quantile of the finite values among `v` (m), sorted in place; NaN when
 * there are none. */
static double quantile(double *v, size_t m, double q)
{
    size_t f = 0;
    for (size_t i = 0; i < m; i++)
        if (isfinite(v[i]))
            v[f++] = v[i];
    if (f == 0)
        return NAN;
    qsort(v, f, sizeof *v, cmp_double);
    double at = q * (double)(f - 1);
    size_t lo = (size_t)floor(at);
    size_t hi = lo + 1 < f ? lo + 1 : lo;
    return v[lo] + (at - (double)lo) * (v[hi] - v[lo]);
}

/* Fills the intervals of `est` (E_COUNT) from opts->bootstrap resamples of the rows. */
static int bootstrap(const eval *e, const crisk_offpolicy_options *opts, crisk_estimate *est,
                     crisk_error *err)
{
    size_t reps = opts->bootstrap;
    unsigned *c = malloc((e->n ? e->n : 1) * sizeof *c);
    double *vals = malloc((reps ? reps : 1) * E_COUNT * sizeof *vals);
    if (!c || !vals) {
        free(c);
        free(vals);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu bootstrap resamples",
                           reps);
    }
    uint64_t s = opts->seed;
    for (size_t b = 0; b < reps; b++) {
        memset(c, 0, e->n * sizeof *c);
        for (size_t j = 0; j < e->n; j++)
            c[next_random(&s) % e->n]++;
        double v[E_COUNT];
        estimate(e, c, v);
        for (int k = 0; k < E_COUNT; k++)
            vals[k * reps + b] = v[k];
    }
    for (int k = 0; k < E_COUNT; k++) {
        est[k].low = reps ? quantile(vals + k * reps, reps, (1 - opts->level) / 2) : NAN;
        est[k].high = reps ? quantile(vals + k * reps, reps, (1 + opts->level) / 2) : NAN;
    }
    free(c);
    free(vals);
    return 0;
}

/* Checks the arguments; names the first bad row. */
static int check_args(size_t n, const double *pi, const unsigned char *d, const double *y,
                      const double *score, const crisk_offpolicy_options *opts,
                      crisk_offpolicy_result *out, crisk_error *err)
{
    if (!pi || !d || !y || !score || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "propensity, inspected, hit, score "
                           "and out must not be NULL");
    if (opts && opts->version != CRISK_OFFPOLICY_OPTIONS_VERSION)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "crisk_offpolicy_options: unknown "
                           "version %u", opts->version);
    if (opts && (!(opts->top_share > 0) || opts->top_share > 1 || !(opts->level > 0) ||
                 opts->level >= 1 || !(opts->near_zero >= 0)))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "crisk_offpolicy_options: top_share "
                           "in (0, 1], level in (0, 1) and near_zero >= 0 required");
    for (size_t i = 0; i < n; i++) {
        if (!(pi[i] >= 0 && pi[i] <= 1))
            return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "row %zu: propensity %g is not "
                               "in [0, 1]", i, pi[i]);
        if (d[i] && pi[i] == 0)
            return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "row %zu: inspected with "
                               "propensity 0: the logging policy could not have selected it",
                               i);
        if (d[i] && !(y[i] >= 0 && y[i] <= 1))
            return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "row %zu: hit %g is not in "
                               "[0, 1]", i, y[i]);
    }
    return 0;
}

/* Counts the selection's labelled, zero- and near-zero-support rows and its ESS. */
static void support(const eval *e, double near_zero, crisk_offpolicy_result *out)
{
    double sw = 0, sw2 = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (!e->sel[i])
            continue;
        out->selected++;
        out->labelled += e->d[i];
        out->zero_support += e->pi[i] == 0;
        out->near_zero += e->pi[i] > 0 && e->pi[i] < near_zero;
        double w = e->d[i] ? 1 / e->pi[i] : 0;
        sw += w;
        sw2 += w * w;
    }
    out->ess = sw2 > 0 ? sw * sw / sw2 : 0;
}

int crisk_offpolicy_evaluate(size_t n, const double *propensity,
                             const unsigned char *inspected, const double *hit,
                             const double *revenue, const double *model, const double *score,
                             const crisk_offpolicy_options *opts, crisk_offpolicy_result *out,
                             crisk_error *err)
{
    crisk_offpolicy_options defaults;
    crisk_offpolicy_options_init(&defaults, CRISK_OFFPOLICY_OPTIONS_VERSION);
    int rc = check_args(n, propensity, inspected, hit, score, opts, out, err);
    if (rc)
        return rc;
    opts = opts ? opts : &defaults;
    eval e = {n, propensity, hit, revenue, inspected, NULL, NULL, NULL};
    size_t m = n ? n : 1;
    e.sel = calloc(m, 1);
    unsigned char *bin = calloc(m, 1);
    e.m = malloc(m * sizeof *e.m);
    e.mr = malloc(m * sizeof *e.mr);
    rc = !e.sel || !bin || !e.m || !e.mr
             ? crisk__fail(err, CRISK_E_NOMEM, "out of memory evaluating %zu rows", n)
             : select_and_bin(&e, score, opts->top_share, bin, err);
    if (rc == 0) {
        fit_models(&e, bin, model);
        *out = (crisk_offpolicy_result){0};
        out->population = n;
        support(&e, opts->near_zero, out);
        double v[E_COUNT];
        estimate(&e, NULL, v);
        crisk_estimate est[E_COUNT];
        for (int k = 0; k < E_COUNT; k++)
            est[k] = (crisk_estimate){v[k], NAN, NAN};
        rc = bootstrap(&e, opts, est, err);
        out->precision_ipw = est[E_IPW];
        out->precision_snips = est[E_SNIPS];
        out->precision_dr = est[E_DR];
        out->precision_dr_supported = est[E_DR_SUP];
        out->recall_dr = est[E_RECALL];
        out->revenue_dr = est[E_REVENUE];
    }
    free(e.sel);
    free(bin);
    free(e.m);
    free(e.mr);
    return rc;
}
