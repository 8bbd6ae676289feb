#!/usr/bin/env bash
# hcpsim fit and check on the committed H200 measurements: exit codes, files, messages.
set -u
BIN="$1"; SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
M="$SRC/calibrate/results/h200-measurements.json"

"$BIN" fit "$M" -o "$TMP/cal.json" >"$TMP/fit" || fail "fit exit $?"
grep -q '"format": "hcpsim-calibration/1"' "$TMP/cal.json" || fail "calibration format"
grep -q "attention_bwd_causal" "$TMP/fit" || fail "fit prints each parameter"

"$BIN" check "$M" --calibration "$TMP/cal.json" --kind attention >"$TMP/check" || fail "check exit $?"
grep -q "out-of-sample" "$TMP/check" || fail "check is out-of-sample by default"
grep -q "^# cases .* median |error|" "$TMP/check" || fail "check summary"
grep -q "^# in-sample with" "$TMP/check" || fail "in-sample summary with --calibration"

"$BIN" check "$M" --max-error 0.001 >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 3 ] || fail "check above --max-error: exit $rc"
grep -q "above --max-error" "$TMP/err" || fail "max-error message"

echo '{"format": "hcpsim-measurements/1", "environment": {"gpu_model": "NVIDIA H200"}, "measurements": [{"kind": "attention"}]}' >"$TMP/bad.json"
"$BIN" fit "$TMP/bad.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "bad measurements: exit $rc"
grep -q "^error: measurements\[0\].config: missing (required key)" "$TMP/err" || { cat "$TMP/err"; fail "path in message"; }

"$BIN" check "$M" --in-sample 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "--in-sample without --calibration: exit $rc"
# The built-in study with the fitted calibration says which parameters it took from it.
"$BIN" --calibration "$TMP/cal.json" --reproducible >"$TMP/study" || fail "study with --calibration: exit $?"
grep -q "^costs: .*calibration .*attention_bwd_causal.*defaults for kernel_floor_s" "$TMP/study" || fail "costs line"
"$BIN" --calibration "$TMP/none.json" 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] || fail "missing calibration: exit $rc"
grep -q "^error: --calibration: cannot open" "$TMP/err" || fail "missing calibration message"
echo "calibrate_fit_check: ok"
