#!/usr/bin/env bash
# The built-in H200 kernel defaults (src/cost/defaults/h200-{cudnn,flash,memory-bound}.json) are what
# calibrate/make_defaults.py makes of the committed measurements with this hcpsim's fit: the numbers
# every H100/H200 prediction uses can be traced to a committed measurement and one command
# (docs/cost-model.md, "Built-in defaults").
BIN="$1"; SRC="$2"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
cd "$SRC" || exit 1  # the files record the measurements' paths as typed in the source folder
python3 calibrate/make_defaults.py --hcpsim "$BIN" --out "$TMP" \
  calibrate/results/h200-v12-torch-measurements.json calibrate/results/h200-v12-torch-131072.json >/dev/null ||
  { echo "FAIL: make_defaults.py exit $?"; exit 1; }
fail=0
for f in h200-cudnn.json h200-flash.json h200-memory-bound.json; do
  if ! cmp -s "$TMP/$f" "src/cost/defaults/$f"; then
    echo "FAIL: src/cost/defaults/$f is not what make_defaults.py makes of the committed measurements:"
    diff "src/cost/defaults/$f" "$TMP/$f" | head -10
    fail=1
  fi
done
[ $fail -eq 0 ] || { echo "regenerate them: python3 calibrate/make_defaults.py --hcpsim build/hcpsim \\"
                     echo "  calibrate/results/h200-v12-torch-measurements.json calibrate/results/h200-v12-torch-131072.json"; exit 1; }
echo "the built-in defaults are current"
