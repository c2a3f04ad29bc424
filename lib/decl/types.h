/*
 * decl/types.h — the inside of a crisk_schema and a crisk_batch: the structs every file of
 * decl/ reads, and the inline accessors of a batch's values. Internal to the library.
 */
#ifndef CRISK_DECL_TYPES_H
#define CRISK_DECL_TYPES_H

#include "crisk.h"
#include "common/jsonfile.h"
#include "common/jsonpull.h"
#include "common/strmap.h"

#include <cjson/cJSON.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>

#define CRISK__SCHEMA_MAX_ITEMS 4096   /* fields, features, bands */
#define CRISK__SCHEMA_MAX_KEY_PARTS 8  /* fields in one composite key */
#define CRISK__SCHEMA_MAX_FIELD_BYTES 65535
#define CRISK__SCHEMA_MAX_FOLDS 1000
#define CRISK__SCHEMA_MAX_FILE_BYTES ((size_t)2 << 30)
#define CRISK__SCHEMA_MAX_CATEGORIES ((size_t)1 << 24) /* codes must be exact in a float */

typedef struct crisk__schema_field {
    char *name;
    crisk_field_type type;
    int required, personal;
    double lo, hi;  /* number and date fields: the valid range (decl/field_range.c) */
} crisk__schema_field;

/* One part of a composite key: a field's whole text, or an HS code's first digits. */
typedef struct crisk__key_part {
    uint32_t field;
    uint32_t digits;  /* 0: the whole value */
} crisk__key_part;

/* A distinct composite key that risk features or bands group rows by. */
typedef struct crisk__key_set {
    crisk__key_part parts[CRISK__SCHEMA_MAX_KEY_PARTS];
    uint32_t nparts;
} crisk__key_set;

typedef enum crisk__feature_op {
    CRISK__OP_NUMBER = 1, CRISK__OP_LOG1P, CRISK__OP_RATIO, CRISK__OP_DATE_PART, CRISK__OP_HS_PREFIX, CRISK__OP_CATEGORY,
    CRISK__OP_RISK_RATE, CRISK__OP_RISK_COUNT,
    /* Border sensor events joined by key within a window (decl/event_features.c). */
    CRISK__OP_EVENT_COUNT, CRISK__OP_EVENT_FLAG, CRISK__OP_EVENT_HOURS_SINCE, CRISK__OP_EVENT_MAX
} crisk__feature_op;

typedef enum crisk__date_part {
    CRISK__PART_YEAR = 1, CRISK__PART_MONTH, CRISK__PART_DAY, CRISK__PART_WEEKDAY, CRISK__PART_DAYOFYEAR
} crisk__date_part;

typedef struct crisk__schema_feature {
    char *name;
    crisk__feature_op op;
    uint32_t field, den;   /* the field (ratio: numerator) and the ratio's denominator */
    uint32_t arg;          /* date_part: the part; hs_prefix: digits; category: 1 when
                              unknown values get code n ("code"), 0 for NaN ("missing") */
    uint32_t set;          /* risk_rate / risk_count: index in schema->sets */
    uint32_t dict;         /* category: index in the fitted dictionaries */
    double smoothing;      /* risk_rate: m, or NaN to take the fit's default */
    uint32_t event;        /* event ops: the event type (decl/event_types.c numbering); field is
                              the declaration's key field */
    uint32_t key_type;     /* event ops: the kind of key (crisk__event_key_type) */
    double window_days;    /* event ops: the window before the declaration's date */
} crisk__schema_feature;

typedef struct crisk__schema_band {
    char *name;
    uint32_t feature;      /* a table-free feature */
    uint32_t set;
    double low_q, high_q;
    uint32_t min_count;
} crisk__schema_band;

/* A key's rows and positive rows, side by side so that a lookup reads one cache line. */
typedef struct crisk__risk_stat {
    uint32_t count, pos;
} crisk__risk_stat;

/* Per-key label statistics of one key set. With folds, `fold` holds each fold's share
 * (key-major: [key * folds + fold]) so that a row's out-of-fold statistic is the total
 * minus its own fold's. */
typedef struct crisk__risk_table {
    crisk__strmap keys;
    crisk__risk_stat *stat;
    crisk__risk_stat *fold;
} crisk__risk_table;

/* One band's bounds per key (keys of its set with at least min_count values). */
typedef struct crisk__band_table {
    crisk__strmap keys;
    double *low, *high;
} crisk__band_table;

/* Everything fitting produces: dictionaries, tables, bands and the global counts. */
typedef struct crisk__fitted_state {
    int present;
    double smoothing;               /* default m for risk_rate features without one */
    uint64_t rows, positives;       /* prior = positives / rows */
    unsigned folds;                 /* > 0 only inside crisk_schema_training_matrix */
    uint64_t *fold_rows, *fold_positives;
    crisk__strmap *dicts;            /* one per category feature */
    crisk__risk_table *tables;             /* one per key set */
    crisk__band_table *bands;              /* one per band */
} crisk__fitted_state;

struct crisk_schema {
    crisk__schema_field *fields;
    size_t nfields;
    crisk__schema_feature *features;
    size_t nfeatures;
    crisk__key_set *sets;
    size_t nsets;
    crisk__schema_band *bands;
    size_t nbands;
    size_t ndicts;
    long id_field, date_field;
    size_t max_field_bytes;
    char **event_types;    /* custom event types ("event_types"), after the built-in ones */
    size_t nevent_types;
    crisk__fitted_state fit;
};

/* A text value of a row: `len` bytes at `off` in its column's arena, or missing. */
typedef struct crisk__text_span {
    uint32_t off, len;
} crisk__text_span;
#define CRISK__TEXT_MISSING UINT32_MAX

typedef struct crisk__batch_column {
    crisk__text_span *text;   /* STRING and HS_CODE fields */
    double *num;       /* NUMBER and DATE fields */
    char *arena;
    size_t arena_len, arena_cap;
} crisk__batch_column;

struct crisk_batch {
    const crisk_schema *schema;
    size_t nfields;     /* the schema's, kept so that freeing never reads the schema */
    size_t rows, cap;
    crisk__batch_column *cols;
    uint64_t *lines;
    const crisk_events *events; /* joined sensor events (crisk_batch_set_events), or NULL */
    locale_t c_locale;  /* for strtod on numbers the fast path cannot convert exactly */
};

/* The inline forms of crisk_batch_text and crisk_batch_number (crisk/schema.h), for the
 * per-row loops; the exported functions call these. */
static inline const char *crisk__batch_text_at(const crisk_batch *b, size_t row,
                                               size_t field, size_t *len)
{
    const crisk__batch_column *c = &b->cols[field];
    if (!c->text || c->text[row].len == CRISK__TEXT_MISSING) {
        *len = 0;
        return NULL;
    }
    *len = c->text[row].len;
    return c->arena + c->text[row].off;
}

static inline double crisk__batch_number_at(const crisk_batch *b, size_t row, size_t field)
{
    return b->cols[field].num ? b->cols[field].num[row] : (double)NAN;
}

/* Returns 1 when feature `f` is computed from joined sensor events, else 0. */
static inline int crisk__feature_is_event(const crisk__schema_feature *f)
{
    return f->op >= CRISK__OP_EVENT_COUNT && f->op <= CRISK__OP_EVENT_MAX;
}

#endif /* CRISK_DECL_TYPES_H */
