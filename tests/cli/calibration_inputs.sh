#!/usr/bin/env bash
# Issue 12, bugs 1 and 3: a scenario whose calibration file is missing is invalid input (exit 2,
# path "calibration") for --validate, a run and a sweep alike; a calibration of another GPU
# model is said on stderr and in the JSON warnings.
# Usage: calibration_inputs.sh HCPSIM_BINARY SOURCE_DIR
set -u
BIN="$1"; SRC="$(cd "$2" && pwd)"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

python3 - "$SRC/scenarios/seed-c-p2p.json" "$TMP/missing.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["calibration"] = "no-such-calibration.json"
json.dump(s, open(sys.argv[2], "w"))
PY
for cmd in "--validate" "" "sweep --tp 1 --cp 16 --comm p2p --state $TMP/st"; do
  # shellcheck disable=SC2086
  "$BIN" $cmd "$TMP/missing.json" >"$TMP/out" 2>"$TMP/err"; rc=$?
  [ $rc -eq 2 ] || { cat "$TMP/err"; fail "'hcpsim $cmd' with a missing calibration: exit $rc, want 2"; }
  grep -q '^error: calibration: cannot open ".*no-such-calibration.json"' "$TMP/err" ||
    { cat "$TMP/err"; fail "'hcpsim $cmd': no error at path calibration"; }
  grep -qi "internal error" "$TMP/err" && fail "'hcpsim $cmd': reported as an internal error"
done

# An H200 calibration applied to a GB200 rack: a warning on stderr and in the JSON.
python3 - "$SRC/scenarios/gb200-nvl72-a2a72.json" "$SRC/calibrate/results/h200-v6-calibration.json" "$TMP/gb200.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); s["calibration"] = sys.argv[2]
json.dump(s, open(sys.argv[3], "w"))
PY
"$BIN" "$TMP/gb200.json" --format json --reproducible -o "$TMP/gb200-out.json" 2>"$TMP/err" || fail "GB200 run: exit $?"
grep -q "^warning: .*calibrated on NVIDIA H200.*B200-in-GB200" "$TMP/err" || { cat "$TMP/err"; fail "no warning on stderr"; }
python3 - "$TMP/gb200-out.json" <<'PY' || fail "no warning in the JSON"
import json, sys
r = json.load(open(sys.argv[1]))
assert any("calibrated on NVIDIA H200" in w for w in r["warnings"]), r["warnings"]
PY
# fit and check of no measurement are input errors (an empty check's max error of 0 % would pass a
# --max-error gate), and so is --gpu naming a preset of another GPU than the files'.
M="$SRC/calibrate/results/h200-v6-measurements.json"
python3 - "$M" "$TMP/empty.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["measurements"] = []
json.dump(d, open(sys.argv[2], "w"))
PY
expect_error() {  # expect_error PATTERN -- command...: exit 2 with PATTERN, no calibration written
  local pattern="$1"; shift 2
  "$@" >/dev/null 2>"$TMP/err"; local rc=$?
  [ $rc -eq 2 ] && grep -q "$pattern" "$TMP/err" || { cat "$TMP/err"; fail "'$*': exit $rc, want 2 with $pattern"; }
  [ ! -e "$TMP/cal.json" ] || fail "'$*' wrote a calibration"
}
expect_error '^error: .*empty.json: measurements: empty' -- "$BIN" fit "$TMP/empty.json" -o "$TMP/cal.json"
expect_error '^error: .*empty.json: measurements: empty' -- "$BIN" check "$TMP/empty.json" --max-error 1
expect_error '^error: --kind: selects none of the' -- "$BIN" check "$M" --kind layer --max-error 1
expect_error '^error: --gpu: preset "dgx-b200" has a B200' -- "$BIN" fit "$M" --gpu dgx-b200 -o "$TMP/cal.json"
expect_error '^error: --gpu: preset "dgx-b200" has a B200' -- "$BIN" check "$M" --kind gemm --gpu dgx-b200
"$BIN" fit "$M" --method curve --knots 5 >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q '^error: --knots: given with --method curve' "$TMP/err" || { cat "$TMP/err"; fail "--knots with curve: exit $rc"; }
expect_error '^error: --knots: given with --method curve .the default.' -- "$BIN" fit "$M" --knots 5
# --in-sample fits nothing, so --method and --knots, which shape a fit, would be ignored there.
expect_error '^error: --method: given with --in-sample' -- \
  "$BIN" check "$M" --kind gemm --in-sample --calibration "$SRC/calibrate/results/h200-v6-calibration.json" --method knots
expect_error '^error: --knots: given with --in-sample' -- \
  "$BIN" check "$M" --kind gemm --in-sample --calibration "$SRC/calibrate/results/h200-v6-calibration.json" --knots 4
# A calibration may hold efficiencies up to 1.5 of a peak: a GEMM-bound step timed at 1.5 of the
# H100's (every GEMM point of the built-in fit set to 1.5; 2 layers of hidden 65536, TP 8) runs
# above the peak, MFU > 100 %, and says so.
python3 - "$SRC/src/cost/defaults/h100-hcpsim.json" "$TMP" <<'PY'
import json, sys
cal = json.load(open(sys.argv[1]))
for point in cal["parameters"]["gemm"]["points"]:
    point[1] = 1.5
json.dump(cal, open(sys.argv[2] + "/gemm15.json", "w"))
json.dump({"name": "gemm-bound", "calibration": "gemm15.json",
           "model": {"preset": "llama3.1-8b", "num_layers": 2, "hidden_size": 65536, "ffn_hidden_size": 262144,
                     "num_attention_heads": 512, "num_query_groups": 64, "vocab_size": 32768},
           "training": {"seq_length": 8192, "micro_batch_size": 1, "global_batch_size": 1},
           "parallel": {"tensor_model_parallel_size": 8}, "cluster": {"preset": "dgx-h100", "num_nodes": 1}},
          open(sys.argv[2] + "/gemm-bound.json", "w"))
PY
"$BIN" "$TMP/gemm-bound.json" >"$TMP/out" 2>&1 || { cat "$TMP/out"; fail "GEMM-bound run: exit $?"; }
grep -q "warning: .*MFU 1[0-9][0-9]\.[0-9]% is above the GPU's dense peak" "$TMP/out" || { cat "$TMP/out"; fail "MFU above 100 % without a word"; }
echo "calibration_inputs: ok"
