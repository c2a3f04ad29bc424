/*
 * decl/event_features.c — joining sensor events to declarations: attaching an event index to
 * a batch, and the event features (docs/events.md, "Features"), computed by one function
 * that crisk__features_build calls for training and scoring alike.
 *
 * Join: an indexed lookup. Each declaration's key is hashed into the index (built for the
 * batch's keys only) and its window found by binary search in the key's time-sorted
 * run. A sorted merge would need the batch sorted by key and date, which scoring
 * (results in input order, rows joined one feature at a time) does not otherwise need.
 */
#include "common/error.h"
#include "decl/event_features.h"
#include "decl/event_index.h"
#include "decl/types.h"

#include <math.h>

/* Joins `events` to `batch` (NULL detaches); returns 0 or CRISK_E_INVALID_ARGUMENT. */
int crisk_batch_set_events(crisk_batch *batch, const crisk_events *events, crisk_error *err)
{
    if (!batch)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "batch must not be NULL");
    if (events && events->schema != batch->schema)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the events were read for another "
                           "schema than the batch's");
    batch->events = events;
    return 0;
}

/* Returns the first index in [lo, hi) of `ev` whose time is at least `t` (hi if none). */
static size_t first_at_or_after(const crisk__event_rec *ev, size_t lo, size_t hi, int64_t t)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ev[mid].time < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Returns the value of event feature `f` for row `row` of `b` (NaN when missing). */
float crisk__event_feature(const crisk_schema *s, const crisk_batch *b,
                           const crisk__schema_feature *f, size_t row)
{
    const crisk_events *ev = b->events;
    size_t len;
    const char *value = crisk__batch_text_at(b, row, f->field, &len);
    double date = s->date_field >= 0 ? crisk__batch_number_at(b, row, (size_t)s->date_field) : NAN;
    if (!ev || !value || isnan(date))
        return NAN;
    char key[1 + CRISK__SCHEMA_MAX_FIELD_BYTES];
    long k = crisk__strmap_find(&ev->keys, key, crisk__event_key(f->key_type, value, len, key));
    if (k < 0)
        return NAN;
    /* The window is [end - window_days, end) with end the midnight (UTC) that closes the
     * declaration's day. */
    int64_t end = ((int64_t)date + 1) * CRISK__EVENT_US_PER_DAY;
    int64_t begin = end - (int64_t)llround(f->window_days * 86400.0) * 1000000;
    size_t lo = first_at_or_after(ev->ev, ev->start[k], ev->start[k + 1], begin);
    size_t hi = first_at_or_after(ev->ev, lo, ev->start[k + 1], end);
    if (lo == hi)
        return NAN; /* no event of any type: the key was not watched in the window */
    size_t count = 0;
    int64_t last = 0;
    double max = NAN;
    for (size_t i = lo; i < hi; i++)
        if (ev->ev[i].type == f->event) {
            count++;
            last = ev->ev[i].time; /* sorted: the last seen is the latest */
            double v = ev->ev[i].value;
            if (!isnan(v) && (isnan(max) || v > max))
                max = v;
        }
    switch (f->op) {
    case CRISK__OP_EVENT_COUNT:
        return (float)count;
    case CRISK__OP_EVENT_FLAG:
        return count > 0;
    case CRISK__OP_EVENT_HOURS_SINCE:
        return count ? (float)((double)(end - last) / 3600e6) : NAN;
    case CRISK__OP_EVENT_MAX:
        return (float)max;
    default:
        return NAN;
    }
}
