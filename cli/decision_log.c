/*
 * decision_log.c — the decisions of `crisk score --audit` read back from the decision log
 * (docs/security.md, the leaf), for `crisk evaluate --decisions LOG`: one leaf at a time,
 * with the digest of the bundle that decided it and its id, in clear or as a keyed hash.
 */
#include "cli.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Returns member `name` of object `o` as text, or NULL. */
static const char *text_of(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Returns the score `name` of a leaf's "scores" object; NaN when it is null, -1 when it
 * is absent or not a number (a multi-class array). */
static double score_of(const cJSON *leaf, const char *name)
{
    const cJSON *scores = cJSON_GetObjectItemCaseSensitive(leaf, "scores");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(scores, name);
    if (!v)
        return -1;
    if (cJSON_IsNull(v))
        return NAN;
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Fills `d` from the leaf `leaf` (entry `index`). Returns 0, or 1 after reporting. */
static int leaf_decision(const char *path, uint64_t index, const cJSON *leaf,
                         const char *score, const char *model, cli_log_decision *d)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(leaf, "propensity");
    d->id = text_of(leaf, "id");
    d->hashed = d->id == NULL;
    if (d->hashed)
        d->id = text_of(leaf, "id_hmac");
    d->bundle = text_of(leaf, "bundle");
    d->lane = text_of(leaf, "lane");
    d->reason = text_of(leaf, "reason");
    d->propensity = cJSON_IsNumber(p) ? p->valuedouble : NAN;
    d->score = score_of(leaf, score);
    d->model = model ? score_of(leaf, model) : NAN;
    const char *bad = !d->id || !d->bundle || !d->lane || !d->reason ? "no id, bundle, lane "
                                                                      "or reason"
                      : !cJSON_IsNumber(p) ? "no propensity (a version 1 leaf?)"
                      : !(d->propensity >= 0 && d->propensity <= 1) ? "a bad propensity"
                      : d->score == -1 || (model && !(d->model >= 0 && d->model <= 1))
                          ? "no such score (--score, --outcome-model), or not one number"
                          : NULL;
    if (!bad)
        return 0;
    fprintf(stderr, "crisk: %s: entry %llu: %s\n", path, (unsigned long long)index, bad);
    return 1;
}

int cli_log_read(const char *path, const char *score, const char *model, cli_log_fn each,
                 void *ctx)
{
    crisk_audit_log *log = NULL;
    crisk_error err;
    int rc = crisk_audit_open_read(path, NULL, &log, &err);
    if (rc == CRISK_E_FORMAT)
        return CLI_LOG_NOT_A_LOG;
    if (rc) {
        cli_report(path, err.message);
        return 1;
    }
    if (!score) { /* leaves keep their scores in byte order, not the manifest's */
        crisk_audit_close(log);
        cli_report(path, "a decision log names its scores by model: give --score MODEL");
        return 1;
    }
    unsigned char *data = malloc(CRISK_AUDIT_MAX_ENTRY);
    rc = data ? 0 : 1;
    if (!data)
        cli_report(path, "out of memory");
    for (uint64_t i = 0; rc == 0 && i < crisk_audit_size(log); i++) {
        size_t len = 0;
        if (crisk_audit_read_entry(log, i, data, CRISK_AUDIT_MAX_ENTRY, &len, &err) != 0) {
            cli_report(path, err.message);
            rc = 1;
            break;
        }
        cJSON *leaf = cJSON_ParseWithLength((const char *)data, len);
        cli_log_decision d;
        rc = leaf_decision(path, i, leaf, score, model, &d);
        if (rc == 0)
            rc = each(ctx, i, &d);
        cJSON_Delete(leaf);
    }
    free(data);
    crisk_audit_close(log);
    return rc;
}
