#!/usr/bin/env bash
# The built-in kernel defaults (src/cost/defaults/h200-{cudnn,flash,memory-bound}.json and
# h100-{hcpsim,memory-bound}.json) are what
# calibrate/make-defaults.sh (calibrate/make_defaults.py on the committed measurements it names)
# makes with this hcpsim's fit: the numbers
# every H100/H200 prediction uses can be traced to a committed measurement and one command
# (docs/cost-model.md, "Built-in defaults"), with their check on held-out kernels. Numbers are compared to a relative 1e-9 (a least-squares
# fit's last bits may differ between compilers and CPUs), everything else exactly.
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; SRC="$2"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
cd "$SRC" || exit 1  # the files record the measurements' paths as typed in the source folder
calibrate/make-defaults.sh "$BIN" "$TMP" >/dev/null || { echo "FAIL: calibrate/make-defaults.sh exit $?"; exit 1; }
cat >"$TMP/compare.py" <<'PY'
import json, sys

def diff(a, b, path):
    """The first place where a and b differ: numbers beyond a relative 1e-9, anything else at all."""
    if isinstance(a, dict) and isinstance(b, dict):
        if sorted(a) != sorted(b):
            return f"{path}: keys {sorted(set(a) ^ set(b))}"
        return next((d for k in sorted(a) if (d := diff(a[k], b[k], f"{path}.{k}"))), None)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} against {len(b)} entries"
        return next((d for i, (x, y) in enumerate(zip(a, b)) if (d := diff(x, y, f"{path}[{i}]"))), None)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        # held_out_check is summed from `hcpsim check`'s printed table (2 decimals): a last-bit
        # difference in the fit can move one printed digit, so it is compared to 1e-3.
        tol = 1e-3 if ".held_out_check." in path else 1e-9
        return None if abs(a - b) <= tol * max(abs(a), abs(b)) else f"{path}: {a} against {b}"
    return None if a == b else f"{path}: {a!r} against {b!r}"

bad = 0
for f in ("h200-cudnn.json", "h200-flash.json", "h200-memory-bound.json", "h100-hcpsim.json", "h100-memory-bound.json"):
    made = json.load(open(f"{sys.argv[1]}/{f}"))
    committed = json.load(open(f"src/cost/defaults/{f}"))
    d = diff(committed, made, f)
    if d:
        print(f"FAIL: src/cost/defaults/{f} is not what make_defaults.py makes of the committed measurements: {d}")
        bad = 1
sys.exit(bad)
PY
if ! python3 "$TMP/compare.py" "$TMP"; then
  echo "regenerate them: calibrate/make-defaults.sh build/hcpsim src/cost/defaults"
  exit 1
fi
echo "the built-in defaults are current"
