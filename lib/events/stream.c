/*
 * events/stream.c — reading a border sensor event stream (JSON Lines, docs/events.md): each line
 * checked (shape, key kind, type, RFC 3339 time, payload, the device's entry in the key
 * file and its HMAC, the future bound, duplicate id and arrival order per device),
 * refused events listed with line and reason, accepted ones kept — only those a given
 * batch can use — in an index by key sorted by time.
 */
#include "common/canon.h"
#include "common/error.h"
#include "common/grow.h"
#include "decl/event_index.h"
#include "decl/event_types.h"
#include "decl/types.h"
#include "common/jsonfile.h"
#include "common/date.h"
#include "common/hex.h"
#include "common/siphash.h"

#include <errno.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_ID_BYTES 256       /* event_id and device_id */
#define MAX_REASON 240

/* ---- device keys ------------------------------------------------------------------- */

struct crisk_device_keys {
    crisk__strmap ids;          /* device ids, numbered as `key` */
    unsigned char (*key)[64];
    uint8_t *len, *required;    /* len 0: a device listed as unsigned (no key) */
};

/* Frees device keys, wiping the key bytes. */
void crisk_device_keys_free(crisk_device_keys *k)
{
    if (!k)
        return;
    if (k->key)
        OPENSSL_cleanse(k->key, k->ids.size * sizeof *k->key);
    crisk__strmap_free(&k->ids);
    free(k->key);
    free(k->len);
    free(k->required);
    free(k);
}

/* Returns 1 when the `n` key bytes at `key` have fewer than 8 distinct values (all zero,
 * one byte repeated, a short pattern): a placeholder, not a secret. A random key of 16
 * bytes or more has so few with odds below 10^-12. */
static int placeholder_key(const unsigned char *key, long n)
{
    unsigned char seen[256] = {0};
    int distinct = 0;
    for (long i = 0; i < n; i++)
        distinct += !seen[key[i]]++;
    return distinct < 8;
}

/* Reads the key of device entry `it` (at `at`) into slot `idx` of `k`: 16 to 64 bytes as
 * hex, or none when the entry says "unsigned": true; returns 0 or an error code. */
static int read_key(crisk_device_keys *k, const cJSON *it, size_t idx, const char *at,
                    crisk_error *err)
{
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(it, "key");
    const cJSON *uns = cJSON_GetObjectItemCaseSensitive(it, "unsigned");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(it, "required");
    if (uns && !cJSON_IsTrue(uns))
        return crisk__fail(err, CRISK_E_FORMAT, "%s.unsigned: expected true (leave it out "
                           "for a device with a key)", at);
    if (uns && (key || req))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: a device listed as \"unsigned\": true "
                           "takes no \"%s\"", at, key ? "key" : "required");
    if (uns)
        return 0; /* len 0, required 0: its events are accepted unverified */
    if (req && !cJSON_IsBool(req))
        return crisk__fail(err, CRISK_E_FORMAT, "%s.required: expected true or false", at);
    long bytes = cJSON_IsString(key)
                     ? crisk__hex_decode_text(key->valuestring, k->key[idx], 64)
                     : -1;
    if (bytes < 16)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.key: expected 16 to 64 bytes as hex "
                           "digits (or \"unsigned\": true for a device that cannot sign)", at);
    if (placeholder_key(k->key[idx], bytes))
        return crisk__fail(err, CRISK_E_FORMAT, "%s.key: a placeholder, not a secret (fewer "
                           "than 8 distinct byte values, e.g. all zero)", at);
    k->len[idx] = (uint8_t)bytes;
    k->required[idx] = !req || cJSON_IsTrue(req);
    return 0;
}

/* Reads device entry `it` (at devices[i]) into `k`; returns 0 or an error code. */
static int read_device(crisk_device_keys *k, const cJSON *it, size_t i, crisk_error *err)
{
    static const char *const allowed[] = {"device_id", "key", "required", "unsigned",
                                          "description", NULL};
    char at[48];
    snprintf(at, sizeof at, "devices[%zu]", i);
    if (!cJSON_IsObject(it))
        return crisk__fail(err, CRISK_E_FORMAT, "%s: expected an object", at);
    int rc = crisk__json_check_keys(it, allowed, at, err);
    if (rc)
        return rc;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "device_id");
    if (!cJSON_IsString(id) || !id->valuestring[0] || strlen(id->valuestring) > MAX_ID_BYTES)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.device_id: expected a string of 1 to %d "
                           "bytes", at, MAX_ID_BYTES);
    size_t n = strlen(id->valuestring), idx;
    if (crisk__strmap_find(&k->ids, id->valuestring, n) >= 0)
        return crisk__fail(err, CRISK_E_FORMAT, "%s.device_id: \"%s\" is listed twice", at,
                           id->valuestring);
    if ((rc = crisk__strmap_insert(&k->ids, id->valuestring, n, &idx)))
        return crisk__fail(err, rc, "%s: out of memory", at);
    return read_key(k, it, idx, at, err);
}

