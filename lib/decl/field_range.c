/*
 * decl/field_range.c — the valid range of a number or date field: read from the schema's
 * "range" (or the type's default), written back, and checked for each value a row gives,
 * so that an impossible value (a negative mass, a rate above 1, a date outside the
 * window) rejects the row instead of reaching the models as a missing feature.
 */
#include "decl/field_range.h"

#include "common/date.h"
#include "common/error.h"
#include "common/jsonfile.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The default date window: wide enough for any declaration scored today, narrow enough
 * that a mistyped century (0025-03-01, 2925-03-01) is refused. */
#define DEFAULT_FIRST_YEAR 1900
#define DEFAULT_LAST_YEAR 2099

/* Reads bound `v` (item `i` of the range at `path`) of field `f` into `*out`; null leaves
 * `*out` unbounded. */
static int read_bound(const crisk__schema_field *f, const cJSON *v, const char *path, int i,
                      double *out, crisk_error *err)
{
    if (cJSON_IsNull(v))
        return 0;
    if (f->type == CRISK_FIELD_NUMBER && cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
        *out = v->valuedouble;
        return 0;
    }
    int64_t days;
    if (f->type == CRISK_FIELD_DATE && cJSON_IsString(v)
        && crisk__parse_iso_date(v->valuestring, strlen(v->valuestring), &days) == 0) {
        *out = (double)days;
        return 0;
    }
    return crisk__fail(err, CRISK_E_FORMAT, "%s.range[%d]: expected %s or null", path, i,
                       f->type == CRISK_FIELD_DATE ? "a date \"YYYY-MM-DD\"" : "a number");
}

int crisk__field_range_read(crisk__schema_field *f, const cJSON *obj, const char *path,
                            crisk_error *err)
{
    f->lo = -INFINITY;
    f->hi = INFINITY;
    if (f->type == CRISK_FIELD_NUMBER)
        f->lo = 0;
    else if (f->type == CRISK_FIELD_DATE) {
        f->lo = (double)crisk__days_from_civil(DEFAULT_FIRST_YEAR, 1, 1);
        f->hi = (double)crisk__days_from_civil(DEFAULT_LAST_YEAR, 12, 31);
    }
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(obj, "range");
    if (!r)
        return 0;
    if (f->type != CRISK_FIELD_NUMBER && f->type != CRISK_FIELD_DATE)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.range: only number and date fields have "
                           "a range", path);
    if (!cJSON_IsArray(r) || crisk__json_array_size(r) != 2)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.range: expected [lo, hi] (null for no "
                           "bound)", path);
    double lo = -INFINITY, hi = INFINITY;
    int rc;
    if ((rc = read_bound(f, r->child, path, 0, &lo, err))
        || (rc = read_bound(f, r->child->next, path, 1, &hi, err)))
        return rc;
    if (lo > hi)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.range: the low bound is above the high "
                           "bound", path);
    f->lo = lo;
    f->hi = hi;
    return 0;
}

/* Writes bound `v` of field `f` as text for messages ("-inf"/"+inf" when unbounded). */
static void bound_text(const crisk__schema_field *f, double v, char *buf, size_t size)
{
    if (isinf(v)) {
        snprintf(buf, size, "%cinf", v < 0 ? '-' : '+');
    } else if (f->type == CRISK_FIELD_DATE) {
        long y;
        unsigned m, d, yday;
        crisk__civil_from_days((long)v, &y, &m, &d, &yday);
        snprintf(buf, size, "%04ld-%02u-%02u", y, m, d);
    } else {
        snprintf(buf, size, "%.17g", v);
    }
}

/* Returns bound `v` of field `f` as a JSON value (null when unbounded), or NULL. */
static cJSON *bound_json(const crisk__schema_field *f, double v)
{
    if (isinf(v))
        return cJSON_CreateNull();
    if (f->type == CRISK_FIELD_NUMBER)
        return cJSON_CreateNumber(v);
    char text[32];
    bound_text(f, v, text, sizeof text);
    return cJSON_CreateString(text);
}

int crisk__field_range_to_json(const crisk__schema_field *f, cJSON *obj)
{
    if (f->type != CRISK_FIELD_NUMBER && f->type != CRISK_FIELD_DATE)
        return 0;
    cJSON *arr = cJSON_AddArrayToObject(obj, "range");
    cJSON *lo = arr ? bound_json(f, f->lo) : NULL;
    if (!lo || !cJSON_AddItemToArray(arr, lo)) {
        cJSON_Delete(lo);
        return CRISK_E_NOMEM;
    }
    cJSON *hi = bound_json(f, f->hi);
    if (!hi || !cJSON_AddItemToArray(arr, hi)) {
        cJSON_Delete(hi);
        return CRISK_E_NOMEM;
    }
    return 0;
}

const char *crisk__field_range_check(const crisk__schema_field *f, double value, char *buf,
                                     size_t size)
{
    if (value >= f->lo && value <= f->hi)
        return NULL;
    char lo[32], hi[32];
    bound_text(f, f->lo, lo, sizeof lo);
    bound_text(f, f->hi, hi, sizeof hi);
    snprintf(buf, size, "is outside the valid range %s%s, %s%s", isinf(f->lo) ? "(" : "[",
             lo, hi, isinf(f->hi) ? ")" : "]");
    return buf;
}
