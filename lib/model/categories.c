/*
 * model/categories.c — one feature's stored category values: filling, checking and
 * ordering them for lookup, and finding a value's code.
 */
#include "model/categories.h"

#include "common/error.h"
#include "common/number.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int crisk__categories_reserve(crisk__categories *c, size_t count, int numeric,
                              crisk_error *err)
{
    if (count > CRISK__MAX_CATEGORIES)
        return crisk__fail(err, CRISK_E_LIMIT, "%zu category values exceed the %zu a feature "
                           "may have", count, CRISK__MAX_CATEGORIES);
    c->text = calloc(count ? count : 1, sizeof *c->text);
    c->number = numeric ? calloc(count ? count : 1, sizeof *c->number) : NULL;
    if (!c->text || (numeric && !c->number))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu categories", count);
    c->count = count;
    c->numeric = numeric;
    return 0;
}

int crisk__categories_set_text(crisk__categories *c, size_t i, const char *s, size_t len,
                               crisk_error *err)
{
    if (memchr(s, '\0', len))
        return crisk__fail(err, CRISK_E_FORMAT, "category %zu holds a NUL byte", i);
    c->text[i] = strndup(s, len);
    return c->text[i] ? 0 : crisk__fail(err, CRISK_E_NOMEM, "out of memory for categories");
}

int crisk__categories_set_number(crisk__categories *c, size_t i, double v, crisk_error *err)
{
    if (!isfinite(v))
        return crisk__fail(err, CRISK_E_FORMAT, "category %zu is not a finite number", i);
    char buf[32];
    /* The shortest of %.15g .. %.17g that reads back as v, as Python's repr writes it. */
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    c->number[i] = v;
    return crisk__categories_set_text(c, i, buf, strlen(buf), err);
}

/* Orders two NUL-free texts, `a` of `alen` bytes and the NUL-terminated `b`, bytewise
 * (the order strcmp gives). */
static int compare_text(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c ? c : (alen > blen) - (alen < blen);
}

/* A code with its value: qsort passes its comparison no context, so an entry's codes are
 * sorted as such records. */
typedef struct keyed {
    const char *text;
    double number;
    uint32_t code;
} keyed;

static int compare_keyed_text(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    return compare_text(x->text, strlen(x->text), y->text);
}

static int compare_keyed_number(const void *a, const void *b)
{
    double x = ((const keyed *)a)->number, y = ((const keyed *)b)->number;
    return (x > y) - (x < y);
}

int crisk__categories_index(crisk__categories *c, size_t max_count, const char *what,
                            crisk_error *err)
{
    if (c->count > max_count)
        return crisk__fail(err, CRISK_E_LIMIT, "%s: %zu category values exceed the limit "
                           "max_category = %zu", what, c->count, max_count);
    keyed *k = malloc((c->count ? c->count : 1) * sizeof *k);
    c->sorted = malloc((c->count ? c->count : 1) * sizeof *c->sorted);
    if (!k || !c->sorted) {
        free(k);
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for categories");
    }
    for (size_t i = 0; i < c->count; i++) {
        if (!c->text[i]) {
            free(k);
            return crisk__fail(err, CRISK_E_FORMAT, "%s: category %zu has no value", what, i);
        }
        k[i] = (keyed){c->text[i], c->numeric ? c->number[i] : 0, (uint32_t)i};
    }
    int (*cmp)(const void *, const void *) = c->numeric ? compare_keyed_number
                                                         : compare_keyed_text;
    qsort(k, c->count, sizeof *k, cmp);
    int rc = 0;
    for (size_t i = 0; i < c->count; i++) {
        c->sorted[i] = k[i].code;
        if (rc == 0 && i > 0 && cmp(&k[i - 1], &k[i]) == 0)
            rc = crisk__fail(err, CRISK_E_FORMAT, "%s: category \"%.64s\" is stored twice "
                             "(codes %u and %u)", what, k[i].text, (unsigned)k[i - 1].code,
                             (unsigned)k[i].code);
    }
    free(k);
    return rc;
}

/* A binary search in the lookup order built by crisk__categories_index. */
int crisk__categories_find(const crisk__categories *c, const char *value, size_t length,
                           uint32_t *code)
{
    double v = 0;
    /* Numeric categories take the one number grammar (common/number.h). */
    if (c->numeric ? crisk__number_parse(value, length, (locale_t)0, &v) != 0
                   : memchr(value, '\0', length) != NULL)
        return 0;
    size_t lo = 0, hi = c->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t k = c->sorted[mid];
        int cmp = c->numeric ? (v > c->number[k]) - (v < c->number[k])
                             : compare_text(value, length, c->text[k]);
        if (cmp == 0) {
            *code = k;
            return 1;
        }
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

void crisk__categories_clear(crisk__categories *c)
{
    for (size_t i = 0; c->text && i < c->count; i++)
        free(c->text[i]);
    free(c->text);
    free(c->number);
    free(c->sorted);
    memset(c, 0, sizeof *c);
}

size_t crisk__categories_memory(const crisk__categories *c)
{
    size_t bytes = c->count * (sizeof(char *) + sizeof(uint32_t) +
                               (c->numeric ? sizeof(double) : 0));
    for (size_t i = 0; i < c->count; i++)
        bytes += c->text[i] ? strlen(c->text[i]) + 1 : 0;
    return bytes;
}
