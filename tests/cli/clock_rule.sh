#!/usr/bin/env bash
# hcpcal_torch's effective_clock(): the SM clock a record's median time is paired with, from the
# GPU-counted clock at the ends of its timed runs and NVML's median over them (calibrate/RESULTS.md,
# fourteenth run), and reclock.py, which applies it again to a written file. CPU only: the rule and
# the file rewrite need no GPU.
SRC="$2"
TMP="$(mktemp -d)"; trap 'rm -rf "$TMP"' EXIT
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
cd "$SRC/calibrate/torch" || exit 1
python3 - "$TMP" <<'PY' || exit 1
import json, os, subprocess, sys
import hcpcal_torch as H

tmp = sys.argv[1]
bad = 0
def expect(ends, nvml, top, want):
    global bad
    got = H.effective_clock(ends, nvml, "nvml_during", top)
    if got[1] != want[1] or abs(got[0] - want[0]) > 1e-9:
        print(f"FAIL: effective_clock({ends}, {nvml}, top {top}) = {got}, want {want}")
        bad += 1
# Two ends 0.3 % apart (within 3 %): their mean, counted.
expect([1749.0, 1754.0], 1680.0, 1980.0, (1751.5, "gpu_cycles"))
# Two ends 10 % apart (the clock moved during a long stretch): NVML's median.
expect([1679.0, 1520.0], 1680.0, 1980.0, (1680.0, "nvml_during"))
# An end above the top clock x 1.03 (2039.4 MHz) is not a clock: one end left of two -> NVML.
expect([3210.0, 1754.0], 1695.0, 1980.0, (1695.0, "nvml_during"))
# One end (the spin mode's, after the runs): it; above the top clock: NVML.
expect([1997.0], 1980.0, 1980.0, (1997.0, "gpu_cycles"))
expect([2100.0], 1980.0, 1980.0, (1980.0, "nvml_during"))
# No probe: NVML. No top clock known (0): no reading is dropped.
expect([], 1545.0, 1980.0, (1545.0, "nvml_during"))
expect([3000.0], 1980.0, 0.0, (3000.0, "gpu_cycles"))

# reclock.py: records with the probe fields get the rule's clock, others are kept as they were.
doc = {"environment": {"sm_clock_max_mhz": 1980.0}, "measurements": [
    {"kind": "attention", "sm_clock_mhz": 3000.0,
     "results": {"sm_clock_ends_mhz": [3210.0, 1754.0], "sm_clock_nvml_mhz": 1695.0, "sm_clock_source": "gpu_cycles"}},
    {"kind": "attention", "sm_clock_mhz": 1600.0, "results": {"sm_clock_source": "nvml_during"}}]}
path = os.path.join(tmp, "m.json")
with open(path, "w") as f:
    json.dump(doc, f)
r = subprocess.run([sys.executable, "reclock.py", path], capture_output=True, text=True)
with open(path) as f:
    out = json.load(f)["measurements"]
if r.returncode != 0 or out[0]["sm_clock_mhz"] != 1695.0 or out[0]["results"]["sm_clock_source"] != "nvml_during" \
        or out[1]["sm_clock_mhz"] != 1600.0:
    print(f"FAIL: reclock.py: exit {r.returncode}, {out}, {r.stderr}")
    bad += 1
sys.exit(1 if bad else 0)
PY
echo "the clock rule and reclock.py hold"
