/*
 * policy/propensity.h — each decision's selection propensity (docs/bundle.md,
 * "Propensity"): the probability, under the policy and before any draw, that the
 * declaration would be selected by some rule. Internal to the library.
 */
#ifndef CRISK_PROPENSITY_H
#define CRISK_PROPENSITY_H

#include "policy/decision.h"

#include <stddef.h>

/* Sets every decision's propensity (docs/bundle.md, "Propensity"): 1 for a profile,
 * threshold or budget placement; otherwise 1 - (1 - explore) (1 - random), from the
 * explore probability already in d[i].propensity and `random_rate` (0 for a row without
 * an id: `ids` NULL or ids[i] NULL). */
void crisk__propensity_finish(crisk__decision *d, size_t n, double random_rate,
                              const char *const *ids);

#endif /* CRISK_PROPENSITY_H */
