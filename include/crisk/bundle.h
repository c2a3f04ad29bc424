/*
 * crisk/bundle.h — bundles (schema + models + risk profiles + lane policy) and the
 * decisions they make: scores, profile hits, lanes and reasons. Part of the public
 * API; include <crisk.h>.
 */
#ifndef INCLUDE_crisk_bundle_h
#define INCLUDE_crisk_bundle_h

#include "crisk/events.h"
#include "crisk/model.h"
#include "crisk/pool.h"
#include "crisk/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A bundle (docs/bundle.md): one directory holding a manifest, a fitted schema, one or
 * more models with the schema features each takes, risk profiles and a lane policy.
 * Immutable once loaded: any number of threads may score with one bundle at once. */
typedef struct crisk_bundle crisk_bundle;

/* The decisions for one scored batch: scores, profile hits, lanes and reasons. */
typedef struct crisk_results crisk_results;

/* Loads the bundle in directory `dir` (its manifest.json names every other file).
 * Returns 0, or an error naming the file and the place in it. Thread-safe. */
CRISK_API int crisk_bundle_load(const char *dir, const crisk_load_options *opts,
                                crisk_bundle **out, crisk_error *err);

/* Frees a bundle. NULL is a no-op. */
CRISK_API void crisk_bundle_free(crisk_bundle *bundle);

/* Returns the bundle's schema (owned by the bundle), for making batches. Thread-safe. */
CRISK_API const crisk_schema *crisk_bundle_schema(const crisk_bundle *bundle);

/* Writes to `out` the bundle's digest, computed at load: SHA-256 over manifest.json and
 * then every file it names, in the manifest's order, each as its size (8 bytes,
 * big-endian) followed by its bytes (docs/security.md, "Decision log"). Thread-safe. */
CRISK_API void crisk_bundle_digest(const crisk_bundle *bundle, unsigned char out[32]);

/* Returns the number of models, the name of model `i` (as the manifest names it) and the
 * model itself (owned by the bundle); NULL when out of range. Thread-safe. */
CRISK_API size_t crisk_bundle_num_models(const crisk_bundle *bundle);
CRISK_API const char *crisk_bundle_model_name(const crisk_bundle *bundle, size_t i);
CRISK_API const crisk_model *crisk_bundle_model(const crisk_bundle *bundle, size_t i);

/* Returns the index of the model whose score the policy's thresholds and budget use (its
 * "score_model"), or -1 when the policy names none. Thread-safe. */
CRISK_API long crisk_bundle_score_model(const crisk_bundle *bundle);

/* Returns the number of lanes and the name of lane `i` (lane 0 is the most severe, e.g.
 * "red"); NULL when out of range. Thread-safe. */
CRISK_API size_t crisk_bundle_num_lanes(const crisk_bundle *bundle);
CRISK_API const char *crisk_bundle_lane_name(const crisk_bundle *bundle, size_t i);

/* Returns the smallest batch crisk_bundle_score takes without a streaming state: the
 * largest ceil(1 / share) of the policy's budget lanes (50 for a share of 0.02; SIZE_MAX
 * at most), 1 when the policy has no budget, 0 for NULL. A caller reading declarations in
 * batches keeps every batch at least this large (e.g. a last batch smaller than it joins
 * the one before, as `crisk score` does), or scores with a lane state. Thread-safe. */
CRISK_API size_t crisk_bundle_min_batch(const crisk_bundle *bundle);

/* The state of the streaming selection threshold (docs/bundle.md, "Selectivity"): the
 * window of recent scores that recalibrates the threshold so an office's target rates
 * hold when declarations are scored as they arrive. Explicit, so that it is saved and
 * restored by the caller and never hidden in a global. One state per stream; a state is
 * used by one thread at a time. */
typedef struct crisk_lane_state crisk_lane_state;

/* Creates a fresh streaming state for `bundle`'s policy. */
CRISK_API int crisk_lane_state_new(const crisk_bundle *bundle, crisk_lane_state **out,
                                   crisk_error *err);

