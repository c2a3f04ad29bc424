/*
 * test_events.c — border sensor events: event features on hand-made declarations and
 * streams worked out by hand (window edges, time-zone offsets, hours since, maxima, NaN
 * when nothing is known), every reject reason with its line, HMACs computed here with
 * OpenSSL's HMAC over the documented canonical bytes (good, altered, missing,
 * unverifiable), RFC 3339 edge cases, the same features from training and scoring and
 * from a batch-filtered and an unfiltered load, the schema round trip, and risk profiles
 * on event features sending a declaration to red only when its events are joined.
 */
#include "crisk.h"

#include "check_run.h"
#include "test_files.h"

#include <check.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { F_ID, F_DATE, F_CONTAINER, F_CONVEYANCE, F_VALUE, NFIELDS };

static const char *const SCHEMA =
    "{\"format\": \"crisk-schema\", \"version\": 1, \"id_field\": \"id\","
    " \"date_field\": \"date\", \"event_types\": [\"radiation.alarm\"],"
    " \"fields\": ["
    "  {\"name\": \"id\", \"type\": \"string\", \"required\": true},"
    "  {\"name\": \"date\", \"type\": \"date\"},"
    "  {\"name\": \"container_id\", \"type\": \"string\"},"
    "  {\"name\": \"conveyance_id\", \"type\": \"string\"},"
    "  {\"name\": \"value\", \"type\": \"number\"}],"
    " \"features\": ["
    "  {\"name\": \"value\", \"op\": \"number\", \"field\": \"value\"},"
    "  {\"name\": \"seal_tampered\", \"op\": \"event_flag\", \"key_field\": \"container_id\","
    "   \"key_type\": \"container\", \"event\": \"seal.tampered\", \"window_days\": 30},"
    "  {\"name\": \"seal_opened\", \"op\": \"event_count\", \"key_field\": \"container_id\","
    "   \"key_type\": \"container\", \"event\": \"seal.opened\", \"window_days\": 30},"
    "  {\"name\": \"hours_verified\", \"op\": \"event_hours_since\","
    "   \"key_field\": \"container_id\", \"key_type\": \"container\","
    "   \"event\": \"seal.verified\", \"window_days\": 30},"
    "  {\"name\": \"xray_max\", \"op\": \"event_max\", \"key_field\": \"container_id\","
    "   \"key_type\": \"container\", \"event\": \"xray.result\", \"window_days\": 30},"
    "  {\"name\": \"route_dev\", \"op\": \"event_count\", \"key_field\": \"conveyance_id\","
    "   \"key_type\": \"conveyance\", \"event\": \"gps.route_deviation\", \"window_days\": 7},"
    "  {\"name\": \"radiation\", \"op\": \"event_count\", \"key_field\": \"container_id\","
    "   \"key_type\": \"container\", \"event\": \"radiation.alarm\", \"window_days\": 30},"
    "  {\"name\": \"container_rate\", \"op\": \"risk_rate\", \"keys\": [\"container_id\"]}]}";

enum { X_VALUE, X_TAMPERED, X_OPENED, X_HOURS, X_XRAY, X_ROUTE, X_RADIATION, X_RATE, NFEAT };

/* Declarations D1..D5 (NULL: missing). */
static const char *const DECLS[][NFIELDS] = {
    {"D1", "2026-03-10", "C1", "TRK1", "100"},
    {"D2", "2026-03-10", "C2", "TRK2", "200"},
    {"D3", "2026-03-10", NULL, NULL, "300"},
    {"D4", "2026-03-10", "C9", NULL, "400"},
    {"D5", NULL, "C1", "TRK1", "500"},
};
#define NDECLS 5

/* The stream of the feature tests: every event accepted. */
static const char *const STREAM =
    "{\"event_id\": \"e1\", \"key\": {\"type\": \"container\", \"value\": \"C1\"},"
    " \"type\": \"seal.verified\", \"device_id\": \"S1\", \"time\": \"2026-03-01T10:00:00Z\"}\n"
    "{\"event_id\": \"e2\", \"key\": {\"type\": \"container\", \"value\": \"C1\"},"
    " \"type\": \"seal.tampered\", \"device_id\": \"S1\","
    " \"time\": \"2026-03-05T12:00:00+02:00\"}\n"
    "{\"event_id\": \"e3\", \"key\": {\"type\": \"container\", \"value\": \"C1\"},"
    " \"type\": \"xray.result\", \"device_id\": \"X1\", \"time\": \"2026-03-10T08:00:00Z\","
    " \"payload\": {\"anomaly_score\": 0.42, \"hits\": [\"organic\"]}}\n"
    "\n"
    /* 23:30 at -01:00 is 00:30 UTC the next day: after D1's window closes. */
    "{\"event_id\": \"e4\", \"key\": {\"type\": \"container\", \"value\": \"C1\"},"
    " \"type\": \"xray.result\", \"device_id\": \"X1\", \"time\": \"2026-03-10T23:30:00-01:00\","
    " \"payload\": {\"anomaly_score\": 0.99}}\n"
    /* One second before C2's window opens (2026-03-11T00:00Z minus 30 days), then on it. */
    "{\"event_id\": \"e6\", \"key\": {\"type\": \"container\", \"value\": \"C2\"},"
    " \"type\": \"seal.verified\", \"device_id\": \"S2\", \"time\": \"2026-02-08T23:59:59Z\"}\n"
    "{\"event_id\": \"e7\", \"key\": {\"type\": \"container\", \"value\": \"C2\"},"
    " \"type\": \"seal.verified\", \"device_id\": \"S2\", \"time\": \"2026-02-09T00:00:00Z\"}\n"
    "{\"event_id\": \"e9\", \"key\": {\"type\": \"conveyance\", \"value\": \"TRK1\"},"
    " \"type\": \"gps.route_deviation\", \"device_id\": \"G1\","
    " \"time\": \"2026-03-03T23:59:59Z\", \"payload\": {\"value\": 4.5}}\n"
    "{\"event_id\": \"e8\", \"key\": {\"type\": \"conveyance\", \"value\": \"TRK1\"},"
    " \"type\": \"gps.route_deviation\", \"device_id\": \"G1\","
    " \"time\": \"2026-03-04T00:00:00Z\"}\n"
    "{\"event_id\": \"e10\", \"key\": {\"type\": \"container\", \"value\": \"C1\"},"
    " \"type\": \"radiation.alarm\", \"device_id\": \"R1\", \"time\": \"2026-03-09T00:00:00Z\"}\n"
    /* A container no declaration of the batch has: kept only without a batch filter. */
    "{\"event_id\": \"e11\", \"key\": {\"type\": \"container\", \"value\": \"C77\"},"
    " \"type\": \"seal.tampered\", \"device_id\": \"S1\", \"time\": \"2026-03-06T00:00:00Z\"}";

