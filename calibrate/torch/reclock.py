#!/usr/bin/env python3
"""reclock: a measurements.json written with the GPU-counted clock probes, its records' clocks
chosen again by hcpcal_torch's effective_clock() from the fields each record keeps
(results.sm_clock_ends_mhz, results.sm_clock_nvml_mhz).

The fourteenth run (calibrate/RESULTS.md) wrote its records before effective_clock() dropped
readings above the GPU's top clock and fell back to NVML's median where the two ends disagree; this
applies the same rule to them. The top clock is the file's environment.sm_clock_max_mhz, else
--max-clock-mhz. Writes the file in place, atomically; records without the probe fields are kept.

    python3 calibrate/torch/reclock.py --max-clock-mhz 1980 results/h200-v23-torch-cudnn.json
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (effective_clock: one rule for the harness and this)


def main(argv):
    p = argparse.ArgumentParser(prog="reclock", description=__doc__.splitlines()[0])
    p.add_argument("--max-clock-mhz", type=float, default=0, help="the GPU's top SM clock where the file has none")
    p.add_argument("files", nargs="+")
    o = p.parse_args(argv[1:])
    for path in o.files:
        with open(path) as f:
            doc = json.load(f)
        top = doc.get("environment", {}).get("sm_clock_max_mhz") or o.max_clock_mhz
        changed = 0
        for m in doc.get("measurements", []):
            r = m.get("results", {})
            if "sm_clock_ends_mhz" not in r or "sm_clock_nvml_mhz" not in r:
                continue
            clock, source = H.effective_clock(r["sm_clock_ends_mhz"], r["sm_clock_nvml_mhz"], "nvml_during", top)
            if clock != m.get("sm_clock_mhz") or source != r.get("sm_clock_source"):
                m["sm_clock_mhz"], r["sm_clock_source"] = H.num(clock), source
                changed += 1
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1)
        os.replace(tmp, path)
        print(f"reclock: {path}: {changed} of {len(doc.get('measurements', []))} records' clocks chosen again")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
