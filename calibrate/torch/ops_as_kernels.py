#!/usr/bin/env python3
"""ops_as_kernels: a layer-suite run's memory-bound ops as the kernels suite's records.

hcpcal_torch's layer suite times every op of the layer alone at the layer's shapes (the layer
record's results.ops), and its kernels suite writes the memory-bound ones (RMSNorm, RoPE, SwiGLU,
the residual add) from those same timings (results.measured_in "layer suite"). A run of the layer
suite without the kernels suite (e.g. calibrate/results/h100-v36/h100-v36-torch-cudnn-mid.json)
holds the timings but not the records `hcpsim fit` reads; this writes them, with the same names,
bytes (hcpcal_torch.op_bytes) and fields, from each fwd+bwd layer record's ops. The cross entropy and
the optimizer are not layer ops: they need the kernels suite itself.

  python3 calibrate/torch/ops_as_kernels.py LAYER.json -o KERNELS.json

Exit 0; 2 on bad arguments or a file without layer records.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (PyTorch is imported in its main() only)
from json_out import write_json  # noqa: E402

# The layer's labels of its memory-bound ops, from hcpcal_torch's own op lists (the two norms and
# the two adds are one op each at one shape, timed once: their records share a name, kept once).
MEMORY_BOUND = ("rmsnorm", "rope", "swiglu", "add")
LABELS = {label: op for label, op in H.FWD_OPS + H.BWD_OPS if op in MEMORY_BOUND}


def kernels_of(layer):
    """The elementwise records of one fwd+bwd layer record's ops."""
    T = layer["config"]["seq"]
    out = []
    for o in layer["results"]["ops"]:
        label, p = o["label"].split(".")
        op = LABELS.get(label)
        if op is None or (op == "add" and p == "bwd"):  # the add's backward is no kernel: its grads pass through
            continue
        nbytes = H.op_bytes(op, T)[0 if p == "fwd" else 1]
        name = f"{'residual_add' if op == 'add' else op}_{p}_t{T}"
        t = {"iterations": layer["iterations"], "median_s": o["median_s"], "min_s": o["min_s"], "max_s": o["max_s"],
             "sm_clock_mhz": o.get("sm_clock_mhz") or 0}
        res = {"GBps": H.num(nbytes / o["median_s"] * 1e-9), "measured_in": "layer suite",
               "from_layer_record": layer["config"]["name"]}
        cfg = {"name": name, "op": op, "pass": p, "tokens": T, "bytes_moved": int(nbytes)}
        # the layer's check covers its ops: non-finite elements in out, dx and the weight grads
        out.append(H.record("elementwise", "torch", cfg, t, layer["check"]["done"], layer["check"]["wrong"], res))
    return out


def main(argv):
    p = argparse.ArgumentParser(prog="ops_as_kernels", description=__doc__.split("\n\n")[0])
    p.add_argument("layer", help="hcpcal_torch measurements with layer records (the layer suite)")
    p.add_argument("-o", "--out", required=True, help="measurements JSON to write (atomically)")
    o = p.parse_args(argv[1:])
    try:
        with open(o.layer) as f:
            doc = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        p.error(f"{o.layer}: {e}")
    layers = [m for m in doc.get("measurements", []) if m.get("kind") == "layer"
              and m.get("config", {}).get("pass") == "fwd+bwd" and m.get("results", {}).get("ops")]
    if not layers:
        p.error(f"{o.layer}: no fwd+bwd layer records with their ops (run hcpcal_torch's layer suite)")
    records, seen = [], set()
    for layer in layers:  # the layers of each backend share these ops' timings (one per op and T): once each
        for r in kernels_of(layer):
            if r["config"]["name"] not in seen:
                seen.add(r["config"]["name"])
                records.append(r)
    out = {k: v for k, v in doc.items() if k not in ("measurements", "unsupported")}
    out["argv"] = ["calibrate/torch/ops_as_kernels.py", o.layer]
    out["measurements"] = records
    write_json(o.out, out)
    print(f"wrote {o.out}: {len(records)} elementwise records from {len(layers)} layer records")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