/* Returns a batch of DECLS for `s`. */
static crisk_batch *decl_batch(const crisk_schema *s)
{
    crisk_batch *b = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_batch_new(s, &b, &err), 0);
    for (size_t i = 0; i < NDECLS; i++) {
        size_t lens[NFIELDS];
        for (size_t f = 0; f < NFIELDS; f++)
            lens[f] = DECLS[i][f] ? strlen(DECLS[i][f]) : 0;
        ck_assert_msg(crisk_batch_append_text(b, DECLS[i], lens, i + 1, &err) == 0, "%s",
                      err.message);
    }
    return b;
}

static const unsigned char K1[16] = "0123456789abcdef";
/* K1 and K2 sign (K2 need not); the devices of STREAM and U1, U2 are listed unsigned. */
static const char *const KEYS =
    "{\"format\": \"crisk-device-keys\", \"version\": 1, \"devices\": ["
    " {\"device_id\": \"K1\", \"key\": \"30313233343536373839616263646566\"},"
    " {\"device_id\": \"K2\", \"key\": \"30313233343536373839616263646566\","
    "  \"required\": false},"
    " {\"device_id\": \"S1\", \"unsigned\": true}, {\"device_id\": \"S2\", \"unsigned\": true},"
    " {\"device_id\": \"X1\", \"unsigned\": true}, {\"device_id\": \"G1\", \"unsigned\": true},"
    " {\"device_id\": \"R1\", \"unsigned\": true}, {\"device_id\": \"R\", \"unsigned\": true},"
    " {\"device_id\": \"U1\", \"unsigned\": true}, {\"device_id\": \"U2\", \"unsigned\": true}]}";

/* Loads the device keys above. */
static crisk_device_keys *load_keys(void)
{
    char *path = crisk_test_write_temp(KEYS);
    crisk_device_keys *k = NULL;
    crisk_error err;
    ck_assert_msg(crisk_device_keys_load(path, &k, &err) == 0, "%s", err.message);
    unlink(path);
    free(path);
    return k;
}

/* The reference time of the tests: 2026-06-01T00:00:00Z, after every event of STREAM. */
#define NOW 1780272000LL

/* Fills `opts` with the defaults, `keys` and the reference time NOW. */
static void test_options(crisk_events_options *opts, const crisk_device_keys *keys)
{
    crisk_events_options_init(opts, CRISK_EVENTS_OPTIONS_VERSION);
    opts->keys = keys;
    opts->now = NOW;
}

/* Parses `text` as an event stream for `s` (and `b`, or NULL) with `opts` (NULL: the
 * test's keys and reference time). */
static crisk_events *parse(const crisk_schema *s, const crisk_batch *b, const char *text,
                           const crisk_events_options *opts)
{
    crisk_events *ev = NULL;
    crisk_error err;
    crisk_events_options mine;
    crisk_device_keys *keys = opts ? NULL : load_keys();
    test_options(&mine, keys);
    ck_assert_msg(crisk_events_parse(s, b, text, strlen(text), opts ? opts : &mine, &ev,
                                     &err) == 0, "%s", err.message);
    crisk_device_keys_free(keys);
    return ev;
}

/* Builds the scoring features of `b` into a new array. */
static float *features(const crisk_schema *s, const crisk_batch *b)
{
    float *x = malloc(crisk_batch_size(b) * NFEAT * sizeof(float));
    crisk_error err;
    ck_assert_msg(crisk_schema_features(s, b, x, &err) == 0, "%s", err.message);
    return x;
}

/* Asserts that a and b are equal floats or both NaN. */
#define ck_assert_same(a, b) \
    ck_assert_msg((isnan(a) && isnan(b)) || (a) == (b), "%s = %g, expected %g", #a, \
                  (double)(a), (double)(b))