/* Loads a device key file (docs/events.md, "Device keys"); returns 0 or an error code. */
int crisk_device_keys_load(const char *path, crisk_device_keys **out, crisk_error *err)
{
    static const char *const top[] = {"format", "version", "devices", "description", NULL};
    if (out)
        *out = NULL;
    if (!path || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "path and out must not be NULL");
    cJSON *root;
    int rc = crisk__json_read_file(path, (size_t)64 << 20, &root, err);
    if (rc)
        return rc;
    const cJSON *format = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *devices = cJSON_GetObjectItemCaseSensitive(root, "devices");
    crisk_device_keys *k = calloc(1, sizeof *k);
    size_t n = cJSON_GetArraySize(devices);
    if (!cJSON_IsObject(root))
        rc = crisk__fail(err, CRISK_E_FORMAT, "the document is not an object");
    else if ((rc = crisk__json_check_keys(root, top, "device keys", err)))
        ;
    else if (!cJSON_IsString(format) || strcmp(format->valuestring, "crisk-device-keys"))
        rc = crisk__fail(err, CRISK_E_FORMAT, "format: expected \"crisk-device-keys\"");
    else if (!cJSON_IsNumber(version) || version->valuedouble != 1)
        rc = crisk__fail(err, CRISK_E_FORMAT, "version: expected 1");
    else if (!cJSON_IsArray(devices))
        rc = crisk__fail(err, CRISK_E_FORMAT, "devices: expected an array");
    else if (!k || !(k->key = calloc(n + 1, sizeof *k->key))
             || !(k->len = calloc(n + 1, 1)) || !(k->required = calloc(n + 1, 1)))
        rc = crisk__fail(err, CRISK_E_NOMEM, "out of memory");
    size_t i = 0;
    for (const cJSON *it = devices ? devices->child : NULL; !rc && it; it = it->next)
        rc = read_device(k, it, i++, err);
    cJSON_Delete(root);
    if (rc) {
        crisk_device_keys_free(k);
        return crisk__fail_prefix(err, rc, path);
    }
    *out = k;
    return 0;
}

/* ---- reading a stream -------------------------------------------------------------- */

/* The first layout of crisk_events_options, which had no `now` and `future_seconds`. */
#define EVENTS_OPTIONS_V1_SIZE offsetof(crisk_events_options, now)

#define MAX_FUTURE_SECONDS 86400

int crisk_events_options_init(crisk_events_options *opts, unsigned int version)
{
    if (!opts || version < 1 || version > CRISK_EVENTS_OPTIONS_VERSION)
        return CRISK_E_INVALID_ARGUMENT;
    opts->version = version;
    opts->keys = NULL;
    opts->require_hmac = 0;
    opts->max_events = 10000000;
    opts->max_rejects = 1000000;
    opts->max_line_bytes = 65536;
    if (version >= 2) {
        opts->now = CRISK_EVENTS_NOW_AUTO;
        opts->future_seconds = 300;
    }
    return 0;
}

/* Copies the caller's options, of any known layout, into `out` (the current one, with
 * the defaults for fields an older layout lacks) and checks them; returns 0 or
 * CRISK_E_INVALID_ARGUMENT. */
static int read_options(const crisk_events_options *opts, crisk_events_options *out,
                        crisk_error *err)
{
    crisk_events_options_init(out, CRISK_EVENTS_OPTIONS_VERSION);
    if (opts && opts->version == 1) {
        memcpy(out, opts, EVENTS_OPTIONS_V1_SIZE);
        out->version = CRISK_EVENTS_OPTIONS_VERSION;
    } else if (opts) {
        int rc = crisk__options_version(opts->version, CRISK_EVENTS_OPTIONS_VERSION,
                                        "crisk_events_options", err);
        if (rc)
            return rc;
        *out = *opts;
    }
    if (out->future_seconds < 0 || out->future_seconds > MAX_FUTURE_SECONDS)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "crisk_events_options."
                           "future_seconds is %lld; expected 0 to %d",
                           (long long)out->future_seconds, MAX_FUTURE_SECONDS);
    if (out->now == CRISK_EVENTS_NOW_AUTO)
        out->now = (int64_t)time(NULL);
    /* Microseconds must not overflow: years beyond 9999 are no reference time. */
    if (out->now < 0 || out->now > 253402300799LL)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "crisk_events_options.now is "
                           "%lld; expected seconds from 1970 to 9999", (long long)out->now);
    return 0;
}

/* A set of 64-bit fingerprints (open addressing, 0 = empty) of the accepted event ids. */
typedef struct id_set {
    uint64_t *slot;
    size_t cap, size;
} id_set;

/* Returns the fingerprint of event id `id` of device `device`: SipHash under a fixed key
 * of the two joined by a line feed (neither holds one), never 0. Ids are scoped per
 * device, so that one device's events cannot make another's duplicates. */
static uint64_t id_fingerprint(const char *device, const char *id)
{
    char both[2 * MAX_ID_BYTES + 1];
    size_t nd = strlen(device), ni = strlen(id);
    memcpy(both, device, nd);
    both[nd] = '\n';
    memcpy(both + nd + 1, id, ni);
    uint64_t h = crisk__siphash(0x6372697365766e74ull, 0x6576656e742d6964ull, both,
                                nd + 1 + ni);
    return h ? h : 1;
}

/* Returns 1 when fingerprint `h` is in `set`, else 0. */
static int id_set_has(const id_set *set, uint64_t h)
{
    for (size_t i = set->cap ? h & (set->cap - 1) : 0; set->cap; i = (i + 1) & (set->cap - 1))
        if (set->slot[i] == h)
            return 1;
        else if (!set->slot[i])
            return 0;
    return 0;
}

