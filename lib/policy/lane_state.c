/*
 * policy/lane_state.c — the streaming lane state's window: scores in arrival order and in
 * ascending order (score_order.c), updated one score at a time or filled at once from a
 * saved state.
 */
#include "policy/lane_state.h"

#include "common/error.h"

#include <stdlib.h>
#include <unistd.h>

int crisk__lane_state_make(uint64_t fingerprint, size_t window, size_t warmup,
                           crisk_lane_state **out, crisk_error *err)
{
    *out = NULL;
    crisk_lane_state *s = calloc(1, sizeof *s);
    if (s) {
        s->lock_fd = -1;
        s->ring = malloc(window * sizeof(float));
    }
    if (!s || !s->ring || crisk__score_order_init(&s->sorted, window)) {
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
    crisk__score_order_free(&s->sorted);
    free(s);
}

void crisk__lane_state_push(crisk_lane_state *s, float v)
{
    if (s->count == s->window) {
        crisk__score_order_remove(&s->sorted, s->ring[s->head]);
        s->count--;
        s->ring[s->head] = v;
        s->head = (s->head + 1) % s->window;
    } else {
        s->ring[(s->head + s->count) % s->window] = v;
    }
    crisk__score_order_insert(&s->sorted, v);
    s->count++;
}

int crisk__lane_state_fill(crisk_lane_state *s, size_t n, crisk_error *err)
{
    uint32_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory to sort %zu scores", n);
    crisk__score_order_fill(&s->sorted, s->ring, n, tmp);
    free(tmp);
    s->head = 0;
    s->count = n;
    return 0;
}
