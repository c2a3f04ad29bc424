/*
 * decl_families.c — the generated declarations of the bundle and reasons suites, and
 * their schemas (decl_families.h).
 */
#include "decl_families.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

/* The schemas' opening and common fields, up to the list's closing bracket. */
#define DECL_SCHEMA_HEAD \
    "{\"format\": \"crisk-schema\", \"version\": 1, \"id_field\": \"declaration_id\"," \
    " \"date_field\": \"declaration_date\"," \
    " \"fields\": [" \
    "  {\"name\": \"declaration_id\", \"type\": \"string\", \"required\": true}," \
    "  {\"name\": \"declaration_date\", \"type\": \"date\"}," \
    "  {\"name\": \"hs_code\", \"type\": \"hs_code\"}," \
    "  {\"name\": \"origin\", \"type\": \"string\"}," \
    "  {\"name\": \"importer_id\", \"type\": \"string\"}," \
    "  {\"name\": \"declared_value\", \"type\": \"number\"}," \
    "  {\"name\": \"net_mass_kg\", \"type\": \"number\"}"

const char *const bundle_schema =
    DECL_SCHEMA_HEAD "],"
    " \"features\": ["
    "  {\"name\": \"log_value\", \"op\": \"log1p\", \"field\": \"declared_value\"},"
    "  {\"name\": \"unit_value\", \"op\": \"ratio\", \"num\": \"declared_value\","
    "   \"den\": \"net_mass_kg\"},"
    "  {\"name\": \"importer_rate\", \"op\": \"risk_rate\", \"keys\": [\"importer_id\"],"
    "   \"smoothing\": 5},"
    "  {\"name\": \"importer_count\", \"op\": \"risk_count\", \"keys\": [\"importer_id\"]}],"
    " \"bands\": [{\"name\": \"unit_value_band\", \"feature\": \"unit_value\","
    "   \"keys\": [{\"field\": \"hs_code\", \"digits\": 6}, \"origin\"],"
    "   \"low_quantile\": 0.1, \"high_quantile\": 0.9, \"min_count\": 5}]}";

const char *const reasons_schema =
    DECL_SCHEMA_HEAD ","
    "  {\"name\": \"note\", \"type\": \"string\"}],"
    " \"features\": ["
    "  {\"name\": \"log_value\", \"op\": \"log1p\", \"field\": \"declared_value\"},"
    "  {\"name\": \"unit_value\", \"op\": \"ratio\", \"num\": \"declared_value\","
    "   \"den\": \"net_mass_kg\"},"
    "  {\"name\": \"month\", \"op\": \"date_part\", \"field\": \"declaration_date\","
    "   \"part\": \"month\"},"
    "  {\"name\": \"hs2\", \"op\": \"hs_prefix\", \"field\": \"hs_code\", \"digits\": 2},"
    "  {\"name\": \"origin_code\", \"op\": \"category\", \"field\": \"origin\","
    "   \"unknown\": \"missing\"},"
    "  {\"name\": \"importer_rate\", \"op\": \"risk_rate\", \"keys\": [\"importer_id\"],"
    "   \"smoothing\": 5},"
    "  {\"name\": \"hs6_origin_rate\", \"op\": \"risk_rate\","
    "   \"keys\": [{\"field\": \"hs_code\", \"digits\": 6}, \"origin\"]},"
    "  {\"name\": \"hs_pair_count\", \"op\": \"risk_count\","
    "   \"keys\": [{\"field\": \"hs_code\", \"digits\": 2}, {\"field\": \"hs_code\","
    "   \"digits\": 6}]}]}";

/* Appends the `n` field texts of `row` to `b` as line `line`. */
static void append(crisk_batch *b, const char *const *row, size_t n, uint64_t line)
{
    size_t lens[REASONS_NFIELDS];
    for (size_t f = 0; f < n; f++)
        lens[f] = strlen(row[f]);
    crisk_error err;
    ck_assert_msg(crisk_batch_append_text(b, row, lens, line, &err) == 0, "%s",
                  err.message);
}

float bundle_decl(crisk_batch *b, const char *tag, int i)
{
    static const char *const origins[] = {"CN", "VN", "DE", "XA"};
    static const char *const hs[] = {"851712", "610910", "940360"};
    char id[16], date[16], importer[16], value[32], mass[32];
    snprintf(id, sizeof id, "%s%d", tag, i);
    snprintf(date, sizeof date, "2025-03-%02d", 1 + i % 28);
    int imp = (i * 7 + (tag[0] == 'S')) % 13; /* scoring rows include IMP-12, never seen */
    snprintf(importer, sizeof importer, "IMP-%d", imp);
    snprintf(value, sizeof value, "%d", 100 + (i * 37) % 900);
    snprintf(mass, sizeof mass, "%d", 1 + (i * 13) % 50);
    const char *row[BUNDLE_NFIELDS] = {id, date, hs[i % 3], origins[(i / 3) % 4], importer,
                                       value, mass};
    append(b, row, BUNDLE_NFIELDS, (uint64_t)i + 1);
    return (imp == 1 || imp == 2 || i % 7 == 0) ? 1.0f : 0.0f;
}

float reasons_decl_text(crisk_batch *b, const char *tag, int i, decl_text *d)
{
    static const char *const origins[] = {"CN", "VN", "DE", "XA", ""};
    static const char *const hs[] = {"851712", "610910", "940360", "610432"};
    decl_text local;
    if (!d)
        d = &local;
    int imp = (i * 7 + (tag[0] == 'S')) % 11;
    snprintf(d->v[F_ID], sizeof d->v[F_ID], "%s%d", tag, i);
    snprintf(d->v[F_DATE], sizeof d->v[F_DATE], "2025-%02d-%02d", 1 + i % 12, 1 + i % 28);
    snprintf(d->v[F_HS], sizeof d->v[F_HS], "%s", hs[i % 4]);
    snprintf(d->v[F_ORIGIN], sizeof d->v[F_ORIGIN], "%s", origins[(i / 3) % 5]);
    snprintf(d->v[F_IMPORTER], sizeof d->v[F_IMPORTER], "IMP-%d", imp);
    snprintf(d->v[F_VALUE], sizeof d->v[F_VALUE], "%d.5", 100 + (i * 37) % 900);
    snprintf(d->v[F_MASS], sizeof d->v[F_MASS], "%d", 1 + (i * 13) % 50);
    snprintf(d->v[F_NOTE], sizeof d->v[F_NOTE], "n%d", i % 3);
    const char *row[REASONS_NFIELDS];
    for (int f = 0; f < REASONS_NFIELDS; f++)
        row[f] = d->v[f];
    append(b, row, REASONS_NFIELDS, (uint64_t)i + 1);
    int origin_risk = strcmp(d->v[F_ORIGIN], "XA") == 0;
    return (imp == 1 || imp == 2 || origin_risk || i % 9 == 0) ? 1.0f : 0.0f;
}

float reasons_decl(crisk_batch *b, const char *tag, int i)
{
    return reasons_decl_text(b, tag, i, NULL);
}

crisk_batch *family_fit(crisk_schema *s, decl_maker make, int n, float *labels)
{
    crisk_batch *b = NULL;
    crisk_error err;
    ck_assert_int_eq(crisk_batch_new(s, &b, &err), 0);
    for (int i = 0; i < n; i++)
        labels[i] = make(b, "T", i);
    crisk_fit_options fo;
    crisk_fit_options_init(&fo);
    ck_assert_msg(crisk_schema_fit(s, b, labels, (size_t)n, &fo, &err) == 0, "%s",
                  err.message);
    return b;
}
