#!/usr/bin/env python3
"""kernel_profile: what the kernels of hcpcal_torch's shapes are, and how fast they run inside a
whole layer against alone, from torch.profiler's kernel records (CUPTI).

Four suites (--suite; default geometry,layer,power):

  geometry  For each SDPA backend (cudnn, flash) and each case of hcpcal_torch's attention grid
            (its attention_cases(), same names), the kernels one forward (autograd recording) and
            one backward (torch.autograd.grad) launch: name, duration, grid, block, registers per
            thread, shared memory, and CUPTI's blocks per SM and occupancy. The launch geometry is
            what a tile model of the kernel needs (hcpsim's src/cost/attention_tiles.hpp): tiles
            per CTA follow from the grid and the shape.
  layer     One Llama-3.1-8B layer (hcpcal_torch's layer_forward) forward + backward, back to back
            after a warm-up to the sustained clock, profiled: every kernel's duration in the layer;
            then each op of the layer alone (hcpcal_torch's op_spec), warmed up the same way and
            profiled. NVML samples the SM clock and the board power every ~2 ms during each
            profiled stretch. In-layer against alone, kernel by kernel, tells whether a kernel runs
            at another speed inside the layer (clock under the power limit, caches) or whether the
            sum of the ops measured alone differs from the layer for another reason (gaps).

  power     The power limit in a mix: a GEMM phase (Llama-3.1-8B's FC1 at 8K tokens) alternating
            with a memory-bound phase (adds of 1 GiB tensors): GEMM phases of D ms (--phases-ms)
            with adds taking half the time, then D = 8 ms with adds taking 20-80 %, and either
            kind alone; NVML's clock and power while they run, then their kernels' durations.
            Where the phases are shorter than the limiter's averaging, the GEMMs run at the
            mix's clock (faster than alone); where longer, at their own.
  trace     The layer again, with a CUDA event after every op (the backward's from gradient
            hooks) and NVML's clock and power every ~0.5 ms with host times, so each op's duration
            and SM clock in place; then each op alone, timed and clocked the same way. Whether an
            op is slower in place only because its clock is lower shows as time x clock equal in
            place and alone; the trajectory of the clock through a layer is the limiter's reaction.

Writes one JSON file (--out, atomically at the end of each suite) and a log (stdout; lines that
are not data start with '#'). Exit 0, 2 on bad flags, 3 on a failure (the JSON keeps what
finished). Needs PyTorch with CUDA and pynvml. See calibrate/torch/README.md.
"""
import argparse
import bisect
import json
import os
import statistics
import sys
import tempfile
import threading
import time

import hcpcal_torch as H
from json_out import write_json  # complete or not at all

torch = None
F = None


def log(line=""):
    print(line, flush=True)


def parse_args(argv):
    p = argparse.ArgumentParser(prog="kernel_profile", description=__doc__.split("\n\n")[0], allow_abbrev=False)
    p.add_argument("--suite", default="geometry,layer,power",
                   help="geometry,layer,power,trace (default geometry,layer,power)")
    p.add_argument("--phases-ms", default="3,6,12,24,48,96,192,384", help="power: GEMM phase lengths D in ms")
    p.add_argument("--out", default="kernel-profile.json", help="output JSON (default kernel-profile.json)")
    p.add_argument("--backends", default="cudnn,flash", help="SDPA backends (default cudnn,flash)")
    p.add_argument("--seq-min", type=int, default=1024, help="geometry: shortest length (default 1024)")
    p.add_argument("--seq-max", type=int, default=32768, help="geometry: longest length (default 32768)")
    p.add_argument("--seq-factor", type=float, default=2.0, help="geometry: length step (default 2)")
    p.add_argument("--heads-kv", default="32,8", help="geometry: KV heads of the square and step shapes (default 32,8)")
    p.add_argument("--layer-seqs", default="8192,131072", help="layer: token counts (default 8192,131072)")
    p.add_argument("--warmup-s", type=float, default=2.0,
                   help="layer, power, trace: warm-up seconds before each stretch (default 2)")
    p.add_argument("--profiled", type=int, default=3, help="layer: profiled runs of each stretch (default 3)")
    p.add_argument("--trace-s", type=float, default=1.0, help="trace: traced seconds of each stretch (default 1)")
    p.add_argument("--summarize", metavar="JSON", help="print the trace suite's tables of a file written earlier "
                   "(no GPU needed) and exit")
    o = p.parse_args(argv)
    o.suites = [s for s in o.suite.split(",") if s]
    for s in o.suites:
        if s not in ("geometry", "layer", "power", "trace"):
            p.error(f"--suite: unknown suite '{s}' (geometry, layer, power, trace)")
    o.backend_list = [b for b in o.backends.split(",") if b]
    for b in o.backend_list:
        if b not in ("cudnn", "flash"):
            p.error(f"--backends: unknown backend '{b}'")
    try:
        o.heads_kv = [int(x) for x in o.heads_kv.split(",") if x]
        o.layer_seq_list = [int(x) for x in o.layer_seqs.split(",") if x]
        o.phase_list_ms = [float(x) for x in o.phases_ms.split(",") if x]
    except ValueError:
        p.error("--heads-kv/--layer-seqs: lists of integers")
    if o.profiled < 1 or o.warmup_s < 0:
        p.error("--profiled >= 1, --warmup-s >= 0")
    return o


