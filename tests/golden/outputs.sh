#!/usr/bin/env bash
# Golden outputs: what hcpsim prints today for fixed inputs, compared byte for byte.
# They guard refactoring: a change that moves code must leave every byte alone. A
# commit that changes numbers or formats on purpose regenerates them
# (tests/golden/outputs.sh --update BIN SRC) and says why in its message.
#
#   run/<scenario>.json      hcpsim --reproducible --format json scenarios/<scenario>.json
#   run/builtin-study.json   hcpsim --reproducible --format json          (the built-in study)
#   run/builtin-study.txt    hcpsim --reproducible                        (its text report)
#   run/seed-a-hcp.txt       hcpsim --reproducible scenarios/seed-a-hcp.json
#   sweep/seed-a-hcp.json    hcpsim sweep scenarios/seed-a-hcp.json --reproducible --format json
#   sweep/seed-a-hcp.txt     the same sweep's ranked table
#   check/h200-v6.txt        hcpsim check calibrate/results/h200-v6-measurements.json (stdout)
#   check/h200-v6.err        its warnings (stderr)
#   check/h200-v12-torch.txt hcpsim check on the v12 cuDNN/FlashAttention measurements, --method knots
#                            (calibrate/RESULTS.md, eighth run: the committed check table)
#   check/h200-v12-torch.err its warnings (stderr)
#
# Usage: outputs.sh [--update] HCPSIM_BINARY SOURCE_DIR [GROUP]   (GROUP: run, sweep or check; default all)
set -u
UPDATE=0
if [ "${1:-}" = "--update" ]; then UPDATE=1; shift; fi
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; SRC="$(cd "$2" && pwd)"; GROUP="${3:-all}"
GOLDEN="$SRC/tests/golden"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
cd "$SRC"  # paths in the outputs are as a user in the source folder types them
failures=0

# compare NAME FILE: FILE (just produced) against $GOLDEN/NAME.
compare() {
  local name="$1" got="$2"
  if [ "$UPDATE" -eq 1 ]; then
    mkdir -p "$(dirname "$GOLDEN/$name")"; cp "$got" "$GOLDEN/$name"; echo "updated $name"; return
  fi
  if [ ! -f "$GOLDEN/$name" ]; then
    echo "FAIL: $name: no golden file (run tests/golden/outputs.sh --update BIN SRC on purpose)"; failures=$((failures + 1)); return
  fi
  if cmp -s "$GOLDEN/$name" "$got"; then echo "same: $name"; return; fi
  echo "FAIL: $name differs from the golden output (first 40 lines of the diff; - golden, + now):"
  diff -u "$GOLDEN/$name" "$got" | head -40
  failures=$((failures + 1))
}

# run_to FILE CMD...: stdout to FILE; a non-zero exit is a failure of its own.
run_to() {
  local out="$1"; shift
  "$@" >"$out" 2>"$TMP/stderr" || { echo "FAIL: exit $? from: $*"; cat "$TMP/stderr"; failures=$((failures + 1)); }
}

if [ "$GROUP" = all ] || [ "$GROUP" = run ]; then
  for f in scenarios/*.json; do
    s="$(basename "$f" .json)"
    run_to "$TMP/$s.json" "$BIN" --reproducible --format json "$f" && compare "run/$s.json" "$TMP/$s.json"
  done
  run_to "$TMP/study.json" "$BIN" --reproducible --format json && compare run/builtin-study.json "$TMP/study.json"
  run_to "$TMP/study.txt" "$BIN" --reproducible && compare run/builtin-study.txt "$TMP/study.txt"
  run_to "$TMP/seed-a.txt" "$BIN" --reproducible scenarios/seed-a-hcp.json && compare run/seed-a-hcp.txt "$TMP/seed-a.txt"
fi
if [ "$GROUP" = all ] || [ "$GROUP" = sweep ]; then
  run_to "$TMP/sweep.json" "$BIN" sweep scenarios/seed-a-hcp.json --reproducible --format json --state "$TMP/state" -j 2 &&
    compare sweep/seed-a-hcp.json "$TMP/sweep.json"
  run_to "$TMP/sweep.txt" "$BIN" sweep scenarios/seed-a-hcp.json --reproducible --state "$TMP/state" --resume -j 2 &&
    compare sweep/seed-a-hcp.txt "$TMP/sweep.txt"
fi
if [ "$GROUP" = all ] || [ "$GROUP" = check ]; then
  "$BIN" check calibrate/results/h200-v6-measurements.json >"$TMP/check.txt" 2>"$TMP/check.err" ||
    { echo "FAIL: check exit $?"; failures=$((failures + 1)); }
  compare check/h200-v6.txt "$TMP/check.txt"
  compare check/h200-v6.err "$TMP/check.err"
  "$BIN" check calibrate/results/h200-v12-torch-measurements.json calibrate/results/h200-v12-torch-131072.json \
    calibrate/results/h200-v12-torch-cp.json --method knots >"$TMP/check-torch.txt" 2>"$TMP/check-torch.err" ||
    { echo "FAIL: check (v12 torch) exit $?"; failures=$((failures + 1)); }
  compare check/h200-v12-torch.txt "$TMP/check-torch.txt"
  # Under AddressSanitizer the simulator's children (SimGrid's context switching) print three lines
  # of the sanitizer's own per process: not hcpsim's output.
  grep -v -E '^==[0-9]+==WARNING: ASan is ignoring requested __asan_handle_no_return|^False positive error reports may follow$|^For details see https://github.com/google/sanitizers/issues/189$' \
    "$TMP/check-torch.err" >"$TMP/check-torch.own.err"
  compare check/h200-v12-torch.err "$TMP/check-torch.own.err"
fi
[ "$failures" -eq 0 ] || { echo "golden outputs: $failures failure(s)"; exit 1; }
echo "golden outputs ($GROUP): ok"
