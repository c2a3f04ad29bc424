/*
 * decl/plain_features.h — the table-free features (plain_features.c). Internal to the
 * library.
 */
#ifndef CRISK_DECL_PLAIN_FEATURES_H
#define CRISK_DECL_PLAIN_FEATURES_H

#include "decl/types.h"

/* Returns the feature's need for fitted state: 1 for category and risk features. */
int crisk__feature_needs_fit(const crisk__schema_feature *f);

/* A date decomposed into its parts, kept between the features of one row. */
typedef struct crisk__civil_date {
    int valid;
    long days, year;
    unsigned month, day, yday;
} crisk__civil_date;

/* Returns the value of table-free feature `f` for row `row` (NaN when missing); `cache`
 * (or NULL) keeps the row's last decomposed date. */
float crisk__feature_plain(const crisk_batch *b, const crisk__schema_feature *f, size_t row,
                           crisk__civil_date *cache);

#endif /* CRISK_DECL_PLAIN_FEATURES_H */
