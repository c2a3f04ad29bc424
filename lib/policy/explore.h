/*
 * policy/explore.h — exploration (docs/bundle.md, "Exploration"): a share of the
 * inspections drawn at random with exact, recorded inclusion probabilities, weighted
 * toward the decision boundary with a floor so that every eligible declaration keeps a
 * non-zero probability; and each decision's selection propensity. Internal to the
 * library.
 */
#ifndef CRISK_EXPLORE_H
#define CRISK_EXPLORE_H

#include "crisk.h"
#include "policy/decision.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* The policy's "explore" object. `on` is 0 when the policy has none. */
typedef struct crisk__explore {
    int on;
    size_t lane;      /* filled by the policy parser, which knows the lanes */
    double share;     /* expected explored declarations per declaration scored */
    uint64_t seed;
    int boundary;     /* 1: weights rise with the score's rank */
    int novelty;      /* 1: weights fall with how often the fitted tables saw the key */
    char feature[65]; /* novelty: the schema feature counting that (a risk_count) */
    double floor;     /* the least weight, as a share of the greatest */
} crisk__explore;

/* Parses the "explore" object `v` (all but its lane) into `*e`. Returns 0 or
 * CRISK_E_FORMAT naming the key. */
int crisk__explore_parse(const cJSON *v, crisk__explore *e, crisk_error *err);

/* Returns the rank the boundary weight uses for `score`, of which `below` of `m` scores are
 * strictly below: below / m; 0 for a NaN score, 0.5 against an empty window. */
double crisk__explore_rank(size_t below, size_t m, float score);

/* Fills `q` (n) with each score's rank among the batch's finite scores. Returns 0 or
 * CRISK_E_NOMEM. */
int crisk__explore_batch_ranks(const float *scores, size_t n, double *q, crisk_error *err);

/* Fills `q` (n) with each declaration's novelty from its `counts` (the novelty feature):
 * 1 / (1 + count), 1 for a missing or negative count. */
void crisk__explore_novelty(const float *counts, size_t n, double *q);

/* Places by exploration the declarations of `d` (n) that nothing placed yet and that
 * have an id: each gets its inclusion probability in d[i].propensity and, when drawn,
 * the explore lane. `q` holds each score's rank, or each declaration's novelty (NULL for
 * uniform weights),
 * `budget_share` the policy's budget shares summed, `stream` whether the rows are a
 * stream (probabilities from the policy alone) or a batch (solved over the batch so that
 * they sum to share * n). Returns 0 or CRISK_E_NOMEM. */
int crisk__explore_place(const crisk__explore *e, double budget_share, int stream,
                         const double *q, const char *const *ids, const size_t *id_lens,
                         size_t n, crisk__decision *d, crisk_error *err);

/* Solves the capped Poisson inclusion probabilities p_i = min(1, c * w_i), w_i > 0, with
 * c such that they sum to `k` (every p_i = 1 when k >= m): capping a unit removes it
 * from the budget and c is solved again for the rest. Returns 0 or CRISK_E_NOMEM. */
int crisk__explore_solve(const double *w, size_t m, double k, double *p, crisk_error *err);

#endif /* CRISK_EXPLORE_H */