/* Adds fingerprint `h` (not in the set) to `set`; returns 0 or CRISK_E_NOMEM. */
static int id_set_add(id_set *set, uint64_t h)
{
    if (2 * (set->size + 1) > set->cap) {
        size_t cap = set->cap ? 2 * set->cap : 1024;
        uint64_t *slot = calloc(cap, sizeof *slot);
        if (!slot)
            return CRISK_E_NOMEM;
        for (size_t i = 0; i < set->cap; i++)
            if (set->slot[i]) {
                size_t j = set->slot[i] & (cap - 1);
                while (slot[j])
                    j = (j + 1) & (cap - 1);
                slot[j] = set->slot[i];
            }
        free(set->slot);
        set->slot = slot;
        set->cap = cap;
    }
    size_t j = h & (set->cap - 1);
    while (set->slot[j])
        j = (j + 1) & (set->cap - 1);
    set->slot[j] = h;
    set->size++;
    return 0;
}

/* The latest accepted times of one device: of its verified (signed) events, and of all
 * its events. A verified event is ordered against the first only, an unverified one
 * against both, so that an unverified event never blocks a verified one. */
typedef struct device_order {
    int64_t verified, any;
} device_order;

/* The state of reading one stream: the events being filled, the options (defaults filled
 * in, `now` fixed), the keep filter of a batch (its keys are put in ev->keys before any
 * event is read; its window is [from, to)), the latest time an event may have, the order
 * of each device, the accepted ids (verified ones apart), and scratch. */
typedef struct reader {
    crisk_events *ev;
    crisk_events_options opts;
    int filtered;          /* keep only keys already in ev->keys, times in [from, to) */
    int64_t from, to;
    int64_t latest;        /* (now + future_seconds) in microseconds */
    crisk__strmap devices;  /* device ids, numbered as order */
    device_order *order;
    size_t order_cap;
    id_set verified_ids, unverified_ids;
    size_t ev_cap, rej_cap;
    char *canon;           /* scratch for the HMAC's canonical bytes */
    size_t canon_cap;
    char *key;             /* the current event's key value in the canonical form of
                              identifiers (common/canon.h), as declarations hold it */
    size_t key_cap;
} reader;

/* Adds a refusal of kind `kind` at `line` with a formatted reason; returns 1, or
 * CRISK_E_LIMIT / CRISK_E_NOMEM (filling `err`) when the list cannot take it. */
static int reject(reader *r, uint64_t line, crisk_event_reject kind, crisk_error *err,
                  const char *fmt, ...) CRISK__PRINTF(5, 6);
static int reject(reader *r, uint64_t line, crisk_event_reject kind, crisk_error *err,
                  const char *fmt, ...)
{
    crisk_events *ev = r->ev;
    if (ev->nrejects >= r->opts.max_rejects)
        return crisk__fail(err, CRISK_E_LIMIT, "line %llu: more than %zu refused events",
                           (unsigned long long)line, r->opts.max_rejects);
    if (crisk__grow((void **)&ev->rejects, &r->rej_cap, ev->nrejects + 1, sizeof *ev->rejects, 64))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory listing refused events");
    char buf[MAX_REASON];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t n = strlen(buf) + 1;
    char *reason = malloc(n);
    if (!reason)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory listing refused events");
    memcpy(reason, buf, n);
    ev->rejects[ev->nrejects++] = (crisk__event_reject){line, kind, reason};
    return 1;
}

/* Parses an RFC 3339 date-time with offset ("2026-03-01T08:15:00.250+02:00", "...Z") into
 * microseconds since the epoch, UTC; digits beyond microseconds are dropped. Returns 0,
 * or -1 when `s` is not one (a second of 60, a leap second, counts as 59.999999). */
static int parse_time(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    int64_t days;
    unsigned hh, mm, ss, oh = 0, om = 0;
    if (n < 20 || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':'
        || crisk__parse_iso_date(s, 10, &days) || !crisk__read_digits(s + 11, 2, &hh)
        || !crisk__read_digits(s + 14, 2, &mm) || !crisk__read_digits(s + 17, 2, &ss)
        || hh > 23 || mm > 59 || ss > 60)
        return -1;
    int64_t us = 0;
    size_t i = 19;
    if (s[i] == '.') {
        size_t first = ++i;
        int64_t scale = 100000;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
            us += scale > 0 ? (s[i] - '0') * scale : 0;
        if (i == first || i - first > 9)
            return -1;
    }
    if (ss == 60) {
        ss = 59;
        us = 999999;
    }
    int sign = 0;
    if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n)
        sign = 0;
    else if ((s[i] == '+' || s[i] == '-') && i + 6 == n && s[i + 3] == ':'
             && crisk__read_digits(s + i + 1, 2, &oh)
             && crisk__read_digits(s + i + 4, 2, &om) && oh <= 23 && om <= 59)
        sign = s[i] == '+' ? 1 : -1;
    else
        return -1;
    int64_t secs = days * 86400 + hh * 3600 + mm * 60 + ss - sign * (int64_t)(oh * 3600 + om * 60);
    *out = secs * 1000000 + us;
    return 0;
}

/* Returns 1 when `s` holds a control character (below 0x20, or 0x7f), else 0: the
 * canonical form of an event separates its strings with line feeds. */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Returns the index just past the JSON string starting at line[i] (a '"'), or len. */
