/*
 * test_profiles.c — risk-profile rule files: every condition kind, all/any/not nesting and
 * its depth limit, active date ranges, hits in file order, and refusals of invalid files
 * naming the rule and the reason. Rules run against a small in-test table of declarations
 * through the crisk__row_view interface, so the expected hits are worked out by hand here.
 */
#include "common/date.h"
#include "policy/profiles.h"

#include "check_run.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The declaration layout the rules may name: fields, features and one band. */
enum { F_ID, F_DATE, F_HS, F_ORIGIN, F_IMPORTER, F_VALUE, NUM_FIELDS };
static const char *const field_names[NUM_FIELDS] = {
    "declaration_id", "declaration_date", "hs_code", "origin", "importer_id",
    "declared_value"};
static const crisk_field_type field_types[NUM_FIELDS] = {
    CRISK_FIELD_STRING, CRISK_FIELD_DATE, CRISK_FIELD_HS_CODE, CRISK_FIELD_STRING,
    CRISK_FIELD_STRING, CRISK_FIELD_NUMBER};
static const char *const feature_names[] = {"unit_value", "log_value"};
static const char *const lanes[] = {"red", "yellow", "blue", "green"};

/* One test declaration: text fields (NULL: missing), numbers (NaN: missing), features,
 * and its position against the band. */
typedef struct decl {
    const char *text[NUM_FIELDS];
    double number[NUM_FIELDS];
    float features[2];
    int band;
} decl;

/* Returns the index of `name` in `names` (n of them), or -1. */
static long find(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return (long)i;
    return -1;
}

/* The name lookups of crisk__profile_names over the tables above. */
static long field_index(const void *ctx, const char *name)
{
    (void)ctx;
    return find(field_names, NUM_FIELDS, name);
}

static crisk_field_type field_type(const void *ctx, size_t field)
{
    (void)ctx;
    return field_types[field];
}

static long feature_index(const void *ctx, const char *name)
{
    (void)ctx;
    return find(feature_names, 2, name);
}

static long band_index(const void *ctx, const char *name)
{
    (void)ctx;
    return strcmp(name, "unit_value_band") == 0 ? 0 : -1;
}

/* The row accessors of crisk__row_view over an array of decl. */
static const char *row_text(const void *ctx, size_t row, size_t field, size_t *len)
{
    const char *t = ((const decl *)ctx)[row].text[field];
    if (t)
        *len = strlen(t);
    return t;
}

static double row_number(const void *ctx, size_t row, size_t field)
{
    return ((const decl *)ctx)[row].number[field];
}

static int row_band(const void *ctx, size_t band, size_t row, const float *features)
{
    (void)band;
    (void)features;
    return ((const decl *)ctx)[row].band;
}

static const crisk__profile_names names = {NULL, field_index, field_type, feature_index,
                                          band_index, lanes, 4};

/* Parses rule-file text; returns the code and leaves the rule set in `*out`. */
static int parse_text(const char *text, crisk__profiles **out, crisk_error *err)
{
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    int rc = crisk__profiles_parse(root, &names, out, err);
    cJSON_Delete(root);
    return rc;
}

/* Returns the days since 1970-01-01 of an ISO date, checked. */
static int64_t day(const char *iso)
{
    int64_t d;
    ck_assert_int_eq(crisk__parse_iso_date(iso, strlen(iso), &d), 0);
    return d;
}

/* A declaration with every field present. */
static decl make_decl(const char *id, const char *date, const char *hs, const char *origin,
                      const char *importer, double value, float unit_value, int band)
{
    decl d = {{id, NULL, hs, origin, importer, NULL},
              {NAN, (double)day(date), NAN, NAN, NAN, value},
              {unit_value, log1pf((float)value)},
              band};
    return d;
}

/* Returns the rule ids `rules` hits on declaration `d` at `today`, joined by ','. */
static const char *hits_of(const crisk__profiles *p, const decl *d, int64_t today)
{
    static char buf[256];
    uint32_t hits[64];
    crisk__row_view v = {d, 0, d->features, row_text, row_number, row_band};
    size_t n = crisk__profiles_eval(p, &v, today, hits);
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strcat(buf, i ? "," : "");
        strcat(buf, crisk__profiles_rule_id(p, hits[i]));
    }
    return buf;
}

