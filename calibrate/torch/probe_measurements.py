#!/usr/bin/env python3
"""probe_measurements: probe_heads.py records as an hcpsim measurements.json, for `hcpsim fit` and `check`.

probe_heads.py times one square at every head count; hcpsim reads kernel times in hcpcal's
measurements format (docs/calibration-format.md). This writes each probe record as an attention
measurement (batch 1, sq = skv = the probe's length, as many KV heads as query heads, head dim 128,
top-left causal or no mask), with the environment of an hcpcal_torch measurements file from the
same kind of GPU and software (`--environment`: the probe files record only the GPU's name, SM
count and torch version; they must match it, or the conversion stops; the cuDNN version and the
driver are taken from that file unchecked, and calibrate/RESULTS.md says which stack a run had).

`--passes fwd` keeps the forward records only: probes with NVML's clock (before the fourteenth run)
cannot feed cuDNN's backward shape model, which `hcpsim fit` fits only on GPU-counted clocks
(docs/cost-model.md), and the FLOPs tables, which time that backward otherwise, cannot follow the
steps a probe walks through by head count; the v12 grid the tables were fitted on stays their data.

A record whose median is more than 1.25x its fastest run did not hold still while it was timed
(two such records in the v18 cuDNN probe: 55.8 and 60.6 us medians beside 33 us neighbours and
39 us minima); it is left out, and named on stderr. The probe does not check its results (hcpcal's
`check`); the records carry none.

    python3 calibrate/torch/probe_measurements.py --environment results/h200-v12-torch-measurements.json \
        --passes fwd --out probe-measurements.json results/h200-v20-probe-heads-cudnn-2048.json ...
"""
import argparse
import json
import os
import sys
import tempfile

UNSTEADY = 1.25  # median / fastest run above this: left out
MASKS = {"causal": "causal", "none": "none"}  # probe_heads.py's mask names -> measurements.json's
PASSES = ("fwd", "bwd")


def convert(probe, path, records, names, dropped, passes):
    for r in probe["records"]:
        if r["pass"] not in passes:
            continue
        if r["mask"] not in MASKS:
            raise SystemExit(f"probe_measurements: {path}: mask {r['mask']!r} is not one of {sorted(MASKS)}")
        name = f"p{r['seq']}_{r['mask']}_h{r['heads']}"
        if r["median_s"] > UNSTEADY * r["min_s"]:
            dropped.append(f"{path}: {name} {r['pass']}: median {r['median_s'] * 1e6:.1f} us, fastest {r['min_s'] * 1e6:.1f} us")
            continue
        key = (name, r["pass"], r["backend"])
        if key in names:
            raise SystemExit(f"probe_measurements: {path}: {name} {r['pass']} {r['backend']} appears twice")
        names.add(key)
        records.append({
            "kind": "attention",
            "backend": r["backend"],
            "config": {"name": name, "pass": r["pass"], "batch": 1, "sq": r["seq"], "skv": r["seq"],
                       "heads_q": r["heads"], "heads_kv": r["heads"], "head_dim": 128,
                       "mask": MASKS[r["mask"]]},
            "iterations": r["iterations"],
            "median_s": r["median_s"], "min_s": r["min_s"], "max_s": r["max_s"],
            "sm_clock_mhz": r["sm_clock_mhz"],
            "results": {k: r[k] for k in ("sm_clock_source", "sm_clock_samples", "sm_clock_after_mhz", "warmup_runs",
                                          "warmup_wall_s", "host_s", "spin_s", "back_to_back") if k in r},
        })


def main(argv):
    p = argparse.ArgumentParser(prog="probe_measurements", description=__doc__.splitlines()[0])
    p.add_argument("--environment", required=True, help="an hcpcal_torch measurements.json of the same GPU and software")
    p.add_argument("--out", required=True)
    p.add_argument("--passes", default="fwd,bwd", help="the passes to keep: fwd, bwd or fwd,bwd (default)")
    p.add_argument("probes", nargs="+", help="probe_heads.py output files")
    o = p.parse_args(argv[1:])
    passes = o.passes.split(",")
    if not passes or any(x not in PASSES for x in passes):
        p.error(f"--passes: {o.passes!r}: a comma-separated list of {', '.join(PASSES)}")
    with open(o.environment) as f:
        env = json.load(f)["environment"]
    records, names, dropped = [], set(), []
    for path in o.probes:
        with open(path) as f:
            probe = json.load(f)
        mine = (probe.get("gpu"), probe.get("sms"), probe.get("torch"))
        theirs = (env.get("gpu_model"), env.get("sm_count"), env.get("torch"))
        if mine != theirs:
            raise SystemExit(f"probe_measurements: {path} ran on {mine}, {o.environment} on {theirs}: not the same GPU and software")
        convert(probe, path, records, names, dropped, passes)
    for d in dropped:
        print(f"probe_measurements: left out, unsteady (median > {UNSTEADY}x fastest): {d}", file=sys.stderr)
    if not records:
        raise SystemExit(f"probe_measurements: no records of the passes {o.passes} in {', '.join(o.probes)}: nothing written")
    doc = {"format": "hcpsim-measurements/1", "tool": "probe_measurements.py",
           "argv": ["probe_measurements.py"] + argv[1:], "complete": True, "environment": env,
           "measurements": records}
    out_dir = os.path.dirname(os.path.abspath(o.out))
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".probe_measurements.")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f, indent=1)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, o.out)  # complete or not at all
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    print(f"probe_measurements: {len(records)} records from {len(o.probes)} files -> {o.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
