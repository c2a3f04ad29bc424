/*
 * model/categories.h — one feature's stored category values (the values its codes stand
 * for): filled by an importer, checked and put in lookup order at validation, and looked
 * up by value. Internal to the library; model.h holds one entry per feature.
 */
#ifndef CRISK_MODEL_CATEGORIES_H
#define CRISK_MODEL_CATEGORIES_H

#include "crisk.h"

#include <stdint.h>

/* Largest number of values a feature may store: codes stay exact in a float, and XGBoost
 * treats codes from 2^24 up as invalid. */
#define CRISK__MAX_CATEGORIES ((size_t)1 << 24)

/* The values a categorical feature's codes stand for, as the model file stores them
 * (XGBoost's `cats`, LightGBM's `pandas_categorical`): code c is value c. Text arriving
 * for the feature is re-coded by value, never by the caller's own codes. */
typedef struct crisk__categories {
    size_t    count;         /* 0: the file stores no values for this feature */
    int       numeric;       /* 1: the trainer stored numbers (in `number`) */
    char    **text;          /* count values as text (numbers: shortest round-trip form) */
    double   *number;        /* numeric: count values; else NULL */
    uint32_t *sorted;        /* the codes in value order, built by crisk__categories_index */
} crisk__categories;

/* Makes entry `c` hold `count` values, all unset, numbers too when `numeric`. Returns 0,
 * CRISK_E_LIMIT (more than CRISK__MAX_CATEGORIES) or CRISK_E_NOMEM. */
int crisk__categories_reserve(crisk__categories *c, size_t count, int numeric,
                              crisk_error *err);

/* Stores value `i` of a text entry: `len` bytes at `s`. Returns 0, CRISK_E_FORMAT (a NUL
 * byte, which no trainer writes) or CRISK_E_NOMEM. */
int crisk__categories_set_text(crisk__categories *c, size_t i, const char *s, size_t len,
                               crisk_error *err);

/* Stores value `i` of a numeric entry: `v` and its shortest round-trip text. Returns 0,
 * CRISK_E_FORMAT (not finite) or CRISK_E_NOMEM. */
int crisk__categories_set_number(crisk__categories *c, size_t i, double v, crisk_error *err);

/* Checks entry `c` (every value set, none twice, at most `max_count` of them) and builds
 * its lookup order. `what` names the feature in messages. Returns 0 or an error code. */
int crisk__categories_index(crisk__categories *c, size_t max_count, const char *what,
                            crisk_error *err);

/* Returns 1 and stores in `*code` the code of `value` (`length` bytes; for a numeric
 * entry, the whole text read as a decimal number), or 0 when the entry has no such
 * value. */
int crisk__categories_find(const crisk__categories *c, const char *value, size_t length,
                           uint32_t *code);

/* Frees what entry `c` holds (not `c` itself). */
void crisk__categories_clear(crisk__categories *c);

/* Returns the bytes entry `c` holds. */
size_t crisk__categories_memory(const crisk__categories *c);

#endif /* CRISK_MODEL_CATEGORIES_H */
