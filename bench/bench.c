/*
 * bench.c — crisk-bench: crisk against libxgboost (and LightGBM, bench/lightgbm.c) on the
 * same models and rows, in one process. For each model shape it trains a model with the
 * peer's C API on synthetic data (5% missing), loads its text into crisk and into the
 * peer, checks that both give the same output on every row, and measures batch throughput
 * (1 and 2 threads), single-row latency (one row per call, p50 and p99) and the memory
 * each loaded model adds to the process. crisk's two-thread runs go through one
 * crisk_pool made at start, as a server would.
 * The logistic shape has no libxgboost counterpart: a crisk logistic model is built in
 * memory, checked against a double-precision dot product + sigmoid of every row, and its
 * batch throughput is set against the machine's memory bandwidth, measured in the same run
 * by a copy loop and a read loop over a buffer of the same size. Two more rows follow the
 * shapes: one declaration a call (bench/declaration.c), loading a 3M-node model, and
 * TreeSHAP contributions against libxgboost's pred_contribs (bench/contribs.c).
 * Every figure is the median of several runs. Timings on a shared machine are noisy.
 *
 * Usage: crisk-bench [--json] [--runs N] [--rows N] [--single N] [--shape NAME]...
 *                    [--cache DIR] [--clock wall|cpu] [--bundle DIR] [--lightgbm-lib PATH]
 *                    [--contrib-rows N]
 * --cache keeps each trained model as DIR/<shape>.json (.txt for LightGBM) and reuses it
 * (training is slow and is not what the bench measures); DIR is created if missing, and a
 * failure to create or write it stops the bench.
 */
#include "bench.h"

#include "crisk.h"

#include <xgboost/c_api.h>

#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

/* One model shape of the table. */
typedef struct bench_shape {
    const char *name;
    const char *objective;
    int depth;
    int classes;        /* 0 for binary */
    int rounds;         /* boosting rounds (trees = rounds x max(classes, 1)) */
    size_t features;
    size_t train_rows;
    size_t rows;        /* rows of the batch (0: --rows); only the logistic shape sets it */
    const bench_peer *peer; /* the library it is set against (NULL: none) */
} bench_shape;

static const bench_peer XGB_PEER;

static const bench_shape SHAPES[] = {
    {"anchor-d6", "binary:logistic", 6, 0, 500, 24, 5000, 0, &XGB_PEER},
    {"depth-8", "binary:logistic", 8, 0, 500, 24, 5000, 0, &XGB_PEER},
    {"depth-12", "binary:logistic", 12, 0, 500, 24, 10000, 0, &XGB_PEER},
    {"softprob-4", "multi:softprob", 6, 4, 125, 24, 5000, 0, &XGB_PEER},
    /* LightGBM's layout (<= thresholds in double, missing types); trained without NaN as
     * bench/peers.py trains it, so NaN in the scored rows reads as 0 in both. */
    {"lightgbm-d6", "binary", 6, 0, 500, 24, 20000, 0, &LIGHTGBM_PEER},
    {"logistic-1Mx200", "crisk-logistic", .features = 200, .rows = 1000000},
};
#define NSHAPES (sizeof SHAPES / sizeof SHAPES[0])

/* The rows beside the shapes: one declaration a call through the example bundle
 * (bench/declaration.c), and loading a model of 3,000,902 nodes (bench/large_model.c). */
#define DECL_ROW "declaration-1"
#define LOAD_ROW "load-3M-nodes"
#define LOAD_TREES 1466
#define LOAD_DEPTH 10
/* TreeSHAP on anchor-d6's model and rows (bench/contribs.c), --contrib-rows of them. */
#define CONTRIB_ROW "contribs-d6"

/* The measured figures of one shape. */
typedef struct bench_result {
    double crisk_rps[2], xgb_rps[2];           /* rows/s, threads 1 and 2 */
    double crisk_wall_rps1;                    /* crisk's one-thread rows/s by the wall
                                                  clock, which two threads' is set against */
    double crisk_p50, crisk_p99, xgb_p50, xgb_p99; /* single row, microseconds */
    double max_abs_diff;
    size_t rows_not_identical, rows_out_of_tolerance;
    size_t trees, crisk_model_bytes;
    double crisk_rss_kb, xgb_rss_kb;           /* resident memory each load added */
    /* Logistic shape only, bytes/s at threads 1 and 2: what crisk reads (the rows), the
     * copy loop (read + written bytes, as STREAM counts), the read loop (bytes read). */
    double crisk_bps[2], copy_bps[2], read_bps[2];
    size_t rows;                               /* rows of the batch */
} bench_result;

/* Command-line settings. */
typedef struct bench_opts {
    int json, runs;
    size_t rows, single;
    size_t contrib_rows;   /* rows of the TreeSHAP row (pred_contribs is slow) */
    const char *only[NSHAPES + 3];
    size_t nonly;
    const char *bundle;    /* the bundle of the declaration row (default models/example) */
    int lightgbm;          /* 1 when --lightgbm-lib opened LightGBM */
    const char *cache;     /* NULL, or a directory of trained models */
    crisk_pool *pool;      /* crisk's two threads, kept for every multi-threaded call */
} bench_opts;

