#!/usr/bin/env bash
# hcpcal_torch's cp suite times the kernels of calibrate/torch/cp-cases.json, written from hcpsim's
# own workload builder by make_cp_cases.py. The committed file must be what this hcpsim builds, so
# the measured kernels are the ones `hcpsim check` replays (issue 14).
BIN="$1"; SRC="$2"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
python3 "$SRC/calibrate/torch/make_cp_cases.py" "$BIN" "$TMP/cases.json" || { echo "FAIL: make_cp_cases.py exit $?"; exit 1; }
if ! cmp -s "$TMP/cases.json" "$SRC/calibrate/torch/cp-cases.json"; then
  echo "FAIL: calibrate/torch/cp-cases.json is not what this hcpsim builds; regenerate it:"
  echo "  python3 calibrate/torch/make_cp_cases.py build/hcpsim calibrate/torch/cp-cases.json"
  diff <(python3 -m json.tool "$SRC/calibrate/torch/cp-cases.json") <(python3 -m json.tool "$TMP/cases.json") | head -20
  exit 1
fi
echo "cp-cases.json is current"
