#!/usr/bin/env bash
# Builds the library and the concurrency suites with ThreadSanitizer (gcc) in
# build-tsan/ and runs them: tests/c/test_threads (one model scored from many threads at
# once, and crisk_predict's own threads) and tests/c/test_pool (calls served by a
# crisk_pool, one pool shared by many callers). Any data race report fails the run.
# The suites need libxgboost (they train their models with it); without it there is
# nothing to run and the script says so.
set -euo pipefail
cd "$(dirname "$0")/.."
suites=(test_threads test_pool)
reconfigure=()
[ -d build-tsan ] && reconfigure=(--reconfigure)
CC=gcc meson setup "${reconfigure[@]}" build-tsan -Db_sanitize=thread -Db_lundef=false \
  -Dbuildtype=debugoptimized -Dpython=disabled -Dwerror=true >/dev/null
# The target list is read whole first: `ninja ... | grep -q` under pipefail fails at
# random when grep exits on its match and ninja dies of SIGPIPE mid-list.
all_targets=$(ninja -C build-tsan -t targets all)
targets=()
for s in "${suites[@]}"; do
  if grep -q "^tests/c/$s:" <<<"$all_targets"; then
    targets+=("tests/c/$s")
  fi
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "tsan.sh: no concurrency suite in this build (libxgboost missing?)" >&2
  exit 1
fi
ninja -C build-tsan "${targets[@]}"
# halt_on_error: the first race fails the suite; libxgboost (used only to train the
# test models) is not instrumented, so its OpenMP pool is kept to one thread.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4"
export OMP_NUM_THREADS=1
export CRISK_SOURCE_DIR=$PWD
export CK_DEFAULT_TIMEOUT=600
for t in "${targets[@]}"; do
  echo "== $t (ThreadSanitizer)"
  "build-tsan/$t"
done
