/*
 * policy/propensity.c — each decision's selection propensity: 1 where a deterministic
 * rule placed the declaration, else the chance that exploration or random selection
 * (independent draws, keyed differently) would have picked it.
 */
#include "policy/propensity.h"

#include "crisk.h"

void crisk__propensity_finish(crisk__decision *d, size_t n, double random_rate,
                              const char *const *ids)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t k = d[i].kind;
        if (k != CRISK_REASON_EXPLORE && k != CRISK_REASON_RANDOM &&
            k != CRISK_REASON_DEFAULT) {
            d[i].propensity = 1;
            continue;
        }
        /* "Not drawn" is not "could not be drawn": a declaration left in the default
         * lane keeps the probability it had. */
        double r = ids && ids[i] ? random_rate : 0;
        d[i].propensity = 1 - (1 - d[i].propensity) * (1 - r);
    }
}