START_TEST(features_by_hand)
{
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_msg(crisk_test_load_schema(SCHEMA, &s, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(crisk_schema_num_features(s), NFEAT);
    crisk_batch *b = decl_batch(s);
    /* container_rate needs fitted tables: fit on labels that do not matter here. */
    float labels[NDECLS] = {1, 0, 0, 1, 0};
    ck_assert_int_eq(crisk_schema_fit(s, b, labels, NDECLS, NULL, &err), 0);

    /* Without events every event feature is missing. */
    float *x = features(s, b);
    for (size_t r = 0; r < NDECLS; r++)
        for (size_t j = X_TAMPERED; j <= X_RADIATION; j++)
            ck_assert_msg(isnan(x[r * NFEAT + j]), "row %zu feature %zu", r, j);
    free(x);

    crisk_events *ev = parse(s, b, STREAM, NULL);
    ck_assert_uint_eq(crisk_events_num_read(ev), 10);
    ck_assert_uint_eq(crisk_events_num_rejects(ev), 0);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 10);
    /* e4 ends after the batch's last window, e6 before its first; e9 is inside the widest
     * (30-day) window; e11's container is not in the batch. */
    ck_assert_uint_eq(crisk_events_num_kept(ev), 7);
    ck_assert_int_eq(crisk_batch_set_events(b, ev, &err), 0);
    x = features(s, b);
    const float *d1 = x, *d2 = x + NFEAT, *d3 = x + 2 * NFEAT, *d4 = x + 3 * NFEAT,
                *d5 = x + 4 * NFEAT;
    ck_assert_same(d1[X_TAMPERED], 1.0f);
    ck_assert_same(d1[X_OPENED], 0.0f);  /* watched (other events), none opened */
    /* 2026-03-01T10:00Z to the end of 2026-03-10 (UTC): 9 days and 14 hours. */
    ck_assert_same(d1[X_HOURS], 230.0f);
    ck_assert_same(d1[X_XRAY], 0.42f);   /* e4, 0.99, is after the declaration's day */
    ck_assert_same(d1[X_ROUTE], 1.0f);   /* e8 on the 7-day edge, e9 a second before */
    ck_assert_same(d1[X_RADIATION], 1.0f);
    ck_assert_same(d2[X_TAMPERED], 0.0f);
    ck_assert_same(d2[X_HOURS], 720.0f); /* e7, exactly 30 days before; e6 outside */
    ck_assert_same(d2[X_XRAY], (float)NAN);
    ck_assert_same(d2[X_ROUTE], (float)NAN); /* TRK2 has no event */
    ck_assert_same(d2[X_RADIATION], 0.0f);
    for (size_t j = X_TAMPERED; j <= X_RADIATION; j++) {
        ck_assert_msg(isnan(d3[j]) && isnan(d4[j]) && isnan(d5[j]), "feature %zu", j);
    }
    ck_assert_same(d1[X_VALUE], 100.0f);

    /* An unfiltered load keeps more events and gives the same features. */
    crisk_events *all = parse(s, NULL, STREAM, NULL);
    ck_assert_uint_eq(crisk_events_num_kept(all), 10);
    ck_assert_int_eq(crisk_batch_set_events(b, all, &err), 0);
    float *y = features(s, b);
    for (size_t i = 0; i < NDECLS * NFEAT; i++)
        ck_assert_same(y[i], x[i]);

    /* Training builds the same event features as scoring. */
    float *t = malloc(NDECLS * NFEAT * sizeof(float));
    ck_assert_int_eq(crisk_schema_training_matrix(s, b, labels, NDECLS, NULL, t, &err), 0);
    for (size_t r = 0; r < NDECLS; r++)
        for (size_t j = X_TAMPERED; j <= X_RADIATION; j++)
            ck_assert_same(t[r * NFEAT + j], x[r * NFEAT + j]);

    /* Clearing the batch detaches its events. */
    crisk_batch_clear(b);
    size_t lens[NFIELDS] = {2, 10, 2, 4, 3};
    ck_assert_int_eq(crisk_batch_append_text(b, DECLS[0], lens, 1, &err), 0);
    float *z = features(s, b);
    ck_assert(isnan(z[X_TAMPERED]));
    free(z);
    free(t);
    free(y);
    free(x);
    crisk_events_free(all);
    crisk_events_free(ev);
    crisk_batch_free(b);
    crisk_schema_free(s);
}
END_TEST

/* Issue 15, defect 4: an event's key takes the canonical form of the declaration ids it
 * meets (declarations hold that form), so " c1" from a sensor is container C1; a key
 * with an invisible character is refused, naming the character. */
START_TEST(event_keys_are_canonical)
{
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_msg(crisk_test_load_schema(SCHEMA, &s, &err) == 0, "%s", err.message);
    crisk_batch *b = NULL;
    ck_assert_int_eq(crisk_batch_new(s, &b, &err), 0);
    const char *row[NFIELDS] = {"D1", "2026-03-10", "c1 ", NULL, "1"};
    size_t lens[NFIELDS] = {2, 10, 3, 0, 1};
    ck_assert_int_eq(crisk_batch_append_text(b, row, lens, 1, &err), 0);
    float label = 0; /* container_rate needs fitted tables */
    ck_assert_int_eq(crisk_schema_fit(s, b, &label, 1, NULL, &err), 0);
    static const char stream[] =
        "{\"event_id\": \"e1\", \"key\": {\"type\": \"container\", \"value\": \" c1\"},"
        " \"type\": \"seal.tampered\", \"device_id\": \"S1\", \"time\": \"2026-03-05T00:00:00Z\"}\n"
        "{\"event_id\": \"e2\", \"key\": {\"type\": \"container\", \"value\": \"C\\u200b1\"},"
        " \"type\": \"seal.opened\", \"device_id\": \"S1\", \"time\": \"2026-03-06T00:00:00Z\"}\n";
    crisk_events *ev = parse(s, b, stream, NULL);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 1);
    ck_assert_uint_eq(crisk_events_num_rejects(ev), 1);
    uint64_t line;
    const char *reason;
    crisk_events_reject(ev, 0, &line, &reason);
    ck_assert_uint_eq(line, 2);
    ck_assert_msg(strstr(reason, "U+200B"), "%s", reason);
    ck_assert_int_eq(crisk_batch_set_events(b, ev, &err), 0);
    float x[NFEAT];
    ck_assert_int_eq(crisk_schema_features(s, b, x, &err), 0);
    ck_assert_same(x[X_TAMPERED], 1.0f);
    ck_assert_same(x[X_OPENED], 0.0f);
    crisk_events_free(ev);
    crisk_batch_free(b);
    crisk_schema_free(s);
}
END_TEST

/* One event line with the given members (NULL: left out), for the reject tests. */
static void event_line(char *buf, size_t size, const char *id, const char *key_type,
                       const char *key, const char *type, const char *device,
                       const char *time, const char *payload, const char *hmac)
{
    int n = snprintf(buf, size, "{\"event_id\": \"%s\", \"key\": {\"type\": \"%s\", "
                     "\"value\": \"%s\"}, \"type\": \"%s\", \"device_id\": \"%s\", "
                     "\"time\": \"%s\"", id, key_type, key, type, device, time);
    if (payload)
        n += snprintf(buf + n, size - (size_t)n, ", \"payload\": %s", payload);
    if (hmac)
        n += snprintf(buf + n, size - (size_t)n, ", \"hmac\": \"%s\"", hmac);
    snprintf(buf + n, size - (size_t)n, "}\n");
}

/* Returns the hex HMAC-SHA256 under `key` of the canonical bytes of an event
 * (docs/events.md, "Signing"), computed here with OpenSSL. */
static void sign(const unsigned char *key, size_t key_len, const char *id,
                 const char *key_type, const char *key_value, const char *type,
                 const char *device, const char *time, const char *payload, char hex[65])
{
    char canon[1024];
    snprintf(canon, sizeof canon, "crisk-event-v1\n%s\n%s\n%s\n%s\n%s\n%s\n%s", id, key_type,
             key_value, type, device, time, payload ? payload : "");
    unsigned char mac[32];
    unsigned int len = 0;
    ck_assert_ptr_nonnull(HMAC(EVP_sha256(), key, (int)key_len, (unsigned char *)canon,
                               strlen(canon), mac, &len));
    ck_assert_uint_eq(len, 32);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
}

START_TEST(every_reject_reason)
{
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_test_load_schema(SCHEMA, &s, &err), 0);
    crisk_device_keys *keys = load_keys();
    static char text[8192];
    char line[1024], mac[65];
    const char *xray = "{\"anomaly_score\":0.91,\"hits\":[\"metal\"]}";
    size_t o = 0;