def kernels_of(fn):
    """Runs fn() once under torch.profiler and returns its CUDA kernels in launch order, each
    {name, dur_us, grid, block, regs, smem, blocks_per_sm, occupancy_pct} from the Chrome trace."""
    from torch.profiler import profile, ProfilerActivity
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        prof.export_chrome_trace(path)
        with open(path) as f:
            trace = json.load(f)
    finally:
        os.unlink(path)
    out = []
    for e in trace.get("traceEvents", []):
        if e.get("cat") != "kernel":
            continue
        a = e.get("args", {})
        out.append({"name": e.get("name", ""), "ts": e.get("ts", 0), "dur_us": e.get("dur", 0),
                    "grid": a.get("grid"), "block": a.get("block"), "regs": a.get("registers per thread"),
                    "smem": a.get("shared memory"), "blocks_per_sm": a.get("blocks per SM"),
                    "occupancy_pct": a.get("est. achieved occupancy %")})
    out.sort(key=lambda k: k["ts"])
    for k in out:
        del k["ts"]
    return out


class Sampler:
    """NVML SM clock (MHz) and board power (W) every ~2 ms on a thread, between start() and stop()."""

    def __init__(self):
        import pynvml
        pynvml.nvmlInit()
        self.m = pynvml
        self.h = pynvml.nvmlDeviceGetHandleByIndex(0)
        self.clock, self.power, self.run = [], [], False

    def _loop(self):
        while self.run:
            try:
                self.clock.append(self.m.nvmlDeviceGetClockInfo(self.h, self.m.NVML_CLOCK_SM))
                self.power.append(self.m.nvmlDeviceGetPowerUsage(self.h) / 1000.0)
            except Exception:
                pass
            time.sleep(2e-3)

    def start(self):
        self.clock, self.power, self.run = [], [], True
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def stop(self):
        self.run = False
        self.t.join()
        med = lambda v: statistics.median(v) if v else 0.0
        return {"sm_clock_mhz": med(self.clock), "sm_clock_min_mhz": min(self.clock, default=0),
                "sm_clock_max_mhz": max(self.clock, default=0), "power_w": med(self.power),
                "power_max_w": max(self.power, default=0), "samples": len(self.clock)}


def power_limit_w():
    try:
        import pynvml
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(0)
        return pynvml.nvmlDeviceGetEnforcedPowerLimit(h) / 1000.0
    except Exception:
        return 0.0


def write(o, doc):
    write_json(o.out, doc)


