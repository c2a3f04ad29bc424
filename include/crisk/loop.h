/*
 * crisk/loop.h — the second half of the inspection loop (docs/loop.md): what officers
 * found (outcomes, read with rejects) and off-policy estimates of a selection's
 * precision, recall and revenue from logged inspections and their propensities. Part of
 * the public API; include <crisk.h>.
 */
#ifndef INCLUDE_crisk_loop_h
#define INCLUDE_crisk_loop_h

#include "crisk/common.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The result of an inspection. */
typedef enum crisk_outcome_result {
    CRISK_OUTCOME_NONE = 0,          /* "none": nothing found */
    CRISK_OUTCOME_IRREGULARITY = 1,  /* "irregularity" */
    CRISK_OUTCOME_CRITICAL = 2       /* "critical" */
} crisk_outcome_result;

/* Outcomes read from one file (docs/loop.md, "Outcomes"): the accepted records and the
 * rejected lines. Immutable once read: any number of threads may read one at once. */
typedef struct crisk_outcomes crisk_outcomes;

/* Reads the outcomes file `path`: CSV with a header (declaration_id, result; optional
 * inspection_date YYYY-MM-DD, revenue >= 0, note; other columns ignored) or, when the
 * name ends in ".jsonl", one JSON object per line with those members. A bad line is
 * rejected with its line number and reason, never dropped: a missing or empty id, an
 * unknown result, a bad date or revenue, malformed CSV or JSON, a duplicate (same id and
 * result as an earlier line) or a conflict (same id, another result: the earlier record
 * is then withdrawn too, and reported). Stores a new object in `*out`. Returns 0, or
 * CRISK_E_IO / CRISK_E_FORMAT (no usable header) / CRISK_E_NOMEM. Thread-safe. */
CRISK_API int crisk_outcomes_read(const char *path, crisk_outcomes **out, crisk_error *err);

/* Frees outcomes. NULL is a no-op. */
CRISK_API void crisk_outcomes_free(crisk_outcomes *outcomes);

/* Returns the number of records, one per distinct declaration id (a conflicted id's
 * record is withdrawn: its result reads -1 and crisk_outcomes_find skips it). */
CRISK_API size_t crisk_outcomes_size(const crisk_outcomes *outcomes);

/* Returns the index of the record for declaration id `id` (`len` bytes), or -1 (none, or
 * withdrawn). */
CRISK_API long crisk_outcomes_find(const crisk_outcomes *outcomes, const char *id,
                                   size_t len);

/* Record `i`'s declaration id (owned by `outcomes`, not NUL-terminated; its length in
 * `*len`), line, result (crisk_outcome_result; -1 when withdrawn), revenue (0 when
 * absent), inspection date (days since 1970-01-01; INT64_MIN when absent). Out of range:
 * NULL, 0, -1, NaN, INT64_MIN. */
CRISK_API const char *crisk_outcomes_id(const crisk_outcomes *outcomes, size_t i,
                                        size_t *len);
CRISK_API size_t crisk_outcomes_line(const crisk_outcomes *outcomes, size_t i);
CRISK_API int crisk_outcomes_result(const crisk_outcomes *outcomes, size_t i);
CRISK_API double crisk_outcomes_revenue(const crisk_outcomes *outcomes, size_t i);
CRISK_API int64_t crisk_outcomes_date(const crisk_outcomes *outcomes, size_t i);

/* Returns the number of rejected lines, and reject `k`'s line and reason (owned by
 * `outcomes`; NULL out of range). */
CRISK_API size_t crisk_outcomes_num_rejects(const crisk_outcomes *outcomes);
CRISK_API size_t crisk_outcomes_reject_line(const crisk_outcomes *outcomes, size_t k);
CRISK_API const char *crisk_outcomes_reject_reason(const crisk_outcomes *outcomes, size_t k);

/* Off-policy evaluation (docs/loop.md, "Evaluation"). */
#define CRISK_OFFPOLICY_OPTIONS_VERSION 1
typedef struct crisk_offpolicy_options {
    unsigned int version;  /* CRISK_OFFPOLICY_OPTIONS_VERSION: the layout; set by _init() */
    double top_share;      /* the selection: the top share of the population by score;
                              default 0.05 */
    unsigned bootstrap;    /* bootstrap resamples for the intervals; default 500; 0: none
                              (low = high = NaN) */
    double level;          /* interval level; default 0.9 */
    uint64_t seed;         /* of the bootstrap; default 1 */
    double near_zero;      /* propensities below this count as near-zero support;
                              default 0.001 */
} crisk_offpolicy_options;

/* Fills `opts` with the defaults above. Returns 0 or CRISK_E_INVALID_ARGUMENT (NULL or
 * an unknown version). Thread-safe. */
CRISK_API int crisk_offpolicy_options_init(crisk_offpolicy_options *opts,
                                           unsigned int version);

/* An estimate and its bootstrap percentile interval. */
typedef struct crisk_estimate {
    double value, low, high;
} crisk_estimate;

/* What crisk_offpolicy_evaluate finds for one selection. */
typedef struct crisk_offpolicy_result {
    size_t population;       /* declarations logged */
    size_t selected;         /* in the selection (the top share by score) */
    size_t labelled;         /* of those, inspected with an outcome */
    size_t zero_support;     /* of those, propensity 0: nothing can be said of them */
    size_t near_zero;        /* of those, 0 < propensity < near_zero */
    double ess;              /* effective sample size (sum w)^2 / sum w^2, w = d / pi */
    crisk_estimate precision_ipw;    /* Horvitz-Thompson */
    crisk_estimate precision_snips;  /* self-normalised */
    crisk_estimate precision_dr;     /* doubly robust */
    crisk_estimate precision_dr_supported; /* doubly robust over propensity > 0 only */
    crisk_estimate recall_dr;        /* selection's hits / population's hits, both DR */
    crisk_estimate revenue_dr;       /* revenue recovered in the selection, DR total */
} crisk_offpolicy_result;

/* Estimates, from the logged inspections of `n` declarations, what selecting the top
 * opts->top_share of them by `score` (higher first, ties by row; NaN never selected)
 * would find. Per declaration: `propensity` under the logging policy (in [0, 1]),
 * `inspected` (1 when inspected and its outcome known), `hit` (1 when the outcome was an
 * irregularity, read only where inspected), `revenue` (read only where inspected; NULL:
 * none), `model` (an outcome model's probability of a hit, for the doubly robust
 * estimator; NULL: crisk calibrates `score` on the inspected rows, weighted, in ten
 * quantile bins). Intervals: bootstrap over declarations (the design draws them
 * independently). Returns 0, or CRISK_E_INVALID_ARGUMENT (a propensity outside [0, 1],
 * an inspected declaration with propensity 0, bad options) naming the row, or
 * CRISK_E_NOMEM. Thread-safe. */
CRISK_API int crisk_offpolicy_evaluate(size_t n, const double *propensity,
                                       const unsigned char *inspected, const double *hit,
                                       const double *revenue, const double *model,
                                       const double *score,
                                       const crisk_offpolicy_options *opts,
                                       crisk_offpolicy_result *out, crisk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_loop_h */
