/*
 * monitor/drift.c — counts of a batch or of a window of recent declarations in the bins of
 * a reference, and each item's population stability index against it.
 */
#include "monitor/drift_impl.h"

#include "common/error.h"
#include "monitor/values.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Most declarations a window may hold (its ring takes window x items x 2 bytes). */
#define MAX_WINDOW ((size_t)1 << 24)

int crisk_drift_new(const crisk_reference *ref, size_t window, crisk_drift **out,
                    crisk_error *err)
{
    if (out)
        *out = NULL;
    if (!ref || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "reference and out must not be NULL");
    if (window > MAX_WINDOW)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "window %zu is over the limit of "
                           "%zu declarations", window, MAX_WINDOW);
    crisk_drift *d = calloc(1, sizeof *d);
    size_t ni = ref->num_items;
    if (d)
        d->offset = malloc((ni + 1) * sizeof *d->offset);
    if (d && d->offset) {
        d->offset[0] = 0;
        for (size_t i = 0; i < ni; i++)
            d->offset[i + 1] = d->offset[i] + ref->items[i].num_bins;
        d->counts = calloc(d->offset[ni] ? d->offset[ni] : 1, sizeof *d->counts);
        d->ring = window ? malloc(window * ni * sizeof *d->ring) : NULL;
    }
    if (!d || !d->offset || !d->counts || (window && !d->ring)) {
        crisk_drift_free(d);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for drift counts");
    }
    d->ref = ref;
    d->window = window;
    d->warn = ref->warn;
    d->alert = ref->alert;
    *out = d;
    return 0;
}

int crisk_drift_set_thresholds(crisk_drift *d, double warn, double alert, crisk_error *err)
{
    if (!d)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "drift must not be NULL");
    if (!(warn > 0 && warn <= alert && isfinite(alert)))
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "thresholds must satisfy 0 < warn "
                           "(%g) <= alert (%g)", warn, alert);
    d->warn = warn;
    d->alert = alert;
    return 0;
}

void crisk_drift_free(crisk_drift *d)
{
    if (!d)
        return;
    free(d->offset);
    free(d->counts);
    free(d->ring);
    free(d);
}

void crisk__drift_push(crisk_drift *d, const uint16_t *bins)
{
    size_t ni = d->ref->num_items;
    if (d->window) {
        uint16_t *slot = d->ring + d->head * ni;
        if (d->rows == d->window)
            for (size_t i = 0; i < ni; i++)
                d->counts[d->offset[i] + slot[i]]--;
        else
            d->rows++;
        memcpy(slot, bins, ni * sizeof *slot);
        d->head = (d->head + 1) % d->window;
    } else {
        d->rows++;
    }
    for (size_t i = 0; i < ni; i++)
        d->counts[d->offset[i] + bins[i]]++;
}

int crisk_drift_add(crisk_drift *d, const crisk_batch *batch, const crisk_results *results,
                    crisk_error *err)
{
    if (!d || !batch || !results)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "drift, batch and results must not "
                           "be NULL");
    size_t n = crisk_batch_size(batch), ni = d->ref->num_items;
    double *values = malloc((n ? n : 1) * ni * sizeof *values);
    uint16_t *bins = malloc(ni * sizeof *bins);
    int rc = values && bins ? crisk__monitor_values(d->ref->bundle, batch, results, values, err)
                            : crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu rows", n);
    for (size_t r = 0; rc == 0 && r < n; r++) {
        for (size_t i = 0; i < ni; i++)
            bins[i] = (uint16_t)crisk__monitor_bin(&d->ref->items[i], values[r * ni + i]);
        crisk__drift_push(d, bins);
    }
    free(values);
    free(bins);
    return rc;
}

uint64_t crisk_drift_rows(const crisk_drift *d)
{
    return d ? d->rows : 0;
}

size_t crisk_drift_num_items(const crisk_drift *d)
{
    return d ? d->ref->num_items : 0;
}

/* Returns the PSI of counts `c` (`rows` of them) against reference shares `e`, over
 * `nbins` bins, both shares floored at CRISK__MONITOR_SHARE_FLOOR. */
static double psi(const uint64_t *c, uint64_t rows, const double *e, size_t nbins)
{
    double sum = 0;
    for (size_t b = 0; b < nbins; b++) {
        double a = fmax((double)c[b] / (double)rows, CRISK__MONITOR_SHARE_FLOOR);
        double r = fmax(e[b], CRISK__MONITOR_SHARE_FLOOR);
        sum += (a - r) * log(a / r);
    }
    return sum;
}

int crisk_drift_item_get(const crisk_drift *d, size_t i, crisk_drift_item *out,
                         crisk_error *err)
{
    if (!d || !out || i >= d->ref->num_items)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "no drift item %zu", i);
    const crisk__monitor_item *it = &d->ref->items[i];
    const uint64_t *c = d->counts + d->offset[i];
    double rows = (double)d->rows;
    size_t miss = crisk__monitor_missing_bin(it), unseen = crisk__monitor_unseen_bin(it);
    memset(out, 0, sizeof *out);
    out->name = it->name;
    out->is_score = it->is_score;
    out->is_category = it->is_category;
    out->psi = d->rows ? psi(c, d->rows, it->share, it->num_bins) : NAN;
    out->noise = d->rows ? (double)(it->num_bins - 1) / rows : NAN;
    out->missing_ref = it->share[miss];
    out->missing_now = d->rows ? (double)c[miss] / rows : NAN;
    out->unseen_ref = it->is_category ? it->share[unseen] : 0;
    out->unseen_now = it->is_category ? (d->rows ? (double)c[unseen] / rows : NAN) : 0;
    out->level = out->psi >= d->alert  ? CRISK_DRIFT_ALERT
                 : out->psi >= d->warn ? CRISK_DRIFT_WARN
                                       : CRISK_DRIFT_OK;
    return 0;
}
