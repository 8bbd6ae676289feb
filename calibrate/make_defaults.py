#!/usr/bin/env python3
"""make_defaults: the built-in H200 kernel defaults (src/cost/defaults/) from committed measurements.

Runs `hcpsim fit --method knots` once per SDPA backend on the given measurements (hcpcal_torch's
attention, layer and kernels suites) and keeps, of each fit:

  h200-cudnn.json        cuDNN's attention tables (attention_{fwd,bwd}_{causal,nomask}) and its
                         forward's shape model (attention_shape)

--shape-only FILES are measurements for the shape models alone (the head-count probes of cuDNN's
forward, calibrate/torch/probe_measurements.py): the tables, which time cuDNN on GPUs without a
shape model and at other head dims, keep the grid they were fitted on.
  h200-flash.json        FlashAttention-2's attention tables and its shape model (attention_shape)
  h200-memory-bound.json the memory-bound kernels' efficiencies (memory_efficiency_*), from the
                         cuDNN fit (the kernels suite does not depend on the backend)

h200-hcpsim.json (hcpsim's own kernels, cuBLAS GEMM, the HBM copy) comes from hcpcal's C++
measurements and is not made here.

--gpu NAME FILE [FILE ...] makes the defaults of another GPU model hcpsim measured, from its files
alone (repeatable):
  NAME-hcpsim.json       cuBLAS GEMM and the HBM copy (gemm, memory_efficiency), where the files
                         hold hcpcal's gemm and copy suites; fitted as h200-hcpsim.json was
                         (--method curve)
  NAME-memory-bound.json the memory-bound kernels' efficiencies, where they hold hcpcal_torch's
                         kernels suite (or its records made by calibrate/torch/ops_as_kernels.py);
                         hcpsim carries the H200's to GPUs it has not measured by each kernel's
                         HBM share, measured between the two (docs/cost-model.md)

--fp8-gemm NAME FILE [FILE ...] makes NAME-fp8-gemm.json: Transformer Engine's fp8 GEMMs
(gemm_fp8_fast_accum, gemm_fp8_split_accum) from hcpcal_torch's gemm suite records of that GPU
model (fitted with --method curve, as its bf16 GEMM); any name, h200 included (repeatable).

Each file keeps the fit's header (GPU, peaks, method, the measurements it came from). docs/cost-model.md says which committed files made the defaults.

The committed defaults are made by one command, calibrate/make-defaults.sh, which names the
measurements (the same run by tests/cli/defaults_current.sh):

  calibrate/make-defaults.sh build/hcpsim src/cost/defaults

With --held-out, each attention default is checked on measurements it was not fitted on (`hcpsim
check --in-sample`), and the file keeps the result as "held_out_check": the band hcpsim gives its
attention predictions (docs/cost-model.md, bands).

Exit 0; 2 on bad arguments; 3 when a fit fails.
"""
import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile

ATTENTION = ("attention_fwd_causal", "attention_fwd_nomask", "attention_bwd_causal", "attention_bwd_nomask")


