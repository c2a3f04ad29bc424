/*
 * decl/event_index.h — the inside of a crisk_events index (events/stream.c reads a stream into it,
 * lib/event_features.c joins it to declarations) and the names of event types and key
 * kinds, shared with schema.c. Internal to the library.
 */
#ifndef CRISK_EVENTS_H
#define CRISK_EVENTS_H

#include "decl/schema_impl.h"
#include "common/strmap.h"

#include <stdint.h>
#include <string.h>

/* The kinds of key an event refers to; numbering starts at 1 (0: none). */
typedef enum crisk__event_key_type {
    CRISK__EVENT_KEY_CONTAINER = 1, CRISK__EVENT_KEY_TRANSPORT_DOCUMENT, CRISK__EVENT_KEY_CONVEYANCE,
    CRISK__EVENT_KEY_DECLARATION
} crisk__event_key_type;
#define CRISK__EVENT_KEY_TYPES 5 /* entries of crisk__event_key_names, entry 0 unused */

/* Built-in event types are numbered 0..EVENT_BUILTIN_TYPES-1 in this order; a schema's
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

/* Times are microseconds since 1970-01-01T00:00:00Z. */
#define CRISK__EVENT_US_PER_DAY 86400000000LL

/* One kept event. */
typedef struct crisk__event_rec {
    int64_t time;      /* microseconds since the epoch, UTC */
    uint32_t key;      /* index in crisk_events.keys */
    uint32_t type;
    uint64_t line;     /* of the stream: orders events of equal time, as they arrived */
    double value;      /* xray.result: anomaly_score; other types: payload.value, or NaN */
} crisk__event_rec;

typedef struct crisk__event_reject {
    uint64_t line;
    crisk_event_reject kind;
    char *reason;
} crisk__event_reject;

struct crisk_events {
    const crisk_schema *schema;
    /* Keys are one byte of key kind followed by the value's bytes. */
    crisk__strmap keys;
    size_t *start;        /* key k's events are ev[start[k] .. start[k + 1]) */
    crisk__event_rec *ev;        /* sorted by key, time, line */
    size_t nev;
    crisk__event_reject *rejects;
    size_t nrejects;
    uint64_t read, accepted;
};

/* Writes the lookup key of kind `type` and value `value` (`len` bytes) into `buf` (of at
 * least len + 1 bytes) and returns its length. */
static inline size_t crisk__event_key(unsigned type, const char *value, size_t len, char *buf)
{
    buf[0] = (char)type;
    memcpy(buf + 1, value, len);
    return len + 1;
}

#endif /* CRISK_EVENTS_H */
