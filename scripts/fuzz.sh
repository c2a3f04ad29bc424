#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer in build-fuzz/, and runs each for FUZZ_SECONDS (default 60)
# from its corpus, tests/fuzz/corpus/<target> (seeds and regression inputs). New corpus
# entries go to build-fuzz/corpus/<target>, not into the repository. Any crash, leak,
# timeout, out-of-memory or UB report fails the run; the input that caused it is left in
# build-fuzz/findings/<target>/ (copy it to tests/fuzz/corpus/<target>/ as a regression
# input once the bug is fixed).
#
#   FUZZ_SECONDS=60 FUZZ_TARGETS="fuzz_csv fuzz_lightgbm" FUZZ_JOBS=1 scripts/fuzz.sh
#
# Needs clang and libclang-rt-14-dev (libFuzzer). Prints per target: executions, corpus
# size, findings.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-"fuzz_xgboost_json fuzz_ubjson fuzz_logistic fuzz_lightgbm fuzz_csv
  fuzz_model_any fuzz_audit fuzz_schema fuzz_events fuzz_device_keys fuzz_bundle fuzz_profiles
  fuzz_policy fuzz_lane_state fuzz_declarations"}
reconfigure=()
[ -d build-fuzz ] && reconfigure=(--reconfigure)
# libxgboost (legacy binary models) is not instrumented and not crisk's code: left out.
CC=clang meson setup "${reconfigure[@]}" build-fuzz -Dfuzz=enabled -Dxgboost=disabled \
  -Dpython=disabled -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbuildtype=debugoptimized -Dc_args=-fno-sanitize-recover=all >/dev/null
ninja -C build-fuzz $(for t in $targets; do echo "tests/fuzz/$t-fuzzer"; done) >/dev/null
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
printf '%-20s %12s %8s %s\n' target executions corpus result
for t in $targets; do
  corpus=build-fuzz/corpus/$t findings=build-fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  log=build-fuzz/$t.log
  rc=0
  "build-fuzz/tests/fuzz/$t-fuzzer" "$corpus" "tests/fuzz/corpus/$t" \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  size=$(find "$corpus" -type f | wc -l)
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc; see $log and $findings/)"
    status=1
  fi
  printf '%-20s %12s %8s %s\n' "$t" "${execs:-?}" "$size" "$result"
done
exit $status
