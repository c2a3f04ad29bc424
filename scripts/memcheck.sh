#!/usr/bin/env bash
# Runs the `crisk` command under valgrind memcheck: predict and inspect on the example
# model (also pinned, and refused under a wrong pin), and the audit commands on a
# scratch log. Any invalid access, use of uninitialised memory or leak fails the run.
# Uses build/ (set up with the defaults if it does not exist yet).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d build ] || meson setup build >/dev/null
ninja -C build crisk >/dev/null
crisk=build/crisk
model=models/example/fraud_xgb.json
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# Cases for the model: its feature names, then a few rows (one with missing values).
cases=$scratch/cases.csv
python3 - "$model" >"$cases" <<'PY'
import json, sys
names = json.load(open(sys.argv[1]))["learner"]["feature_names"]
print(",".join(names))
for i in range(20):
    print(",".join("" if (i + j) % 7 == 0 else str(i * 0.5 + j) for j in range(len(names))))
PY
vg=(valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect,possible
    --show-leak-kinds=definite,indirect,possible --track-origins=yes)

# Runs `crisk ARGS` under memcheck; the command's own exit status must be `expect`.
run() {
  local expect=$1; shift
  local rc=0
  "${vg[@]}" "$crisk" "$@" >"$scratch/out" 2>"$scratch/err" <"${stdin:-/dev/null}" || rc=$?
  if [ "$rc" -ne "$expect" ]; then
    echo "memcheck: crisk $* exited $rc (expected $expect)" >&2
    cat "$scratch/err" >&2
    exit 1
  fi
  echo "ok: crisk $*"
}

digest=$(sha256sum "$model" | cut -d' ' -f1)
run 0 inspect --model "$model"
run 0 predict --model "$model" --input "$cases"
run 0 predict --model "$model" --input "$cases" --margin --threads 2 --batch-rows 7 \
  --sha256 "$digest"
run 1 predict --model "$model" --input "$cases" --sha256 "${digest//?/0}"
run 1 inspect --model "$cases"
run 0 audit keygen --private "$scratch/k.pem" --public "$scratch/k.pub"
printf 'decision 1\ndecision 2\ndecision 3\n' >"$scratch/in"
stdin=$scratch/in run 0 audit append "$scratch/log" --key "$scratch/k.pem"
cp "$scratch/out" "$scratch/cp1"
stdin=$scratch/in run 0 audit append "$scratch/log" --key "$scratch/k.pem"
cp "$scratch/out" "$scratch/cp2"
run 0 audit verify "$scratch/log" --pubkey "$scratch/k.pub" --checkpoint "$scratch/cp1"
run 0 audit prove "$scratch/log" --index 4
cp "$scratch/out" "$scratch/proof"
run 0 audit check-proof "$scratch/proof" --checkpoint "$scratch/cp2" --pubkey "$scratch/k.pub"
run 1 audit check-proof "$scratch/proof" --checkpoint "$scratch/cp1" --pubkey "$scratch/k.pub"
run 0 audit consistency "$scratch/cp1" "$scratch/cp2" --log "$scratch/log"
cp "$scratch/out" "$scratch/cons"
run 0 audit check-consistency "$scratch/cons" --old "$scratch/cp1" --new "$scratch/cp2" \
  --pubkey "$scratch/k.pub"
# A torn last record, cut off by the next append.
truncate -s -20 "$scratch/log"
stdin=$scratch/in run 0 audit append "$scratch/log" --key "$scratch/k.pem"
echo "memcheck: all clean"
