/*
 * monitor/drift_impl.h — what counts against a reference hold, for drift.c (counting, the
 * PSI) and drift_state.c (saving and restoring them). Internal to the library.
 */
#ifndef CRISK_MONITOR_DRIFT_IMPL_H
#define CRISK_MONITOR_DRIFT_IMPL_H

#include "monitor/types.h"

struct crisk_drift {
    const crisk_reference *ref;
    size_t *offset;     /* per item: its first bin in `counts`; offset[num_items]: total */
    uint64_t *counts;
    uint64_t rows;      /* declarations counted (in the window, when there is one) */
    size_t window;      /* 0: every declaration added stays counted */
    uint16_t *ring;     /* window x num_items bins, the window's declarations */
    size_t head;        /* the ring slot the next declaration takes */
    double warn, alert; /* the thresholds of crisk_drift_item.level */
};

/* Counts one declaration whose bins are `bins` (one per item), dropping the oldest of a
 * full window. */
void crisk__drift_push(crisk_drift *d, const uint16_t *bins);

#endif /* CRISK_MONITOR_DRIFT_IMPL_H */
