/*
 * policy/lane_state.c — the streaming lane state's window: scores in arrival order and in
 * ascending order, updated one score at a time or filled at once from a saved state.
 */
#include "policy/lane_state.h"

#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int crisk__lane_state_make(uint64_t fingerprint, size_t window, size_t warmup,
                           crisk_lane_state **out, crisk_error *err)
{
    *out = NULL;
    crisk_lane_state *s = calloc(1, sizeof *s);
    if (s) {
        s->lock_fd = -1;
        s->ring = malloc(window * sizeof(float));
        s->sorted = malloc(window * sizeof(float));
    }
    if (!s || !s->ring || !s->sorted) {
        crisk_lane_state_free(s);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for a window of %zu scores",
                           window);
    }
    s->fingerprint = fingerprint;
    s->window = window;
    s->warmup = warmup;
    *out = s;
    return 0;
}

void crisk_lane_state_free(crisk_lane_state *s)
{
    if (!s)
        return;
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the lock */
    free(s->ring);
    free(s->sorted);
    free(s);
}

/* The window's order: ascending, -0 before +0, so that equal keys are equal bits and the
 * sorted array depends only on the scores it holds, not on how they arrived. */
static int before(float a, float b)
{
    return a < b || (a == b && signbit(a) && !signbit(b));
}

/* Returns the first position in the ascending `a` of `n` whose value comes after `v`. */
static size_t upper_bound(const float *a, size_t n, float v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (!before(v, a[mid]))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Both arrays move in memmove steps of at most `window` floats. */
void crisk__lane_state_push(crisk_lane_state *s, float v)
{
    if (s->count == s->window) {
        float old = s->ring[s->head];
        size_t at = upper_bound(s->sorted, s->count, old) - 1; /* the same bits as old */
        memmove(s->sorted + at, s->sorted + at + 1, (s->count - at - 1) * sizeof(float));
        s->count--;
        s->ring[s->head] = v;
        s->head = (s->head + 1) % s->window;
    } else {
        s->ring[(s->head + s->count) % s->window] = v;
    }
    size_t at = upper_bound(s->sorted, s->count, v);
    memmove(s->sorted + at + 1, s->sorted + at, (s->count - at) * sizeof(float));
    s->sorted[at] = v;
    s->count++;
}

/* Orders floats for qsort as before() does. */
static int cmp_score(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return before(y, x) - before(x, y);
}

void crisk__lane_state_fill(crisk_lane_state *s, size_t n)
{
    memcpy(s->sorted, s->ring, n * sizeof(float));
    qsort(s->sorted, n, sizeof(float), cmp_score);
    s->head = 0;
    s->count = n;
}
