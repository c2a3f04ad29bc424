/*
 * policy/lanes.h — the lane policy (docs/bundle.md, "Lane policy"): parsing it, and choosing
 * each declaration's lane by the precedence mandatory profile -> unscored -> threshold ->
 * budget -> random -> default, for a batch as a whole or one declaration at a time
 * against a streaming state. Internal to the library.
 */
#ifndef CRISK_LANES_H
#define CRISK_LANES_H

#include "crisk.h"
#include "policy/decision.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Most lanes a policy may name. */
#define CRISK__MAX_LANES 32

/* Streaming defaults when the policy's "stream" object leaves them out. */
#define CRISK__STREAM_DEFAULT_WINDOW 5000
#define CRISK__STREAM_DEFAULT_WARMUP 100
#define CRISK__STREAM_MAX_WINDOW 10000000

/* A parsed lane policy. Immutable once parsed. */
typedef struct crisk__policy crisk__policy;

/* Parses and validates a policy document. Stores a new policy in `*out`. Returns 0, or
 * CRISK_E_FORMAT naming the key and the reason, or CRISK_E_NOMEM. */
int crisk__policy_parse(const cJSON *root, crisk__policy **out, crisk_error *err);

/* Frees a policy. NULL is a no-op. */
void crisk__policy_free(crisk__policy *policy);

/* Returns the lane names (most severe first) and their count. */
const char *const *crisk__policy_lanes(const crisk__policy *policy);
size_t crisk__policy_num_lanes(const crisk__policy *policy);

/* Returns the name of the model whose score thresholds and budget use, or NULL when the
 * policy has neither. */
const char *crisk__policy_score_model(const crisk__policy *policy);

/* Returns the smallest batch the policy's budget takes without a streaming state: the
 * largest ceil(1 / share) of its budget lanes (SIZE_MAX at most), 1 without a budget.
 * crisk__lanes_decide refuses a smaller batch. */
size_t crisk__policy_min_batch(const crisk__policy *policy);

/* Returns the policy's fingerprint: SipHash of a canonical text of every setting, which
 * a saved streaming state carries so that it is never restored under another policy. */
uint64_t crisk__policy_fingerprint(const crisk__policy *policy);

/* Creates a fresh (empty) streaming state for `policy`. */
int crisk__lane_state_create(const crisk__policy *policy, crisk_lane_state **out,
                             crisk_error *err);

/* Loads a state saved by crisk_lane_state_save() for the same policy (same fingerprint
 * and window), refusing any other with CRISK_E_FORMAT. */
int crisk__lane_state_read(const crisk__policy *policy, const char *path,
                           crisk_lane_state **out, crisk_error *err);

/* Opens the state file `path` for one run (crisk_lane_state_open): locks it, then loads
 * it when it exists, else makes a fresh state. */
int crisk__lane_state_open(const crisk__policy *policy, const char *path,
                           crisk_lane_state **out, crisk_error *err);

/* Returns the number of scores in a state's window. */
size_t crisk__lane_state_count(const crisk_lane_state *state);

/* Places the `n` declarations whose decisions `d` are not placed yet (kind 0): a
 * declaration without a finite score in the unscored lane, then score thresholds, then
 * the budget (over the whole batch when `stream` is NULL, else one declaration at a time
 * in order against `stream`, which every finite score then joins), then random
 * selection by `ids` (the declaration ids, `id_lens` bytes each; a NULL id is never
 * drawn), then the default lane. `scores` are the score model's outputs (NULL when the
 * policy has no score model). Returns 0, or CRISK_E_INVALID_ARGUMENT for a state made
 * for another policy, or CRISK_E_NOMEM. */
int crisk__lanes_decide(const crisk__policy *policy, crisk_lane_state *stream,
                        const float *scores, const char *const *ids, const size_t *id_lens,
                        size_t n, crisk__decision *d, crisk_error *err);

/* crisk__lanes_decide, with `counts` (n) the policy's explore novelty feature per
 * declaration (crisk__policy_explore_feature; NULL: uniform weights instead). */
int crisk__lanes_decide_novelty(const crisk__policy *policy, crisk_lane_state *stream,
                                const float *scores, const float *counts,
                                const char *const *ids, const size_t *id_lens, size_t n,
                                crisk__decision *d, crisk_error *err);

/* Returns the schema feature the policy's novelty exploration weighs by, or NULL. */
const char *crisk__policy_explore_feature(const crisk__policy *policy);

/* Writes the one-line reason for decision `d` to `buf` (`size` bytes, cut to fit):
 * `score` is the declaration's score-model output, `rule_id` / `rule_description` the
 * rule of a PROFILE decision (else unused). */
void crisk__lanes_reason(const crisk__policy *policy, const crisk__decision *d, float score,
                         const char *rule_id, const char *rule_description, char *buf,
                         size_t size);

#endif /* CRISK_LANES_H */