static size_t skip_string(const char *line, size_t len, size_t i)
{
    for (i++; i < len && line[i] != '"'; i++)
        if (line[i] == '\\')
            i++;
    return i < len ? i + 1 : len;
}

/* Returns the index of the first non-blank byte at or after i. */
static size_t skip_blank(const char *line, size_t len, size_t i)
{
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == '\n'))
        i++;
    return i;
}

/* Finds the raw bytes of top-level member `name` (written without escapes) in the JSON
 * object `line` (already parsed, so well formed): stores their offset and length and
 * returns 1, or returns 0. Iterative: nesting depth is a counter, not recursion. */
static int raw_member(const char *line, size_t len, const char *name, size_t *off,
                      size_t *n)
{
    size_t i = skip_blank(line, len, 0) + 1, nlen = strlen(name);
    while ((i = skip_blank(line, len, i)) < len && line[i] == '"') {
        size_t k0 = i + 1;
        i = skip_string(line, len, i);
        size_t k1 = i - 1;
        i = skip_blank(line, len, skip_blank(line, len, i) + 1); /* past ':' */
        size_t v0 = i;
        if (line[i] == '"') {
            i = skip_string(line, len, i);
        } else if (line[i] == '{' || line[i] == '[') {
            size_t depth = 0;
            do {
                if (line[i] == '"') {
                    i = skip_string(line, len, i);
                    continue;
                }
                depth += line[i] == '{' || line[i] == '[';
                depth -= line[i] == '}' || line[i] == ']';
                i++;
            } while (i < len && depth);
        } else {
            while (i < len && !strchr(",}] \t\r\n", line[i]))
                i++;
        }
        if (k1 - k0 == nlen && memcmp(line + k0, name, nlen) == 0) {
            *off = v0;
            *n = i - v0;
            return 1;
        }
        i = skip_blank(line, len, i);
        i += i < len && line[i] == ',';
    }
    return 0;
}

/* Appends `len` bytes at `s` and a line feed (unless `last`) to the canonical scratch. */
static int canon_add(reader *r, size_t *o, const char *s, size_t len, int last)
{
    if (crisk__grow((void **)&r->canon, &r->canon_cap, *o + len + 1, 1, 256))
        return CRISK_E_NOMEM;
    memcpy(r->canon + *o, s, len);
    *o += len;
    if (!last)
        r->canon[(*o)++] = '\n';
    return 0;
}

/* The checked members of one event. */
typedef struct parsed {
    const char *id, *key_value, *type_name, *device, *time_text, *hmac;
    size_t key_len;        /* of the key value's canonical form, in the reader's `key` */
    int has_payload;
    unsigned key_type;
    uint32_t type;
    int64_t time;
    double value;
} parsed;

/* Returns the string member `name` of `obj` when it is a non-empty string of at most
 * `max` bytes without control characters, else NULL. */
static const char *plain_string(const cJSON *obj, const char *name, size_t max)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!cJSON_IsString(it) || !it->valuestring[0] || strlen(it->valuestring) > max
        || has_control(it->valuestring))
        return NULL;
    return it->valuestring;
}

/* Puts the canonical form of event `p`'s key value (which its HMAC covers as written) in
 * the reader's `key`, so that it matches declarations, which hold that form. Returns 0,
 * 1 when the value has none (the event refused and listed), or a negative error code. */
static int canon_key(reader *r, parsed *p, uint64_t line, crisk_error *err)
{
    char why[CRISK__CANON_WHY_BYTES];
    size_t len = strlen(p->key_value);
    if (crisk__grow((void **)&r->key, &r->key_cap, len + 1, 1, 64))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for an event key");
    if (crisk__canon_code(p->key_value, len, r->key, &p->key_len, why) != 0)
        return reject(r, line, CRISK_EVENT_MALFORMED, err, "key.value: \"%.64s\" %s",
                      p->key_value, why);
    if (p->key_len == 0)
        return reject(r, line, CRISK_EVENT_MALFORMED, err, "key.value: blank");
    return 0;
}

/* Checks the members of event `root` (line `line`) other than the HMAC into `p`.
 * Returns 0 when the event passes, 1 when it was refused (and listed), or a negative
 * error code. */