#define ADD(...) (event_line(line, sizeof line, __VA_ARGS__), \
                  o += (size_t)snprintf(text + o, sizeof text - o, "%s", line))
    /* 1: accepted, signed */
    sign(K1, 16, "a1", "container", "C1", "xray.result", "K1", "2026-03-01T10:00:00Z", xray,
         mac);
    ADD("a1", "container", "C1", "xray.result", "K1", "2026-03-01T10:00:00Z", xray, mac);
    o += (size_t)snprintf(text + o, sizeof text - o, "{not json\n");             /* 2 */
    ADD("a2", "pallet", "C1", "seal.opened", "U1", "2026-03-01T10:00:00Z", NULL, NULL);
    ADD("a3", "container", "C1", "seal.melted", "U1", "2026-03-01T10:00:00Z", NULL, NULL);
    ADD("a4", "container", "C1", "seal.opened", "U1", "2026-03-01 10:00:00", NULL, NULL);
    ADD("a5", "container", "C1", "xray.result", "U1", "2026-03-01T10:00:00Z",
        "{\"anomaly_score\": 1.5}", NULL);                                        /* 6 */
    ADD("a6", "container", "C1", "seal.opened", "K1", "2026-03-01T11:00:00Z", NULL, NULL);
    ADD("a7", "container", "C1", "seal.opened", "NOKEY", "2026-03-01T11:00:00Z", NULL,
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");      /* 8 */
    /* 9: a1's signature on an altered payload */
    ADD("a1b", "container", "C1", "xray.result", "K1", "2026-03-01T10:00:00Z",
        "{\"anomaly_score\":0.11,\"hits\":[\"metal\"]}", mac);
    /* 10: another device's id a1 (ids are per device) */
    ADD("a1", "container", "C2", "seal.opened", "U1", "2026-03-01T10:00:00Z", NULL, NULL);
    ADD("a8", "container", "C2", "seal.opened", "U2", "2026-03-02T10:00:00Z", NULL, NULL);
    ADD("a9", "container", "C2", "seal.opened", "U2", "2026-03-02T09:59:59Z", NULL, NULL);
    /* 13: unsigned from K2, whose key is optional; 14: a field not in the format */
    ADD("a10", "container", "C2", "seal.opened", "K2", "2026-03-02T10:00:00Z", NULL, NULL);
    o += (size_t)snprintf(text + o, sizeof text - o, "{\"event_id\": \"x\", \"extra\": 1}\n");
    /* 15: U2's id a8 again; 16: signed by U1, listed unsigned; 17: past NOW + 300 s;
     * 18: a device the key file does not list, unsigned */
    ADD("a8", "container", "C2", "seal.opened", "U2", "2026-03-02T11:00:00Z", NULL, NULL);
    ADD("a11", "container", "C2", "seal.opened", "U1", "2026-03-02T11:00:00Z", NULL,
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
    ADD("a12", "container", "C2", "seal.opened", "U1", "2026-06-01T00:05:01Z", NULL, NULL);
    ADD("a13", "container", "C2", "seal.tampered", "FAKE-SEAL-1", "2026-03-02T11:00:00Z",
        NULL, NULL);
#undef ADD
    crisk_events_options opts;
    test_options(&opts, keys);
    crisk_events *ev = parse(s, NULL, text, &opts);
    static const struct { uint64_t line; crisk_event_reject kind; const char *words; } want[] = {
        {2, CRISK_EVENT_MALFORMED, "invalid JSON"},
        {3, CRISK_EVENT_UNKNOWN_KEY, "pallet"},
        {4, CRISK_EVENT_UNKNOWN_TYPE, "seal.melted"},
        {5, CRISK_EVENT_BAD_TIME, "RFC 3339"},
        {6, CRISK_EVENT_BAD_PAYLOAD, "anomaly_score"},
        {7, CRISK_EVENT_MISSING_HMAC, "K1"},
        {8, CRISK_EVENT_UNKNOWN_DEVICE, "NOKEY"},
        {9, CRISK_EVENT_BAD_HMAC, "forged"},
        {12, CRISK_EVENT_OUT_OF_ORDER, "U2"},
        {14, CRISK_EVENT_MALFORMED, "extra"},
        {15, CRISK_EVENT_DUPLICATE_ID, "a8"},
        {16, CRISK_EVENT_UNVERIFIABLE, "U1"},
        {17, CRISK_EVENT_FUTURE_TIME, "300 s"},
        {18, CRISK_EVENT_UNKNOWN_DEVICE, "FAKE-SEAL-1"},
    };
    size_t nwant = sizeof want / sizeof *want;
    ck_assert_uint_eq(crisk_events_num_rejects(ev), nwant);
    for (size_t i = 0; i < nwant; i++) {
        uint64_t at = 0;
        const char *reason = NULL;
        ck_assert_int_eq(crisk_events_reject(ev, i, &at, &reason), want[i].kind);
        ck_assert_uint_eq(at, want[i].line);
        ck_assert_msg(strstr(reason, want[i].words), "line %llu: \"%s\" lacks \"%s\"",
                      (unsigned long long)at, reason, want[i].words);
    }
    ck_assert_int_eq(crisk_events_reject(ev, nwant, NULL, NULL), 0);
    ck_assert_uint_eq(crisk_events_num_read(ev), 18);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 4); /* lines 1, 10, 11, 13 */
    ck_assert_uint_eq(crisk_events_num_unverified(ev), 3); /* all but line 1 */
    crisk_events_free(ev);

    /* Requiring an HMAC of every device refuses the unsigned events too. */
    opts.require_hmac = 1;
    ev = parse(s, NULL, text, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 1);
    ck_assert_uint_eq(crisk_events_num_unverified(ev), 0);
    ck_assert_int_eq(crisk_events_reject(ev, 8, NULL, NULL), CRISK_EVENT_MISSING_HMAC);
    crisk_events_free(ev);

    /* Without keys no device is known: every event is refused, the signed one too. */
    test_options(&opts, NULL);
    ev = parse(s, NULL, text, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 0);
    ck_assert_int_eq(crisk_events_reject(ev, 0, NULL, NULL), CRISK_EVENT_UNKNOWN_DEVICE);
    crisk_events_free(ev);
    crisk_device_keys_free(keys);
    crisk_schema_free(s);
}
END_TEST

START_TEST(hmac_covers_every_member)
{
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_test_load_schema(SCHEMA, &s, &err), 0);
    crisk_device_keys *keys = load_keys();
    crisk_events_options opts;
    test_options(&opts, keys);
    const char *m[8] = {"h1", "container", "C1", "seal.verified", "K1",
                        "2026-03-01T10:00:00+01:00", "{\"note\": \"ok\"}", NULL};
    char mac[65], line[1024];
    sign(K1, 16, m[0], m[1], m[2], m[3], m[4], m[5], m[6], mac);
    event_line(line, sizeof line, m[0], m[1], m[2], m[3], m[4], m[5], m[6], mac);
    crisk_events *ev = parse(s, NULL, line, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 1);
    crisk_events_free(ev);
    /* Each member altered in turn (the payload by one space) breaks the signature. */
    const char *altered[7] = {"h2", "conveyance", "C2", "seal.opened", "K2",
                              "2026-03-01T10:00:01+01:00", "{\"note\":  \"ok\"}"};
    for (int k = 0; k < 7; k++) {
        const char *a[7];
        memcpy(a, m, sizeof a);
        a[k] = altered[k];
        event_line(line, sizeof line, a[0], a[1], a[2], a[3], a[4], a[5], a[6], mac);
        ev = parse(s, NULL, line, &opts);
        ck_assert_msg(crisk_events_num_accepted(ev) == 0, "member %d", k);
        ck_assert_int_eq(crisk_events_reject(ev, 0, NULL, NULL), CRISK_EVENT_BAD_HMAC);
        crisk_events_free(ev);
    }
    /* No payload: the canonical bytes end with the time's line feed. */
    sign(K1, 16, m[0], m[1], m[2], m[3], m[4], m[5], NULL, mac);
    event_line(line, sizeof line, m[0], m[1], m[2], m[3], m[4], m[5], NULL, mac);
    ev = parse(s, NULL, line, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 1);
    crisk_events_free(ev);
    /* Upper-case hex is the same MAC; a short one is refused. */
    for (char *c = mac; *c; c++)
        *c = (char)(*c >= 'a' && *c <= 'f' ? *c - 32 : *c);
    event_line(line, sizeof line, m[0], m[1], m[2], m[3], m[4], m[5], NULL, mac);
    ev = parse(s, NULL, line, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 1);
    crisk_events_free(ev);
    mac[10] = '\0';
    event_line(line, sizeof line, m[0], m[1], m[2], m[3], m[4], m[5], NULL, mac);
    ev = parse(s, NULL, line, &opts);
    ck_assert_int_eq(crisk_events_reject(ev, 0, NULL, NULL), CRISK_EVENT_BAD_HMAC);
    crisk_events_free(ev);
    crisk_device_keys_free(keys);
    crisk_schema_free(s);
}
END_TEST

