/*
 * common/grow.c — growing a heap array by doubling, with overflow checks (grow.h).
 */
#include "common/grow.h"

#include "crisk.h"

#include <stdint.h>
#include <stdlib.h>

size_t crisk__grow_capacity(size_t cap, size_t need, size_t first)
{
    size_t n = cap ? cap : first ? first : 1; /* 0 would double forever */
    while (n < need)
        n = n > SIZE_MAX / 2 ? need : n * 2;
    return n;
}

int crisk__resize(void **items, size_t count, size_t item_size)
{
    if (item_size && count > SIZE_MAX / item_size)
        return CRISK_E_NOMEM;
    void *p = realloc(*items, count * item_size);
    if (!p)
        return CRISK_E_NOMEM;
    *items = p;
    return 0;
}

int crisk__grow(void **items, size_t *cap, size_t need, size_t item_size, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t n = crisk__grow_capacity(*cap, need, first);
    int rc = crisk__resize(items, n, item_size);
    if (rc)
        return rc;
    *cap = n;
    return 0;
}
