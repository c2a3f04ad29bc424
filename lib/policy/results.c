/*
 * policy/results.c — reading the decisions of a scored batch: scores, lanes, reasons and
 * profile hits. Every accessor checks its indices.
 */
#include "policy/bundle_impl.h"

#include <math.h>
#include <stdlib.h>

void crisk_results_free(crisk_results *res)
{
    if (!res)
        return;
    /* The scores, decisions and hit offsets share the struct's block (bundle.c). */
    if (!res->hits_room)
        free(res->hits);
    free(res->num_reasons);
    free(res->reason_field);
    free(res->reason_contrib);
    free(res->reason_value);
    free(res->reason_text);
    free(res->explain_bias);
    free(res->explain_rest);
    free(res);
}

size_t crisk_results_size(const crisk_results *res)
{
    return res ? res->size : 0;
}

float crisk_results_score_k(const crisk_results *res, size_t row, size_t model, size_t k)
{
    if (!res || row >= res->size || model >= res->bundle->num_models)
        return NAN;
    size_t no = res->bundle->models[model].num_outputs;
    return k < no ? res->scores[model][row * no + k] : NAN;
}

float crisk_results_score(const crisk_results *res, size_t row, size_t model)
{
    return crisk_results_score_k(res, row, model, 0);
}

size_t crisk_results_lane(const crisk_results *res, size_t row)
{
    /* Out of range: the number of lanes, which names no lane. */
    if (!res || row >= res->size)
        return res ? crisk__policy_num_lanes(res->bundle->policy) : 0;
    return res->decisions[row].lane;
}

crisk_reason_kind crisk_results_reason(const crisk_results *res, size_t row, char *buf,
                                       size_t size)
{
    if (!res || row >= res->size) {
        if (buf && size)
            buf[0] = '\0';
        return (crisk_reason_kind)0;
    }
    const crisk_bundle *b = res->bundle;
    const crisk__decision *d = &res->decisions[row];
    float score = b->score_model >= 0 ? crisk_results_score(res, row, (size_t)b->score_model)
                                      : NAN;
    int profile = d->kind == CRISK_REASON_PROFILE;
    crisk__lanes_reason(b->policy, d, score,
                        profile ? crisk__profiles_rule_id(b->profiles, d->ref) : NULL,
                        profile ? crisk__profiles_rule_description(b->profiles, d->ref) : NULL,
                        buf, size);
    return (crisk_reason_kind)d->kind;
}

double crisk_results_propensity(const crisk_results *res, size_t row)
{
    return res && row < res->size ? res->decisions[row].propensity : NAN;
}

size_t crisk_results_num_hits(const crisk_results *res, size_t row)
{
    if (!res || row >= res->size)
        return 0;
    return res->hit_start[row + 1] - res->hit_start[row];
}

/* Returns the rule index of hit `k` of `row`, or -1 when either is out of range. */
static long hit_rule(const crisk_results *res, size_t row, size_t k)
{
    if (k >= crisk_results_num_hits(res, row))
        return -1;
    return (long)res->hits[res->hit_start[row] + k];
}

const char *crisk_results_hit_id(const crisk_results *res, size_t row, size_t k)
{
    long r = hit_rule(res, row, k);
    return r < 0 ? NULL : crisk__profiles_rule_id(res->bundle->profiles, (size_t)r);
}

const char *crisk_results_hit_description(const crisk_results *res, size_t row, size_t k)
{
    long r = hit_rule(res, row, k);
    return r < 0 ? NULL : crisk__profiles_rule_description(res->bundle->profiles, (size_t)r);
}

size_t crisk_results_num_reasons(const crisk_results *res, size_t row)
{
    if (!res || row >= res->size || !res->num_reasons)
        return 0;
    return res->num_reasons[row];
}

/* Returns the slot of reason `k` of `row` in the per-row reason arrays, or -1 when
 * either is out of range (or the batch was scored without reasons). */
static long reason_slot(const crisk_results *res, size_t row, size_t k)
{
    if (k >= crisk_results_num_reasons(res, row))
        return -1;
    return (long)(row * res->reason_slots + k);
}

const char *crisk_results_reason_field(const crisk_results *res, size_t row, size_t k)
{
    long at = reason_slot(res, row, k);
    return at < 0 ? NULL : crisk_schema_field_name(res->bundle->schema, res->reason_field[at]);
}

const char *crisk_results_reason_value(const crisk_results *res, size_t row, size_t k)
{
    long at = reason_slot(res, row, k);
    return at < 0 ? NULL : res->reason_text + res->reason_value[at];
}

float crisk_results_reason_contribution(const crisk_results *res, size_t row, size_t k)
{
    long at = reason_slot(res, row, k);
    return at < 0 ? NAN : res->reason_contrib[at];
}

float crisk_results_explain_bias(const crisk_results *res, size_t row)
{
    return res && row < res->size && res->explain_bias ? res->explain_bias[row] : NAN;
}

float crisk_results_explain_rest(const crisk_results *res, size_t row)
{
    return res && row < res->size && res->explain_rest ? res->explain_rest[row] : NAN;
}