START_TEST(timestamps)
{
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_test_load_schema(SCHEMA, &s, &err), 0);
    static const struct { const char *time; int ok; } cases[] = {
        {"2026-03-01T10:00:00Z", 1}, {"2026-03-01t10:00:00z", 1},
        {"2026-03-01T10:00:00.123456789+05:30", 1}, {"2024-02-29T23:59:60-00:00", 1},
        {"2026-02-29T10:00:00Z", 0}, {"2026-03-01T24:00:00Z", 0},
        {"2026-03-01T10:60:00Z", 0}, {"2026-03-01T10:00:00", 0},
        {"2026-03-01T10:00:00+0530", 0}, {"2026-03-01T10:00:00.Z", 0},
        {"2026-03-01T10:00:00.1234567890Z", 0}, {"2026-03-01T10:00:00+24:00", 0},
        {"2026-03-01", 0}, {"2026-03-01T10:00:00Z ", 0}, {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char line[512];
        event_line(line, sizeof line, "t", "container", "C1", "rfid.read", "R", cases[i].time,
                   NULL, NULL);
        crisk_events *ev = parse(s, NULL, line, NULL);
        ck_assert_msg(crisk_events_num_accepted(ev) == (uint64_t)cases[i].ok, "%s",
                      cases[i].time);
        if (!cases[i].ok)
            ck_assert_int_eq(crisk_events_reject(ev, 0, NULL, NULL), CRISK_EVENT_BAD_TIME);
        crisk_events_free(ev);
    }
    /* Offsets: 12:00+02:00 and 10:00Z are the same instant, so neither is out of order. */
    const char *two =
        "{\"event_id\": \"a\", \"key\": {\"type\": \"declaration\", \"value\": \"D1\"},"
        " \"type\": \"rfid.read\", \"device_id\": \"R\", \"time\": \"2026-03-01T12:00:00+02:00\"}\n"
        "{\"event_id\": \"b\", \"key\": {\"type\": \"declaration\", \"value\": \"D1\"},"
        " \"type\": \"rfid.read\", \"device_id\": \"R\", \"time\": \"2026-03-01T10:00:00Z\"}\n"
        "{\"event_id\": \"c\", \"key\": {\"type\": \"declaration\", \"value\": \"D1\"},"
        " \"type\": \"rfid.read\", \"device_id\": \"R\", \"time\": \"2026-03-01T11:59:59+02:00\"}";
    crisk_events *ev = parse(s, NULL, two, NULL);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 2);
    ck_assert_int_eq(crisk_events_reject(ev, 0, NULL, NULL), CRISK_EVENT_OUT_OF_ORDER);
    crisk_events_free(ev);
    crisk_schema_free(s);
}
END_TEST

START_TEST(limits_and_files)
{
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_test_load_schema(SCHEMA, &s, &err), 0);
    crisk_device_keys *keys = load_keys();
    crisk_events_options opts;
    test_options(&opts, keys);
    opts.max_events = 3;
    crisk_events *ev = NULL;
    ck_assert_int_eq(crisk_events_parse(s, NULL, STREAM, strlen(STREAM), &opts, &ev, &err),
                     CRISK_E_LIMIT);
    ck_assert_ptr_null(ev);
    ck_assert_ptr_nonnull(strstr(err.message, "max_events"));
    test_options(&opts, keys);
    opts.max_rejects = 1;
    const char *bad = "x\ny\n";
    ck_assert_int_eq(crisk_events_parse(s, NULL, bad, strlen(bad), &opts, &ev, &err),
                     CRISK_E_LIMIT);
    ck_assert_ptr_nonnull(strstr(err.message, "line 2"));
    test_options(&opts, keys);
    opts.max_line_bytes = 40;
    ev = parse(s, NULL, STREAM, &opts);
    ck_assert_uint_eq(crisk_events_num_rejects(ev), 10);
    crisk_events_free(ev);
    /* The file reader gives what the buffer reader gives. */
    char *path = crisk_test_write_temp(STREAM);
    test_options(&opts, keys);
    ck_assert_int_eq(crisk_events_load(s, NULL, path, &opts, &ev, &err), 0);
    ck_assert_uint_eq(crisk_events_num_kept(ev), 10);
    crisk_events_free(ev);
    unlink(path);
    ck_assert_int_eq(crisk_events_load(s, NULL, path, &opts, &ev, &err), CRISK_E_IO);
    free(path);
    crisk_device_keys_free(keys);
    keys = NULL;
    /* Device key files are checked. */
    path = crisk_test_write_temp("{\"format\": \"crisk-device-keys\", \"version\": 1,"
                      " \"devices\": [{\"device_id\": \"K\", \"key\": \"abcd\"}]}");
    ck_assert_int_eq(crisk_device_keys_load(path, &keys, &err), CRISK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "devices[0].key"));
    unlink(path);
    free(path);
    /* Events of one schema cannot join a batch of another. */
    crisk_schema *other = NULL;
    ck_assert_int_eq(crisk_test_load_schema(SCHEMA, &other, &err), 0);
    crisk_batch *b = decl_batch(other);
    ev = parse(s, NULL, STREAM, NULL);
    ck_assert_int_eq(crisk_batch_set_events(b, ev, &err), CRISK_E_INVALID_ARGUMENT);
    crisk_events_free(ev);
    crisk_batch_free(b);
    crisk_schema_free(other);
    crisk_schema_free(s);
}
END_TEST