void die(const char *what, const char *detail)
{
    fprintf(stderr, "crisk-bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(1);
}

/* Exits with libxgboost's last error when `rc` is not 0. */
static void xgb_check(int rc, const char *call)
{
    if (rc != 0)
        die(call, XGBGetLastError());
}

/* The clock of the throughput measurements: CLOCK_MONOTONIC (wall), or with --clock cpu
 * the calling thread's CPU time, which a loaded machine's scheduler does not inflate
 * (one thread only: 2-thread throughput and single-row latency are always wall time). */
static clockid_t bench_clock = CLOCK_MONOTONIC;

/* Returns the time of bench_clock in seconds. */
double now(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Returns the process's resident memory in KiB, from /proc/self/statm, after handing
 * freed heap back to the system (so that a parser's freed scratch does not count). */
static double rss_kb(void)
{
    malloc_trim(0);
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (double)resident * 4.0;
}

/* qsort comparison of doubles. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_state = 88172645463325252ull;

/* Returns a uniform double in [0, 1). */
static double unit(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* Fills `n` rows of `F` features in [-2, 2) (a fraction `missing` of them NaN) and, if `y`
 * is not NULL, labels: a class out of `classes` (or 0/1) from a noisy nonlinear score of
 * the first features. */
static void synth(float *x, float *y, size_t n, size_t F, int classes, double missing)
{
    for (size_t i = 0; i < n; i++) {
        double s = 0.0;
        for (size_t f = 0; f < F; f++) {
            double v = unit() * 4.0 - 2.0;
            if (f < 8)
                s += (f % 2 ? v * v - 1.3 : sin(2.0 * v)) / (double)(f + 1);
            x[i * F + f] = unit() < missing ? NAN : (float)v;
        }
        s += 0.5 * (unit() - 0.5);
        if (y) {
            int k = classes ? classes : 2;
            int c = (int)floor((tanh(s) + 1.0) / 2.0 * k);
            y[i] = (float)(c < 0 ? 0 : c >= k ? k - 1 : c);
        }
    }
}

/* Trains a booster of `shape` with libxgboost and returns it. */
static BoosterHandle train(const bench_shape *shape)
{
    size_t n = shape->train_rows, F = shape->features;
    float *x = malloc(n * F * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y)
        die("out of memory", NULL);
    synth(x, y, n, F, shape->classes, 0.05);
    DMatrixHandle dm;
    BoosterHandle b;
    char buf[32];
    xgb_check(XGDMatrixCreateFromMat(x, n, F, NAN, &dm), "XGDMatrixCreateFromMat");
    xgb_check(XGDMatrixSetFloatInfo(dm, "label", y, n), "XGDMatrixSetFloatInfo");
    xgb_check(XGBoosterCreate(&dm, 1, &b), "XGBoosterCreate");
    xgb_check(XGBoosterSetParam(b, "objective", shape->objective), "objective");
    snprintf(buf, sizeof buf, "%d", shape->depth);
    xgb_check(XGBoosterSetParam(b, "max_depth", buf), "max_depth");
    xgb_check(XGBoosterSetParam(b, "tree_method", "hist"), "tree_method");
    xgb_check(XGBoosterSetParam(b, "eta", "0.1"), "eta");
    xgb_check(XGBoosterSetParam(b, "min_child_weight", "0.01"), "min_child_weight");
    xgb_check(XGBoosterSetParam(b, "nthread", "2"), "nthread");
    if (shape->classes) {
        snprintf(buf, sizeof buf, "%d", shape->classes);
        xgb_check(XGBoosterSetParam(b, "num_class", buf), "num_class");
    }
    for (int it = 0; it < shape->rounds; it++)
        xgb_check(XGBoosterUpdateOneIter(b, it, dm), "XGBoosterUpdateOneIter");
    XGDMatrixFree(dm);
    free(x);
    free(y);
    return b;
}

/* Predicts `n` rows with libxgboost's in-place dense prediction and returns its output
 * buffer (owned by the booster, valid until its next call). */
static const float *xgb_predict(BoosterHandle b, const float *x, size_t n, size_t F)
{
    char values[256];
    snprintf(values, sizeof values,
             "{\"data\": [%llu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", "
             "\"version\": 3}",
             (unsigned long long)(uintptr_t)x, n, F);
    static const char config[] = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                                 "\"iteration_end\": 0, \"strict_shape\": false, \"cache_id\": 0, "
                                 "\"missing\": NaN}";
    const bst_ulong *shape;
    bst_ulong dim;
    const float *out;
    xgb_check(XGBoosterPredictFromDense(b, values, config, NULL, &shape, &dim, &out),
              "XGBoosterPredictFromDense");
    return out;
}

/* XGB_PEER.load: libxgboost's booster of the model JSON. */
static void *xgb_load(const char *text, size_t len)
{
    BoosterHandle b;
    xgb_check(XGBoosterCreate(NULL, 0, &b), "XGBoosterCreate");
    xgb_check(XGBoosterLoadModelFromBuffer(b, text, len), "XGBoosterLoadModelFromBuffer");
    return b;
}

static void xgb_set_threads(void *h, int threads)
{
    char nt[16];
    snprintf(nt, sizeof nt, "%d", threads);
    xgb_check(XGBoosterSetParam(h, "nthread", nt), "nthread");
}

static const float *xgb_peer_predict(void *h, const float *x, size_t n, size_t F)
{
    return xgb_predict(h, x, n, F);
}

static void xgb_free(void *h)
{
    XGBoosterFree(h);
}

static const bench_peer XGB_PEER = {"libxgboost", "json", xgb_load, xgb_set_threads,
                                    xgb_peer_predict, xgb_free};

/* Scores `n` rows with crisk on `threads` threads (of `pool`) into `out`. */
static void crisk_run(const crisk_model *m, const float *x, size_t n, int threads,
                      crisk_pool *pool, float *out)
{
    crisk_predict_options o;
    crisk_predict_options_init(&o, CRISK_PREDICT_OPTIONS_VERSION);
    o.threads = threads;
    o.pool = pool;
    crisk_error err;
    if (crisk_predict(m, x, n, crisk_model_num_features(m), &o, out, &err) != 0)
        die("crisk_predict", err.message);
}

/* Runs crisk_run once and stores its duration in seconds by the bench's clock in *clock_s
 * and by the wall clock in *wall_s. */
static void timed_crisk_run(const crisk_model *m, const float *x, size_t n, int threads,
                            crisk_pool *pool, float *out, double *clock_s, double *wall_s)
{
    double w0 = wall(), t0 = now();
    crisk_run(m, x, n, threads, pool, out);
    *clock_s = now() - t0;
    *wall_s = wall() - w0;
}

/* Returns the distance in units in the last place between two finite floats. */
static uint32_t ulps(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if (ia < 0)
        ia = (int32_t)(0x80000000u - (uint32_t)ia);
    if (ib < 0)
        ib = (int32_t)(0x80000000u - (uint32_t)ib);
    int64_t d = (int64_t)ia - (int64_t)ib;
    return (uint32_t)(d < 0 ? -d : d);
}

/* Compares crisk's and libxgboost's outputs for every row into `r`. */
static void compare(const float *a, const float *b, size_t n, size_t per_row, bench_result *r)
{
    for (size_t i = 0; i < n; i++) {
        int identical = 1, within = 1;
        for (size_t k = 0; k < per_row; k++) {
            float x = a[i * per_row + k], y = b[i * per_row + k];
            double d = fabs((double)x - (double)y);
            if (memcmp(&x, &y, sizeof x) != 0)
                identical = 0;
            if (!(d <= 1e-6 || ulps(x, y) <= 4))
                within = 0;
            if (d > r->max_abs_diff || isnan(d))
                r->max_abs_diff = isnan(d) ? INFINITY : d;
        }
        r->rows_not_identical += !identical;
        r->rows_out_of_tolerance += !within;
    }
}

/* Writes `n` bytes to `path`, or exits naming it: a cache that caches nothing would
 * send every later run (and bench/peers.py) looking for a model that is not there. */
static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0)
        die("cannot write the cache file", path);
}

/* Creates the cache directory `dir` (its parent must exist) unless it is one already, or
 * exits naming it, so that --cache never silently caches nothing. */
static void make_cache_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0777) != 0 && !(errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
        die("--cache: cannot create the directory", dir);
}

/* Trains a LightGBM model of `shape` on rows without NaN; returns its text. */
static char *lightgbm_model_text(const bench_shape *shape, size_t *len)
{
    size_t n = shape->train_rows, F = shape->features;
    float *x = malloc(n * F * sizeof *x), *y = malloc(n * sizeof *y);
    if (!x || !y)
        die("out of memory", NULL);
    synth(x, y, n, F, shape->classes, 0.0);
    char *text = lightgbm_train(x, y, n, F, shape->depth, shape->rounds, len);
    free(x);
    free(y);
    return text;
}

/* Returns the text of a model of `shape` (its length in *len): read from the cache
 * directory when it holds one, else trained by the shape's peer (and then saved there). */
static char *model_text_of(const bench_shape *shape, const bench_opts *o, size_t *len)
{
    char path[4096];
    FILE *f = NULL;
    if (o->cache) {
        snprintf(path, sizeof path, "%s/%s.%s", o->cache, shape->name, shape->peer->ext);
        f = fopen(path, "rb");
    }
    if (f) {
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *text = malloc((size_t)size);
        if (size <= 0 || !text || fread(text, 1, (size_t)size, f) != (size_t)size)
            die("cannot read the cached model", path);
        fclose(f);
        *len = (size_t)size;
        return text;
    }
    if (shape->peer == &LIGHTGBM_PEER) {
        char *text = lightgbm_model_text(shape, len);
        if (o->cache)
            write_file(path, text, *len);
        return text;
    }
    BoosterHandle trained = train(shape);
    bst_ulong n;
    const char *json;
    xgb_check(XGBoosterSaveModelToBuffer(trained, "{\"format\": \"json\"}", &n, &json),
              "XGBoosterSaveModelToBuffer");
    char *text = malloc(n);
    if (!text)
        die("out of memory", NULL);
    memcpy(text, json, n);
    XGBoosterFree(trained);
    if (o->cache)
        write_file(path, text, n);
    *len = n;
    return text;
}

/* Measures one row per call on the calling thread over the first --single rows of `x` (n
 * rows): crisk, then peer `p` (its model `h`) on one thread unless `p` is NULL; stores in `r` the
 * medians over --runs of each run's p50 and p99 in microseconds. `out` takes the outputs.
 * Latency is wall time: reading a thread's CPU clock is a system call that would dwarf it. */
static void single_row_latency(const crisk_model *m, const bench_peer *p, void *h,
                               const float *x, size_t n,
                               const bench_opts *o, float *out, bench_result *r)
{
    size_t F = crisk_model_num_features(m), S = o->single < n ? o->single : n;
    double *lat = malloc(S * sizeof *lat);
    double *p50 = malloc((size_t)o->runs * 2 * sizeof *p50), *p99 = p50 + o->runs;
    if (!lat || !p50)
        die("out of memory", NULL);
    if (p)
        p->set_threads(h, 1);
    clockid_t chosen = bench_clock;
    bench_clock = CLOCK_MONOTONIC;
    for (int lib = 0; lib < (p ? 2 : 1); lib++) {
        for (int run = 0; run < o->runs; run++) {
            for (size_t i = 0; i < S; i++) {
                double t0 = now();
                if (lib == 0)
                    crisk_run(m, x + i * F, 1, 1, o->pool, out);
                else
                    p->predict(h, x + i * F, 1, F);
                lat[i] = (now() - t0) * 1e6;
            }
            p50[run] = quantile(lat, S, 0.5);
            p99[run] = quantile(lat, S, 0.99);
        }
        double *m50 = lib ? &r->xgb_p50 : &r->crisk_p50, *m99 = lib ? &r->xgb_p99 : &r->crisk_p99;
        *m50 = quantile(p50, (size_t)o->runs, 0.5);
        *m99 = quantile(p99, (size_t)o->runs, 0.5);
    }
    bench_clock = chosen;
    free(lat);
    free(p50);
}

/* Measures one shape and fills `r`. */
static void run_shape(const bench_shape *shape, const bench_opts *o, bench_result *r)
{
    memset(r, 0, sizeof *r);
    size_t len;
    char *model_json = model_text_of(shape, o, &len);
    const bench_peer *p = shape->peer;

    /* Each library loads the same text; the resident memory each load adds is noted. */
    double before = rss_kb();
    void *b = p->load(model_json, len);
    p->predict(b, (const float[64]){0}, 1, shape->features);  /* finish lazy set-up */
    r->xgb_rss_kb = rss_kb() - before;
    before = rss_kb();
    crisk_model *m;
    crisk_error err;
    if (crisk_model_load_buffer(model_json, len, &m, &err) != 0)
        die("crisk_model_load_buffer", err.message);
    r->crisk_rss_kb = rss_kb() - before;
    free(model_json);
    crisk_model_info info;
    crisk_model_get_info(m, &info);
    r->trees = info.num_trees;
    r->crisk_model_bytes = info.memory_bytes;

    size_t n = o->rows, F = shape->features, per_row = crisk_model_num_outputs(m);
    float *x = malloc(n * F * sizeof *x), *out = malloc(n * per_row * sizeof *out);
    float *ref = malloc(n * per_row * sizeof *ref);
    double *t = malloc((size_t)o->runs * 2 * sizeof *t), *tw = t + o->runs;
    if (!x || !out || !ref || !t)
        die("out of memory", NULL);
    r->rows = n;
    synth(x, NULL, n, F, shape->classes, 0.05);

    /* Agreement on every row, before any timing. */
    crisk_run(m, x, n, 1, o->pool, out);
    memcpy(ref, p->predict(b, x, n, F), n * per_row * sizeof *ref);
    compare(out, ref, n, per_row, r);
    crisk_run(m, x, n, 2, o->pool, out);
    compare(out, ref, n, per_row, r);

    for (int threads = 1; threads <= 2; threads++) {
        p->set_threads(b, threads);
        clockid_t chosen = bench_clock;
        if (threads > 1)
            bench_clock = CLOCK_MONOTONIC;
        for (int run = 0; run < o->runs; run++) {
            double clock_s, wall_s;
            timed_crisk_run(m, x, n, threads, o->pool, out, &clock_s, &wall_s);
            t[run] = (double)n / clock_s;
            tw[run] = (double)n / wall_s;
        }
        r->crisk_rps[threads - 1] = quantile(t, (size_t)o->runs, 0.5);
        if (threads == 1)
            r->crisk_wall_rps1 = quantile(tw, (size_t)o->runs, 0.5);
        for (int run = 0; run < o->runs; run++) {
            double t0 = now();
            p->predict(b, x, n, F);
            t[run] = (double)n / (now() - t0);
        }
        r->xgb_rps[threads - 1] = quantile(t, (size_t)o->runs, 0.5);
        bench_clock = chosen;
    }

    single_row_latency(m, p, b, x, n, o, out, r);
    free(x);
    free(out);
    free(ref);
    free(t);
    crisk_model_free(m);
    p->free(b);
}

/* Appends printf-style text to `buf` (capacity `cap`, `*len` used); exits if it overflows. */
static void append(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= cap - *len)
        die("model text overflows its buffer", NULL);
    *len += (size_t)k;
}

