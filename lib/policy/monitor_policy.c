/*
 * policy/monitor_policy.c — the lane policy's "monitor" thresholds, parsed apart from the
 * lanes (lanes.c) since only drift monitoring reads them.
 */
#include "policy/monitor_policy.h"

#include "common/error.h"
#include "common/jsonfile.h"

#include <math.h>

int crisk__policy_monitor_parse(const cJSON *root, double *warn, double *alert,
                                crisk_error *err)
{
    static const char *const keys[] = {"warn", "alert", NULL};
    *warn = *alert = NAN;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "monitor");
    if (!m)
        return 0;
    if (!cJSON_IsObject(m))
        return crisk__fail(err, CRISK_E_FORMAT, "monitor: expected an object, not %s",
                           crisk__json_type_name(m));
    int rc = crisk__json_check_keys(m, keys, "monitor", err);
    if (rc)
        return rc;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(m, "warn");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, "alert");
    if (!cJSON_IsNumber(w) || !cJSON_IsNumber(a))
        return crisk__fail(err, CRISK_E_FORMAT, "monitor: expected numbers \"warn\" and "
                           "\"alert\"");
    if (!(w->valuedouble > 0) || !(w->valuedouble <= a->valuedouble) ||
        !isfinite(a->valuedouble))
        return crisk__fail(err, CRISK_E_FORMAT, "monitor: expected 0 < warn (%g) <= alert "
                           "(%g), both finite", w->valuedouble, a->valuedouble);
    *warn = w->valuedouble;
    *alert = a->valuedouble;
    return 0;
}