/* Frees a state. NULL is a no-op. */
CRISK_API void crisk_lane_state_free(crisk_lane_state *state);

/* Saves a state to `path` (JSON) / loads one saved for the same bundle policy. Saving
 * writes a new temporary file beside `path` (mkstemp: a name planted there is never
 * followed), fsyncs it, keeps the old `path` as `path`.prev (a hard link), renames the new
 * file over `path` and fsyncs the directory, so a crash leaves the old or the new state,
 * never part of one. Loading reads the file in place, in time and memory linear in its
 * size. */
CRISK_API int crisk_lane_state_save(const crisk_lane_state *state, const char *path,
                                    crisk_error *err);
CRISK_API int crisk_lane_state_load(const crisk_bundle *bundle, const char *path,
                                    crisk_lane_state **out, crisk_error *err);

/* Opens the state file `path` for one run of a stream (what `crisk score --state` does):
 * takes an exclusive lock on `path`.lock (created beside it, mode 0600, never through a
 * symlink, never removed), which the state holds until crisk_lane_state_free, then loads
 * `path` when it exists, else makes a fresh state. While the lock is held, every other
 * crisk_lane_state_open of `path`, in this process or another, fails at once with
 * CRISK_E_IO ("in use by another run"): two runs never both update one window (plain
 * crisk_lane_state_load takes no lock). A file that exists but does not load is refused
 * as crisk_lane_state_load refuses it, never replaced by a fresh state; docs/bundle.md,
 * "Streaming state file", says how to recover. Save with crisk_lane_state_save(state,
 * path), which replaces the file atomically and keeps the previous one as `path`.prev.
 * Thread-safe for distinct states. */
CRISK_API int crisk_lane_state_open(const crisk_bundle *bundle, const char *path,
                                    crisk_lane_state **out, crisk_error *err);

/* The value of crisk_score_options.today that asks for the default. */
#define CRISK_SCORE_TODAY_AUTO INT64_MIN

/* How a batch is scored. Initialise with crisk_score_options_init(); more fields may
 * follow in later versions (see "Options structs" in crisk.h). */
#define CRISK_SCORE_OPTIONS_VERSION 1
typedef struct crisk_score_options {
    unsigned int version;  /* CRISK_SCORE_OPTIONS_VERSION: the layout; set by _init() */
    int      threads;        /* as crisk_predict_options.threads; default 1 */
    unsigned explain;        /* reason codes: the top K fields per declaration to keep
                                (crisk_results_num_reasons); 0 (default): none. K > 0
                                needs a policy score_model (else
                                CRISK_E_INVALID_ARGUMENT) with one margin (else
                                CRISK_E_UNSUPPORTED) */
    int64_t  today;          /* days since 1970-01-01 for profiles' active ranges;
                                default (CRISK_SCORE_TODAY_AUTO): each declaration's date
                                field when the schema names one and the value is present,
                                else the current UTC date */
    crisk_lane_state *stream;/* NULL: the inspection budget applies to this batch as a
                                whole (a batch too small for a budget share is refused,
                                see crisk_bundle_score); else declarations are decided one
                                by one, in order, against the streaming threshold, which
                                they update */
    crisk_pool *pool;        /* as crisk_predict_options.pool; default NULL */
} crisk_score_options;

/* Fills `opts` with the defaults above for `version`, which must be
 * CRISK_SCORE_OPTIONS_VERSION (the layout this header declares), and writes no field that
 * version lacks. Returns 0, or CRISK_E_INVALID_ARGUMENT (NULL, or a version this crisk does
 * not know). Thread-safe. */
CRISK_API int crisk_score_options_init(crisk_score_options *opts, unsigned int version);

