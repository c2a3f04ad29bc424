/*
 * decl/event_features.h — the event features of a declaration (event_features.c).
 * Internal to the library.
 */
#ifndef CRISK_DECL_EVENT_FEATURES_H
#define CRISK_DECL_EVENT_FEATURES_H

#include "decl/types.h"

/* Returns the value of event feature `f` for row `row` of `b` from the events joined to
 * the batch (decl/event_features.c; docs/events.md, "Features"): NaN when the batch has no
 * events, the row has no key or date, or the key has no event in the window. */
float crisk__event_feature(const crisk_schema *s, const crisk_batch *b,
                           const crisk__schema_feature *f, size_t row);

#endif /* CRISK_DECL_EVENT_FEATURES_H */