static int check_members(reader *r, const cJSON *root, uint64_t line, parsed *p,
                         crisk_error *err)
{
    static const char *const allowed[] = {"event_id", "key", "type", "device_id", "time",
                                          "payload", "hmac", NULL};
    static const char *const key_allowed[] = {"type", "value", NULL};
    const crisk_schema *s = r->ev->schema;
    crisk_error why;
    if (crisk__json_check_keys(root, allowed, "event", &why))
        return reject(r, line, CRISK_EVENT_MALFORMED, err, "%s", why.message);
    const char *missing = !(p->id = plain_string(root, "event_id", MAX_ID_BYTES)) ? "event_id"
                          : !(p->device = plain_string(root, "device_id", MAX_ID_BYTES))
                              ? "device_id" : NULL;
    if (missing)
        return reject(r, line, CRISK_EVENT_MALFORMED, err, "%s: expected a string of 1 to %d "
                      "bytes without control characters", missing, MAX_ID_BYTES);
    const cJSON *key = cJSON_GetObjectItemCaseSensitive(root, "key");
    if (!cJSON_IsObject(key) || crisk__json_check_keys(key, key_allowed, "key", &why)
        || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(key, "type")))
        return reject(r, line, CRISK_EVENT_MALFORMED, err, "key: expected {\"type\": kind, "
                      "\"value\": text}");
    const char *kt = cJSON_GetObjectItemCaseSensitive(key, "type")->valuestring;
    if (!(p->key_type = crisk__event_key_type_index(kt)))
        return reject(r, line, CRISK_EVENT_UNKNOWN_KEY, err, "key.type: \"%.64s\" is not one "
                      "of container, transport_document, conveyance, declaration", kt);
    if (!(p->key_value = plain_string(key, "value", s->max_field_bytes)))
        return reject(r, line, CRISK_EVENT_MALFORMED, err, "key.value: expected a string of 1 "
                      "to %zu bytes without control characters", s->max_field_bytes);
    int rc = canon_key(r, p, line, err);
    if (rc)
        return rc;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(root, "type");
    if (!cJSON_IsString(type))
        return reject(r, line, CRISK_EVENT_MALFORMED, err, "type: expected a string");
    long t = crisk__event_type_index(s, type->valuestring);
    if (t < 0)
        return reject(r, line, CRISK_EVENT_UNKNOWN_TYPE, err, "type: \"%.64s\" is neither "
                      "built in nor declared in the schema's event_types",
                      type->valuestring);
    p->type = (uint32_t)t;
    p->type_name = type->valuestring;
    const cJSON *time = cJSON_GetObjectItemCaseSensitive(root, "time");
    if (!cJSON_IsString(time) || parse_time(time->valuestring, &p->time))
        return reject(r, line, CRISK_EVENT_BAD_TIME, err, "time: expected an RFC 3339 "
                      "date-time with offset (2026-03-01T08:15:00+02:00), got %s%.40s%s",
                      cJSON_IsString(time) ? "\"" : "", cJSON_IsString(time)
                      ? time->valuestring : crisk__json_type_name(time),
                      cJSON_IsString(time) ? "\"" : "");
    p->time_text = time->valuestring;
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(root, "payload");
    p->has_payload = payload != NULL;
    if (payload && !cJSON_IsObject(payload))
        return reject(r, line, CRISK_EVENT_BAD_PAYLOAD, err, "payload: expected an object, "
                      "got %s", crisk__json_type_name(payload));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(payload, p->type == CRISK__EVENT_XRAY_RESULT
                                                               ? "anomaly_score" : "value");
    p->value = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (p->type == CRISK__EVENT_XRAY_RESULT) {
        const cJSON *hits = cJSON_GetObjectItemCaseSensitive(payload, "hits");
        int hits_ok = !hits || cJSON_IsArray(hits);
        for (const cJSON *h = hits ? hits->child : NULL; hits_ok && h; h = h->next)
            hits_ok = cJSON_IsString(h);
        if (!(p->value >= 0 && p->value <= 1) || !hits_ok)
            return reject(r, line, CRISK_EVENT_BAD_PAYLOAD, err, "payload: xray.result needs "
                          "anomaly_score in [0, 1] and hits, when given, an array of "
                          "strings");
    }
    const cJSON *hmac = cJSON_GetObjectItemCaseSensitive(root, "hmac");
    if (hmac && !cJSON_IsString(hmac))
        return reject(r, line, CRISK_EVENT_BAD_HMAC, err, "hmac: expected 64 hex digits, got "
                      "%s", crisk__json_type_name(hmac));
    p->hmac = hmac ? hmac->valuestring : NULL;
    return 0;
}

/* Checks event `p` of raw text `line` against its device's entry in the key file under
 * the options: a device not listed is refused; a listed one's event is accepted verified
 * (a valid HMAC) or, where the entry allows it, unverified (none). Returns 0 when the
 * event may be used, with `*verified` set, 1 when it was refused (and listed), or an
 * error. */
static int check_device(reader *r, const parsed *p, const char *line, size_t len,
                        uint64_t lineno, int *verified, crisk_error *err)
{
    const crisk_device_keys *keys = r->opts.keys;
    long d = keys ? crisk__strmap_find(&keys->ids, p->device, strlen(p->device)) : -1;
    *verified = 0;
    if (d < 0)
        return reject(r, lineno, CRISK_EVENT_UNKNOWN_DEVICE, err, "device \"%.64s\" is not "
                      "in the device key file (give it a key, or list it with "
                      "\"unsigned\": true)", p->device);
    if (!p->hmac) {
        if (r->opts.require_hmac || keys->required[d])
            return reject(r, lineno, CRISK_EVENT_MISSING_HMAC, err, "device \"%.64s\" must "
                          "sign its events and this one has no hmac", p->device);
        return 0;
    }
    if (!keys->len[d])
        return reject(r, lineno, CRISK_EVENT_UNVERIFIABLE, err, "hmac given, but device "
                      "\"%.64s\" is listed as unsigned (no key)", p->device);
    unsigned char given[32];
    if (crisk__hex_decode_text(p->hmac, given, sizeof given) != sizeof given)
        return reject(r, lineno, CRISK_EVENT_BAD_HMAC, err, "hmac: expected 64 hex "
                      "digits");
    size_t off = 0, n = 0, o = 0;
    const char *parts[] = {"crisk-event-v1", p->id, crisk__event_key_names[p->key_type],
                           p->key_value, p->type_name, p->device, p->time_text};
    int rc = 0;
    for (size_t k = 0; !rc && k < sizeof parts / sizeof *parts; k++)
        rc = canon_add(r, &o, parts[k], strlen(parts[k]), 0);
    /* The payload is signed as the bytes written, so a member name spelt with escapes
     * cannot be found: refused rather than checked against the wrong bytes. */
    if (raw_member(line, len, "payload", &off, &n) != p->has_payload)
        return reject(r, lineno, CRISK_EVENT_MALFORMED, err, "a signed event must write the "
                      "member name \"payload\" without escapes");
    if (!rc)
        rc = canon_add(r, &o, line + off, n, 1);
    if (rc)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory checking an hmac");
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), keys->key[d], keys->len[d], (const unsigned char *)r->canon, o,
              mac, &maclen) || maclen != 32)
        return crisk__fail(err, CRISK_E_NOMEM, "line %llu: HMAC-SHA256 failed in libcrypto",
                           (unsigned long long)lineno);
    if (CRYPTO_memcmp(mac, given, 32) != 0)
        return reject(r, lineno, CRISK_EVENT_BAD_HMAC, err, "hmac does not match: the event "
                      "is forged or was altered (device \"%.64s\")", p->device);
    *verified = 1;
    return 0;
}

