/*
 * decl_families.h — the generated declarations the bundle and reasons suites fit and
 * score, and their schemas. Shared with fixtures/make_fixtures.c, which trained the
 * suites' committed models on the same declarations.
 */
#ifndef CRISK_TESTS_DECL_FAMILIES_H
#define CRISK_TESTS_DECL_FAMILIES_H

#include "crisk.h"

#include <stddef.h>

/* The fields both schemas open with, in this order; the reasons schema adds a note. */
enum { F_ID, F_DATE, F_HS, F_ORIGIN, F_IMPORTER, F_VALUE, F_MASS, F_NOTE };

/* Makes declaration `i` of a family (`tag` "T" for training, "S" for scoring), appends it
 * to `b` and returns its label. */
typedef float (*decl_maker)(crisk_batch *b, const char *tag, int i);

/* The bundle suite's family: seven fields; importers IMP-1 and IMP-2 are risky. */
enum { BUNDLE_NFIELDS = F_NOTE, BUNDLE_NTRAIN = 240, BUNDLE_NSCORE = 90 };
extern const char *const bundle_schema;
float bundle_decl(crisk_batch *b, const char *tag, int i);

/* The reasons suite's family: the seven fields and a note; importers IMP-1, IMP-2 and
 * origin XA are risky; a fifth of the origins are missing. */
enum { REASONS_NFIELDS = F_NOTE + 1, REASONS_NTRAIN = 400, REASONS_NSCORE = 120 };
extern const char *const reasons_schema;

/* The text of one reasons declaration, field by field ("" is missing). */
typedef struct decl_text {
    char v[REASONS_NFIELDS][24];
} decl_text;

/* reasons_decl, keeping the declaration's text in `*d` when `d` is not NULL. */
float reasons_decl_text(crisk_batch *b, const char *tag, int i, decl_text *d);
float reasons_decl(crisk_batch *b, const char *tag, int i);

/* Appends training declarations "T" 0 to n - 1 of `make` to a new batch of `s`, stores
 * their labels in `labels`, and fits `s` with the default options. Returns the batch;
 * fails the current test on an error. */
crisk_batch *family_fit(crisk_schema *s, decl_maker make, int n, float *labels);

#endif /* CRISK_TESTS_DECL_FAMILIES_H */
