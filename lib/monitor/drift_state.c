/*
 * monitor/drift_state.c — saving and restoring drift counts (a monitored stream's explicit
 * state) as JSON, tied to the bundle by its digest: a window's declarations as one hex
 * string of bins each, oldest first; a batch's counts per item.
 */
#include "monitor/drift_impl.h"

#include "common/error.h"
#include "common/hex.h"
#include "common/jsonfile.h"
#include "policy/bundle_impl.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest state file read back, in bytes (a window of 2^24 rows of 64 items is 4 GiB of
 * hex: windows that large are refused when saved state would exceed this). */
#define MAX_STATE_BYTES ((size_t)1 << 30)

/* Writes the bins of ring slot `slot` of `d` as hex to `hex` (4 digits per item). */
static void row_hex(const crisk_drift *d, size_t slot, unsigned char *bytes, char *hex)
{
    size_t ni = d->ref->num_items;
    for (size_t i = 0; i < ni; i++) {
        uint16_t b = d->ring[slot * ni + i];
        bytes[2 * i] = (unsigned char)(b >> 8);
        bytes[2 * i + 1] = (unsigned char)b;
    }
    crisk_hex_encode(bytes, 2 * ni, hex);
}

/* Adds what `d` counts to `root`: the window's rows oldest first, or every item's counts. */
static int add_counts(const crisk_drift *d, cJSON *root)
{
    size_t ni = d->ref->num_items;
    cJSON *arr = cJSON_AddArrayToObject(root, d->window ? "window_rows" : "counts");
    unsigned char *bytes = malloc(2 * ni + 1);
    char *hex = malloc(4 * ni + 1);
    int ok = arr && bytes && hex;
    for (uint64_t k = 0; ok && d->window && k < d->rows; k++) {
        size_t slot = (d->head + d->window - d->rows + k) % d->window;
        row_hex(d, slot, bytes, hex);
        ok = cJSON_AddItemToArray(arr, cJSON_CreateString(hex));
    }
    for (size_t i = 0; ok && !d->window && i < ni; i++) {
        cJSON *c = cJSON_CreateArray();
        for (size_t b = d->offset[i]; c && b < d->offset[i + 1]; b++)
            if (!cJSON_AddItemToArray(c, cJSON_CreateNumber((double)d->counts[b])))
                break;
        ok = c && cJSON_AddItemToArray(arr, c);
    }
    free(bytes);
    free(hex);
    return ok ? 0 : -1;
}

int crisk_drift_save(const crisk_drift *d, const char *path, crisk_error *err)
{
    if (!d || !path)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "drift and path must not be NULL");
    char digest[65];
    crisk_hex_encode(d->ref->bundle->sha256, 32, digest);
    cJSON *root = cJSON_CreateObject();
    int ok = root && cJSON_AddStringToObject(root, "format", "crisk-drift-state") &&
             cJSON_AddNumberToObject(root, "version", 1) &&
             cJSON_AddStringToObject(root, "bundle", digest) &&
             cJSON_AddNumberToObject(root, "window", (double)d->window) &&
             cJSON_AddNumberToObject(root, "rows", (double)d->rows) && add_counts(d, root) == 0;
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for the drift state");
    FILE *f = fopen(path, "w");
    int bad = !f || fputs(text, f) == EOF || fputc('\n', f) == EOF;
    bad |= f && fclose(f) != 0;
    free(text);
    return bad ? crisk__fail(err, CRISK_E_IO, "%s: cannot write the drift state", path) : 0;
}

/* Restores the window's rows (array `rows`, oldest first) into `d`. */
static int load_window(crisk_drift *d, const cJSON *rows, crisk_error *err)
{
    size_t ni = d->ref->num_items, k = 0;
    unsigned char *bytes = malloc(2 * ni + 1);
    uint16_t *bins = malloc(ni * sizeof *bins);
    int rc = bytes && bins ? 0 : crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    if (rc == 0 && crisk__json_array_size(rows) > d->window)
        rc = crisk__fail(err, CRISK_E_FORMAT, "window_rows: more rows than the window holds");
    for (const cJSON *e = rows ? rows->child : NULL; rc == 0 && e; e = e->next, k++) {
        if (!cJSON_IsString(e) || crisk__hex_decode_text(e->valuestring, bytes, 2 * ni + 1) !=
                                      (long)(2 * ni)) {
            rc = crisk__fail(err, CRISK_E_FORMAT, "window_rows[%zu]: expected %zu hex digits",
                             k, 4 * ni);
            break;
        }
        for (size_t i = 0; rc == 0 && i < ni; i++) {
            bins[i] = (uint16_t)(bytes[2 * i] << 8 | bytes[2 * i + 1]);
            if (bins[i] >= d->ref->items[i].num_bins)
                rc = crisk__fail(err, CRISK_E_FORMAT, "window_rows[%zu]: bin %u of \"%s\" "
                                 "is past its %zu bins", k, bins[i], d->ref->items[i].name,
                                 d->ref->items[i].num_bins);
        }
        if (rc == 0)
            crisk__drift_push(d, bins);
    }
    free(bytes);
    free(bins);
    return rc;
}

