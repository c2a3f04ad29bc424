/*
 * decl/plain_features.c — the table-free features (number, log1p, ratio, date_part,
 * hs_prefix): the one definition of their values, for scoring, fitting and bands.
 */
#include "common/date.h"
#include "decl/plain_features.h"
#include "decl/types.h"

#include <math.h>

/* Returns 1 when feature `f` needs fitted state (category and risk ops), else 0. */
int crisk__feature_needs_fit(const crisk__schema_feature *f)
{
    return f->op == CRISK__OP_CATEGORY || f->op == CRISK__OP_RISK_RATE || f->op == CRISK__OP_RISK_COUNT;
}

/* Returns the value of table-free feature `f` for row `row` (NaN when missing): the one
 * definition of number, log1p, ratio, date_part and hs_prefix, also used for bands.
 * `cache` (NULL: none) keeps the last decomposed date between the features of a row. */
float crisk__feature_plain(const crisk_batch *b, const crisk__schema_feature *f, size_t row,
                           crisk__civil_date *cache)
{
    double x = crisk__batch_number_at(b, row, f->field);
    switch (f->op) {
    case CRISK__OP_NUMBER:
        return (float)x;
    case CRISK__OP_LOG1P:
        return x > -1.0 ? (float)log1p(x) : NAN;
    case CRISK__OP_RATIO: {
        double den = crisk__batch_number_at(b, row, f->den);
        return !isnan(x) && den > 0 ? (float)(x / den) : NAN;
    }
    case CRISK__OP_DATE_PART: {
        if (isnan(x))
            return NAN;
        long days = (long)x;
        if (f->arg == CRISK__PART_WEEKDAY) /* 1970-01-01 was a Thursday (3 with Monday = 0) */
            return (float)(((days + 3) % 7 + 7) % 7);
        crisk__civil_date local, *c = cache ? cache : &local;
        if (!cache || !c->valid || c->days != days) {
            crisk__civil_from_days(days, &c->year, &c->month, &c->day, &c->yday);
            c->days = days;
            c->valid = 1;
        }
        switch ((crisk__date_part)f->arg) {
        case CRISK__PART_YEAR:
            return (float)c->year;
        case CRISK__PART_MONTH:
            return (float)c->month;
        case CRISK__PART_DAY:
            return (float)c->day;
        case CRISK__PART_DAYOFYEAR:
            return (float)c->yday;
        default:
            return NAN;
        }
    }
    case CRISK__OP_HS_PREFIX: {
        size_t len;
        const char *t = crisk__batch_text_at(b, row, f->field, &len);
        if (!t || len < f->arg)
            return NAN;
        double v = 0;
        for (uint32_t k = 0; k < f->arg; k++)
            v = v * 10 + (t[k] - '0');
        return (float)v;
    }
    default:
        return NAN;
    }
}