/* Appends `n` doubles as a JSON array, with enough digits to round-trip. */
static void append_numbers(char *buf, size_t cap, size_t *len, const double *v, size_t n)
{
    append(buf, cap, len, "[");
    for (size_t i = 0; i < n; i++)
        append(buf, cap, len, "%s%.17g", i ? ", " : "", v[i]);
    append(buf, cap, len, "]");
}

/* Draws a binary logistic model of F features with standardisation (coef, mean, scale: F
 * values each; *intercept) and returns its text in crisk's logistic format
 * (docs/logistic-format.md), malloc'd. The margins of rows in [-2, 2) spread over about
 * +-2, so probabilities are not saturated. */
static char *logistic_model(size_t F, double *coef, double *mean, double *scale,
                            double *intercept)
{
    for (size_t f = 0; f < F; f++) {
        coef[f] = (unit() - 0.5) * 0.2;
        mean[f] = (unit() - 0.5) * 2.0;
        scale[f] = 0.5 + unit();
    }
    *intercept = unit() - 0.5;
    size_t cap = 256 + F * 90, len = 0;
    char *t = malloc(cap);
    if (!t)
        die("out of memory", NULL);
    append(t, cap, &len, "{\"format\": \"crisk-logistic\", \"version\": 1, \"feature_names\": [");
    for (size_t f = 0; f < F; f++)
        append(t, cap, &len, "%s\"f%zu\"", f ? ", " : "", f);
    append(t, cap, &len, "], \"classes\": [0, 1], \"multi_class\": \"binary\", \"coef\": [");
    append_numbers(t, cap, &len, coef, F);
    append(t, cap, &len, "], \"intercept\": [%.17g], \"standardize\": {\"mean\": ", *intercept);
    append_numbers(t, cap, &len, mean, F);
    append(t, cap, &len, ", \"scale\": ");
    append_numbers(t, cap, &len, scale, F);
    append(t, cap, &len, "}}");
    return t;
}