def fit(hcpsim, measurements, backend, method="knots"):
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        r = subprocess.run([hcpsim, "fit", *measurements, "--backend", backend, "--method", method, "-o", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout + r.stderr)
            raise RuntimeError(f"hcpsim fit --backend {backend} exited {r.returncode}")
        with open(path) as f:
            return json.load(f)
    finally:
        os.unlink(path)


ROW = re.compile(r"\s(\d+\.\d+)\s+(\d+\.\d+)\s+([-+]\d+\.\d+)(?:\s|$)")  # measured, predicted (us), error (%)
TOTAL = re.compile(r"^# cases (\d+) ")


def held_out_check(hcpsim, doc, held_out, backend):
    """`hcpsim check --in-sample` of the calibration `doc` on the held-out measurement files, its
    attention kernels of `backend`: the time-weighted rms relative error (the error of a kernel
    drawn in proportion to its time, as a step's attention time is made of them), the median and
    max |error|, the case count, and the files that hold such kernels; calibration-format's
    "held_out_check"."""
    held_out = [m for m in held_out if holds_backend(m, backend)]  # main() checked one does
    fd, path = tempfile.mkstemp(suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f)
        r = subprocess.run([hcpsim, "check", *held_out, "--calibration", path, "--in-sample", "--backend", backend,
                            "--kind", "attention"], capture_output=True, text=True)
    finally:
        os.unlink(path)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        raise RuntimeError(f"hcpsim check --backend {backend} on the held-out files exited {r.returncode}")
    rows, total = [], None
    for line in r.stdout.splitlines():
        if line.startswith("#"):
            m = TOTAL.match(line)
            if m:
                total = int(m.group(1))
            continue
        m = ROW.search(line)
        if m:
            rows.append((float(m.group(1)), abs(float(m.group(3))) / 100))
    if not rows or total != len(rows):
        raise RuntimeError(f"hcpsim check's table on the held-out files: {len(rows)} rows read, its summary says {total}")
    weight = sum(t for t, _ in rows)
    if weight <= 0:
        raise RuntimeError("hcpsim check's table on the held-out files: no measured time to weight by")
    errors = sorted(e for _, e in rows)
    n = len(errors)
    median = errors[n // 2] if n % 2 else (errors[n // 2 - 1] + errors[n // 2]) / 2
    return {"attention": {"relative": math.sqrt(sum(t * e * e for t, e in rows) / weight),
                          "median_error": median, "max_error": errors[-1], "cases": n,
                          "measurements": ", ".join(held_out)}}


def holds_backend(path, backend):
    """Whether the measurements file at `path` has attention records of `backend`."""
    with open(path) as f:
        return any(m.get("kind") == "attention" and m.get("backend") == backend
                   for m in json.load(f).get("measurements", []))


def keep(calibration, names, extra=()):
    """The fit's header, the parameters in `names` and the top-level keys in `extra`."""
    header = {k: v for k, v in calibration.items() if k not in ("parameters", "attention_shape")}
    out = dict(header, **{k: calibration[k] for k in extra if k in calibration})
    out["parameters"] = {k: v for k, v in calibration["parameters"].items() if k in names}
    missing = [n for n in names if n not in out["parameters"]]
    if missing:
        raise RuntimeError(f"the fit has no {', '.join(missing)}")
    for k in extra:
        if k not in calibration:
            raise RuntimeError(f"the fit has no {k}")
    return out


def write_all(folder, docs):
    """Every file to a temporary beside it first, then each renamed over its target: an error while
    writing leaves the committed defaults as they were."""
    tmps = []
    try:
        for name, doc in docs.items():
            tmp = os.path.join(folder, name + ".tmp")
            tmps.append((tmp, os.path.join(folder, name)))
            with open(tmp, "w") as f:
                json.dump(doc, f, indent=2, sort_keys=True)
                f.write("\n")
    except OSError:
        for tmp, _ in tmps:
            if os.path.exists(tmp):
                os.unlink(tmp)
        raise
    for tmp, path in tmps:
        os.replace(tmp, path)


def main(argv):
    p = argparse.ArgumentParser(prog="make_defaults", description=__doc__.split("\n\n")[0])
    p.add_argument("measurements", nargs="+", help="hcpcal_torch measurements.json files (one set)")
    p.add_argument("--hcpsim", default="build/hcpsim", help="the hcpsim binary (default build/hcpsim)")
    p.add_argument("--out", default="src/cost/defaults", help="folder of the defaults (default src/cost/defaults)")
    p.add_argument("--shape-only", nargs="+", default=[], metavar="FILE",
                   help="measurements the shape models are fitted on too, the tables not")
    p.add_argument("--held-out", nargs="+", default=[], metavar="FILE",
                   help="measurements the fits do not see: each attention default is checked on them, and the "
                        "result (held_out_check) is the band of its predictions")
    p.add_argument("--gpu", nargs="+", action="append", default=[], metavar="NAME FILE",
                   help="another GPU model's defaults: its name (the files' prefix, e.g. h100) and its measurements")
    p.add_argument("--fp8-gemm", nargs="+", action="append", default=[], metavar="NAME FILE",
                   help="a GPU model's fp8 GEMM defaults: its name (e.g. h200) and hcpcal_torch gemm suite files")
    o = p.parse_args(argv[1:])
    for g in o.fp8_gemm:
        if len(g) < 2 or not re.fullmatch(r"[a-z0-9]+", g[0]) or not all(os.path.isfile(m) for m in g[1:]):
            p.error(f"--fp8-gemm: '{' '.join(g)}' needs a lower-case name and at least one existing file")
    for g in o.gpu:
        if len(g) < 2 or not re.fullmatch(r"[a-z0-9]+", g[0]) or g[0] == "h200":
            p.error(f"--gpu: '{' '.join(g)}' needs a lower-case name other than h200 and at least one file")
        for m in g[1:]:
            if not os.path.isfile(m):
                p.error(f"--gpu {g[0]}: {m} is not a file")
    if not os.path.isdir(o.out):
        p.error(f"--out: {o.out} is not a folder")
    if not (os.path.isfile(o.hcpsim) and os.access(o.hcpsim, os.X_OK)):
        p.error(f"--hcpsim: {o.hcpsim} is not an executable file (build hcpsim first, or name it)")
    for m in o.measurements + o.shape_only + o.held_out:
        if not os.path.isfile(m):
            p.error(f"measurements: {m} is not a file")
    if {os.path.realpath(m) for m in o.measurements + o.shape_only} & {os.path.realpath(m) for m in o.held_out}:
        p.error("--held-out: a file both fitted on and held out")
    if o.held_out:
        try:
            for backend in ("cudnn", "flash"):
                if not any(holds_backend(m, backend) for m in o.held_out):
                    p.error(f"--held-out: no file holds attention kernels of {backend} (name one that does)")
        except (OSError, json.JSONDecodeError) as e:
            p.error(f"--held-out: {e}")
    try:
        cudnn = fit(o.hcpsim, o.measurements, "cudnn")
        flash = fit(o.hcpsim, o.measurements, "flash")
        for doc, backend in ((cudnn, "cudnn"), (flash, "flash")):
            extra = [m for m in o.shape_only if holds_backend(m, backend)]
            if extra:  # its shape model from the grid and the shape-only files together
                doc["attention_shape"] = fit(o.hcpsim, o.measurements + extra, backend)["attention_shape"]
                doc["measurements"] += "; attention_shape also on " + ", ".join(extra)
        memory = [k for k in cudnn["parameters"] if k.startswith("memory_efficiency_")]
        if not memory:
            raise RuntimeError("the fit has no memory_efficiency_* parameters: the measurements need "
                               "hcpcal_torch's kernels suite")
        docs = {"h200-cudnn.json": keep(cudnn, ATTENTION, ("attention_shape",)),
                "h200-flash.json": keep(flash, ATTENTION, ("attention_shape",)),
                "h200-memory-bound.json": keep(cudnn, memory)}
        docs["h200-memory-bound.json"].pop("attention_backend", None)
        for name, *files in o.gpu:
            own = fit(o.hcpsim, files, "cudnn", "curve")  # the GEMM's method of h200-hcpsim.json
            if "gemm" in own["parameters"]:
                docs[f"{name}-hcpsim.json"] = keep(own, ("gemm", "memory_efficiency"))
            mine = [k for k in own["parameters"] if k.startswith("memory_efficiency_")]
            if mine:
                docs[f"{name}-memory-bound.json"] = keep(own, mine)
            if "gemm" not in own["parameters"] and not mine:
                raise RuntimeError(f"--gpu {name}: the fit has neither gemm nor memory_efficiency_* parameters")
            for doc in (docs.get(f"{name}-hcpsim.json"), docs.get(f"{name}-memory-bound.json")):
                if doc:
                    doc.pop("attention_backend", None)
        for name, *files in o.fp8_gemm:
            own = fit(o.hcpsim, files, "cudnn", "curve")
            fp8 = tuple(k for k in own["parameters"] if k.startswith("gemm_fp8_"))
            if len(fp8) != 2:
                raise RuntimeError(f"--fp8-gemm {name}: the fit has {', '.join(fp8) or 'no fp8 GEMM table'}, not both "
                                   "accumulators (hcpcal_torch.py --suite gemm measures both)")
            docs[f"{name}-fp8-gemm.json"] = keep(own, fp8)
            docs[f"{name}-fp8-gemm.json"].pop("attention_backend", None)
        if o.held_out:
            for name, backend in (("h200-cudnn.json", "cudnn"), ("h200-flash.json", "flash")):
                docs[name]["held_out_check"] = held_out_check(o.hcpsim, docs[name], o.held_out, backend)
        write_all(o.out, docs)
    except (RuntimeError, OSError, KeyError, json.JSONDecodeError) as e:
        print(f"make_defaults: {e}", file=sys.stderr)
        return 3
    for name, doc in docs.items():
        print(f"wrote {os.path.join(o.out, name)}: {', '.join(sorted(doc['parameters']))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
