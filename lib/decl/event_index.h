/*
 * decl/event_index.h — the inside of a crisk_events index: events/stream.c reads a stream
 * into it, decl/event_features.c joins it to declarations. Internal to the library.
 */
#ifndef CRISK_DECL_EVENT_INDEX_H
#define CRISK_DECL_EVENT_INDEX_H

#include "decl/types.h"
#include "common/strmap.h"

#include <stdint.h>
#include <string.h>

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
    uint64_t read, accepted, unverified; /* unverified: accepted without an HMAC */
};

/* Writes the lookup key of kind `type` and value `value` (`len` bytes) into `buf` (of at
 * least len + 1 bytes) and returns its length. */
static inline size_t crisk__event_key(unsigned type, const char *value, size_t len, char *buf)
{
    buf[0] = (char)type;
    memcpy(buf + 1, value, len);
    return len + 1;
}

#endif /* CRISK_DECL_EVENT_INDEX_H */
