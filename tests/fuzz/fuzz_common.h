/*
 * fuzz_common.h — what the libFuzzer targets share: tight load limits, and finishing an
 * imported model the way the loader does (validate, compile) and then scoring it.
 */
#ifndef CRISK_FUZZ_COMMON_H
#define CRISK_FUZZ_COMMON_H

#include "crisk.h"

#include <stddef.h>
#include <stdint.h>

/* The entry point every target defines (libFuzzer's, and the replay driver's). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fills `opts` with load options whose limits keep one input within the fuzzer's memory
 * and time budget (-rss_limit_mb, -timeout). */
void fuzz_load_options(crisk_load_options *opts);

/* Checks that a failure `rc` filled `err` properly (a known negative code, a message);
 * aborts (a finding) otherwise. */
void fuzz_check_failure(int rc, const crisk_error *err);

/* Scores a few rows (zeros, missing values, huge values, small integers) with `model`,
 * transformed and as margins, then frees it. Any crash or sanitizer report is a
 * finding. */
void fuzz_score_and_free(crisk_model *model);

/* Finishes `model` as the loader does after importer result `rc` (validation and the
 * engine), then scores and frees it; checks failures with fuzz_check_failure(). */
void fuzz_finish_import(crisk_model *model, int rc, const crisk_load_options *opts,
                        crisk_error *err);

#endif /* CRISK_FUZZ_COMMON_H */