def run_geometry(o, doc):
    log("# geometry: kernels of one SDPA forward (autograd recording) and one backward per case and backend")
    log(f"# {'case':<22} {'backend':>7} {'pass':>4} {'kernel (first 70 chars)':<70} {'grid':>16} {'block':>12} "
        f"{'regs':>4} {'smem':>6} {'bl/SM':>5} {'us':>9}")
    hopt = argparse.Namespace(heads_kv=o.heads_kv, seq_min=o.seq_min, seq_max=o.seq_max, seq_factor=o.seq_factor)
    gen = torch.Generator(device=H.DEV)
    gen.manual_seed(11)
    cases = H.attention_cases(hopt)
    for b in o.backend_list:
        for c in cases:
            if c.bottom_right and b == "cudnn":
                continue  # PyTorch's cuDNN SDPA has no bottom-right causal path (hcpcal_torch's probe)
            mode = "lower_right" if c.bottom_right else ("causal" if c.causal else "none")
            entry = {"case": c.name, "backend": b, "sq": c.sq, "skv": c.skv, "hq": c.hq, "hk": c.hk, "mask": c.mask}
            try:
                with H.sdpa_context(b):
                    s = H.make_attn_set(c, gen, False)
                    keep = H.attn_call(s, c, mode, False)
                    torch.autograd.grad(keep, H.grad_inputs(s, False), H.d_out(s), retain_graph=True)
                    entry["fwd"] = kernels_of(lambda: H.attn_call(s, c, mode, False))
                    entry["bwd"] = kernels_of(lambda: torch.autograd.grad(keep, H.grad_inputs(s, False), H.d_out(s),
                                                                          retain_graph=True))
                del s, keep
            except Exception as e:
                entry["error"] = str(e).splitlines()[0][:300]
                log(f"# {c.name:<22} {b:>7}: error {entry['error']}")
            for p in ("fwd", "bwd"):
                for k in entry.get(p, []):
                    log(f"  {c.name:<22} {b:>7} {p:>4} {k['name'][:70]:<70} {str(k['grid']):>16} {str(k['block']):>12} "
                        f"{str(k['regs']):>4} {str(k['smem']):>6} {str(k['blocks_per_sm']):>5} {k['dur_us']:>9.1f}")
            doc["geometry"].append(entry)
            torch.cuda.empty_cache()
        write(o, doc)


def warm_up(o, fn):
    """fn() back to back for o.warmup_s seconds (at least once), synchronising every 4 calls so the
    host stays near the GPU, then once more; returns the number of calls."""
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < o.warmup_s or n < 1:
        fn()
        n += 1
        if n % 4 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    return n


