/*
 * common/error.h — filling a crisk_error. Internal to the library.
 */
#ifndef CRISK_ERROR_H
#define CRISK_ERROR_H

#include "crisk.h"

#if defined(__GNUC__)
#  define CRISK__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define CRISK__PRINTF(a, b)
#endif

/* Fills `err` (which may be NULL) with `code` and a message formatted from `fmt`, and
 * returns `code`, so that a failure reads `return crisk__fail(err, CRISK_E_FORMAT, ...)`:
 * the library's name for the public crisk_error_set(), one implementation. */
#define crisk__fail crisk_error_set

/* Puts `prefix` and ": " in front of the message already in `err` (NULL is a no-op) and
 * returns `code`: how a caller adds where a nested failure happened. */
int crisk__fail_prefix(crisk_error *err, int code, const char *prefix);

/* Returns 0 when `version`, the first field of the options struct named `type` that a
 * caller passed, is `known`, the layout this crisk reads; else CRISK_E_INVALID_ARGUMENT
 * naming the struct. Every call taking an options struct checks it first. */
int crisk__options_version(unsigned int version, unsigned int known, const char *type,
                           crisk_error *err);

/* Clears `err` (which may be NULL) to CRISK_OK with an empty message. */
void crisk__error_clear(crisk_error *err);

#endif /* CRISK_ERROR_H */
