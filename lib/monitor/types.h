/*
 * monitor/types.h — what the monitor files share: a reference item's bins and shares, the
 * reference, and the counts of a batch or window (docs/bundle.md, "Reference
 * distributions"). Internal to the library.
 */
#ifndef CRISK_MONITOR_TYPES_H
#define CRISK_MONITOR_TYPES_H

#include "crisk.h"

#include <stddef.h>
#include <stdint.h>

/* Quantile bins of a numeric item. */
#define CRISK__MONITOR_QUANTILE_BINS 10
/* Most category codes with a bin of their own (the rest share the "other" bin): more bins
 * raise the PSI a sample of the reference itself has, (bins - 1) / rows. */
#define CRISK__MONITOR_MAX_CODES 20
/* Least reference share of a category code with a bin of its own. */
#define CRISK__MONITOR_MIN_CODE_SHARE 0.01
/* Floor on shares in the PSI sum, so that an empty bin stays finite. */
#define CRISK__MONITOR_SHARE_FLOOR 1e-4

/* The value of a category item for a value the fitted dictionary does not know (a code is
 * finite; missing is NaN). */
#define CRISK__MONITOR_UNSEEN INFINITY

/* One monitored item. Bins in order: the value bins (numeric: num_edges + 1 quantile bins,
 * bin b holding edges[b-1] < v <= edges[b]; category: one per code), then for a category
 * "other" (a known code without a bin) and "unseen", then "missing" (always last). */
typedef struct crisk__monitor_item {
    const char *name;     /* owned by the bundle */
    int is_score, is_category;
    size_t source;        /* the schema feature index, or the model index */
    double *edges;        /* numeric: strictly increasing */
    size_t num_edges;
    double *codes;        /* category: the codes with a bin, in bin order */
    size_t num_codes;
    size_t num_bins;
    double *share;        /* reference share of each bin, summing to 1 */
} crisk__monitor_item;

/* Returns the bin of value `v` (crisk__monitor_values' form) in `item`. */
size_t crisk__monitor_bin(const crisk__monitor_item *item, double v);

/* The bin of "missing" / of "unseen" (category items only). */
static inline size_t crisk__monitor_missing_bin(const crisk__monitor_item *item)
{
    return item->num_bins - 1;
}
static inline size_t crisk__monitor_unseen_bin(const crisk__monitor_item *item)
{
    return item->num_bins - 2;
}

struct crisk_reference {
    const crisk_bundle *bundle;
    crisk__monitor_item *items;  /* the schema's features, then one score per model */
    size_t num_items;
    uint64_t rows;               /* reference declarations */
    double warn, alert;
};

/* Frees the arrays of `n` items (not the array itself). */
void crisk__monitor_items_clear(crisk__monitor_item *items, size_t n);

#endif /* CRISK_MONITOR_TYPES_H */
