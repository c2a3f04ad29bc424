/*
 * check_run.h — the one way every Check suite runs: all cases, the environment's
 * CK_* settings (fork mode, verbosity, timeouts), exit status from the failures.
 */
#ifndef CRISK_CHECK_RUN_H
#define CRISK_CHECK_RUN_H

#include <check.h>

/* Runs suite `s` (taking ownership) and returns EXIT_SUCCESS if every test passed,
 * else EXIT_FAILURE: what a suite's main() returns. */
int crisk_check_run(Suite *s);

#endif /* CRISK_CHECK_RUN_H */
