/*
 * test_score_order.c — the lane state's ordered window (lib/policy/score_order.c) against one
 * sorted array: windows of 1 to 5000 scores streamed through (oldest out, newest in),
 * values removed from anywhere, ascending and descending runs (blocks split and merge at
 * either end), signed zeros and long runs of equal values; after each step every rank, the
 * count below probe scores and the blocks' half-full rule are checked.
 */
#include "policy/score_order.h"

#include "check_run.h"

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Returns the next value of the xorshift64 generator `*state`. */
static uint64_t next_random(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* The reference: a sorted array, ascending with -0 before +0. */
typedef struct naive {
    float *v;
    size_t n;
} naive;

/* Returns 1 when `a` comes before `b` in the window's order. */
static int before(float a, float b)
{
    return a < b || (a == b && signbit(a) && !signbit(b));
}

static void naive_insert(naive *s, float x)
{
    size_t at = 0;
    while (at < s->n && !before(x, s->v[at]))
        at++;
    memmove(s->v + at + 1, s->v + at, (s->n - at) * sizeof *s->v);
    s->v[at] = x;
    s->n++;
}

static void naive_remove(naive *s, float x)
{
    size_t at = 0;
    while (memcmp(&s->v[at], &x, sizeof x) != 0)
        at++;
    memmove(s->v + at, s->v + at + 1, (s->n - at - 1) * sizeof *s->v);
    s->n--;
}

/* A score from one of several families, chosen by `r`: signed zeros, a few repeated
 * values, tiny and huge magnitudes, uniform scores in [0, 1). */
static float some_score(uint64_t r)
{
    static const float odd[] = {-0.0f, 0.0f, 0.5f, 0.5f, -0.5f, 1e-45f, -1e-38f, 3.4e38f,
                                -3.4e38f, 0.25f};
    if (r % 4 == 0)
        return odd[(r >> 8) % 10];
    return (float)((r >> 11) % 1000000) / 1e6f;
}

/* Checks `o` against `s`: the count, every rank bit for bit (or a sample of them in large
 * windows), the count below probes, and the blocks' invariants. */
static void check_same(const crisk__score_order *o, const naive *s, uint64_t *rng)
{
    ck_assert_uint_eq(o->count, s->n);
    size_t step = s->n > 400 ? s->n / 97 : 1, total = 0;
    for (size_t i = 0; i < s->n; i += step) {
        float got = crisk__score_order_at(o, i);
        ck_assert_msg(memcmp(&got, &s->v[i], sizeof got) == 0, "rank %zu of %zu: %a, want %a",
                      i, s->n, (double)got, (double)s->v[i]);
    }
    for (int k = 0; k < 8; k++) {
        float probe = k < 2 && s->n ? s->v[next_random(rng) % s->n] : some_score(next_random(rng));
        size_t want = 0;
        while (want < s->n && s->v[want] < probe)
            want++;
        ck_assert_uint_eq(crisk__score_order_below(o, probe), want);
    }
    ck_assert_uint_le(o->nblocks, o->max_blocks);
    for (size_t b = 0; b < o->nblocks; b++) {
        const crisk__score_block *bk = &o->blocks[b];
        ck_assert_uint_ge(bk->len, o->nblocks > 1 ? o->block / 2 : 1);
        ck_assert_uint_le(bk->len, o->block);
        ck_assert_uint_eq(o->first[b], o->store[(size_t)bk->at * o->block]);
        total += bk->len;
    }
    ck_assert_uint_eq(total, s->n);
}

/* Streams `n` scores through a window of `window`: the oldest leaves once it is full. */
START_TEST(test_streamed_window_matches_sorted_array)
{
    static const size_t windows[] = {1, 2, 3, 17, 64, 300, 5000};
    size_t window = windows[_i];
    uint64_t rng = 0x2545f4914f6cdd1dull + window;
    crisk__score_order o;
    ck_assert_int_eq(crisk__score_order_init(&o, window), 0);
    float *ring = malloc(window * sizeof *ring);
    naive s = {malloc(window * sizeof(float)), 0};
    size_t n = window < 300 ? 2000 : 4 * window;
    for (size_t i = 0; i < n; i++) {
        float x = some_score(next_random(&rng));
        /* Runs of ascending and of descending values between the random stretches. */
        if ((i / 500) % 3 == 1)
            x = (float)i;
        else if ((i / 500) % 3 == 2)
            x = -(float)i;
        if (i >= window) {
            crisk__score_order_remove(&o, ring[i % window]);
            naive_remove(&s, ring[i % window]);
        }
        ring[i % window] = x;
        crisk__score_order_insert(&o, x);
        naive_insert(&s, x);
        if (window < 300 || i % 37 == 0)
            check_same(&o, &s, &rng);
    }
    free(ring);
    free(s.v);
    crisk__score_order_free(&o);
}
END_TEST

/* Fills a window at once, then empties it from random positions and fills it again, so
 * that blocks merge and even out wherever they are. */
START_TEST(test_fill_then_random_removals)
{
    enum { CAP = 3000 };
    uint64_t rng = 99;
    float *values = malloc(CAP * sizeof *values);
    uint32_t *tmp = malloc(CAP * sizeof *tmp);
    naive s = {malloc(CAP * sizeof(float)), 0};
    crisk__score_order o;
    ck_assert_int_eq(crisk__score_order_init(&o, CAP), 0);
    for (size_t i = 0; i < CAP; i++) {
        values[i] = some_score(next_random(&rng));
        naive_insert(&s, values[i]);
    }
    float copy0 = values[0];
    crisk__score_order_fill(&o, values, CAP, tmp);
    ck_assert_mem_eq(&values[0], &copy0, sizeof copy0); /* the input is left as it was */
    check_same(&o, &s, &rng);
    for (int round = 0; round < 2; round++) {
        while (s.n > 0) {
            float x = s.v[next_random(&rng) % s.n];
            crisk__score_order_remove(&o, x);
            naive_remove(&s, x);
            if (s.n % 13 == 0)
                check_same(&o, &s, &rng);
        }
        ck_assert_uint_eq(o.nblocks, 0);
        for (size_t i = 0; i < CAP; i++) {
            crisk__score_order_insert(&o, values[i]);
            naive_insert(&s, values[i]);
            if (i % 13 == 0)
                check_same(&o, &s, &rng);
        }
    }
    free(values);
    free(tmp);
    free(s.v);
    crisk__score_order_free(&o);
}
END_TEST

/* Fills of every small size, each block at least half full, ranks bit for bit. */
START_TEST(test_fill_sizes)
{
    uint64_t rng = 7;
    for (size_t n = 0; n <= 700; n += n < 40 ? 1 : 37) {
        crisk__score_order o;
        ck_assert_int_eq(crisk__score_order_init(&o, 700), 0);
        float values[700];
        uint32_t tmp[700];
        naive s = {malloc(700 * sizeof(float)), 0};
        for (size_t i = 0; i < n; i++) {
            values[i] = some_score(next_random(&rng));
            naive_insert(&s, values[i]);
        }
        crisk__score_order_fill(&o, values, n, tmp);
        check_same(&o, &s, &rng);
        free(s.v);
        crisk__score_order_free(&o);
    }
}
END_TEST

/* Runs the score_order suite. */
int main(void)
{
    Suite *s = suite_create("score_order");
    TCase *tc = tcase_create("score_order");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_streamed_window_matches_sorted_array, 0, 7);
    tcase_add_test(tc, test_fill_then_random_removals);
    tcase_add_test(tc, test_fill_sizes);
    suite_add_tcase(s, tc);
    return crisk_check_run(s);
}
