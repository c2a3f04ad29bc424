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

/* Returns a key whose unsigned order is before()'s order of the finite float `v`: the
 * bits with the sign flipped for positives and all flipped for negatives. */
static uint32_t sort_key(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u & 0x80000000u ? ~u : u | 0x80000000u;
}

/* Sorts the `n` floats of `a` in before()'s order: a least-significant-digit radix sort,
 * three stable passes of 11 bits through `tmp` (n floats), so that loading a state stays
 * linear in its size (qsort's comparisons were most of the time of a large load). */
static void radix_sort(float *a, float *tmp, size_t n)
{
    for (int shift = 0; shift < 33; shift += 11) {
        size_t count[2049] = {0};
        for (size_t i = 0; i < n; i++)
            count[((sort_key(a[i]) >> shift) & 2047) + 1]++;
        for (size_t d = 1; d < 2049; d++)
            count[d] += count[d - 1];
        for (size_t i = 0; i < n; i++)
            tmp[count[(sort_key(a[i]) >> shift) & 2047]++] = a[i];
        float *t = a;
        a = tmp;
        tmp = t;
    }
    /* Three passes leave the result in the caller's `tmp`. */
    memcpy(tmp, a, n * sizeof *a);
}

int crisk__lane_state_fill(crisk_lane_state *s, size_t n, crisk_error *err)
{
    float *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory to sort %zu scores", n);
    memcpy(s->sorted, s->ring, n * sizeof(float));
    radix_sort(s->sorted, tmp, n);
    free(tmp);
    s->head = 0;
    s->count = n;
    return 0;
}
