/*
 * crisk/schema.h — declarations: schemas, batches of declarations, fitted tables and
 * features. Part of the public API; include <crisk.h>.
 */
#ifndef INCLUDE_crisk_schema_h
#define INCLUDE_crisk_schema_h

#include "crisk/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A declaration schema (docs/schema.md): the fields of a declaration, the features built
 * from them in a fixed order, and the fitted state those features need (category
 * dictionaries, risk-indicator tables, unit-value bands). The same code builds features
 * for training (crisk_schema_training_matrix) and for scoring (crisk_schema_features):
 * there is no second implementation to drift. Immutable once loaded or fitted: any
 * number of threads may build features with one schema at once. */
typedef struct crisk_schema crisk_schema;

/* A batch of declarations in columnar form, validated against a schema as rows are added.
 * Owned and filled by one thread at a time; reading it (features, scoring) may happen
 * from several threads once it is filled. */
typedef struct crisk_batch crisk_batch;

/* Loads a schema from a JSON file (docs/schema.md). A schema whose file holds no fitted
 * tables can build only the features that need none until crisk_schema_fit() fills them.
 * Returns 0, or CRISK_E_IO / CRISK_E_FORMAT / CRISK_E_LIMIT / CRISK_E_NOMEM with the JSON
 * path named. Thread-safe. */
CRISK_API int crisk_schema_load(const char *path, crisk_schema **out, crisk_error *err);

/* Frees a schema. NULL is a no-op. */
CRISK_API void crisk_schema_free(crisk_schema *schema);

/* Returns the number of declaration fields, and the name of field `i` (NULL when out of
 * range). Field order is the schema file's. Thread-safe. */
CRISK_API size_t crisk_schema_num_fields(const crisk_schema *schema);
CRISK_API const char *crisk_schema_field_name(const crisk_schema *schema, size_t i);

/* Returns 1 when field `i` is marked "personal" in the schema (data about a person:
 * importer, declarant, seller ids), else 0. Thread-safe. */
CRISK_API int crisk_schema_field_personal(const crisk_schema *schema, size_t i);

/* Returns the index of the field called `name`, or -1. Thread-safe. */
CRISK_API long crisk_schema_field_index(const crisk_schema *schema, const char *name);

/* Returns the number of features the schema builds, and the name of feature `i` (NULL
 * when out of range). Thread-safe. */
CRISK_API size_t crisk_schema_num_features(const crisk_schema *schema);
CRISK_API const char *crisk_schema_feature_name(const crisk_schema *schema, size_t i);

/* Returns the index of the feature called `name`, or -1. Thread-safe. */
CRISK_API long crisk_schema_feature_index(const crisk_schema *schema, const char *name);

/* Creates an empty batch for declarations of `schema`, which must outlive every use of
 * the batch but its freeing: crisk_batch_free() never reads the schema, so a batch may be
 * freed after its schema (garbage-collected bindings free in any order). */
CRISK_API int crisk_batch_new(const crisk_schema *schema, crisk_batch **out, crisk_error *err);

/* Frees a batch, even one whose schema was freed already. NULL is a no-op. */
CRISK_API void crisk_batch_free(crisk_batch *batch);

/* Empties a batch, keeping its memory for the next rows. */
CRISK_API void crisk_batch_clear(crisk_batch *batch);

/* Returns the number of declarations in the batch. */
CRISK_API size_t crisk_batch_size(const crisk_batch *batch);

/* Appends one declaration given as text, one value per schema field in field order
 * (`values[i]` of `lengths[i]` bytes; a NULL value, or an empty one, is missing).
 * `source_line` is where the row came from (a line number; 0 if none) and is kept for
 * messages. Numbers take the grammar of crisk_number_parse (crisk/reader.h); dates are
 * ISO 8601 (YYYY-MM-DD, or YYYYMMDD); string values (identifiers and codes) are stored in
 * their canonical form (full-width ASCII mapped to ASCII, ASCII white space trimmed,
 * letters upper-cased; blank is missing; any other non-ASCII or control character
 * refused: docs/schema.md); HS codes take that form, then keep their digits only (dots
 * and spaces removed) and must have 2 to 12 digits. No value may be longer than the
 * schema's max_field_bytes.
 * On a bad value the declaration is NOT added and CRISK_E_INPUT is returned, with `err`
 * naming the field, the value and the reason: the caller reports the row as rejected.
 * A missing required field is rejected the same way. */
CRISK_API int crisk_batch_append_text(crisk_batch *batch, const char *const *values,
                                      const size_t *lengths, uint64_t source_line,
                                      crisk_error *err);

/* Appends rows [first, first + count) of `src` to `batch`, both made for the same schema:
 * their values as `src` stored them (already validated) and their source lines, in order.
 * `src` is unchanged and may be `batch` itself. Events joined to `batch` stay joined, and
 * the appended rows find none of theirs, as for rows appended as text
 * (crisk_batch_set_events: join the events loaded for the whole batch). Returns 0, or
 * CRISK_E_INVALID_ARGUMENT (NULL, another schema, rows beyond `src`'s), CRISK_E_NOMEM or
 * CRISK_E_LIMIT (more than 4 GiB of text in one column), with `batch` then unchanged.
 * One thread at a time per `batch`; `src` may be read by other threads meanwhile, unless
 * it is `batch`. */
