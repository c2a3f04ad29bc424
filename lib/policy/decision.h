/*
 * policy/decision.h — how one declaration was placed: its lane, the rule that placed it
 * and its selection propensity. Internal to the library.
 */
#ifndef CRISK_DECISION_H
#define CRISK_DECISION_H

#include <stdint.h>

/* How one declaration was placed. kind 0 means "not placed yet"; the bundle fills
 * CRISK_REASON_PROFILE decisions before calling crisk__lanes_decide(). */
typedef struct crisk__decision {
    uint32_t lane;
    uint32_t kind;    /* crisk_reason_kind, or 0 */
    uint32_t ref;     /* PROFILE: rule index; THRESHOLD / BUDGET: entry in the policy */
    uint32_t rank;    /* BUDGET in a batch: 1-based rank among the lane's picks */
    uint32_t window;  /* BUDGET in a stream: scores in the window when decided */
    float cut;        /* BUDGET in a stream: the window threshold the score reached */
    double propensity;/* P(selected by any rule) under the policy, before the draw */
} crisk__decision;

#endif /* CRISK_DECISION_H */
