/*
 * bench/bench.h — what crisk-bench's files share: failing loudly, the clocks, medians, and
 * the rows measured outside the model shapes (one declaration per call; a large load).
 */
#ifndef CRISK_BENCH_H
#define CRISK_BENCH_H

#include <stddef.h>

/* Prints a fatal error and exits with status 1: the bench fails loudly. */
void die(const char *what, const char *detail);

/* Returns the monotonic wall clock in seconds. */
double wall(void);

/* Returns the time of the bench's clock (--clock: wall, or the thread's CPU) in seconds. */
double now(void);

/* Returns the q-quantile (0..1) of `n` values, sorting them in place. */
double quantile(double *v, size_t n, double q);

/* One declaration per call (bench/declaration.c): microseconds from the text fields to the
 * lane, medians over runs of each run's p50 and p99, and the agreement check's count. */
typedef struct decl_latency {
    size_t declarations;     /* distinct declarations of the input, cycled through */
    size_t calls;            /* calls per run */
    double p50, p99;
    size_t lanes_differing;  /* one-at-a-time lanes unlike the whole batch's */
} decl_latency;

/* Measures `calls` calls per run over `runs` runs with the bundle in `bundle_dir` and the
 * declarations of `csv_path` (a CSV whose header names the schema's fields). */
void bench_declaration(const char *bundle_dir, const char *csv_path, size_t calls, int runs,
                       decl_latency *r);

/* Returns the text of an XGBoost 1.7 JSON model (binary:logistic over `features` features)
 * of `trees` full trees of depth `depth` with random splits, default directions and
 * leaves, drawn from `seed`; its length in *len. Its node count is
 * trees x (2^(depth+1) - 1). */
char *large_model_json(size_t trees, int depth, size_t features, unsigned long long seed,
                       size_t *len);

/* A library crisk is set against on the same model and rows: it loads the model's text
 * (exiting on failure), scores on a number of threads, and scores `n` rows of `F`
 * features into float outputs it owns (valid until its next call). */
typedef struct bench_peer {
    const char *name;
    const char *ext;       /* the extension of its model files in --cache */
    void *(*load)(const char *text, size_t len);
    void (*set_threads)(void *h, int threads);
    const float *(*predict)(void *h, const float *x, size_t n, size_t F);
    void (*free)(void *h);
} bench_peer;

/* LightGBM (bench/lightgbm.c), once lightgbm_open() found its library at `path`: returns 1,
 * or 0 when `path` is NULL or does not open. */
extern const bench_peer LIGHTGBM_PEER;
int lightgbm_open(const char *path);

/* Trains a LightGBM binary model (`rounds` trees of depth `depth`) on `n` rows of `F`
 * features with labels `y`, and returns its text (length in *len). */
char *lightgbm_train(const float *x, const float *y, size_t n, size_t F, int depth,
                     int rounds, size_t *len);

/* The TreeSHAP row (bench/contribs.c): crisk_contributions against libxgboost's
 * pred_contribs on the model `text` (XGBoost JSON) and the `n` rows of `F` features `x`,
 * one thread each, medians of `runs` by the bench's clock; prints the row (as an element of
 * the JSON array when `json`; `first`: no separator before it). Returns 1 when the
 * contributions differ from libxgboost's beyond the tests' tolerance, else 0. */
int bench_contribs(const char *name, const char *text, size_t len, const float *x, size_t n,
                   size_t F, int runs, int json, int first);

#endif /* CRISK_BENCH_H */