def stretch(o, fn, label):
    """Warm fn up for o.warmup_s; then runs back to back with NVML sampling (o.profiled runs and at
    least 0.5 s; no profiler: its start and its trace export would add idle samples), then
    o.profiled runs profiled."""
    n = warm_up(o, fn)
    sampler = Sampler()
    sampler.start()
    t1, k = time.perf_counter(), 0
    while k < o.profiled or time.perf_counter() - t1 < 0.5:  # at least 0.5 s of samples
        fn()
        k += 1
        if k % 4 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    nv = sampler.stop()
    runs = []
    for _ in range(o.profiled):
        runs.append(kernels_of(fn))
    per_run = [sum(k["dur_us"] for k in r) for r in runs]
    med = sorted(range(len(runs)), key=lambda i: per_run[i])[len(runs) // 2]
    log(f"  {label:<34} kernels {len(runs[med]):>4}  kernel time {per_run[med]:>11.1f} us  clock {nv['sm_clock_mhz']:>6.0f} MHz "
        f"({nv['sm_clock_min_mhz']:.0f}-{nv['sm_clock_max_mhz']:.0f})  power {nv['power_w']:>5.0f} W (max {nv['power_max_w']:.0f})")
    return {"label": label, "kernels": runs[med], "kernel_us_per_run": per_run, "nvml": nv, "warmup_runs": n}


LAYER_OPS = ("rmsnorm", "qkv", "rope", "attention", "proj", "add", "fc1", "swiglu", "fc2")


def layer_inputs(T):
    """hcpcal_torch's layer weights, input and output gradient at T tokens (its layer suite's seed):
    (W, x, dy, params = [x] + weights)."""
    gen = torch.Generator(device=H.DEV)
    gen.manual_seed(1234 + 31 * T)
    W = H.make_layer_weights(gen)
    x = torch.randn((T, H.HIDDEN), generator=gen, device=H.DEV, dtype=torch.bfloat16).requires_grad_()
    dy = torch.randn((T, H.HIDDEN), generator=gen, device=H.DEV, dtype=torch.bfloat16)
    return W, x, dy, [x] + list(W.values())


def measure_op_alone(op, T, freqs, backend, measure):
    """One op of the layer alone at T tokens (hcpcal_torch's op_spec, the same seed in every suite),
    under `backend` where it is the attention: {"fwd": measure(fwd, "fwd"), "bwd": measure(bwd, "bwd")},
    fwd and bwd being functions that enqueue one call; the residual add has no "bwd" (a pass-through)."""
    g2 = torch.Generator(device=H.DEV)
    g2.manual_seed(7 + T)
    spec, fn = H.op_spec(op, T, g2, freqs)
    for t, _, want in spec:
        if want and t.is_leaf:
            t.requires_grad_()
    args = [t for t, _, _ in spec]
    gins = [t for t, _, want in spec if want]
    ctx = H.sdpa_context(backend) if op == "attention" else H._null()
    with ctx:
        out = fn(*args)
        gout = tuple(torch.randn_like(t) for t in H.flat(out))
        r = {"fwd": measure(lambda: fn(*args), "fwd")}
        if op != "add":
            r["bwd"] = measure(lambda: torch.autograd.grad(H.flat(out), gins, gout, retain_graph=True), "bwd")
    del spec, args, gins, out, gout
    torch.cuda.empty_cache()
    return r


def per_length_and_backend(o, doc, suite, measure):
    """measure(T, backend, freqs, entry) for every --layer-seqs length T and backend; each entry
    ({"seq", "backend"} and what measure added) is appended to doc[suite] and the file written; a
    failure is kept as entry["error"] and logged, and the next case runs."""
    for T in o.layer_seq_list:
        freqs = H.llama3_rope_freqs(T)
        for b in o.backend_list:
            entry = {"seq": T, "backend": b}
            try:
                measure(T, b, freqs, entry)
            except Exception as e:
                entry["error"] = str(e).splitlines()[0][:300]
                log(f"# T={T} {b}: error {entry['error']}")
            doc[suite].append(entry)
            write(o, doc)
        del freqs
        torch.cuda.empty_cache()


def run_layer(o, doc):
    log("# layer: one Llama-3.1-8B layer fwd+bwd profiled in place, then each op alone; NVML clock and power")
    log(f"# power limit {power_limit_w():.0f} W")

    def measure(T, b, freqs, entry):
        W, x, dy, params = layer_inputs(T)
        with H.sdpa_context(b):
            entry["layer"] = stretch(o, lambda: torch.autograd.grad(H.layer_forward(x, W, freqs), params, dy),
                                     f"T={T} {b} layer fwd+bwd")
        del W, x, dy, params
        torch.cuda.empty_cache()
        entry["ops"] = []
        for op in LAYER_OPS:
            if op != "attention" and b != o.backend_list[0]:
                continue  # the same op under either backend
            r = measure_op_alone(op, T, freqs, b, lambda f, p: stretch(o, f, f"T={T} {op} {p} alone"))
            entry["ops"].append({"op": op, **r})
    per_length_and_backend(o, doc, "layer", measure)


class ClockTrace:
    """NVML SM clock (MHz) and board power (W) with host timestamps (time.perf_counter), every
    ~0.5 ms on a thread, between start() and stop(): the clock's trajectory under the limiter."""

    def __init__(self):
        import pynvml
        pynvml.nvmlInit()
        self.m = pynvml
        self.h = pynvml.nvmlDeviceGetHandleByIndex(0)
        self.samples, self.run = [], False

    def _loop(self):
        while self.run:
            try:
                t = time.perf_counter()
                c = self.m.nvmlDeviceGetClockInfo(self.h, self.m.NVML_CLOCK_SM)
                w = self.m.nvmlDeviceGetPowerUsage(self.h) / 1000.0
                self.samples.append((t, c, w))
            except Exception:
                pass
            time.sleep(0.5e-3)

    def start(self):
        self.samples, self.run = [], True
        self.t = threading.Thread(target=self._loop, daemon=True)
        self.t.start()

    def stop(self):
        self.run = False
        self.t.join()
        return self.samples


def clock_over(samples, times, t0, t1):
    """Mean SM clock of the samples in [t0, t1] (host seconds; `times` their sorted host times);
    the nearest sample where none falls inside (an interval shorter than the sampling step)."""
    if not samples:
        return 0.0
    lo, hi = bisect.bisect_left(times, t0), bisect.bisect_right(times, t1)
    if hi > lo:
        return sum(samples[i][1] for i in range(lo, hi)) / (hi - lo)
    mid = 0.5 * (t0 + t1)
    near = [i for i in (lo - 1, lo) if 0 <= i < len(samples)]
    return samples[min(near, key=lambda i: abs(times[i] - mid))][1]


class Marks:
    """CUDA events recorded on the current stream between a layer's ops; mark(label) closes the op
    `label` (the interval since the previous mark)."""

    def __init__(self):
        self.events = []

    def mark(self, label):
        e = torch.cuda.Event(enable_timing=True)
        e.record()
        self.events.append((label, e))


def traced_layer(x, W, freqs, dy, params, marks):
    """hcpcal_torch's layer_forward and its backward with a mark after every op. The backward's marks
    come from gradient hooks on the forward's tensors: the hook of a tensor runs once its gradient
    is complete, just before the node that produced the tensor runs, so the event lands after the
    kernels of its consumers' backward. The marks are exact for the forward and for the layer's
    total; in the backward the engine may run a later node first (k's RoPE backward before q's hook
    fires: it lands in attention.bwd), and rmsnorm{1,2}.bwd include the add that sums the residual
    stream's two gradients."""
    m = marks.mark
    m("start")
    n1 = H.rms_norm(x, W["norm1"]); m("rmsnorm1.fwd")
    qkv = F.linear(n1, W["qkv"]); m("qkv.fwd")
    q, k, v = H.qkv_rope(qkv, freqs); m("rope.fwd")
    a = H.core_attention(q, k, v); m("attention.fwd")
    p = F.linear(a, W["proj"]); m("proj.fwd")
    h = x + p; m("add1.fwd")
    n2 = H.rms_norm(h, W["norm2"]); m("rmsnorm2.fwd")
    f1 = F.linear(n2, W["fc1"]); m("fc1.fwd")
    sw = H.swiglu(f1); m("swiglu.fwd")
    f2 = F.linear(sw, W["fc2"]); m("fc2.fwd")
    out = h + f2; m("add2.fwd")
    for t, label in ((sw, "fc2.bwd"), (f1, "swiglu.bwd"), (n2, "fc1.bwd"), (h, "rmsnorm2.bwd"), (a, "proj.bwd"),
                     (q, "attention.bwd"), (qkv, "rope.bwd"), (n1, "qkv.bwd")):
        t.register_hook(lambda g, label=label: m(label))
    torch.autograd.grad(out, params, dy)
    m("rmsnorm1.bwd")


def op_name(label):
    """The op of a mark's label: rmsnorm1.fwd -> rmsnorm, add2.fwd -> add, fc1.bwd -> fc1."""
    op = label.split(".")[0]
    return op[:-1] if op[:-1] in ("rmsnorm", "add") else op


def op_class(label):
    op = op_name(label)
    return "gemm" if op in ("qkv", "proj", "fc1", "fc2") else "attention" if op == "attention" else "memory"


def run_trace(o, doc):
    log("# trace: one Llama-3.1-8B layer fwd+bwd with a CUDA event after every op, back to back after the warm-up;"
        " NVML clock and power every ~0.5 ms with host times: each op's duration and SM clock in place; then the"
        " same ops alone, timed the same way")
    shared = {}  # (T, "op.pass") -> the ops other than attention alone, measured under the first backend

    def measure(T, b, freqs, entry):
        W, x, dy, params = layer_inputs(T)
        with H.sdpa_context(b):
            entry["layer"] = trace_stretch(o, lambda mk: traced_layer(x, W, freqs, dy, params, mk), f"T={T} {b} layer")
        del W, x, dy, params
        torch.cuda.empty_cache()
        entry["alone"] = {}
        for op in LAYER_OPS:
            if op != "attention" and (T, op + ".fwd") in shared:
                entry["alone"].update({k: v for (t, k), v in shared.items() if t == T and k.split(".")[0] == op})
                continue

            def traced(f, p):
                def run(mk):
                    f()
                    mk.mark(f"{op}.{p}")
                return trace_stretch(o, run, f"T={T} {op} {p} alone", first_mark=True)
            for p, v in measure_op_alone(op, T, freqs, b, traced).items():
                entry["alone"][f"{op}.{p}"] = v
                if op != "attention":
                    shared[(T, f"{op}.{p}")] = v
        summarize_trace(entry)
    per_length_and_backend(o, doc, "trace", measure)


def trace_stretch(o, run, label, first_mark=False):
    """run(marks) back to back: o.warmup_s of warm-up, then at least o.trace_s traced. Returns per op
    label the durations (ms) and in-place clocks (MHz) of every traced run, the marks' host times
    of the first runs with the NVML samples over them (the clock's trajectory), and NVML's medians."""
    warm_up(o, lambda: run(Marks()))
    tr = ClockTrace()
    tr.start()
    time.sleep(5e-3)
    marks = Marks()
    start = torch.cuda.Event(enable_timing=True)
    start.record()
    t_start = time.perf_counter()  # the GPU is idle: the start event completes at once
    t1, k = time.perf_counter(), 0
    while k < 3 or time.perf_counter() - t1 < o.trace_s:
        if first_mark:
            marks.mark("start")
        run(marks)
        k += 1
        if k % 4 == 0:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    time.sleep(5e-3)
    samples = tr.stop()
    ops, prev = {}, None
    sample_times = [t for t, _, _ in samples]  # appended in time order by one thread
    times = []
    for lab, e in marks.events:
        t = t_start + start.elapsed_time(e) / 1e3
        times.append((lab, t))
        if lab != "start" and prev is not None:
            r = ops.setdefault(lab, {"ms": [], "mhz": []})
            r["ms"].append(1e3 * (t - prev))
            r["mhz"].append(clock_over(samples, sample_times, prev, t))
        prev = t
    run_ms = []
    starts = [t for lab, t in times if lab == "start"]
    for a, b in zip(starts, starts[1:]):
        run_ms.append(1e3 * (b - a))
    med = lambda v: statistics.median(v) if v else 0.0
    summary = {lab: {"ms": med(r["ms"]), "mhz": med(r["mhz"]), "runs": len(r["ms"])} for lab, r in ops.items()}
    t_end = starts[min(len(starts) - 1, 8)] if len(starts) > 1 else times[-1][1]
    first = [(lab, round(t - t_start, 6)) for lab, t in times if t <= t_end]
    traj = [(round(t - t_start, 6), c, w) for t, c, w in samples if t_start - 0.01 <= t <= t_end + 0.01]
    nv = {"sm_clock_mhz": med([c for _, c, _ in samples]), "power_w": med([w for _, _, w in samples]),
          "samples": len(samples)}
    total = sum(s["ms"] for s in summary.values())
    log(f"  {label:<30} runs {k:>4}  {total:>9.2f} ms  clock {nv['sm_clock_mhz']:>6.0f} MHz  power {nv['power_w']:>4.0f} W  "
        f"samples {len(samples)}")
    return {"label": label, "runs": k, "ops": summary, "run_ms": run_ms[:200], "nvml": nv,
            "first_marks": first, "trajectory": traj}


def summarize_trace(entry):
    """Logs each op in place against alone: time and clock, and time x clock (constant where only the
    clock changed)."""
    L = entry["layer"]["ops"]
    A = entry["alone"]
    log(f"  {'op':<16}{'layer ms':>10}{'MHz':>7}{'alone ms':>10}{'MHz':>7}{'time':>8}{'clock':>8}{'t x f':>8}")
    sums = {}
    for lab, r in L.items():
        key = op_name(lab) + "." + lab.split(".")[1]
        a = A.get(key)
        if a is None:
            log(f"  {lab:<16}{r['ms']:>10.3f}{r['mhz']:>7.0f}")
            continue
        a = a["ops"][key]
        dt = r["ms"] / a["ms"] - 1 if a["ms"] else 0
        df = r["mhz"] / a["mhz"] - 1 if a["mhz"] else 0
        dtf = (r["ms"] * r["mhz"]) / (a["ms"] * a["mhz"]) - 1 if a["ms"] and a["mhz"] else 0
        log(f"  {lab:<16}{r['ms']:>10.3f}{r['mhz']:>7.0f}{a['ms']:>10.3f}{a['mhz']:>7.0f}{100 * dt:>+7.1f}%{100 * df:>+7.1f}%"
            f"{100 * dtf:>+7.1f}%")
        c = op_class(lab)
        s = sums.setdefault(c, [0.0, 0.0])
        s[0] += r["ms"]
        s[1] += a["ms"]
    rel = lambda lm, am: f"{100 * (lm / am - 1):+.1f}%" if am > 0 else "-"
    for c, (lm, am) in sums.items():
        log(f"  class {c:<10} layer {lm:>9.3f} ms  alone {am:>9.3f} ms  {rel(lm, am)}")
    lm, am = sum(v[0] for v in sums.values()), sum(v[1] for v in sums.values())
    log(f"  all ops          layer {lm:>9.3f} ms  alone {am:>9.3f} ms  {rel(lm, am)}")


def run_power(o, doc):
    log("# power: a GEMM phase (x[8192,4096] @ W[28672,4096]^T) and a memory-bound phase (adds of 1 GiB bf16 tensors)"
        " alternating; NVML clock and power sampled while they run (without the profiler), then the same"
        " periods profiled for the kernels' durations")
    g = torch.Generator(device=H.DEV)
    g.manual_seed(5)
    x = torch.randn((8192, 4096), generator=g, device=H.DEV, dtype=torch.bfloat16)
    w = torch.randn((28672, 4096), generator=g, device=H.DEV, dtype=torch.bfloat16) * 0.02
    n = (1 << 30) // 2
    a = torch.randn(n, generator=g, device=H.DEV, dtype=torch.bfloat16)
    b = torch.randn(n, generator=g, device=H.DEV, dtype=torch.bfloat16)
    c = torch.empty_like(a)

    def timed(fn, reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        fn()
        torch.cuda.synchronize()
        s.record()
        for _ in range(reps):
            fn()
        e.record()
        e.synchronize()
        return s.elapsed_time(e) / reps
    gemm = lambda: F.linear(x, w)
    add = lambda: torch.add(a, b, out=c)
    gemm_ms, add_ms = timed(gemm, 20), timed(add, 20)
    log(f"# one GEMM {gemm_ms:.3f} ms, one add {add_ms:.3f} ms (cold, before the warm-up)")
    # (phase length D of the GEMMs in ms, or 0 for GEMMs only, the adds' share of the period's time)
    cases = [(0, 0.0)] + [(D, 0.5) for D in o.phase_list_ms] + [(8, f) for f in (0.2, 0.35, 0.65, 0.8)] + [(-1, 1.0)]
    for D, share in cases:
        if D == 0:
            kg, ka = 1, 0
        elif D < 0:
            kg, ka = 0, 1
        else:
            kg = max(1, round(D / gemm_ms))
            ka = max(1, round(kg * gemm_ms * share / (1 - share) / add_ms))
        period_ms = kg * gemm_ms + ka * add_ms
        periods = max(2, int(1500 / period_ms))

        def period():
            for _ in range(kg):
                gemm()
            for _ in range(ka):
                add()
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < o.warmup_s:
            period()
            torch.cuda.synchronize()
        sampler = Sampler()
        sampler.start()
        for _ in range(periods):
            period()
        torch.cuda.synchronize()
        nv = sampler.stop()
        ks = kernels_of(lambda: [period() for _ in range(min(periods, 40))])
        gd = sorted(k["dur_us"] for k in ks if "gemm" in k["name"].lower() or "nvjet" in k["name"].lower()
                    or "xmma" in k["name"].lower())
        ad = sorted(k["dur_us"] for k in ks if "add" in k["name"].lower() or "elementwise" in k["name"].lower())
        med = lambda v: v[len(v) // 2] if v else 0.0
        r = {"gemm_phase_ms": D if D > 0 else None, "add_share": share, "gemms_per_period": kg, "adds_per_period": ka,
             "periods": periods, "gemm_median_us": med(gd), "gemm_kernels": len(gd), "add_median_us": med(ad),
             "add_kernels": len(ad), "nvml": nv}
        doc["power"].append(r)
        what = "GEMMs only" if D == 0 else "adds only" if D < 0 else f"D {D:g} ms, adds {100 * share:.0f}%"
        log(f"  {what:<22} GEMM x{kg:<4} add x{ka:<4} periods {periods:>5}  GEMM median {med(gd):>8.1f} us  "
            f"add median {med(ad):>7.1f} us  clock {nv['sm_clock_mhz']:>5.0f} MHz ({nv['sm_clock_min_mhz']:.0f}-"
            f"{nv['sm_clock_max_mhz']:.0f})  power {nv['power_w']:>4.0f} W")
        write(o, doc)
    del x, w, a, b, c
    torch.cuda.empty_cache()


def summarize_file(path):
    """The trace suite's tables (summarize_trace) of every entry of a file written earlier."""
    with open(path) as f:
        doc = json.load(f)
    log(f"# kernel_profile.py --summarize {path}: the trace suite's tables, op by op in place against alone "
        f"(time, clock, time x clock), then per class")
    for e in doc.get("trace", []):
        if "layer" not in e or "alone" not in e:
            continue
        nv = e["layer"]["nvml"]
        log(f"# T={e['seq']} {e['backend']}: layer {statistics.median(e['layer']['run_ms']):.2f} ms a run, "
            f"{nv['sm_clock_mhz']:.0f} MHz, {nv['power_w']:.0f} W")
        summarize_trace(e)
    return 0


def main(argv):
    o = parse_args(argv[1:])
    if o.summarize:
        return summarize_file(o.summarize)
    H.bind_torch(sys.modules[__name__])
    if not torch.cuda.is_available():
        print("kernel_profile: no CUDA device", file=sys.stderr)
        return 3
    env = H.environment()
    log(f"# kernel_profile: {env['gpu_model']} ({env['sm_count']} SMs), cuDNN {env['cudnn']}, torch {env['torch']}, "
        f"flash: {env['flash_impl']}; suites {','.join(o.suites)}")
    doc = {"format": "hcpsim-kernel-profile/1", "argv": argv, "environment": env, "power_limit_w": power_limit_w(),
           "geometry": [], "layer": [], "power": [], "trace": []}
    t0 = time.perf_counter()
    try:
        if "geometry" in o.suites:
            run_geometry(o, doc)
            log(f"# geometry: {time.perf_counter() - t0:.1f} s")
        if "layer" in o.suites:
            t1 = time.perf_counter()
            run_layer(o, doc)
            log(f"# layer: {time.perf_counter() - t1:.1f} s")
        if "power" in o.suites:
            t1 = time.perf_counter()
            run_power(o, doc)
            log(f"# power: {time.perf_counter() - t1:.1f} s")
        if "trace" in o.suites:
            t1 = time.perf_counter()
            run_trace(o, doc)
            log(f"# trace: {time.perf_counter() - t1:.1f} s")
    except Exception as e:
        import traceback
        traceback.print_exc()
        write(o, doc)
        log(f"# FAILED after {time.perf_counter() - t0:.1f} s: {e}")
        return 3
    write(o, doc)
    log(f"# total {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
