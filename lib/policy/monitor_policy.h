/*
 * policy/monitor_policy.h — the lane policy's "monitor" object: the PSI thresholds drift
 * monitoring judges a bundle's items by (docs/bundle.md, "Reference distributions").
 * Internal to the library.
 */
#ifndef CRISK_MONITOR_POLICY_H
#define CRISK_MONITOR_POLICY_H

#include "crisk.h"

#include <cjson/cJSON.h>

/* Reads the "monitor" object of policy document `root` into `*warn` and `*alert` (NaN,
 * both, when the policy has none). Returns 0, or CRISK_E_FORMAT naming the key unless
 * both are finite numbers with 0 < warn <= alert. */
int crisk__policy_monitor_parse(const cJSON *root, double *warn, double *alert,
                                crisk_error *err);

#endif /* CRISK_MONITOR_POLICY_H */