/* Scores every declaration of `batch` (made with crisk_bundle_schema(bundle)): builds the
 * features, runs every model, evaluates the risk profiles, and chooses each declaration's
 * lane by the policy's precedence — mandatory profile hits, then the unscored lane for a
 * declaration the score model gave no score, then model-score thresholds, then the
 * inspection budget, then random selection — recording the reason. Stores a new
 * results object in `*out`. Without a streaming state, a policy with a budget needs a
 * batch of n declarations with share × n >= 1 for every budget lane (50 for a share of
 * 0.02; crisk_bundle_min_batch): a smaller batch is refused with CRISK_E_INVALID_ARGUMENT naming the lane and
 * stream mode, since ceil(share × n) would send a whole declaration in n, every one of
 * them when scored one at a time; score such batches with a lane state. Thread-safe for a shared bundle and batch (a streaming state
 * belongs to one call at a time). */
CRISK_API int crisk_bundle_score(const crisk_bundle *bundle, const crisk_batch *batch,
                                 const crisk_score_options *opts, crisk_results **out,
                                 crisk_error *err);

/* A reading of the wall clock and of the process's CPU clock, in seconds (as a point:
 * arbitrary origins; as a duration: what elapsed on each). CPU time is what a loaded
 * machine does not inflate. */
typedef struct crisk_clock {
    double wall, cpu;
} crisk_clock;

/* Returns the clocks now. Thread-safe. */
CRISK_API crisk_clock crisk_clock_now(void);

/* Adds the time since `*mark` to `*slot` (NULL: no-op) and moves `*mark` to now: a caller
 * times its own stages on the clocks crisk_bundle_score_timed() uses. Thread-safe. */
CRISK_API void crisk_clock_lap(crisk_clock *slot, crisk_clock *mark);

/* Where crisk_bundle_score_timed() spent its time, added to what the struct held (so one
 * struct sums a run of batches; start from all zeroes). */
typedef struct crisk_bundle_timings {
    crisk_clock features;  /* crisk_schema_features */
    crisk_clock models;    /* gathering each model's columns and predicting */
    crisk_clock profiles;  /* risk-profile rules */
    crisk_clock lanes;     /* the lane policy */
} crisk_bundle_timings;

/* crisk_bundle_score(), adding the time each stage took to `*timings` (NULL: not timed).
 * Returns what crisk_bundle_score returns. Thread-safe as crisk_bundle_score, with
 * `timings` owned by the calling thread. */
CRISK_API int crisk_bundle_score_timed(const crisk_bundle *bundle, const crisk_batch *batch,
                                       const crisk_score_options *opts, crisk_results **out,
                                       crisk_bundle_timings *timings, crisk_error *err);

/* Frees results. NULL is a no-op. */
CRISK_API void crisk_results_free(crisk_results *results);

/* Returns the number of declarations in the results. */
CRISK_API size_t crisk_results_size(const crisk_results *results);

/* Returns the output of model `model` for declaration `row` (its first output; for a
 * multi-class model, output `k` is crisk_results_score_k). NaN when out of range. */
CRISK_API float crisk_results_score(const crisk_results *results, size_t row, size_t model);
CRISK_API float crisk_results_score_k(const crisk_results *results, size_t row, size_t model,
                                      size_t k);

/* Returns the lane index of declaration `row` (see crisk_bundle_lane_name), or
 * crisk_bundle_num_lanes() when `row` is out of range. */
CRISK_API size_t crisk_results_lane(const crisk_results *results, size_t row);

/* Why a lane was chosen. */
typedef enum crisk_reason_kind {
    CRISK_REASON_PROFILE = 1,   /* a mandatory risk-profile hit; detail: the rule id */
    CRISK_REASON_THRESHOLD,     /* a model score at or above a lane threshold */
    CRISK_REASON_BUDGET,        /* among the riskiest share of the batch (or stream) */
    CRISK_REASON_RANDOM,        /* drawn for compliance sampling */
    CRISK_REASON_DEFAULT,       /* none of the above: the policy's default lane */
    CRISK_REASON_UNSCORED,      /* the score model gave no score (NaN): the policy's
                                   unscored_lane, by default its most severe lane */
    CRISK_REASON_EXPLORE        /* drawn for exploration (after the budget, before random
                                   selection) with the probability crisk_results_propensity
                                   gives */
} crisk_reason_kind;