/* Writes to `p` the probability of each of `n` rows as the format defines it, computed
 * independently of crisk (no folding): a double-precision dot product of coef with
 * z = (x - mean) / scale, plus the intercept, through the sigmoid. */
static void logistic_reference(const float *x, size_t n, size_t F, const double *coef,
                               const double *mean, const double *scale, double intercept,
                               double *p)
{
    for (size_t i = 0; i < n; i++) {
        double margin = intercept;
        for (size_t f = 0; f < F; f++)
            margin += coef[f] * (((double)x[i * F + f] - mean[f]) / scale[f]);
        p[i] = 1.0 / (1.0 + exp(-margin));
    }
}

/* Compares crisk's probabilities `out` with the reference `p` (n rows) into `r`: identical
 * means equal to the reference rounded to float; the tolerance is 1e-6. */
static void compare_reference(const float *out, const double *p, size_t n, bench_result *r)
{
    for (size_t i = 0; i < n; i++) {
        float pf = (float)p[i];
        double d = fabs((double)out[i] - p[i]);
        r->rows_not_identical += memcmp(&pf, &out[i], sizeof pf) != 0;
        r->rows_out_of_tolerance += !(d <= 1e-6);
        if (d > r->max_abs_diff || isnan(d))
            r->max_abs_diff = isnan(d) ? INFINITY : d;
    }
}