/* Returns a copy of `text` with the first `from` replaced by `to`. */
static char *patch(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    ck_assert_ptr_nonnull(at);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

START_TEST(schema_round_trip_and_refusals)
{
    crisk_schema *s = NULL, *back = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_test_load_schema(SCHEMA, &s, &err), 0);
    char *path = crisk_test_write_temp("");
    ck_assert_int_eq(crisk_schema_save(s, path, &err), 0);
    ck_assert_msg(crisk_schema_load(path, &back, &err) == 0, "%s", err.message);
    unlink(path);
    free(path);
    crisk_batch *b1 = decl_batch(s), *b2 = decl_batch(back);
    crisk_events *e1 = parse(s, b1, STREAM, NULL), *e2 = parse(back, b2, STREAM, NULL);
    crisk_batch_set_events(b1, e1, NULL);
    crisk_batch_set_events(b2, e2, NULL);
    float labels[NDECLS] = {0, 1, 0, 1, 0};
    crisk_schema_fit(s, b1, labels, NDECLS, NULL, NULL);
    crisk_schema_fit(back, b2, labels, NDECLS, NULL, NULL);
    float *x1 = features(s, b1), *x2 = features(back, b2);
    ck_assert_int_eq(memcmp(x1, x2, NDECLS * NFEAT * sizeof(float)), 0);
    free(x1);
    free(x2);
    crisk_events_free(e1);
    crisk_events_free(e2);
    crisk_batch_free(b1);
    crisk_batch_free(b2);
    crisk_schema_free(back);
    crisk_schema_free(s);

    static const struct { const char *from, *to, *words; } bad[] = {
        {"\"seal.tampered\"", "\"seal.melted\"", "features[1].event"},
        {"\"key_type\": \"container\"", "\"key_type\": \"pallet\"", "features[1].key_type"},
        {"\"window_days\": 30", "\"window_days\": 0", "features[1].window_days"},
        {"\"key_field\": \"container_id\"", "\"key_field\": \"value\"", "features[1].key_field"},
        {"\"date_field\": \"date\",", "", "needs the schema's date_field"},
        {"[\"radiation.alarm\"]", "[\"seal.opened\"]", "event_types[0]"},
        {"[\"radiation.alarm\"]", "[\"Radiation\"]", "event_types[0]"},
        {"\"window_days\": 7}", "\"window_days\": 7, \"keys\": []}", "features[5].keys"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *text = patch(SCHEMA, bad[i].from, bad[i].to);
        ck_assert_int_eq(crisk_test_load_schema(text, &s, &err), CRISK_E_FORMAT);
        ck_assert_msg(strstr(err.message, bad[i].words), "%s", err.message);
        free(text);
    }
    /* A band cannot be built on an event feature. */
    char *text = patch(SCHEMA, "[\"container_id\"]}]}",
                       "[\"container_id\"]}], \"bands\": [{\"name\": \"b\", \"feature\": "
                       "\"xray_max\", \"keys\": [\"container_id\"]}]}");
    ck_assert_int_eq(crisk_test_load_schema(text, &s, &err), CRISK_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(err.message, "events"));
    free(text);
}
END_TEST

/* Writes `text` to file `name` in directory `dir`. */
static void write_in(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(profiles_on_event_features)
{
    char dir[64] = "/tmp/crisk_evbundle_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_test_load_schema(SCHEMA, &s, &err), 0);
    crisk_batch *b = decl_batch(s);
    float labels[NDECLS] = {0, 1, 0, 1, 0};
    ck_assert_int_eq(crisk_schema_fit(s, b, labels, NDECLS, NULL, &err), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/schema.json", dir);
    ck_assert_int_eq(crisk_schema_save(s, path, &err), 0);
    crisk_batch_free(b);
    crisk_schema_free(s);
    write_in(dir, "fraud.json",
             "{\"format\": \"crisk-logistic\", \"version\": 1, \"feature_names\": [\"value\"],"
             " \"classes\": [0, 1], \"multi_class\": \"binary\", \"coef\": [[0.001]],"
             " \"intercept\": [-5]}");
    write_in(dir, "profiles.json",
             "{\"format\": \"crisk-profiles\", \"version\": 1, \"rules\": ["
             " {\"id\": \"EV-SEAL\", \"description\": \"e-seal tampered\", \"lane\": \"red\","
             "  \"mandatory\": true,"
             "  \"when\": {\"feature\": \"seal_tampered\", \"range\": [1, null]}},"
             " {\"id\": \"EV-XRAY\", \"description\": \"X-ray anomaly\", \"lane\": \"yellow\","
             "  \"mandatory\": true,"
             "  \"when\": {\"feature\": \"xray_max\", \"range\": [0.4, null]}}]}");
    write_in(dir, "policy.json",
             "{\"format\": \"crisk-policy\", \"version\": 1, \"lanes\": [\"red\", \"yellow\","
             " \"green\"], \"default_lane\": \"green\", \"score_model\": \"fraud\","
             " \"thresholds\": [{\"lane\": \"red\", \"min_score\": 0.99}]}");
    write_in(dir, "manifest.json",
             "{\"format\": \"crisk-bundle\", \"version\": 1, \"schema\": \"schema.json\","
             " \"models\": [{\"name\": \"fraud\", \"file\": \"fraud.json\","
             " \"features\": [\"value\"]}], \"profiles\": \"profiles.json\","
             " \"policy\": \"policy.json\"}");
    crisk_bundle *bundle = NULL;
    ck_assert_msg(crisk_bundle_load(dir, NULL, &bundle, &err) == 0, "%s", err.message);
    s = (crisk_schema *)crisk_bundle_schema(bundle);
    b = decl_batch(s);
    crisk_results *without = NULL, *with = NULL;
    ck_assert_msg(crisk_bundle_score(bundle, b, NULL, &without, &err) == 0, "%s", err.message);
    crisk_events *ev = parse(s, b, STREAM, NULL);
    ck_assert_int_eq(crisk_batch_set_events(b, ev, &err), 0);
    ck_assert_int_eq(crisk_bundle_score(bundle, b, NULL, &with, &err), 0);
    char reason[256];
    for (size_t r = 0; r < NDECLS; r++) {
        ck_assert_str_eq(crisk_bundle_lane_name(bundle, crisk_results_lane(without, r)),
                         "green");
        ck_assert_uint_eq(crisk_results_num_hits(without, r), 0);
        /* Scores do not depend on events: the model takes only the value. */
        ck_assert_float_eq(crisk_results_score(with, r, 0), crisk_results_score(without, r, 0));
    }
    /* D1: tampered seal (red, the most severe of its two mandatory hits). */
    ck_assert_str_eq(crisk_bundle_lane_name(bundle, crisk_results_lane(with, 0)), "red");
    ck_assert_int_eq(crisk_results_reason(with, 0, reason, sizeof reason),
                     CRISK_REASON_PROFILE);
    ck_assert_msg(strstr(reason, "EV-SEAL"), "%s", reason);
    ck_assert_uint_eq(crisk_results_num_hits(with, 0), 2);
    for (size_t r = 1; r < NDECLS; r++)
        ck_assert_str_eq(crisk_bundle_lane_name(bundle, crisk_results_lane(with, r)), "green");
    crisk_results_free(with);
    crisk_results_free(without);
    crisk_events_free(ev);
    crisk_batch_free(b);
    crisk_bundle_free(bundle);
    const char *names[] = {"schema.json", "fraud.json", "profiles.json", "policy.json",
                           "manifest.json"};
    for (size_t i = 0; i < 5; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}
END_TEST

START_TEST(hostile_lines)
{
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_test_load_schema(SCHEMA, &s, &err), 0);
    crisk_device_keys *keys = load_keys();
    crisk_events_options opts;
    test_options(&opts, keys);
    const char *payload = "{\"anomaly_score\": 0.5, \"hits\": [\"a\\\"b\", \"}\"]}";
    char mac[65], line[1024], bad[1024];
    sign(K1, 16, "h", "container", "C1", "xray.result", "K1", "2026-03-01T10:00:00Z", payload,
         mac);
    event_line(line, sizeof line, "h", "container", "C1", "xray.result", "K1",
               "2026-03-01T10:00:00Z", payload, mac);
    crisk_events *ev = parse(s, NULL, line, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 1); /* escapes and braces in strings */
    crisk_events_free(ev);
    /* Every truncation and every byte replaced by a few others: accepted only when it is
     * still the same signed event, else refused; never a failure of the load. */
    size_t n = strlen(line) - 1; /* without the line feed */
    static const char subst[] = {'\0', '"', '{', '}', '\\', ' ', 'x', '\n', (char)0xff};
    for (size_t at = 0; at < n; at++)
        for (size_t k = 0; k <= sizeof subst; k++) {
            memcpy(bad, line, n);
            size_t len = n;
            if (k == sizeof subst)
                len = at; /* truncated */
            else
                bad[at] = subst[k];
            ev = NULL;
            ck_assert_int_eq(crisk_events_parse(s, NULL, bad, len, &opts, &ev, &err), 0);
            ck_assert_uint_eq(crisk_events_num_read(ev),
                              crisk_events_num_accepted(ev) + crisk_events_num_rejects(ev));
            if (crisk_events_num_accepted(ev) == 1)
                ck_assert_uint_eq(crisk_events_num_kept(ev), 1);
            crisk_events_free(ev);
        }
    crisk_device_keys_free(keys);
    crisk_schema_free(s);
}
END_TEST

/* Appends a line of event `id` of device `device` at `time` about container C1 (type
 * seal.tampered), signed with K1 when `signed_`, to `text` at `*o`. */
static void add_event(char *text, size_t size, size_t *o, const char *id, const char *device,
                      const char *time, int signed_)
{
    char line[1024], mac[65];
    if (signed_)
        sign(K1, 16, id, "container", "C1", "seal.tampered", device, time, NULL, mac);
    event_line(line, sizeof line, id, "container", "C1", "seal.tampered", device, time, NULL,
               signed_ ? mac : NULL);
    *o += (size_t)snprintf(text + *o, size - *o, "%s", line);
}

/* Returns how many events of `ev` were refused as `kind`. */
static size_t count_kind(const crisk_events *ev, crisk_event_reject kind)
{
    size_t n = 0;
    for (size_t i = 0; i < crisk_events_num_rejects(ev); i++)
        n += crisk_events_reject(ev, i, NULL, NULL) == kind;
    return n;
}

START_TEST(unsigned_events_cannot_displace_signed_ones)
{
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_test_load_schema(SCHEMA, &s, &err), 0);
    crisk_device_keys *keys = load_keys();
    crisk_events_options opts;
    test_options(&opts, keys);
    static char text[16384];
    size_t o = 0;
    /* An unsigned breach from a device no key file lists is no evidence. */
    add_event(text, sizeof text, &o, "f1", "FAKE-SEAL-1", "2026-03-05T00:00:00Z", 0);
    crisk_events *ev = parse(s, NULL, text, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 0);
    ck_assert_int_eq(crisk_events_reject(ev, 0, NULL, NULL), CRISK_EVENT_UNKNOWN_DEVICE);
    crisk_events_free(ev);

    /* Unsigned events claim the ids, and a late time, of the signed ones to come: from a
     * device listed unsigned (U1), and from K2 itself, whose key is optional. */
    o = 0;
    const char *ids[] = {"g1", "g2", "g3"};
    for (size_t i = 0; i < 3; i++) {
        add_event(text, sizeof text, &o, ids[i], "U1", "2026-03-09T00:00:00Z", 0);
        add_event(text, sizeof text, &o, ids[i], "K2", "2026-03-09T00:00:00Z", 0);
    }
    /* One signed event of K1 dated 2099 (a clock glitch) and one unsigned of K2. */
    add_event(text, sizeof text, &o, "glitch", "K1", "2099-01-01T00:00:00Z", 1);
    add_event(text, sizeof text, &o, "late", "K2", "2099-01-01T00:00:00Z", 0);
    /* The genuine signed events, with those ids, before those times. */
    const char *times[] = {"2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z",
                           "2026-03-04T00:00:00Z"};
    for (size_t i = 0; i < 3; i++) {
        add_event(text, sizeof text, &o, ids[i], "K1", times[i], 1);
        add_event(text, sizeof text, &o, ids[i], "K2", times[i], 1);
    }
    ev = parse(s, NULL, text, &opts);
    ck_assert_uint_eq(crisk_events_num_read(ev), 14);
    ck_assert_uint_eq(count_kind(ev, CRISK_EVENT_FUTURE_TIME), 2);
    ck_assert_uint_eq(crisk_events_num_rejects(ev), 2);
    /* The six genuine ones and the six unsigned claims (harmless to them). */
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 12);
    ck_assert_uint_eq(crisk_events_num_unverified(ev), 6);
    crisk_events_free(ev);

    /* The other way round, the stronger event wins too: an unsigned event is refused when
     * a signed one of its device holds its id, or a later time. */
    o = 0;
    add_event(text, sizeof text, &o, "g1", "K2", "2026-03-05T00:00:00Z", 1);
    add_event(text, sizeof text, &o, "g1", "K2", "2026-03-06T00:00:00Z", 0);
    add_event(text, sizeof text, &o, "g2", "K2", "2026-03-04T00:00:00Z", 0);
    ev = parse(s, NULL, text, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 1);
    ck_assert_int_eq(crisk_events_reject(ev, 0, NULL, NULL), CRISK_EVENT_DUPLICATE_ID);
    ck_assert_int_eq(crisk_events_reject(ev, 1, NULL, NULL), CRISK_EVENT_OUT_OF_ORDER);
    crisk_events_free(ev);
    crisk_device_keys_free(keys);
    crisk_schema_free(s);
}
END_TEST

START_TEST(future_bound)
{
    crisk_schema *s = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_test_load_schema(SCHEMA, &s, &err), 0);
    crisk_device_keys *keys = load_keys();
    crisk_events_options opts;
    test_options(&opts, keys);
    ck_assert_int_eq(opts.future_seconds, 300);
    /* The reference time is NOW; events at the tolerance's edge and one second past it
     * (the edge given with an offset: the bound is an instant). */
    char edge[40], past[40];
    time_t t = (time_t)(NOW + opts.future_seconds);
    strftime(edge, sizeof edge, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    t = (time_t)(NOW + opts.future_seconds + 1 - 2 * 3600);
    strftime(past, sizeof past, "%Y-%m-%dT%H:%M:%S-02:00", gmtime(&t));
    static char text[4096];
    size_t o = 0;
    add_event(text, sizeof text, &o, "e1", "K1", edge, 1);
    add_event(text, sizeof text, &o, "e2", "K1", past, 1);
    /* The refused one does not advance the device: a later event at the edge passes. */
    add_event(text, sizeof text, &o, "e3", "K1", edge, 1);
    crisk_events *ev = parse(s, NULL, text, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 2);
    uint64_t line = 0;
    ck_assert_int_eq(crisk_events_reject(ev, 0, &line, NULL), CRISK_EVENT_FUTURE_TIME);
    ck_assert_uint_eq(line, 2);
    crisk_events_free(ev);
    /* No tolerance: the edge is refused too. The widest takes line 2, which, accepted,
     * does advance the device: line 3 is then out of order. */
    opts.future_seconds = 0;
    ev = parse(s, NULL, text, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 0);
    crisk_events_free(ev);
    opts.future_seconds = 86400;
    ev = parse(s, NULL, text, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 2);
    ck_assert_int_eq(crisk_events_reject(ev, 0, &line, NULL), CRISK_EVENT_OUT_OF_ORDER);
    ck_assert_uint_eq(line, 3);
    crisk_events_free(ev);
    /* Out-of-range options are refused, naming the field. */
    opts.future_seconds = 86401;
    ev = NULL;
    ck_assert_int_eq(crisk_events_parse(s, NULL, text, strlen(text), &opts, &ev, &err),
                     CRISK_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "future_seconds"));
    opts.future_seconds = -1;
    ck_assert_int_eq(crisk_events_parse(s, NULL, text, strlen(text), &opts, &ev, &err),
                     CRISK_E_INVALID_ARGUMENT);
    test_options(&opts, keys);
    opts.now = -5;
    ck_assert_int_eq(crisk_events_parse(s, NULL, text, strlen(text), &opts, &ev, &err),
                     CRISK_E_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(err.message, "now"));
    ck_assert_ptr_null(ev);
    /* The default reference time is the clock: 2099 is refused, 2026-03 is not. */
    test_options(&opts, keys);
    opts.now = CRISK_EVENTS_NOW_AUTO;
    o = 0;
    add_event(text, sizeof text, &o, "e1", "K1", "2026-03-01T00:00:00Z", 1);
    add_event(text, sizeof text, &o, "e2", "K1", "2099-01-01T00:00:00Z", 1);
    ev = parse(s, NULL, text, &opts);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 1);
    ck_assert_int_eq(crisk_events_reject(ev, 0, NULL, NULL), CRISK_EVENT_FUTURE_TIME);
    crisk_events_free(ev);
    /* A caller of the first layout, which had no `now`, reads with the defaults. */
    crisk_events_options v1;
    memset(&v1, 0xff, sizeof v1);
    ck_assert_int_eq(crisk_events_options_init(&v1, 1), 0);
    ck_assert_int_eq(v1.now, -1); /* not written: version 1 has no such field */
    v1.keys = keys;
    ev = parse(s, NULL, text, &v1);
    ck_assert_uint_eq(crisk_events_num_accepted(ev), 1);
    crisk_events_free(ev);
    ck_assert_int_eq(crisk_events_options_init(&v1, CRISK_EVENTS_OPTIONS_VERSION + 1),
                     CRISK_E_INVALID_ARGUMENT);
    crisk_device_keys_free(keys);
    crisk_schema_free(s);
}
END_TEST

