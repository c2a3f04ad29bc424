/*
 * common/version.c — the version of the library actually linked.
 */
#include "crisk.h"

/* Returns CRISK_VERSION_NUMBER as compiled into the library. */
unsigned crisk_version_number(void)
{
    return CRISK_VERSION_NUMBER;
}

/* Returns CRISK_VERSION_STRING as compiled into the library. */
const char *crisk_version_string(void)
{
    return CRISK_VERSION_STRING;
}