/* One thread's slice of a bandwidth loop. */
typedef struct bw_slice {
    const unsigned char *src;
    unsigned char *dst;     /* NULL: read only */
    size_t bytes;
    uint64_t sum;           /* what the read loop computed, so that it is not optimised out */
} bw_slice;

/* Runs one slice (a pthread start routine; returns NULL): memcpy of src to dst, or a read
 * loop summing src's 64-bit words in four independent chains, so that the adds are not
 * what limits it. glibc's memcpy streams copies this large with non-temporal stores, so
 * its memory traffic is the bytes read plus the bytes written (no read for ownership). */
static void *bw_run(void *arg)
{
    bw_slice *s = arg;
    if (s->dst) {
        memcpy(s->dst, s->src, s->bytes);
        return NULL;
    }
    uint64_t acc[4] = {0, 0, 0, 0}, w[4];
    for (size_t i = 0; i + sizeof w <= s->bytes; i += sizeof w) {
        memcpy(w, s->src + i, sizeof w);
        for (int k = 0; k < 4; k++)
            acc[k] += w[k];
    }
    s->sum = acc[0] ^ acc[1] ^ acc[2] ^ acc[3];
    return NULL;
}

/* Returns the seconds `threads` (1 or 2) threads take to copy `bytes` from src to dst
 * (dst not NULL) or to read src, each taking an equal, cache-line aligned slice. */
static double bw_time(const void *src, void *dst, size_t bytes, int threads)
{
    bw_slice s[2];
    pthread_t tid;
    size_t part = bytes / (size_t)threads / 64 * 64;
    for (int t = 0; t < threads; t++)
        s[t] = (bw_slice){(const unsigned char *)src + (size_t)t * part,
                          dst ? (unsigned char *)dst + (size_t)t * part : NULL,
                          t == threads - 1 ? bytes - (size_t)t * part : part, 0};
    double t0 = now();
    if (threads > 1 && pthread_create(&tid, NULL, bw_run, &s[1]) != 0)
        die("pthread_create", NULL);
    bw_run(&s[0]);
    if (threads > 1)
        pthread_join(tid, NULL);
    return now() - t0;
}

/* Measures the logistic shape and fills `r`: builds the model in memory, checks crisk's
 * outputs (1 and 2 threads) against logistic_reference on every row, then times crisk, the
 * copy loop and the read loop over buffers of the rows' size on 1 and 2 threads, one run of
 * each in turn so that the machine's load weighs on the three alike. crisk's bytes are the
 * rows it reads (the 4 bytes per row it writes, 0.5%, are not counted); the copy's are
 * read + written bytes, as STREAM counts them; the read loop's are the bytes read. */
static void run_logistic(const bench_shape *shape, const bench_opts *o, bench_result *r)
{
    memset(r, 0, sizeof *r);
    size_t n = shape->rows, F = shape->features, bytes = n * F * sizeof(float);
    double *params = malloc(3 * F * sizeof *params), intercept;
    if (!params)
        die("out of memory", NULL);
    char *json = logistic_model(F, params, params + F, params + 2 * F, &intercept);
    double before = rss_kb();
    crisk_model *m;
    crisk_error err;
    if (crisk_model_load_buffer(json, strlen(json), &m, &err) != 0)
        die("crisk_model_load_buffer", err.message);
    r->crisk_rss_kb = rss_kb() - before;
    free(json);
    crisk_model_info info;
    crisk_model_get_info(m, &info);
    r->crisk_model_bytes = info.memory_bytes;
    r->rows = n;

    float *x = malloc(bytes), *out = malloc(n * sizeof *out);
    double *p = malloc(n * sizeof *p);
    if (!x || !out || !p)
        die("out of memory", NULL);
    synth(x, NULL, n, F, 0, 0.0);
    logistic_reference(x, n, F, params, params + F, params + 2 * F, intercept, p);
    for (int threads = 1; threads <= 2; threads++) {
        crisk_run(m, x, n, threads, o->pool, out);
        compare_reference(out, p, n, r);
    }
    free(p);
    free(params);

    unsigned char *dst = malloc(bytes);
    double *t = malloc((size_t)o->runs * 4 * sizeof *t), *tc = t + o->runs, *tr = tc + o->runs;
    double *tw = tr + o->runs;
    if (!dst || !t)
        die("out of memory", NULL);
    memset(dst, 0, bytes);   /* fault its pages in before any timing */
    for (int threads = 1; threads <= 2; threads++) {
        clockid_t chosen = bench_clock;
        if (threads > 1)
            bench_clock = CLOCK_MONOTONIC;
        for (int run = 0; run < o->runs; run++) {
            double clock_s, wall_s;
            timed_crisk_run(m, x, n, threads, o->pool, out, &clock_s, &wall_s);
            t[run] = (double)bytes / clock_s;
            tw[run] = (double)n / wall_s;
            tc[run] = 2.0 * (double)bytes / bw_time(x, dst, bytes, threads);
            tr[run] = (double)bytes / bw_time(x, NULL, bytes, threads);
        }
        r->crisk_bps[threads - 1] = quantile(t, (size_t)o->runs, 0.5);
        r->crisk_rps[threads - 1] = r->crisk_bps[threads - 1] / (double)(F * sizeof(float));
        if (threads == 1)
            r->crisk_wall_rps1 = quantile(tw, (size_t)o->runs, 0.5);
        r->copy_bps[threads - 1] = quantile(tc, (size_t)o->runs, 0.5);
        r->read_bps[threads - 1] = quantile(tr, (size_t)o->runs, 0.5);
        bench_clock = chosen;
    }
    free(dst);
    free(t);
    single_row_latency(m, NULL, NULL, x, n, o, out, r);
    free(x);
    free(out);
    crisk_model_free(m);
}

