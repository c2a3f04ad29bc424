/*
 * monitor/bins.c — which bin of a reference item a value falls in, shared by the reference
 * builder and the drift counts so that both bin alike.
 */
#include "monitor/types.h"

#include <math.h>
#include <stdlib.h>

/* Returns the first index of sorted `a` (n values) whose value is >= v. */
static size_t lower_bound(const double *a, size_t n, double v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t crisk__monitor_bin(const crisk__monitor_item *item, double v)
{
    if (isnan(v))
        return crisk__monitor_missing_bin(item);
    if (!item->is_category) /* v <= edges[b] and v > edges[b-1] */
        return lower_bound(item->edges, item->num_edges, v);
    if (v == CRISK__MONITOR_UNSEEN)
        return crisk__monitor_unseen_bin(item);
    size_t b = lower_bound(item->codes, item->num_codes, v);
    return b < item->num_codes && item->codes[b] == v ? b : item->num_codes; /* else other */
}

void crisk__monitor_items_clear(crisk__monitor_item *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++) {
        free(items[i].edges);
        free(items[i].codes);
        free(items[i].share);
    }
}
