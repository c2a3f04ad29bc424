/*
 * check_run.c — running a Check suite the same way in every test executable.
 */
#include "check_run.h"

#include <stdlib.h>

int crisk_check_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