/* Prints, for the JSON array, the fields only the logistic shape has: bandwidths in bytes/s
 * and crisk's ratios to the copy and read loops, at threads 1 and 2. */
static void print_bandwidth_json(const bench_result *r)
{
    printf(", \"reference\": \"double dot product + sigmoid\", \"bytes_per_s\": "
           "{\"crisk_reads\": [%.4g, %.4g], \"copy_read_plus_written\": [%.4g, %.4g], "
           "\"read_loop\": [%.4g, %.4g]}, \"crisk_over_copy\": [%.3f, %.3f], "
           "\"crisk_over_read_loop\": [%.3f, %.3f]",
           r->crisk_bps[0], r->crisk_bps[1], r->copy_bps[0], r->copy_bps[1], r->read_bps[0],
           r->read_bps[1], r->crisk_bps[0] / r->copy_bps[0], r->crisk_bps[1] / r->copy_bps[1],
           r->crisk_bps[0] / r->read_bps[0], r->crisk_bps[1] / r->read_bps[1]);
}

/* Prints the table's line of bandwidths under the logistic shape's row (GB = 1e9 bytes). */
static void print_bandwidth(const bench_result *r)
{
    printf("%-16s crisk reads %.2f / %.2f GB/s (1t / 2t); copy loop %.2f / %.2f GB/s (read + "
           "written); read loop %.2f / %.2f GB/s;\n%-16s crisk / copy %.2f / %.2f; crisk / "
           "read loop %.2f / %.2f\n",
           "", r->crisk_bps[0] * 1e-9, r->crisk_bps[1] * 1e-9, r->copy_bps[0] * 1e-9,
           r->copy_bps[1] * 1e-9, r->read_bps[0] * 1e-9, r->read_bps[1] * 1e-9, "",
           r->crisk_bps[0] / r->copy_bps[0], r->crisk_bps[1] / r->copy_bps[1],
           r->crisk_bps[0] / r->read_bps[0], r->crisk_bps[1] / r->read_bps[1]);
}

/* Prints one shape's row of the table, or of the JSON array. A shape without libxgboost
 * (the logistic one) shows "-" (JSON null) in libxgboost's columns, and its bandwidths. */
static void print_result(const bench_shape *s, const bench_result *r, const bench_opts *o,
                         int first)
{
    int xgb = !s->rows;
    if (o->json) {
        printf("%s  {\"shape\": \"%s\"", first ? "" : ",\n", s->name);
        printf(", \"trees\": %zu, \"rows\": %zu, \"runs\": %d, \"crisk_rows_per_s\": [%.0f, %.0f], "
               "\"crisk_single_us\": {\"p50\": %.3f, \"p99\": %.3f}, \"max_abs_diff\": %.3g, "
               "\"rows_not_identical\": %zu, \"crisk_model_bytes\": %zu, "
               "\"crisk_load_rss_kb\": %.0f, \"crisk_two_thread_scaling\": %.3f",
               r->trees, r->rows, o->runs, r->crisk_rps[0], r->crisk_rps[1], r->crisk_p50,
               r->crisk_p99, r->max_abs_diff, r->rows_not_identical, r->crisk_model_bytes,
               r->crisk_rss_kb, r->crisk_rps[1] / r->crisk_wall_rps1);
        if (xgb)
            printf(", \"peer\": \"%s\", \"xgboost_rows_per_s\": [%.0f, %.0f], "
                   "\"xgboost_single_us\": {\"p50\": %.3f, \"p99\": %.3f}, "
                   "\"xgboost_load_rss_kb\": %.0f}", s->peer->name,
                   r->xgb_rps[0], r->xgb_rps[1], r->xgb_p50, r->xgb_p99, r->xgb_rss_kb);
        else {
            printf(", \"xgboost_rows_per_s\": null, \"xgboost_single_us\": null, "
                   "\"xgboost_load_rss_kb\": null");
            print_bandwidth_json(r);
            printf("}");
        }
        return;
    }
    if (first)
        printf("%-16s %5s | %10s %10s %6s | %10s %10s %6s %6s | %13s %13s | %9s %6s | %9s %9s "
               "%9s\n",
               "shape", "trees", "crisk 1t", "peer 1t", "ratio", "crisk 2t", "peer 2t", "ratio",
               "2t/1t", "crisk p50/p99", "peer p50/p99", "max diff", "!ident",
               "crisk KiB", "peer KiB", "model KiB");
    char x1[16] = "-", r1[16] = "-", x2[16] = "-", r2[16] = "-", xl[16] = "-", xk[16] = "-";
    if (xgb) {
        snprintf(x1, sizeof x1, "%.0f", r->xgb_rps[0]);
        snprintf(r1, sizeof r1, "%.1f", r->crisk_rps[0] / r->xgb_rps[0]);
        snprintf(x2, sizeof x2, "%.0f", r->xgb_rps[1]);
        snprintf(r2, sizeof r2, "%.1f", r->crisk_rps[1] / r->xgb_rps[1]);
        snprintf(xl, sizeof xl, "%6.1f/%6.1f", r->xgb_p50, r->xgb_p99);
        snprintf(xk, sizeof xk, "%.0f", r->xgb_rss_kb);
    }
    printf("%-16s %5zu | %10.0f %10s %6s | %10.0f %10s %6s %6.2f | %6.2f/%6.2f %13s | "
           "%9.2g %6zu | %9.0f %9s %9zu\n",
           s->name, r->trees, r->crisk_rps[0], x1, r1, r->crisk_rps[1], x2, r2,
           r->crisk_rps[1] / r->crisk_wall_rps1, r->crisk_p50, r->crisk_p99, xl, r->max_abs_diff,
           r->rows_not_identical, r->crisk_rss_kb, xk, r->crisk_model_bytes / 1024);
    if (!xgb)
        print_bandwidth(r);
}