CRISK_API int crisk_batch_append_rows(crisk_batch *batch, const crisk_batch *src,
                                      size_t first, size_t count, crisk_error *err);

/* Returns the source line recorded for row `row` (0 when out of range). */
CRISK_API uint64_t crisk_batch_source_line(const crisk_batch *batch, size_t row);

/* How a schema's tables are fitted from labelled declarations. Initialise with
 * crisk_fit_options_init(); more fields may follow in later versions (see "Options
 * structs" in crisk.h). */
#define CRISK_FIT_OPTIONS_VERSION 1
typedef struct crisk_fit_options {
    unsigned int version;  /* CRISK_FIT_OPTIONS_VERSION: the layout; set by _init() */
    unsigned folds;       /* out-of-fold folds for training features; default 5 */
    uint64_t seed;        /* fold assignment (a hash of the row index and seed); default 1 */
    double   smoothing;   /* default m of the smoothed rate (sum + m * prior) / (count + m),
                             when the schema gives none; default 20 */
} crisk_fit_options;

/* Fills `opts` with the defaults above for `version`, which must be
 * CRISK_FIT_OPTIONS_VERSION (the layout this header declares), and writes no field that
 * version lacks. Returns 0, or CRISK_E_INVALID_ARGUMENT (NULL, or a version this crisk does
 * not know). Thread-safe. */
CRISK_API int crisk_fit_options_init(crisk_fit_options *opts, unsigned int version);

/* Fits `schema`'s category dictionaries, risk-indicator tables and unit-value bands from
 * the declarations in `batch` and their labels (`labels[i]` is 0 or 1 for row i, in
 * the batch's order; `nlabels` must equal the batch size). Replaces any fitted state.
 * Not thread-safe with respect to `schema`: no other thread may use it meanwhile. */
CRISK_API int crisk_schema_fit(crisk_schema *schema, const crisk_batch *batch,
                               const float *labels, size_t nlabels,
                               const crisk_fit_options *opts, crisk_error *err);

/* Writes the training matrix of `batch` to `out` (batch size x crisk_schema_num_features
 * floats, row-major, NaN for missing): every feature as crisk_schema_features() builds
 * it, except that the risk-indicator features of each row come from tables fitted on the
 * other folds only, so a row's own label never leaks into its features. Uses the same
 * labels and options as crisk_schema_fit(). Thread-safe. */
CRISK_API int crisk_schema_training_matrix(const crisk_schema *schema,
                                           const crisk_batch *batch, const float *labels,
                                           size_t nlabels, const crisk_fit_options *opts,
                                           float *out, crisk_error *err);

/* Writes the features of `batch` for scoring to `out` (batch size x
 * crisk_schema_num_features floats, row-major, NaN for missing), from the fitted state.
 * Fails with CRISK_E_INVALID_ARGUMENT naming a feature that needs tables the schema does
 * not have yet. Thread-safe. */
CRISK_API int crisk_schema_features(const crisk_schema *schema, const crisk_batch *batch,
                                    float *out, crisk_error *err);

/* Writes the schema with its fitted state to `path` as JSON (a file that
 * crisk_schema_load() reads back to the same features, bit for bit). Thread-safe. */
CRISK_API int crisk_schema_save(const crisk_schema *schema, const char *path,
                                crisk_error *err);

/* The type of a declaration field (docs/schema.md). */
typedef enum crisk_field_type {
    CRISK_FIELD_STRING = 1,  /* text: ids, country codes, names */
    CRISK_FIELD_NUMBER,      /* a double */
    CRISK_FIELD_DATE,        /* a calendar date, held as days since 1970-01-01 */
    CRISK_FIELD_HS_CODE      /* digits only, 2 to 12 of them */
} crisk_field_type;

/* Returns the type of field `field` of `schema` (`field` < crisk_schema_num_fields).
 * Thread-safe. */
CRISK_API crisk_field_type crisk_schema_field_type(const crisk_schema *schema, size_t field);

/* Returns the index of the field the schema names as the declaration id, or -1.
 * Thread-safe. */
CRISK_API long crisk_schema_id_field(const crisk_schema *schema);

/* Returns the schema the batch was made for. Thread-safe. */
CRISK_API const crisk_schema *crisk_batch_schema(const crisk_batch *batch);

/* Returns the text of a STRING or HS_CODE field `field` of row `row` (< crisk_batch_size)
 * and stores its length in `*len`, or returns NULL when the value is missing. The text is
 * not NUL-terminated and stays valid until the batch is cleared or freed. Thread-safe on a
 * filled batch. */
CRISK_API const char *crisk_batch_text(const crisk_batch *batch, size_t row, size_t field,
                                       size_t *len);

/* Returns a NUMBER field's value, or a DATE field's days since 1970-01-01, of row `row`
 * (< crisk_batch_size); NaN when the value is missing. Thread-safe on a filled batch. */
CRISK_API double crisk_batch_number(const crisk_batch *batch, size_t row, size_t field);

#ifdef __cplusplus
}
#endif

#endif /* INCLUDE_crisk_schema_h */
