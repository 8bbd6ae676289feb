#!/usr/bin/env python3
"""repeat_medians: probe_repeat.py's records of one shape, over every set, round and process, as one record.

A FlashAttention-2 causal forward of 133-192 CTAs runs at one of a few times that hold for an input
set and change between sets and processes (calibrate/RESULTS.md, twentieth run). One timing of one
set is a draw from them; the median over many sets is the launch's typical time. This writes, per
(backend, tokens, heads, mask, pass), the median of the records' medians as `median_s`, the fastest
and slowest as `min_s` and `max_s`, the count as `sets`, and the clock of the middle record (the
lower middle one of an even count), in probe_heads.py's format, for probe_measurements.py (hence `hcpsim check`).

    python3 calibrate/torch/repeat_medians.py --out medians.json results/h200-v35/h200-v35-repeat-*.json
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from json_out import write_json  # noqa: E402  (complete or not at all)

KEY_FIELDS = ("backend", "seq", "heads", "mask", "pass")
CLOCK_FIELDS = ("sm_clock_mhz", "sm_clock_source", "sm_clock_samples", "sm_clock_after_mhz", "sm_clock_nvml_mhz",
                "sm_clock_ends_mhz", "back_to_back", "host_s", "spin_s", "iterations")


def medians(docs):
    """(gpu, sms, torch) of the inputs, which must agree, and one record per shape."""
    ids = {(d["gpu"], d["sms"], d["torch"]) for d in docs}
    if len(ids) != 1:
        raise ValueError(f"the files come from different GPUs or software: {sorted(ids)}")
    groups = {}
    for d in docs:
        for r in d["records"]:
            groups.setdefault(tuple(r[k] for k in KEY_FIELDS), []).append(r)
    out = []
    for key, rs in sorted(groups.items()):
        med = statistics.median(r["median_s"] for r in rs)
        # The clock of the middle record (of an even count, the lower middle one): one record's.
        middle = sorted(rs, key=lambda r: r["median_s"])[(len(rs) - 1) // 2]
        rec = dict(zip(KEY_FIELDS, key))
        rec.update({"median_s": med, "min_s": min(r["median_s"] for r in rs),
                    "max_s": max(r["median_s"] for r in rs), "sets": len(rs)})
        rec.update({k: middle[k] for k in CLOCK_FIELDS if k in middle})
        out.append(rec)
    return ids.pop(), out


def main(argv):
    p = argparse.ArgumentParser(prog="repeat_medians", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("repeats", nargs="+", help="probe_repeat.py output files")
    o = p.parse_args(argv[1:])
    docs = []
    for path in o.repeats:
        try:
            with open(path) as f:
                docs.append(json.load(f))
        except (OSError, ValueError) as e:
            print(f"repeat_medians: {path}: {e} (a probe_repeat.py output file)", file=sys.stderr)
            return 2
    try:
        (gpu, sms, torch_version), records = medians(docs)
    except (ValueError, KeyError, TypeError) as e:
        what = f"no field {e}" if isinstance(e, KeyError) else str(e)
        print(f"repeat_medians: {what} (the inputs must be probe_repeat.py output files)", file=sys.stderr)
        return 2
    doc = {"tool": "repeat_medians.py", "argv": argv[1:], "gpu": gpu, "sms": sms, "torch": torch_version,
           "records": records}
    write_json(o.out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
