/*
 * crisk.h — the public interface of crisk, a customs risk-scoring library: the one header
 * users include. Each area has its header under crisk/, included here.
 *
 * This header is the specification: every function's contract is written above it, and
 * where the code disagrees with this text, the code is wrong.
 *
 * Conventions that hold for every call:
 *   - Names start with `crisk_` (functions, types) or `CRISK_` (macros, constants).
 *   - Functions that can fail return 0 on success and a negative CRISK_E_* code on
 *     failure. When they take a `crisk_error *err`, it is filled with the code and a
 *     message that says what went wrong and where (a JSON path, a line number, a row and
 *     column); `err` may be NULL when the caller does not want the message.
 *   - The caller owns what it passes and allocates the output buffers; the sizes each call
 *     needs are documented beside it. The library never keeps a pointer to caller memory
 *     after a call returns.
 *   - Handles are opaque. Destructors accept NULL.
 *   - The library keeps no global mutable state, never prints, never aborts and never
 *     exits. Each function says how it may be called from several threads.
 *
 * Options structs (crisk_*_options) can grow, as libgit2's do: the first field,
 * `version`, says which layout the caller was compiled with. Fill one with
 *     crisk_predict_options opts;
 *     crisk_predict_options_init(&opts, CRISK_PREDICT_OPTIONS_VERSION);
 * then set the fields wanted. _init() refuses a version it does not know
 * (CRISK_E_INVALID_ARGUMENT) and writes only the fields of the version it is given, and
 * every call taking the struct fails with CRISK_E_INVALID_ARGUMENT, naming the struct,
 * when `version` is not one it knows. NULL options still mean the defaults.
 */
#ifndef CRISK_H
#define CRISK_H

#include "crisk/common.h"
#include "crisk/hex.h"
#include "crisk/model.h"
#include "crisk/pool.h"
#include "crisk/predict.h"
#include "crisk/audit.h"
#include "crisk/explain.h"
#include "crisk/schema.h"
#include "crisk/events.h"
#include "crisk/bundle.h"
#include "crisk/reader.h"
#include "crisk/loop.h"
#include "crisk/monitor.h"

#endif /* CRISK_H */
