#!/usr/bin/env bash
# calibrate/torch/ops_as_kernels.py writes, from a layer-suite run's ops, the records hcpcal_torch's
# kernels suite writes from the same timings: on the H200 run that has both ([v25]), every record
# it makes matches the kernels suite's own of that name in time and bytes, and it makes all 35 of
# them (RMSNorm, RoPE, SwiGLU fwd and bwd and the add, at 5 token counts: 7 x 5).
SRC="$2"; TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
cd "$SRC" || exit 1
python3 calibrate/torch/ops_as_kernels.py calibrate/results/h200-v25-torch-measurements.json -o "$TMP/k.json" || exit 1
python3 - "$TMP/k.json" <<'PY' || exit 1
import json, sys
made = {m["config"]["name"]: m for m in json.load(open(sys.argv[1]))["measurements"]}
suite = {m["config"]["name"]: m for m in json.load(open("calibrate/results/h200-v25-torch-measurements.json"))["measurements"]
         if m["kind"] == "elementwise" and m.get("results", {}).get("measured_in") == "layer suite"}
if sorted(made) != sorted(suite) or len(made) != 35:
    sys.exit(f"FAIL: {len(made)} records made, the kernels suite has {len(suite)} from the layer suite")
for n, m in made.items():
    for key in ("median_s", "min_s", "max_s"):
        if m[key] != suite[n][key]:
            sys.exit(f"FAIL: {n}.{key}: {m[key]} against the kernels suite's {suite[n][key]}")
    if m["config"]["bytes_moved"] != suite[n]["config"]["bytes_moved"]:
        sys.exit(f"FAIL: {n}: {m['config']['bytes_moved']} bytes against {suite[n]['config']['bytes_moved']}")
print("ops_as_kernels: 35 records, as the kernels suite wrote them")
PY
# A file without layer records: exit 2 and a message naming the suite.
python3 calibrate/torch/ops_as_kernels.py calibrate/results/h100-v36/h100-v36-gemm-copy.json -o "$TMP/x.json" 2>"$TMP/err"
rc=$?
[ $rc -eq 2 ] && grep -q "layer suite" "$TMP/err" && [ ! -e "$TMP/x.json" ] || { echo "FAIL: rc $rc"; cat "$TMP/err"; exit 1; }
