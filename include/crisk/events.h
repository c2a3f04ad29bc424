/*
 * crisk/events.h — border sensor events (e-seals, RFID, GPS, X-ray; docs/events.md):
 * device keys, event streams and their refusals. Part of the public API; include
 * <crisk.h>.
 */
#ifndef INCLUDE_crisk_events_h
#define INCLUDE_crisk_events_h

#include "crisk/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The sensor events of one event stream (JSON Lines, docs/events.md) that passed every
 * check, indexed by key (container, transport document, conveyance or declaration id)
 * and sorted by time within a key, with the list of the events refused and why. Immutable
 * once loaded: any number of threads may read it, and build features from a batch it is
 * joined to, at once. */
typedef struct crisk_events crisk_events;

/* The per-device HMAC keys an event stream is verified with (docs/events.md, "Device
 * keys"). Immutable once loaded. */
typedef struct crisk_device_keys crisk_device_keys;

/* Loads a device key file: each device with its key, or listed as "unsigned": true (its
 * events are then accepted without an HMAC, as unverified evidence). A key of fewer than
 * 8 distinct byte values (all zero, ...) is refused as a placeholder. Returns 0, or
 * CRISK_E_IO / CRISK_E_FORMAT (naming the JSON path) / CRISK_E_NOMEM. Thread-safe. */
CRISK_API int crisk_device_keys_load(const char *path, crisk_device_keys **out,
                                     crisk_error *err);

/* Frees device keys. NULL is a no-op. */
CRISK_API void crisk_device_keys_free(crisk_device_keys *keys);

/* The value of crisk_events_options.now that asks for the default (the wall clock). */
#define CRISK_EVENTS_NOW_AUTO INT64_MIN

/* How an event stream is read. Initialise with crisk_events_options_init(); more fields
 * may follow in later versions (see "Options structs" in crisk.h). Version 1 lacks `now`
 * and `future_seconds` and reads with their defaults. */
#define CRISK_EVENTS_OPTIONS_VERSION 2
typedef struct crisk_events_options {
    unsigned int version;  /* CRISK_EVENTS_OPTIONS_VERSION: the layout; set by _init() */
    const crisk_device_keys *keys; /* NULL: no device is known, so every event is refused
                                      (unknown_device); only devices listed in the key
                                      file, with a key or as "unsigned", are evidence */
    int      require_hmac;   /* nonzero: every event needs a valid HMAC, whatever its
                                device; default 0 (devices marked "required" need one) */
    size_t   max_events;     /* events kept in the index; more fails with CRISK_E_LIMIT;
                                default 10,000,000 */
    size_t   max_rejects;    /* refused events listed; more fails with CRISK_E_LIMIT;
                                default 1,000,000 */
    size_t   max_line_bytes; /* a longer line is refused as malformed; default 65,536 */
    int64_t  now;            /* the reference time, seconds since 1970-01-01T00:00:00Z
                                (to 9999): an event later than now + future_seconds is
                                refused
                                (future_time); default CRISK_EVENTS_NOW_AUTO, the wall clock
                                when the read starts. Give one value to every read of a
                                run, so that every read accepts the same events */
    int64_t  future_seconds; /* the tolerance for device clocks ahead of `now`, 0 to
                                86,400; default 300 (5 minutes) */
} crisk_events_options;

/* Fills `opts` with the defaults above for `version`, which must be
 * CRISK_EVENTS_OPTIONS_VERSION (the layout this header declares), and writes no field that
 * version lacks. Returns 0, or CRISK_E_INVALID_ARGUMENT (NULL, or a version this crisk does
 * not know). Thread-safe. */
CRISK_API int crisk_events_options_init(crisk_events_options *opts, unsigned int version);

/* Reads the event stream in the file at `path` for declarations of `schema` (which names
 * the custom event types and must outlive the events). Every line is checked (docs/
 * events.md, "Rejects"); a refused event goes to the reject list with its line number
 * and reason. When `batch` is not NULL only the accepted events that can reach one of its
 * features are kept — those whose key is the key of an event feature of one of its
 * declarations, and whose time falls in the widest feature window before one of its
 * dates — so memory follows the batch, not the stream's history; with NULL every
 * accepted event is kept. Returns 0 (rejects are not failures), or CRISK_E_IO /
 * CRISK_E_LIMIT / CRISK_E_NOMEM / CRISK_E_INVALID_ARGUMENT. Thread-safe. */