/* Registers accepted event `p` (line `line`, `verified` or not) with its device's order
 * and the id sets, and keeps it when the filter lets it; returns 0 or an error code. */
static int accept(reader *r, const parsed *p, uint64_t line, uint64_t fp, long dev,
                  int verified, crisk_error *err)
{
    crisk_events *ev = r->ev;
    size_t idx;
    if (dev < 0) {
        if (crisk__strmap_insert(&r->devices, p->device, strlen(p->device), &idx))
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory for device ids");
        if (crisk__grow((void **)&r->order, &r->order_cap, idx + 1, sizeof *r->order, 64))
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory for device ids");
        dev = (long)idx;
        r->order[dev] = (device_order){INT64_MIN, INT64_MIN};
    }
    device_order *o = &r->order[dev];
    o->verified = verified ? p->time : o->verified;
    o->any = p->time > o->any ? p->time : o->any;
    if (id_set_add(verified ? &r->verified_ids : &r->unverified_ids, fp))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for event ids");
    ev->accepted++;
    ev->unverified += !verified;
    char key[1 + CRISK__SCHEMA_MAX_FIELD_BYTES];
    size_t klen = crisk__event_key(p->key_type, r->key, p->key_len, key);
    long k = crisk__strmap_find(&ev->keys, key, klen);
    if (r->filtered && (k < 0 || p->time < r->from || p->time >= r->to))
        return 0;
    if (k < 0) {
        if (crisk__strmap_insert(&ev->keys, key, klen, &idx))
            return crisk__fail(err, CRISK_E_NOMEM, "out of memory for event keys");
        k = (long)idx;
    }
    if (ev->nev >= r->opts.max_events)
        return crisk__fail(err, CRISK_E_LIMIT, "line %llu: more than %zu events to keep (the "
                           "limit max_events)", (unsigned long long)line, r->opts.max_events);
    if (crisk__grow((void **)&ev->ev, &r->ev_cap, ev->nev + 1, sizeof *ev->ev, 256))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for %zu events",
                           crisk__grow_capacity(r->ev_cap, ev->nev + 1, 256));
    ev->ev[ev->nev++] = (crisk__event_rec){p->time, (uint32_t)k, p->type, line, p->value};
    return 0;
}

/* Checks authenticated event `p` (line `lineno`, id fingerprint `fp`, device number
 * `dev` or -1 when none of its events was accepted yet, `verified` or not) against time
 * and the events accepted before it: not later than the reference time plus its
 * tolerance, not an id its device used before, not earlier than its device's latest. An
 * unverified event is checked against every accepted event of its device, a verified one
 * against verified ones only, so a weaker event never displaces a stronger one. Returns 0
 * when it passes, 1 when it was refused (and listed), or an error code. */
static int check_sequence(reader *r, const parsed *p, uint64_t lineno, uint64_t fp,
                          long dev, int verified, crisk_error *err)
{
    if (p->time > r->latest)
        return reject(r, lineno, CRISK_EVENT_FUTURE_TIME, err, "time %.40s is more than %lld "
                      "s after the reference time (a device clock ahead, or a forged date)",
                      p->time_text, (long long)r->opts.future_seconds);
    if (id_set_has(&r->verified_ids, fp) || (!verified && id_set_has(&r->unverified_ids, fp)))
        return reject(r, lineno, CRISK_EVENT_DUPLICATE_ID, err, "event_id \"%.64s\" of device "
                      "\"%.64s\" was accepted earlier in the stream", p->id, p->device);
    const device_order *o = dev >= 0 ? &r->order[dev] : NULL;
    if (o && (p->time < o->verified || (!verified && p->time < o->any)))
        return reject(r, lineno, CRISK_EVENT_OUT_OF_ORDER, err, "time %.40s is earlier than "
                      "the last accepted %sevent of device \"%.64s\"", p->time_text,
                      verified ? "verified " : "", p->device);
    return 0;
}

/* Reads one line (number `lineno`, `len` bytes, not counting its line feed) of the
 * stream. Returns 0 (accepted, refused or blank) or an error code. */
