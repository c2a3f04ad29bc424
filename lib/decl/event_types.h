/*
 * decl/event_types.h — the vocabulary of sensor events: key kinds and event types by
 * name and number (event_types.c). Internal to the library.
 */
#ifndef CRISK_DECL_EVENT_TYPES_H
#define CRISK_DECL_EVENT_TYPES_H

#include "crisk.h"

/* The kinds of key an event refers to; numbering starts at 1 (0: none). */
typedef enum crisk__event_key_type {
    CRISK__EVENT_KEY_CONTAINER = 1, CRISK__EVENT_KEY_TRANSPORT_DOCUMENT, CRISK__EVENT_KEY_CONVEYANCE,
    CRISK__EVENT_KEY_DECLARATION
} crisk__event_key_type;
#define CRISK__EVENT_KEY_TYPES 5 /* entries of crisk__event_key_names, entry 0 unused */

/* Built-in event types are numbered 0..CRISK__EVENT_BUILTIN_TYPES-1 in this order; a schema's
 * custom types follow. */
enum { CRISK__EVENT_XRAY_RESULT = 6, CRISK__EVENT_BUILTIN_TYPES = 7 };

extern const char *const crisk__event_key_names[CRISK__EVENT_KEY_TYPES];
extern const char *const crisk__event_builtin_names[CRISK__EVENT_BUILTIN_TYPES];

/* Returns the number of event type `name` for schema `s` (built-in or custom), or -1. */
long crisk__event_type_index(const crisk_schema *s, const char *name);

/* Returns the name of event type `type` of schema `s`. */
const char *crisk__event_type_name(const crisk_schema *s, uint32_t type);

/* Returns 1 when `name` is a well-formed custom event type name (1 to 64 bytes of
 * lowercase letters, digits, '.', '_' and '-', starting with a letter), else 0. */
int crisk__event_type_name_valid(const char *name);

/* Returns the number of key kind `name` (1..4), or 0. */
unsigned crisk__event_key_type_index(const char *name);

#endif /* CRISK_DECL_EVENT_TYPES_H */
