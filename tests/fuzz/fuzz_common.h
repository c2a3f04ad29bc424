/*
 * fuzz_common.h — what the libFuzzer targets share: tight load limits, finishing an
 * imported model the way the loader does (validate, compile) and then scoring it, temporary
 * files, and the fixtures made from the example bundle (models/example) for the targets
 * whose input is one file among several (events, device keys, bundle files, lane state).
 */
#ifndef CRISK_FUZZ_COMMON_H
#define CRISK_FUZZ_COMMON_H

#include "crisk.h"

#include <stddef.h>
#include <stdint.h>

/* The entry point every target defines (libFuzzer's, and the replay driver's). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The reference time of event reads (crisk_events_options.now): 2026-01-01T00:00:00Z,
 * fixed so that a run never depends on the clock; the example events are all before it. */
#define FUZZ_EVENTS_NOW 1767225600

/* Fills `opts` with load options whose limits keep one input within the fuzzer's memory
 * and time budget (-rss_limit_mb, -timeout). */
void fuzz_load_options(crisk_load_options *opts);

/* Checks that a failure `rc` filled `err` properly (a known negative code, a message);
 * aborts (a finding) otherwise. */
void fuzz_check_failure(int rc, const crisk_error *err);

/* Checks that every stored category value re-codes to its code, then scores a few rows
 * (zeros, missing values, huge values, small integers) with `model`, transformed and as
 * margins, then frees it. Any crash or sanitizer report is a
 * finding. */
void fuzz_score_and_free(crisk_model *model);

/* Finishes `model` as the loader does after importer result `rc` (validation and the
 * engine), then scores and frees it; checks failures with fuzz_check_failure(). */
void fuzz_finish_import(crisk_model *model, int rc, const crisk_load_options *opts,
                        crisk_error *err);

struct cJSON;
struct crisk__tree_source;

/* Imports the XGBoost document `root` (its trees read from `trees`, or from `root` when
 * NULL) and finishes it with fuzz_finish_import(); returns the importer's code, and stores
 * in `*print` a hash of what the importer filled (0 when it failed), so that two ways of
 * reading one document can be compared bit for bit. */
int fuzz_import_xgboost(const struct cJSON *root, const struct crisk__tree_source *trees,
                        const crisk_load_options *opts, uint64_t *print);

/* Writes `size` bytes at `data` to a new temporary file made from the mkstemp template
 * `path` (which receives its name). Aborts on failure (the harness's, not a finding). */
void fuzz_write_temp(const uint8_t *data, size_t size, char *path);

/* Writes `size` bytes at `data` to `path`, replacing the file. Aborts on failure. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/* Returns the bytes of models/example/`name` (NUL-terminated; their number in `*size`
 * when not NULL), read once per process and kept. Aborts when it cannot be read. */
const char *fuzz_example_file(const char *name, size_t *size);

/* The example schema (models/example/schema.json, fitted), loaded once per process. */
const crisk_schema *fuzz_example_schema(void);

/* Returns a new batch for `schema` holding the first `rows` example declarations
 * (models/example/declarations.csv). The caller frees it. */
crisk_batch *fuzz_example_batch(const crisk_schema *schema, size_t rows);

/* Returns the path of `name` inside the process's bundle directory (of the directory
 * itself when `name` is NULL), which is made on the first call: a copy of every file of
 * models/example, and small_schema.json, the example schema fitted again on a few
 * example declarations (its small fitted section loads in about a millisecond where the
 * example's takes twenty, which keeps bundle targets fast). The directory is removed at
 * exit. The returned string lives until the next call. */
const char *fuzz_bundle_path(const char *name);

/* Writes the bundle directory's manifest.json for a small bundle: small_schema.json, the
 * example logistic model named "fraud" (the example policy's score model), and the risk
 * profiles and lane policy files named `profiles` and `policy`. */
void fuzz_small_manifest(const char *profiles, const char *policy);

/* The body of the targets whose input is one file of a small bundle (profiles, policy):
 * writes fuzz_small_manifest(profiles, policy) on the first call, `data` as the bundle's
 * input.json (the name one of `profiles` and `policy` gives), then loads the bundle and
 * scores with it (fuzz_load_bundle) and frees it. */
void fuzz_small_bundle_input(const char *profiles, const char *policy, const uint8_t *data,
                             size_t size);

/* Scores the first few example declarations with `bundle` (reason codes too when its
 * policy names a score model) as a batch, or one by one against `stream` when it is not
 * NULL, and reads every result back. Any failure but a checked one is a finding. */
void fuzz_score_bundle(const crisk_bundle *bundle, crisk_lane_state *stream);

/* Saves `state` (of `bundle`'s policy) and loads it back, which must succeed, and checks
 * that saving what was loaded writes the same bytes. */
void fuzz_state_round_trip(const crisk_bundle *bundle, const crisk_lane_state *state);

/* Loads the bundle directory as a bundle with fuzz_load_options() limits. Returns NULL
 * after checking a failure; else scores with the bundle as a batch and as a stream from
 * a fresh state, round-trips that state, and returns the bundle (the caller frees it). */
crisk_bundle *fuzz_load_bundle(void);

#endif /* CRISK_FUZZ_COMMON_H */
