#!/usr/bin/env bash
# Builds the library and the C test suites with AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan/, and runs every C suite there.
# Any sanitizer report fails the run (halt_on_error, and UBSan made fatal).
set -euo pipefail
cd "$(dirname "$0")/.."
reconfigure=()
[ -d build-asan ] && reconfigure=(--reconfigure)
meson setup "${reconfigure[@]}" build-asan -Db_sanitize=address,undefined -Db_lundef=false \
  -Dbuildtype=debugoptimized -Dwerror=true -Dc_args=-fno-sanitize-recover=all >/dev/null
ninja -C build-asan
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# Check forks each test: sanitizer reports in a child fail that test.
meson test -C build-asan --suite c --print-errorlogs --timeout-multiplier 4
