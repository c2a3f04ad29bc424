/*
 * decl/event_types.c — the vocabulary of sensor events a schema may name: key kinds,
 * built-in event types and the schema's own, by name and number.
 */
#include "decl/event_types.h"
#include "decl/types.h"

#include <string.h>

const char *const crisk__event_key_names[CRISK__EVENT_KEY_TYPES] = {
    NULL, "container", "transport_document", "conveyance", "declaration"};
const char *const crisk__event_builtin_names[CRISK__EVENT_BUILTIN_TYPES] = {
    "seal.opened", "seal.tampered", "seal.verified", "rfid.read", "gps.position",
    "gps.route_deviation", "xray.result"};

/* Returns the number of event type `name` for `s`, or -1. */
long crisk__event_type_index(const crisk_schema *s, const char *name)
{
    for (long i = 0; i < CRISK__EVENT_BUILTIN_TYPES; i++)
        if (strcmp(crisk__event_builtin_names[i], name) == 0)
            return i;
    for (size_t i = 0; i < s->nevent_types; i++)
        if (strcmp(s->event_types[i], name) == 0)
            return CRISK__EVENT_BUILTIN_TYPES + (long)i;
    return -1;
}

/* Returns the name of event type `type` of `s`. */
const char *crisk__event_type_name(const crisk_schema *s, uint32_t type)
{
    return type < CRISK__EVENT_BUILTIN_TYPES ? crisk__event_builtin_names[type]
                                      : s->event_types[type - CRISK__EVENT_BUILTIN_TYPES];
}

/* Returns 1 when `name` is a well-formed custom event type name, else 0. */
int crisk__event_type_name_valid(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > 64 || name[0] < 'a' || name[0] > 'z')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')
              || name[i] == '.' || name[i] == '_' || name[i] == '-'))
            return 0;
    return 1;
}

/* Returns the number of key kind `name`, or 0. */
unsigned crisk__event_key_type_index(const char *name)
{
    for (unsigned i = 1; i < CRISK__EVENT_KEY_TYPES; i++)
        if (strcmp(crisk__event_key_names[i], name) == 0)
            return i;
    return 0;
}
