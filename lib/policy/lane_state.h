/*
 * policy/lane_state.h — the streaming lane state's window of recent scores (kept in arrival
 * order and in ascending order, score_order.h), shared by the lane decisions (lanes.c) and
 * the state file (lane_state_file.c). Internal to the library.
 */
#ifndef CRISK_LANE_STATE_H
#define CRISK_LANE_STATE_H

#include "crisk.h"
#include "policy/score_order.h"

#include <stddef.h>
#include <stdint.h>

struct crisk_lane_state {
    uint64_t fingerprint; /* of the policy the state was made for */
    size_t window, warmup;
    float *ring;   /* scores in arrival order, oldest at `head` */
    crisk__score_order sorted; /* the same scores, ascending (-0 before +0) */
    size_t head, count;
    int lock_fd;   /* the lock file crisk_lane_state_open holds, or -1 */
};

/* Makes an empty state for a policy with `fingerprint`, `window` (>= 1) and `warmup`.
 * Returns 0 or CRISK_E_NOMEM. */
int crisk__lane_state_make(uint64_t fingerprint, size_t window, size_t warmup,
                           crisk_lane_state **out, crisk_error *err);

/* Adds finite score `v` to the window, dropping the oldest when it is full: O(sqrt(window)),
 * not a move of the whole sorted window. */
void crisk__lane_state_push(crisk_lane_state *s, float v);

/* Makes the window of the empty state `s` the `n` (<= window) finite scores the caller
 * wrote to s->ring[0..n), oldest first, sorting them once in linear time. Returns 0 or
 * CRISK_E_NOMEM. */
int crisk__lane_state_fill(crisk_lane_state *s, size_t n, crisk_error *err);

#endif /* CRISK_LANE_STATE_H */