CRISK_API int crisk_events_load(const crisk_schema *schema, const crisk_batch *batch,
                                const char *path, const crisk_events_options *opts,
                                crisk_events **out, crisk_error *err);

/* As crisk_events_load, from the `len` bytes at `data` (JSON Lines) instead of a file. */
CRISK_API int crisk_events_parse(const crisk_schema *schema, const crisk_batch *batch,
                                 const char *data, size_t len,
                                 const crisk_events_options *opts, crisk_events **out,
                                 crisk_error *err);

/* Frees events. NULL is a no-op; a batch they are joined to must not be scored after. */
CRISK_API void crisk_events_free(crisk_events *events);

/* Returns the number of events read (non-blank lines), accepted, accepted unverified
 * (without an HMAC, from a device listed as "unsigned" or with "required": false), and
 * kept in the index (accepted events the batch given at load can use).
 * read = accepted + rejects. */
CRISK_API uint64_t crisk_events_num_read(const crisk_events *events);
CRISK_API uint64_t crisk_events_num_accepted(const crisk_events *events);
CRISK_API uint64_t crisk_events_num_unverified(const crisk_events *events);
CRISK_API size_t crisk_events_num_kept(const crisk_events *events);

/* Why an event was refused. */
typedef enum crisk_event_reject {
    CRISK_EVENT_MALFORMED = 1,   /* not a JSON object, a member missing or of a wrong type,
                                    an unknown member, a line too long */
    CRISK_EVENT_UNKNOWN_KEY,     /* key.type is not a known kind of key */
    CRISK_EVENT_UNKNOWN_TYPE,    /* type is neither built in nor declared by the schema */
    CRISK_EVENT_BAD_TIME,        /* time is not RFC 3339 with a UTC offset */
    CRISK_EVENT_BAD_PAYLOAD,     /* the payload does not fit the type (xray.result) */
    CRISK_EVENT_MISSING_HMAC,    /* no hmac, and the device (or the options) need one */
    CRISK_EVENT_UNVERIFIABLE,    /* an hmac, but the device is listed as unsigned */
    CRISK_EVENT_BAD_HMAC,        /* the hmac does not match: forged or altered */
    CRISK_EVENT_DUPLICATE_ID,    /* an event_id accepted earlier in the stream */
    CRISK_EVENT_OUT_OF_ORDER,    /* earlier than the device's last accepted event of the
                                    same or stronger standing (docs/events.md) */
    CRISK_EVENT_UNKNOWN_DEVICE,  /* the device is not in the key file (with a key, or
                                    listed as "unsigned") */
    CRISK_EVENT_FUTURE_TIME      /* later than the reference time plus its tolerance */
} crisk_event_reject;

/* Returns the number of refused events, and the kind of refusal `i` (0 when out of range),
 * storing its line number (1-based) in `*line` and a one-line reason (owned by the
 * events) in `*reason` when these are not NULL. In stream order. */
CRISK_API size_t crisk_events_num_rejects(const crisk_events *events);
CRISK_API crisk_event_reject crisk_events_reject(const crisk_events *events, size_t i,
                                                 uint64_t *line, const char **reason);

/* Joins `events` (loaded for `batch`, or with no batch; NULL detaches) to `batch`, whose
 * event features (docs/events.md, "Features") are then built from them by
 * crisk_schema_features, crisk_schema_training_matrix and crisk_bundle_score alike;
 * without events they are NaN. The events must outlive the join; crisk_batch_clear
 * detaches them. Events loaded for a batch hold only the keys and window of the rows it
 * had then: rows appended later find none of their events (NaN). Returns 0 or
 * CRISK_E_INVALID_ARGUMENT when the events were read for another schema. */
CRISK_API int crisk_batch_set_events(crisk_batch *batch, const crisk_events *events,
                                     crisk_error *err);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_events_h */