START_TEST(test_iso_dates)
{
    ck_assert_int_eq(day("1970-01-01"), 0);
    ck_assert_int_eq(day("1970-01-02"), 1);
    ck_assert_int_eq(day("2000-03-01") - day("2000-02-28"), 2); /* 2000 is leap */
    ck_assert_int_eq(day("1969-12-31"), -1);
    ck_assert_int_eq(day("2024-12-31") - day("2024-01-01"), 365);
    int64_t d;
    const char *bad[] = {"2023-02-29", "2024-13-01", "2024-00-10", "2024-04-31", "24-01-01",
                         "2024/01/01", "2024-1-01", "20240101"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_int_eq(crisk__parse_iso_date(bad[i], strlen(bad[i]), &d), -1);
    ck_assert_int_eq(crisk__parse_iso_date("1900-02-29", 10, &d), -1);
}
END_TEST

/* The example file of tests/corpus/profiles, on declarations that each hit a known set. */
START_TEST(test_example_file)
{
    char path[1024];
    const char *src = getenv("CRISK_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/corpus/profiles/example.json", src ? src : ".");
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    crisk__profiles *p = NULL;
    crisk_error err;
    ck_assert_msg(parse_text(text, &p, &err) == 0, "%s", err.message);
    ck_assert_uint_eq(crisk__profiles_count(p), 5);
    ck_assert_str_eq(crisk__profiles_rule_description(p, 2),
                     "unit value below the HS6 x origin band");
    ck_assert_uint_eq(crisk__profiles_rule_lane(p, 0), 0);
    ck_assert_uint_eq(crisk__profiles_rule_lane(p, 3), 2);
    ck_assert_int_eq(crisk__profiles_rule_mandatory(p, 1), 1);
    ck_assert_int_eq(crisk__profiles_rule_mandatory(p, 2), 0);

    int64_t today = day("2025-03-10");
    decl plain = make_decl("D1", "2025-03-10", "850440", "XD", "IMP-0001", 500, 10, 0);
    ck_assert_str_eq(hits_of(p, &plain, today), "");
    decl watched = make_decl("D2", "2025-03-10", "850440", "XD", "IMP-0777", 500, 10, 0);
    ck_assert_str_eq(hits_of(p, &watched, today), "P-001");
    decl almost = make_decl("D3", "2025-03-10", "851712", "XD", "IMP-0001", 500, 10, 0);
    ck_assert_str_eq(hits_of(p, &almost, today), ""); /* right HS, wrong origin */
    decl phones = make_decl("D4", "2025-03-10", "851712", "XB", "IMP-0001", 500, 10, 0);
    ck_assert_str_eq(hits_of(p, &phones, today), "P-002");
    decl shirts = make_decl("D5", "2025-03-10", "610910", "XA", "IMP-0042", 500, 10, -1);
    ck_assert_str_eq(hits_of(p, &shirts, today), "P-001,P-002,P-003");
    /* P-002 is active from 2024-01-01 to 2027-12-31, both days included. */
    ck_assert_str_eq(hits_of(p, &shirts, day("2023-12-31")), "P-001,P-003");
    ck_assert_str_eq(hits_of(p, &shirts, day("2024-01-01")), "P-001,P-002,P-003");
    ck_assert_str_eq(hits_of(p, &shirts, day("2027-12-31")), "P-001,P-002,P-003");
    ck_assert_str_eq(hits_of(p, &shirts, day("2028-01-01")), "P-001,P-003");
    /* Above the band is not below it. */
    decl dear = make_decl("D6", "2025-03-10", "850440", "XD", "IMP-0001", 500, 10, 1);
    ck_assert_str_eq(hits_of(p, &dear, today), "");
    /* P-004: high value, and not in the summer (the date range includes both ends). */
    decl big = make_decl("D7", "2025-05-31", "850440", "XD", "IMP-0001", 100000, 10, 0);
    ck_assert_str_eq(hits_of(p, &big, today), "P-004");
    big = make_decl("D7", "2025-06-01", "850440", "XD", "IMP-0001", 100000, 10, 0);
    ck_assert_str_eq(hits_of(p, &big, today), "");
    big = make_decl("D7", "2025-09-01", "850440", "XD", "IMP-0001", 99999.5, 10, 0);
    ck_assert_str_eq(hits_of(p, &big, today), "");
    /* P-005: any of a feature range (open below, 0.5 included) or an origin. */
    decl cheap = make_decl("D8", "2025-03-10", "850440", "XD", "IMP-0001", 500, 0.5f, 0);
    ck_assert_str_eq(hits_of(p, &cheap, today), "P-005");
    cheap.features[0] = 0.51f;
    ck_assert_str_eq(hits_of(p, &cheap, today), "");
    cheap.text[F_ORIGIN] = "XC";
    ck_assert_str_eq(hits_of(p, &cheap, today), "P-005");
    crisk__profiles_free(p);
}
END_TEST

/* A rule file with one rule on `condition`, mandatory, in lane red. */
static const char *one_rule(const char *condition)
{
    static char text[8192];
    snprintf(text, sizeof text,
             "{\"format\": \"crisk-profiles\", \"version\": 1, \"watchlists\": "
             "{\"w\": [\"A\", \"B\"]}, \"rules\": [{\"id\": \"R\", \"description\": \"d\", "
             "\"lane\": \"red\", \"when\": %s}]}",
             condition);
    return text;
}

/* Returns whether the one-rule file on `condition` hits `d`. */
static int holds(const char *condition, const decl *d)
{
    crisk__profiles *p = NULL;
    crisk_error err;
    ck_assert_msg(parse_text(one_rule(condition), &p, &err) == 0, "%s: %s", condition,
                  err.message);
    int hit = strcmp(hits_of(p, d, 0), "R") == 0;
    crisk__profiles_free(p);
    return hit;
}

/* Issue 15, defect 4: watch-list entries and rule values take the canonical form of
 * declarations, so a trailing space, another case or full-width letters in the profile
 * file match the declaration's id (a declaration's id arrives canonical: batch.c); an
 * entry with an invisible character is refused, naming where. */
START_TEST(test_watchlists_are_canonical)
{
    static const char text[] =
        "{\"format\": \"crisk-profiles\", \"version\": 1, \"watchlists\": "
        "{\"w\": [\" imp-0042\\t\", \"\\uff29\\uff2d\\uff30-7\"]}, \"rules\": ["
        "{\"id\": \"R\", \"description\": \"d\", \"lane\": \"red\", "
        "\"when\": {\"field\": \"importer_id\", \"watchlist\": \"w\"}}, "
        "{\"id\": \"S\", \"description\": \"d\", \"lane\": \"red\", "
        "\"when\": {\"field\": \"origin\", \"in\": [\"xa \"]}}]}";
    crisk__profiles *p = NULL;
    crisk_error err;
    ck_assert_msg(parse_text(text, &p, &err) == 0, "%s", err.message);
    decl a = make_decl("D1", "2025-03-10", "851712", "XA", "IMP-0042", 250, 3, 0);
    decl b = make_decl("D2", "2025-03-10", "851712", "XB", "IMP-7", 250, 3, 0);
    ck_assert_str_eq(hits_of(p, &a, 0), "R,S");
    ck_assert_str_eq(hits_of(p, &b, 0), "R");
    crisk__profiles_free(p);
    static const char zwsp[] =
        "{\"format\": \"crisk-profiles\", \"version\": 1, \"watchlists\": "
        "{\"w\": [\"A\", \"IMP\\u200b0042\"]}, \"rules\": []}";
    ck_assert_int_eq(parse_text(zwsp, &p, &err), CRISK_E_FORMAT);
    ck_assert_msg(strstr(err.message, "watchlists.w") && strstr(err.message, "[1]")
                  && strstr(err.message, "U+200B"), "%s", err.message);
}
END_TEST

/* Each leaf kind on a present value, on a missing one, and under "not". */
START_TEST(test_leaves_and_missing)
{
    decl d = make_decl("D1", "2025-03-10", "851712", "XA", "A", 250, 3, 0);
    decl none = {{NULL, NULL, NULL, NULL, NULL, NULL}, {NAN, NAN, NAN, NAN, NAN, NAN},
                 {NAN, NAN}, 2};
    struct {
        const char *cond;
        int on_d;
    } cases[] = {
        {"{\"field\": \"origin\", \"equals\": \"XA\"}", 1},
        {"{\"field\": \"origin\", \"equals\": \"xa\"}", 1}, /* one canonical form */
        {"{\"field\": \"origin\", \"equals\": \"XB\"}", 0},
        {"{\"field\": \"origin\", \"in\": [\"XB\", \"XA\"]}", 1},
        {"{\"field\": \"origin\", \"in\": [\"XB\", \"XC\"]}", 0},
        {"{\"field\": \"declared_value\", \"equals\": 250}", 1},
        {"{\"field\": \"declared_value\", \"in\": [1, 250.5]}", 0},
        {"{\"field\": \"declaration_date\", \"equals\": \"2025-03-10\"}", 1},
        {"{\"field\": \"declaration_date\", \"in\": [\"2025-03-11\"]}", 0},
        {"{\"field\": \"hs_code\", \"equals\": \"8517.12\"}", 1},
        {"{\"field\": \"hs_code\", \"hs_prefix\": [\"85\"]}", 1},
        {"{\"field\": \"hs_code\", \"hs_prefix\": [\"8518\", \"9\"]}", 0},
        {"{\"field\": \"hs_code\", \"hs_prefix\": [\"8517120\"]}", 0}, /* longer than code */
        {"{\"field\": \"declared_value\", \"range\": [250, 250]}", 1},
        {"{\"field\": \"declared_value\", \"range\": [null, 249.9]}", 0},
        {"{\"field\": \"declared_value\", \"range\": [null, null]}", 1},
        {"{\"field\": \"declaration_date\", \"range\": [\"2025-03-10\", null]}", 1},
        {"{\"field\": \"declaration_date\", \"range\": [null, \"2025-03-09\"]}", 0},
        {"{\"feature\": \"log_value\", \"range\": [5, 6]}", 1}, /* log1p(250) = 5.525 */
        {"{\"feature\": \"unit_value\", \"range\": [3.5, null]}", 0},
        {"{\"field\": \"importer_id\", \"watchlist\": \"w\"}", 1},
        {"{\"field\": \"origin\", \"watchlist\": \"w\"}", 0},
        {"{\"band\": \"unit_value_band\", \"outside\": \"either\"}", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ck_assert_msg(holds(cases[i].cond, &d) == cases[i].on_d, "%s", cases[i].cond);
        /* A missing value satisfies no leaf, so "not" of any leaf holds. */
        ck_assert_msg(!holds(cases[i].cond, &none), "%s on missing", cases[i].cond);
        char neg[512];
        snprintf(neg, sizeof neg, "{\"not\": %s}", cases[i].cond);
        ck_assert_msg(holds(neg, &none), "%s on missing", neg);
        ck_assert_msg(holds(neg, &d) == !cases[i].on_d, "%s", neg);
    }
    const char *band[3] = {"{\"band\": \"unit_value_band\", \"outside\": \"below\"}",
                           "{\"band\": \"unit_value_band\", \"outside\": \"above\"}",
                           "{\"band\": \"unit_value_band\", \"outside\": \"either\"}"};
    int expect[4][3] = {{1, 0, 1}, {0, 0, 0}, {0, 1, 1}, {0, 0, 0}}; /* pos -1, 0, 1, 2 */
    for (int pos = -1; pos <= 2; pos++)
        for (int k = 0; k < 3; k++) {
            d.band = pos;
            ck_assert_msg(holds(band[k], &d) == expect[pos + 1][k], "%s at %d", band[k], pos);
        }
}
END_TEST

/* all/any/not against every combination of three leaves, and nesting to the depth limit
 * (and one past it, refused). */
START_TEST(test_logic_and_depth)
{
    const char *a = "{\"field\": \"origin\", \"equals\": \"XA\"}";
    const char *b = "{\"field\": \"declared_value\", \"range\": [100, null]}";
    const char *c = "{\"field\": \"hs_code\", \"hs_prefix\": [\"61\"]}";
    char cond[1024];
    snprintf(cond, sizeof cond, "{\"any\": [{\"all\": [%s, {\"not\": %s}]}, {\"all\": [%s]}, "
             "{\"not\": {\"any\": [%s, %s, %s]}}]}", a, b, c, a, b, c);
    for (int mask = 0; mask < 8; mask++) {
        int va = mask & 1, vb = (mask >> 1) & 1, vc = (mask >> 2) & 1;
        decl d = make_decl("D", "2025-01-01", vc ? "610910" : "850440", va ? "XA" : "XB",
                           "I", vb ? 500 : 50, 1, 0);
        int expect = (va && !vb) || vc || !(va || vb || vc);
        ck_assert_msg(holds(cond, &d) == expect, "mask %d", mask);
    }
    /* Depth: k nested "not" around a leaf, then "all" wrappers. */
    static char deep[8192];
    decl d = make_decl("D", "2025-01-01", "850440", "XA", "I", 50, 1, 0);
    for (int depth = 31; depth <= 33; depth++) {
        deep[0] = '\0';
        for (int i = 0; i < depth; i++)
            strcat(deep, i % 2 ? "{\"not\": " : "{\"all\": [");
        strcat(deep, a);
        for (int i = depth - 1; i >= 0; i--)
            strcat(deep, i % 2 ? "}" : "]}");
        crisk__profiles *p = NULL;
        crisk_error err;
        int rc = parse_text(one_rule(deep), &p, &err);
        if (depth <= CRISK__PROFILE_MAX_DEPTH) {
            ck_assert_msg(rc == 0, "depth %d: %s", depth, err.message);
            int nots = depth / 2;
            ck_assert_str_eq(hits_of(p, &d, 0), nots % 2 ? "" : "R");
        } else {
            ck_assert_int_eq(rc, CRISK_E_LIMIT);
            ck_assert_ptr_nonnull(strstr(err.message, "rules[0] (R)"));
            ck_assert_ptr_nonnull(strstr(err.message, "deeper than 32"));
        }
        crisk__profiles_free(p);
    }
}
END_TEST

/* Invalid files: each is refused with CRISK_E_FORMAT and a message holding the rule's
 * label and the reason. */
START_TEST(test_refusals)
{
    const char *ok_rule = "{\"id\": \"A\", \"description\": \"d\", \"lane\": \"red\", "
                          "\"when\": {\"field\": \"origin\", \"equals\": \"XA\"}}";
    struct {
        const char *rule;       /* the second rule of the file */
        const char *message;    /* expected in the error */
    } cases[] = {
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"nope\", \"equals\": \"x\"}}", "rules[1] (B): when: unknown field \"nope\""},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": {\"all\": ["
         "{\"field\": \"origin\", \"equals\": \"x\"}, {\"feature\": \"nope\", \"range\": [1, 2]}]}}",
         "rules[1] (B): when.all[1]: unknown feature \"nope\""},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": {\"any\": ["
         "{\"not\": {\"field\": \"importer_id\", \"watchlist\": \"zz\"}}]}}",
         "rules[1] (B): when.any[0].not: unknown watch list \"zz\""},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"band\": \"zz\", \"outside\": \"below\"}}", "unknown band \"zz\""},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"band\": \"unit_value_band\", \"outside\": \"under\"}}", "\"outside\" must be"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"purple\", \"when\": "
         "{\"field\": \"origin\", \"equals\": \"x\"}}", "rules[1] (B): unknown lane \"purple\""},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"origin\", \"equals\": 3}}", "equals: expected a string"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"declared_value\", \"equals\": \"3\"}}", "equals: expected a finite number"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"origin\", \"range\": [1, 2]}}", "does not apply to string field"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"origin\", \"hs_prefix\": [\"61\"]}}", "does not apply to string field"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"hs_code\", \"hs_prefix\": [\"6a\"]}}", "is not an HS code"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"declared_value\", \"range\": [5, 1]}}", "lo > hi"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"declaration_date\", \"range\": [\"2025-02-30\", null]}}",
         "expected a date"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": {\"any\": []}}",
         "\"any\" must be a non-empty array"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": {\"all\": {}}}",
         "\"all\" must be a non-empty array"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"origin\", \"in\": []}}", "\"in\" must be a non-empty array"},
        {"{\"id\": \"A\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"origin\", \"equals\": \"x\"}}", "rules[1] (A): duplicate rule id"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"active\": "
         "{\"from\": \"2025-13-01\"}, \"when\": {\"field\": \"origin\", \"equals\": \"x\"}}",
         "active.from: expected a date"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"active\": "
         "{\"from\": \"2025-02-01\", \"to\": \"2025-01-31\"}, \"when\": "
         "{\"field\": \"origin\", \"equals\": \"x\"}}", "active.from is after active.to"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\"}", "\"when\""},
        {"{\"id\": \"B\", \"lane\": \"red\", \"when\": {\"field\": \"origin\", \"equals\": "
         "\"x\"}}", "\"description\" must be a string"},
        {"{\"description\": \"d\", \"lane\": \"red\", \"when\": {\"field\": \"origin\", "
         "\"equals\": \"x\"}}", "rules[1]: \"id\" must be a non-empty string"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"severity\": 3, "
         "\"when\": {\"field\": \"origin\", \"equals\": \"x\"}}", "unknown key \"severity\""},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"mandatory\": 1, "
         "\"when\": {\"field\": \"origin\", \"equals\": \"x\"}}", "\"mandatory\" must be"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"field\": \"origin\", \"matches\": \"x\"}}", "unknown operator \"matches\""},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"all\": [{\"field\": \"origin\", \"equals\": \"x\"}], \"any\": []}}",
         "only key"},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"feature\": \"unit_value\", \"equals\": 1}}", "a feature takes only \"range\""},
        {"{\"id\": \"B\", \"description\": \"d\", \"lane\": \"red\", \"when\": "
         "{\"origin\": \"XA\"}}", "a condition needs one of"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char text[4096];
        snprintf(text, sizeof text, "{\"format\": \"crisk-profiles\", \"version\": 1, "
                 "\"rules\": [%s, %s]}", ok_rule, cases[i].rule);
        crisk__profiles *p = (crisk__profiles *)&p;
        crisk_error err;
        ck_assert_int_eq(parse_text(text, &p, &err), CRISK_E_FORMAT);
        ck_assert_ptr_null(p);
        ck_assert_msg(strstr(err.message, cases[i].message), "case %zu: \"%s\" lacks \"%s\"",
                      i, err.message, cases[i].message);
    }
    /* File-level refusals. */
    const char *files[][2] = {
        {"{\"format\": \"crisk-policy\", \"version\": 1, \"rules\": []}", "format"},
        {"{\"format\": \"crisk-profiles\", \"version\": 2, \"rules\": []}", "version"},
        {"{\"format\": \"crisk-profiles\", \"version\": 1}", "rules"},
        {"{\"format\": \"crisk-profiles\", \"version\": 1, \"rules\": [], \"x\": 1}",
         "unknown key \"x\""},
        {"{\"format\": \"crisk-profiles\", \"version\": 1, \"rules\": [], \"watchlists\": "
         "{\"w\": [\"a\", 3]}}", "watchlists.w: ids[1]: expected a string"},
        {"{\"format\": \"crisk-profiles\", \"version\": 1, \"rules\": [], \"watchlists\": "
         "{\"w\": [], \"w\": []}}", "watchlists.w: a watch list named twice"},
    };
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        crisk__profiles *p = NULL;
        crisk_error err;
        ck_assert_int_eq(parse_text(files[i][0], &p, &err), CRISK_E_FORMAT);
        ck_assert_msg(strstr(err.message, files[i][1]), "\"%s\" lacks \"%s\"", err.message,
                      files[i][1]);
    }
}
END_TEST