/* Returns 1 if `name` is a shape or one of the two other rows. */
static int known(const char *name)
{
    for (size_t s = 0; s < NSHAPES; s++)
        if (strcmp(SHAPES[s].name, name) == 0)
            return 1;
    return strcmp(name, DECL_ROW) == 0 || strcmp(name, LOAD_ROW) == 0 ||
           strcmp(name, CONTRIB_ROW) == 0;
}

/* Measures and prints the one-declaration row (bench/declaration.c). */
static void run_declaration_row(const bench_opts *o, int first)
{
    char csv[4096];
    snprintf(csv, sizeof csv, "%s/declarations.csv", o->bundle);
    decl_latency d;
    bench_declaration(o->bundle, csv, o->single, o->runs, &d);
    if (o->json)
        printf("%s  {\"shape\": \"%s\", \"bundle\": \"%s\", \"declarations\": %zu, "
               "\"calls\": %zu, \"runs\": %d, \"crisk_single_us\": {\"p50\": %.3f, "
               "\"p99\": %.3f}, \"lanes_differing_from_batch\": %zu}",
               first ? "" : ",\n", DECL_ROW, o->bundle, d.declarations, d.calls, o->runs, d.p50,
               d.p99, d.lanes_differing);
    else
        printf("%-16s one declaration a call (%s, %zu declarations cycled, %zu calls a run): "
               "text -> lane p50 %.2f us, p99 %.2f us (wall); lanes unlike one batch's: %zu\n",
               DECL_ROW, o->bundle, d.declarations, d.calls, d.p50, d.p99, d.lanes_differing);
    fflush(stdout);
}

/* Measures and prints the load row: a model of LOAD_TREES full trees of depth LOAD_DEPTH
 * (3,000,902 nodes) loaded from its JSON text by crisk and by libxgboost, median seconds
 * of --runs loads each by the bench's clock; then both score --rows rows, which must agree.
 * Returns 1 when they do not. */
static int run_load_row(const bench_opts *o, int first)
{
    size_t len, F = 24, n = o->rows;
    char *json = large_model_json(LOAD_TREES, LOAD_DEPTH, F, 20261207ull, &len);
    double *t = malloc(2 * (size_t)o->runs * sizeof *t), *tx = t + o->runs;
    float *x = malloc(n * F * sizeof *x), *out = malloc(n * sizeof *out);
    if (!t || !x || !out)
        die("out of memory", NULL);
    crisk_model *m = NULL;
    void *b = NULL;
    crisk_error err;
    for (int run = 0; run < o->runs; run++) {
        crisk_model_free(m);
        double t0 = now();
        if (crisk_model_load_buffer(json, len, &m, &err) != 0)
            die("crisk_model_load_buffer", err.message);
        t[run] = now() - t0;
        if (b)
            xgb_free(b);
        t0 = now();
        b = xgb_load(json, len);
        tx[run] = now() - t0;
    }
    free(json);
    crisk_model_info info;
    crisk_model_get_info(m, &info);
    bench_result r = {0};
    synth(x, NULL, n, F, 0, 0.05);
    crisk_run(m, x, n, 1, o->pool, out);
    compare(out, xgb_predict(b, x, n, F), n, 1, &r);
    double crisk_s = quantile(t, (size_t)o->runs, 0.5), xgb_s = quantile(tx, (size_t)o->runs, 0.5);
    if (o->json)
        printf("%s  {\"shape\": \"%s\", \"nodes\": %zu, \"json_bytes\": %zu, \"runs\": %d, "
               "\"crisk_load_s\": %.4f, \"xgboost_load_s\": %.4f, \"rows\": %zu, "
               "\"max_abs_diff\": %.3g, \"rows_not_identical\": %zu}",
               first ? "" : ",\n", LOAD_ROW, info.num_nodes, len, o->runs, crisk_s, xgb_s, n,
               r.max_abs_diff, r.rows_not_identical);
    else
        printf("%-16s %zu nodes (%zu trees, depth %d; %.0f MB of JSON) loaded from memory: "
               "crisk %.3f s, libxgboost %.3f s (%s clock); %zu rows: max diff %.2g, "
               "!ident %zu\n",
               LOAD_ROW, info.num_nodes, info.num_trees, LOAD_DEPTH, (double)len / 1e6, crisk_s,
               xgb_s, bench_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU", n, r.max_abs_diff,
               r.rows_not_identical);
    fflush(stdout);
    crisk_model_free(m);
    xgb_free(b);
    free(t);
    free(x);
    free(out);
    if (r.rows_out_of_tolerance)
        fprintf(stderr, "crisk-bench: %s: %zu rows differ from libxgboost beyond the tolerance\n",
                LOAD_ROW, r.rows_out_of_tolerance);
    return r.rows_out_of_tolerance != 0;
}

/* Measures and prints the TreeSHAP row (bench/contribs.c) on anchor-d6's model and
 * --contrib-rows of its kind of rows. Returns 1 when crisk and libxgboost disagree. */