static int read_line(reader *r, const char *line, size_t len, uint64_t lineno,
                     crisk_error *err)
{
    if (skip_blank(line, len, 0) == len)
        return 0;
    r->ev->read++;
    if (len > r->opts.max_line_bytes)
    {
        int refused = reject(r, lineno, CRISK_EVENT_MALFORMED, err, "line of %zu bytes, more "
                             "than the limit %zu", len, r->opts.max_line_bytes);
        return refused > 0 ? 0 : refused;
    }
    size_t nul = crisk__json_find_nul(line, len);
    if (nul < len) {
        /* cJSON would cut the string at the NUL: "E1\u0000a" and "E1\u0000b" both "E1". */
        int refused = reject(r, lineno, CRISK_EVENT_MALFORMED, err, "the string at byte %zu "
                             "holds \\u0000 (a NUL character)", nul);
        return refused > 0 ? 0 : refused;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(line, len, &end, 0);
    size_t at = end ? (size_t)(end - line) : 0;
    if (!root || skip_blank(line, len, at) != len || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        int refused = root ? reject(r, lineno, CRISK_EVENT_MALFORMED, err, "not one JSON "
                                    "object")
                           : reject(r, lineno, CRISK_EVENT_MALFORMED, err, "invalid JSON at "
                                    "byte %zu", at);
        return refused > 0 ? 0 : refused;
    }
    parsed p;
    memset(&p, 0, sizeof p);
    int verified = 0;
    int rc = check_members(r, root, lineno, &p, err);
    if (rc == 0)
        rc = check_device(r, &p, line, len, lineno, &verified, err);
    uint64_t fp = rc == 0 ? id_fingerprint(p.device, p.id) : 0;
    long dev = rc == 0 ? crisk__strmap_find(&r->devices, p.device, strlen(p.device)) : -1;
    if (rc == 0)
        rc = check_sequence(r, &p, lineno, fp, dev, verified, err);
    if (rc == 0)
        rc = accept(r, &p, lineno, fp, dev, verified, err);
    cJSON_Delete(root);
    return rc > 0 ? 0 : rc;
}

/* Orders kept events by key, then time, then arrival. */
static int cmp_event(const void *a, const void *b)
{
    const crisk__event_rec *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Sorts the kept events and records where each key's run starts; returns 0 or
 * CRISK_E_NOMEM. */
static int build_index(crisk_events *ev, crisk_error *err)
{
    if (ev->nev > 1) /* ev->ev is NULL when nothing was kept: qsort must not see it */
        qsort(ev->ev, ev->nev, sizeof *ev->ev, cmp_event);
    ev->start = calloc(ev->keys.size + 1, sizeof *ev->start);
    if (!ev->start)
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory indexing events");
    for (size_t i = 0; i < ev->nev; i++)
        ev->start[ev->ev[i].key + 1]++;
    for (size_t k = 0; k < ev->keys.size; k++)
        ev->start[k + 1] += ev->start[k];
    return 0;
}

/* Sets up the keep filter of `batch`: every key an event feature of one of its rows looks
 * up goes into ev->keys, and [from, to) spans the widest window before its dates.
 * Returns 0 or an error code. */
static int batch_filter(reader *r, const crisk_batch *batch, crisk_error *err)
{
    const crisk_schema *s = r->ev->schema;
    char key[1 + CRISK__SCHEMA_MAX_FIELD_BYTES];
    double widest = 0, lo = INFINITY, hi = -INFINITY;
    r->filtered = 1;
    for (size_t j = 0; j < s->nfeatures; j++) {
        const crisk__schema_feature *f = &s->features[j];
        if (!crisk__feature_is_event(f))
            continue;
        widest = f->window_days > widest ? f->window_days : widest;
        for (size_t row = 0; row < batch->rows; row++) {
            size_t len, idx;
            const char *t = crisk__batch_text_at(batch, row, f->field, &len);
            if (t && crisk__strmap_insert(&r->ev->keys, key,
                                          crisk__event_key(f->key_type, t, len, key), &idx))
                return crisk__fail(err, CRISK_E_NOMEM, "out of memory for the batch's keys");
        }
    }
    for (size_t row = 0; s->date_field >= 0 && row < batch->rows; row++) {
        double d = crisk__batch_number_at(batch, row, (size_t)s->date_field);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    /* Windows end with the declaration's day (docs/events.md, "Windows"). */
    r->from = lo <= hi ? (int64_t)(lo + 1) * CRISK__EVENT_US_PER_DAY
                             - (int64_t)llround(widest * 86400.0) * 1000000 : 0;
    r->to = lo <= hi ? (int64_t)(hi + 1) * CRISK__EVENT_US_PER_DAY : 0;
    return 0;
}

/* Feeds a line source to the reader: `next` stores the next line and its length and
 * returns 1, or returns 0 at the end (-1 on a read error). */
typedef int (*line_source)(void *ctx, const char **line, size_t *len);

/* Reads a whole stream from `next` into new events; returns 0 or an error code. */
static int read_stream(const crisk_schema *schema, const crisk_batch *batch,
                       const crisk_events_options *opts, line_source next, void *ctx,
                       const char *where, crisk_events **out, crisk_error *err)
{
    if (out)
        *out = NULL;
    if (!schema || !out)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "schema and out must not be NULL");
    if (batch && batch->schema != schema)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "the batch was made for another "
                           "schema");
    reader r;
    memset(&r, 0, sizeof r);
    int rc = read_options(opts, &r.opts, err);
    if (rc)
        return rc;
    r.latest = (r.opts.now + r.opts.future_seconds) * 1000000;
    crisk__strmap_init(&r.devices);
    if (!(r.ev = calloc(1, sizeof *r.ev)))
        return crisk__fail(err, CRISK_E_NOMEM, "out of memory for events");
    r.ev->schema = schema;
    crisk__strmap_init(&r.ev->keys);
    if (batch)
        rc = batch_filter(&r, batch, err);
    const char *line;
    size_t len;
    uint64_t lineno = 0;
    int more;
    while (!rc && (more = next(ctx, &line, &len)) > 0)
        rc = read_line(&r, line, len, ++lineno, err);
    if (!rc && more < 0)
        rc = crisk__fail(err, CRISK_E_IO, "read error after line %llu",
                         (unsigned long long)lineno);
    if (!rc)
        rc = build_index(r.ev, err);
    crisk__strmap_free(&r.devices);
    free(r.order);
    free(r.verified_ids.slot);
    free(r.unverified_ids.slot);
    free(r.canon);
    free(r.key);
    if (rc) {
        crisk_events_free(r.ev);
        return crisk__fail_prefix(err, rc, where);
    }
    *out = r.ev;
    return 0;
}

/* A line source over a memory buffer. */
typedef struct buffer_source {
    const char *data;
    size_t len, at;
} buffer_source;

/* Returns the buffer's next line (without its line feed) as a line_source. */
static int buffer_next(void *ctx, const char **line, size_t *len)
{
    buffer_source *b = ctx;
    if (b->at >= b->len)
        return 0;
    const char *start = b->data + b->at, *nl = memchr(start, '\n', b->len - b->at);
    *line = start;
    *len = nl ? (size_t)(nl - start) : b->len - b->at;
    b->at += *len + 1;
    return 1;
}

/* A line source over a file, one line in memory at a time. */
typedef struct file_source {
    FILE *f;
    char *buf;
    size_t cap;
} file_source;

/* Returns the file's next line (without its line feed) as a line_source. */
static int file_next(void *ctx, const char **line, size_t *len)
{
    file_source *s = ctx;
    ssize_t n = getline(&s->buf, &s->cap, s->f);
    if (n < 0)
        return ferror(s->f) ? -1 : 0;
    *line = s->buf;
    *len = (size_t)n - (n > 0 && s->buf[n - 1] == '\n');
    return 1;
}

/* Reads the event stream in `len` bytes at `data`; returns 0 or an error code. */
int crisk_events_parse(const crisk_schema *schema, const crisk_batch *batch,
                       const char *data, size_t len, const crisk_events_options *opts,
                       crisk_events **out, crisk_error *err)
{
    if (!data && len)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "data must not be NULL");
    buffer_source b = {data, len, 0};
    return read_stream(schema, batch, opts, buffer_next, &b, "events", out, err);
}