/* Hostile edits of the example file: every single-byte change from a small alphabet,
 * and every truncation, that still parses as JSON is either accepted or refused with a
 * message; none crashes or leaks (the suite runs under valgrind cleanly). */
START_TEST(test_mutations)
{
    char path[1024];
    const char *src = getenv("CRISK_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/corpus/profiles/example.json", src ? src : ".");
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char text[1 << 16], copy[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char alphabet[] = "{}[]\",:0a-";
    size_t parsed = 0, accepted = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t a = 0; a <= sizeof alphabet - 1; a++) {
            memcpy(copy, text, n + 1);
            if (a == sizeof alphabet - 1)
                copy[i] = '\0'; /* truncation */
            else
                copy[i] = alphabet[a];
            cJSON *root = cJSON_Parse(copy);
            if (!root)
                continue;
            parsed++;
            crisk__profiles *p = NULL;
            crisk_error err = {0, ""};
            int rc = crisk__profiles_parse(root, &names, &p, &err);
            if (rc == 0) {
                accepted++;
                decl d = make_decl("D", "2025-03-10", "610910", "XA", "IMP-0042", 500, 0.1f, -1);
                hits_of(p, &d, 20000);
            } else {
                ck_assert(err.message[0] != '\0');
            }
            crisk__profiles_free(p);
            cJSON_Delete(root);
        }
    ck_assert_uint_gt(parsed, 100);
    ck_assert_uint_gt(accepted, 10);
}
END_TEST

/* Returns the suite. */
static Suite *profiles_suite(void)
{
    Suite *s = suite_create("profiles");
    TCase *tc = tcase_create("profiles");
    tcase_add_test(tc, test_iso_dates);
    tcase_add_test(tc, test_example_file);
    tcase_add_test(tc, test_watchlists_are_canonical);
    tcase_add_test(tc, test_leaves_and_missing);
    tcase_add_test(tc, test_logic_and_depth);
    tcase_add_test(tc, test_refusals);
    tcase_add_test(tc, test_mutations);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return crisk_check_run(profiles_suite());
}