/* Restores a batch's counts (array `counts`, one array per item) into `d`, each item's
 * counts summing to `rows`. */
static int load_counts(crisk_drift *d, const cJSON *counts, double rows, crisk_error *err)
{
    size_t ni = d->ref->num_items, i = 0;
    if (crisk__json_array_size(counts) != ni)
        return crisk__fail(err, CRISK_E_FORMAT, "counts: expected %zu items", ni);
    for (const cJSON *c = counts->child; c; c = c->next, i++) {
        size_t nb = d->offset[i + 1] - d->offset[i], b = 0;
        double sum = 0;
        if (crisk__json_array_size(c) != nb)
            return crisk__fail(err, CRISK_E_FORMAT, "counts[%zu]: expected %zu bins", i, nb);
        for (const cJSON *e = c->child; e; e = e->next, b++) {
            double v = cJSON_IsNumber(e) ? e->valuedouble : -1;
            if (!(v >= 0 && v <= 1e15 && v == floor(v)))
                return crisk__fail(err, CRISK_E_FORMAT, "counts[%zu][%zu]: expected a count",
                                   i, b);
            d->counts[d->offset[i] + b] = (uint64_t)v;
            sum += v;
        }
        if (sum != rows)
            return crisk__fail(err, CRISK_E_FORMAT, "counts[%zu]: they sum to %.0f, not rows "
                               "(%.0f)", i, sum, rows);
    }
    d->rows = (uint64_t)rows;
    return 0;
}

/* Checks the header of state `root` against `ref` and reads its window and rows. */
static int read_header(const crisk_reference *ref, const cJSON *root, double *window,
                       double *rows, crisk_error *err)
{
    static const char *const keys[] = {"format", "version", "bundle", "window", "rows",
                                       "window_rows", "counts", NULL};
    if (!cJSON_IsObject(root))
        return crisk__fail(err, CRISK_E_FORMAT, "not a JSON object");
    int rc = crisk__json_check_keys(root, keys, "top level", err);
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *bundle = cJSON_GetObjectItemCaseSensitive(root, "bundle");
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(root, "window");
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(root, "rows");
    char digest[65];
    crisk_hex_encode(ref->bundle->sha256, 32, digest);
    if (rc)
        return rc;
    if (!cJSON_IsString(format) || strcmp(format->valuestring, "crisk-drift-state") != 0 ||
        !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "version")) ||
        cJSON_GetObjectItemCaseSensitive(root, "version")->valuedouble != 1)
        return crisk__fail(err, CRISK_E_FORMAT, "format, version: expected "
                           "\"crisk-drift-state\", 1");
    if (!cJSON_IsString(bundle) || strcmp(bundle->valuestring, digest) != 0)
        return crisk__fail(err, CRISK_E_INTEGRITY, "bundle: the state was saved for another "
                           "bundle (digest %.64s, this one %s)",
                           cJSON_IsString(bundle) ? bundle->valuestring : "none", digest);
    if (!cJSON_IsNumber(w) || !cJSON_IsNumber(r) || w->valuedouble < 0 ||
        r->valuedouble < 0 || w->valuedouble != floor(w->valuedouble) ||
        r->valuedouble != floor(r->valuedouble) || r->valuedouble > 1e15 ||
        (w->valuedouble > 0 && r->valuedouble > w->valuedouble))
        return crisk__fail(err, CRISK_E_FORMAT, "window, rows: expected whole numbers, rows "
                           "at most the window");
    *window = w->valuedouble;
    *rows = r->valuedouble;
    return 0;
}

int crisk_drift_load(const crisk_reference *ref, const char *path, crisk_drift **out,
                     crisk_error *err)
{
    if (out)
        *out = NULL;
    if (!ref || !path || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "reference, path and out must not "
                           "be NULL");
    cJSON *root = NULL;
    crisk_drift *d = NULL;
    double window = 0, rows = 0;
    int rc = crisk__json_read_file(path, MAX_STATE_BYTES, &root, err);
    if (rc == 0 && (rc = read_header(ref, root, &window, &rows, err)) == 0 &&
        (rc = crisk_drift_new(ref, window <= (double)SIZE_MAX ? (size_t)window : SIZE_MAX, &d,
                              err)) == 0) {
        const cJSON *wr = cJSON_GetObjectItemCaseSensitive(root, "window_rows");
        const cJSON *counts = cJSON_GetObjectItemCaseSensitive(root, "counts");
        if (d->window && (!cJSON_IsArray(wr) || crisk__json_array_size(wr) != rows))
            rc = crisk__fail(err, CRISK_E_FORMAT, "window_rows: expected an array of rows "
                             "(%.0f) strings", rows);
        else if (!d->window && !cJSON_IsArray(counts))
            rc = crisk__fail(err, CRISK_E_FORMAT, "counts: expected an array");
        else
            rc = d->window ? load_window(d, wr, err) : load_counts(d, counts, rows, err);
    }
    cJSON_Delete(root);
    if (rc) {
        crisk__fail_prefix(err, rc, path);
        crisk_drift_free(d);
        return rc;
    }
    *out = d;
    return 0;
}