/* Reads the event stream in the file at `path`; returns 0 or an error code. */
int crisk_events_load(const crisk_schema *schema, const crisk_batch *batch, const char *path,
                      const crisk_events_options *opts, crisk_events **out, crisk_error *err)
{
    if (out)
        *out = NULL;
    if (!path)
        return crisk__fail(err, CRISK_E_INVALID_ARGUMENT, "path must not be NULL");
    file_source s = {fopen(path, "rb"), NULL, 0};
    if (!s.f)
        return crisk__fail(err, CRISK_E_IO, "%s: %s", path, strerror(errno));
    int rc = read_stream(schema, batch, opts, file_next, &s, path, out, err);
    free(s.buf);
    fclose(s.f);
    return rc;
}

/* Frees the index and the reject list. */
void crisk_events_free(crisk_events *ev)
{
    if (!ev)
        return;
    for (size_t i = 0; i < ev->nrejects; i++)
        free(ev->rejects[i].reason);
    free(ev->rejects);
    crisk__strmap_free(&ev->keys);
    free(ev->start);
    free(ev->ev);
    free(ev);
}

/* Returns the number of non-blank lines read (0 for NULL). */
uint64_t crisk_events_num_read(const crisk_events *ev)
{
    return ev ? ev->read : 0;
}

/* Returns the number of events accepted (0 for NULL). */
uint64_t crisk_events_num_accepted(const crisk_events *ev)
{
    return ev ? ev->accepted : 0;
}

/* Returns the number of events accepted without an HMAC (0 for NULL). */
uint64_t crisk_events_num_unverified(const crisk_events *ev)
{
    return ev ? ev->unverified : 0;
}

/* Returns the number of events kept in the index (0 for NULL). */
size_t crisk_events_num_kept(const crisk_events *ev)
{
    return ev ? ev->nev : 0;
}

/* Returns the number of refused events (0 for NULL). */
size_t crisk_events_num_rejects(const crisk_events *ev)
{
    return ev ? ev->nrejects : 0;
}

/* Returns refusal `i`'s kind and stores its line and reason; 0 when out of range. */
crisk_event_reject crisk_events_reject(const crisk_events *ev, size_t i, uint64_t *line,
                                       const char **reason)
{
    if (!ev || i >= ev->nrejects)
        return (crisk_event_reject)0;
    if (line)
        *line = ev->rejects[i].line;
    if (reason)
        *reason = ev->rejects[i].reason;
    return ev->rejects[i].kind;
}