/* Returns the kind of reason for declaration `row`'s lane, and writes a one-line
 * human-readable explanation (e.g. "profile P-017: textiles from watch-listed origin",
 * "fraud score 0.93 >= red threshold 0.90") to `buf` of `size` bytes, NUL-terminated and
 * cut to fit. Returns 0 and writes "" when `row` is out of range. */
CRISK_API crisk_reason_kind crisk_results_reason(const crisk_results *results, size_t row,
                                                 char *buf, size_t size);

/* Returns declaration `row`'s selection propensity (docs/bundle.md, "Propensity"): the
 * probability, under the policy that decided and before any draw, that it would be
 * selected by some rule (placed anywhere but by the default): 1 for a mandatory profile,
 * a threshold or a budget placement; for the others 1 - (1 - e)(1 - r), with e its
 * exploration inclusion probability and r the random rate (each 0 when that rule could
 * not draw it, e.g. a declaration without an id). 0 only when no rule could have
 * selected it. NaN when `row` is out of range. Thread-safe. */
CRISK_API double crisk_results_propensity(const crisk_results *results, size_t row);

/* Returns how many risk profiles declaration `row` hit, and the id and description of
 * hit `k` (strings owned by the bundle; NULL when out of range). */
CRISK_API size_t crisk_results_num_hits(const crisk_results *results, size_t row);
CRISK_API const char *crisk_results_hit_id(const crisk_results *results, size_t row, size_t k);
CRISK_API const char *crisk_results_hit_description(const crisk_results *results, size_t row,
                                                    size_t k);

/* Reason codes (docs/bundle.md, "Reason codes"), present when the batch was scored with
 * crisk_score_options.explain = K > 0. The exact contributions of the policy's score
 * model (crisk_contributions, margin space) are grouped onto declaration fields: a
 * feature derived from one field counts toward it (every feature of `origin` toward
 * origin, a risk feature keyed on importer_id toward importer_id); a feature derived from
 * several distinct fields (a ratio, a risk feature on a composite key) is split equally
 * among them. Per declaration, the fields with a non-zero contribution are ranked by
 * absolute contribution (ties: schema field order) and the first K kept, so that
 *     sum of the K reasons' contributions + bias + rest == the score model's margin
 * (to float rounding), where rest sums the fields beyond the K-th. A declaration the
 * score model did not score (a logistic model and a missing feature) has no reasons and
 * a NaN bias and rest. */

/* Returns how many reasons declaration `row` has (at most K; 0 when out of range or
 * the batch was scored without explain). */
CRISK_API size_t crisk_results_num_reasons(const crisk_results *results, size_t row);

/* Returns the field name of reason `k` of declaration `row` (a string owned by the
 * bundle), or NULL when out of range. Reason 0 has the largest |contribution|. */
CRISK_API const char *crisk_results_reason_field(const crisk_results *results, size_t row,
                                                 size_t k);

/* Returns the declaration's value of that field as text (text and HS codes as stored,
 * numbers as "%.15g", dates as YYYY-MM-DD, "" when the value is missing), a string that
 * lives as long as `results`; NULL when out of range. */
CRISK_API const char *crisk_results_reason_value(const crisk_results *results, size_t row,
                                                 size_t k);

/* Returns the signed contribution of reason `k` (margin space: positive pushes the score
 * up), or NaN when out of range. */
CRISK_API float crisk_results_reason_contribution(const crisk_results *results, size_t row,
                                                  size_t k);

/* Returns declaration `row`'s bias (the score model's expected margin) and rest (the
 * contributions of the fields beyond the top K, summed), or NaN when out of range or not
 * explained. */
CRISK_API float crisk_results_explain_bias(const crisk_results *results, size_t row);
CRISK_API float crisk_results_explain_rest(const crisk_results *results, size_t row);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_bundle_h */