static int run_contribs_row(const bench_opts *o, int first)
{
    const bench_shape *shape = &SHAPES[0];
    size_t len, n = o->contrib_rows, F = shape->features;
    char *text = model_text_of(shape, o, &len);
    float *x = malloc(n * F * sizeof *x);
    if (!x)
        die("out of memory", NULL);
    synth(x, NULL, n, F, 0, 0.05);
    int failed = bench_contribs(CONTRIB_ROW, text, len, x, n, F, o->runs, o->json, first);
    free(text);
    free(x);
    return failed;
}

/* Parses the command line into `o`. */
static void parse_args(int argc, char **argv, bench_opts *o)
{
    *o = (bench_opts){.runs = 5, .rows = 50000, .single = 2000, .contrib_rows = 2000,
                      .bundle = "models/example"};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (v && strcmp(a, "--runs") == 0) {
            o->runs = atoi(v), i++;
        } else if (v && strcmp(a, "--rows") == 0) {
            o->rows = strtoul(v, NULL, 10), i++;
        } else if (v && strcmp(a, "--contrib-rows") == 0) {
            o->contrib_rows = strtoul(v, NULL, 10), i++;
        } else if (v && strcmp(a, "--single") == 0) {
            o->single = strtoul(v, NULL, 10), i++;
        } else if (v && strcmp(a, "--clock") == 0 && (!strcmp(v, "cpu") || !strcmp(v, "wall"))) {
            bench_clock = strcmp(v, "cpu") == 0 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, i++;
        } else if (v && strcmp(a, "--cache") == 0) {
            make_cache_dir(v);
            o->cache = v, i++;
        } else if (v && strcmp(a, "--bundle") == 0) {
            o->bundle = v, i++;
        } else if (v && strcmp(a, "--lightgbm-lib") == 0) {
            if (!lightgbm_open(v))
                die("--lightgbm-lib: cannot open", v);
            o->lightgbm = 1, i++;
        } else if (v && strcmp(a, "--shape") == 0 && o->nonly < NSHAPES + 3 && known(v)) {
            o->only[o->nonly++] = v, i++;
        } else {
            int shape = v && strcmp(a, "--shape") == 0;   /* name the unknown row too */
            fprintf(stderr, "crisk-bench: bad argument \"%s%s%s\"\nusage: crisk-bench [--json] "
                            "[--runs N] [--rows N] [--single N] [--shape NAME]... [--cache DIR] "
                            "[--clock wall|cpu] [--bundle DIR] [--lightgbm-lib PATH] "
                            "[--contrib-rows N]\nshapes:",
                    a, shape ? " " : "", shape ? v : "");
            for (size_t s = 0; s < NSHAPES; s++)
                fprintf(stderr, " %s", SHAPES[s].name);
            fprintf(stderr, " %s %s %s\n", DECL_ROW, LOAD_ROW, CONTRIB_ROW);
            exit(2);
        }
    }
    if (o->runs < 1 || o->rows < 1 || o->single < 1 || o->contrib_rows < 1)
        die("--runs, --rows, --single and --contrib-rows must be positive", NULL);
}

/* Returns 1 if the row `name` was asked for (every row when none was named). */
static int wanted(const bench_opts *o, const char *name)
{
    for (size_t i = 0; i < o->nonly; i++)
        if (strcmp(o->only[i], name) == 0)
            return 1;
    return o->nonly == 0;
}

int main(int argc, char **argv)
{
    bench_opts o;
    parse_args(argc, argv, &o);
    crisk_error err;
    if (crisk_pool_create(2, &o.pool, &err) != 0)
        die("crisk_pool_create", err.message);
    int first = 1, failed = 0;
    if (o.json)
        printf("{\"results\": [\n");
    for (size_t s = 0; s < NSHAPES; s++) {
        if (!wanted(&o, SHAPES[s].name))
            continue;
        if (SHAPES[s].peer == &LIGHTGBM_PEER && !o.lightgbm) {
            if (o.nonly)
                die("lightgbm-d6 needs --lightgbm-lib PATH (lib_lightgbm.so, e.g. the lightgbm "
                    "wheel's)", NULL);
            fprintf(stderr, "crisk-bench: lightgbm-d6 skipped: no --lightgbm-lib PATH\n");
            continue;
        }
        bench_result r = {0};
        (SHAPES[s].rows ? run_logistic : run_shape)(&SHAPES[s], &o, &r);
        print_result(&SHAPES[s], &r, &o, first);
        fflush(stdout);
        first = 0;
        if (r.rows_out_of_tolerance) {
            fprintf(stderr, "crisk-bench: %s: %zu rows differ from %s beyond the tolerance "
                            "(max abs diff %.3g)\n",
                    SHAPES[s].name, r.rows_out_of_tolerance,
                    SHAPES[s].rows ? "the double-precision reference (1e-6)"
                                   : SHAPES[s].peer->name,
                    r.max_abs_diff);
            failed = 1;
        }
    }
    if (wanted(&o, CONTRIB_ROW)) {
        failed |= run_contribs_row(&o, first);
        first = 0;
    }
    if (wanted(&o, DECL_ROW))
        run_declaration_row(&o, first);
    first &= !wanted(&o, DECL_ROW);
    if (wanted(&o, LOAD_ROW))
        failed |= run_load_row(&o, first);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (o.json)
        printf("\n], \"peak_rss_kb\": %ld}\n", ru.ru_maxrss);
    else
        printf("peak RSS of the process: %ld KiB (medians of %d runs, %s clock for one "
               "thread throughput; noisy on a shared machine)\n", ru.ru_maxrss, o.runs,
               bench_clock == CLOCK_MONOTONIC ? "wall" : "thread CPU");
    crisk_pool_free(o.pool);
    return failed;
}