START_TEST(device_key_file_entries)
{
    static const struct { const char *devices, *words; } bad[] = {
        /* all zero, one byte repeated, a pattern of fewer than 8 byte values */
        {"{\"device_id\": \"K\", \"key\": \"00000000000000000000000000000000\"}",
         "devices[0].key: a placeholder"},
        {"{\"device_id\": \"K\", \"key\": \"4141414141414141414141414141414141414141\"}",
         "placeholder"},
        {"{\"device_id\": \"K\", \"key\": \"01020304050607010203040506070102\"}",
         "placeholder"},
        /* no key and not listed as unsigned; unsigned given anything but true */
        {"{\"device_id\": \"G\"}", "devices[0].key"},
        {"{\"device_id\": \"G\", \"unsigned\": false}", "devices[0].unsigned"},
        {"{\"device_id\": \"G\", \"unsigned\": \"yes\"}", "devices[0].unsigned"},
        /* an unsigned device takes no key, nor "required" */
        {"{\"device_id\": \"G\", \"unsigned\": true, "
         "\"key\": \"30313233343536373839616263646566\"}", "takes no \"key\""},
        {"{\"device_id\": \"G\", \"unsigned\": true, \"required\": false}",
         "takes no \"required\""},
    };
    crisk_error err;
    char doc[512];
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(doc, sizeof doc, "{\"format\": \"crisk-device-keys\", \"version\": 1, "
                 "\"devices\": [%s]}", bad[i].devices);
        char *path = crisk_test_write_temp(doc);
        crisk_device_keys *keys = NULL;
        ck_assert_int_eq(crisk_device_keys_load(path, &keys, &err), CRISK_E_FORMAT);
        ck_assert_ptr_null(keys);
        ck_assert_msg(strstr(err.message, bad[i].words), "%s", err.message);
        unlink(path);
        free(path);
    }
    /* Eight distinct byte values make a key. */
    snprintf(doc, sizeof doc, "{\"format\": \"crisk-device-keys\", \"version\": 1, "
             "\"devices\": [{\"device_id\": \"K\", \"key\": \"%s\"}]}",
             "01020304050607080102030405060708");
    char *path = crisk_test_write_temp(doc);
    crisk_device_keys *keys = NULL;
    ck_assert_msg(crisk_device_keys_load(path, &keys, &err) == 0, "%s", err.message);
    crisk_device_keys_free(keys);
    unlink(path);
    free(path);
}
END_TEST

/* Returns the events suite. */
static Suite *events_suite(void)
{
    Suite *s = suite_create("events");
    TCase *tc = tcase_create("events");
    tcase_add_test(tc, features_by_hand);
    tcase_add_test(tc, event_keys_are_canonical);
    tcase_add_test(tc, every_reject_reason);
    tcase_add_test(tc, hmac_covers_every_member);
    tcase_add_test(tc, timestamps);
    tcase_add_test(tc, limits_and_files);
    tcase_add_test(tc, schema_round_trip_and_refusals);
    tcase_add_test(tc, profiles_on_event_features);
    tcase_add_test(tc, hostile_lines);
    tcase_add_test(tc, unsigned_events_cannot_displace_signed_ones);
    tcase_add_test(tc, future_bound);
    tcase_add_test(tc, device_key_file_entries);
    suite_add_tcase(s, tc);
    return s;
}

/* Runs the events suite. */
int main(void)
{
    return crisk_check_run(events_suite());
}
