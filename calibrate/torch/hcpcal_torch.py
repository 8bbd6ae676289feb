#!/usr/bin/env python3
"""hcpcal_torch: hcpcal's companion for the kernels real training runs, through PyTorch.

hcpcal (calibrate/hcpcal/, C++/CUDA) measures hcpsim's own flash-attention kernels. Training
with Transformer Engine runs cuDNN's fused attention or FlashAttention instead, so this script
measures those two through PyTorch's scaled_dot_product_attention (SDPA), on the same shape
grid as hcpcal's attention suite (suite_attention.cu: attention_cases()), and writes the same
measurements.json schema ("hcpsim-measurements/1", calibrate/hcpcal/results.h) with a backend
on every record. Suites (--suite, default all three):

  attention  SDPBackend.CUDNN_ATTENTION ("cudnn") and SDPBackend.FLASH_ATTENTION ("flash"),
             forward and backward, bf16, batch 1, head dim 128, GQA through enable_gqa=True.
  layer      one Llama-3.1-8B transformer layer in plain PyTorch, Megatron's op order, forward,
             backward and both, with the cuDNN and the flash backend for its core attention,
             plus every op of the layer timed alone at the layer's shapes (results.ops).
  kernels    the layer's non-GEMM, non-attention kernels alone (RMSNorm, RoPE, SwiGLU, residual
             add), a Megatron-style vocab-parallel cross entropy and a fused AdamW step.
  gemm       the layer's GEMMs (hcpcal's gemm suite's shapes) in bf16 (torch.matmul) and in fp8 as
             Transformer Engine runs them on Hopper (torch._scaled_mm: cuBLASLt, per-tensor scales,
             E4M3 inputs, the gradient E5M2 in dgrad and wgrad, bf16 out), each with and without
             the split accumulator TE asks for in dgrad and wgrad. Not in the default.

Output follows nccl-tests and hcpcal: every non-data line starts with '#'. Exit 0 when every
check passed, 1 when any element was wrong, 2 on bad flags, 3 on a failure (finished
measurements stay in the file, which is rewritten atomically after every record).
See calibrate/torch/README.md.
"""
import argparse
import json
import math
import os
import socket
import re
import subprocess
import sys
import statistics
import time

FORMAT = "hcpsim-measurements/1"
HEADS_Q = 32        # of the square and step shapes; a2a's kernels have 32/R
HEAD_DIM = 128
BWD_FLOP_RATIO = 2.5  # as workload/attention_common.hpp and suite_attention.cu count the backward
NORM_TOL = 2e-2     # normwise relative error above which a whole checked sample counts as wrong

# Llama-3.1-8B
HIDDEN, N_HQ, N_HK, FFN, VOCAB = 4096, 32, 8, 14336, 128256
RMS_EPS = 1e-5
LAYER_PARAMS = HIDDEN * (N_HQ + 2 * N_HK) * HEAD_DIM + HIDDEN * HIDDEN + HIDDEN * 2 * FFN + FFN * HIDDEN + 2 * HIDDEN

torch = None  # imported in main(), so --help works without PyTorch
F = None
DEV = "cuda"


def log(line=""):
    print(line, flush=True)


# ----------------------------------------------------------------------------------------------
# Command line

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="hcpcal_torch",
        description="Measure PyTorch SDPA's cuDNN and FlashAttention backends on hcpcal's attention grid, "
        "one Llama-3.1-8B layer and its small kernels; write hcpsim-measurements/1 JSON.",
        allow_abbrev=False)
    p.add_argument("--suite", default="attention,layer,kernels",
                   help="attention,layer,kernels,cp,gemm (default attention,layer,kernels; cp needs --cp-cases)")
    p.add_argument("--gemm-tokens", default="4096,8192,16384",
                   help="gemm suite: token counts of the layer's GEMMs (default 4096,8192,16384, as hcpcal)")
    p.add_argument("--cp-cases", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "cp-cases.json"),
                   help="cp suite: every CP rank's attention kernels as hcpsim builds them "
                   "(make_cp_cases.py; default cp-cases.json beside this script)")
    p.add_argument("--out", default="measurements.json",
                   help="measurements JSON, written atomically after each record (default measurements.json)")
    p.add_argument("--backends", default="cudnn,flash", help="attention backends (default cudnn,flash)")
    p.add_argument("--seq-min", "--min-seq", dest="seq_min", type=int, default=1024,
                   help="attention: shortest sq/skv (default 1024, as hcpcal)")
    p.add_argument("--seq-max", "--max-seq", dest="seq_max", type=int, default=32768,
                   help="attention: longest sq/skv (default 32768, as hcpcal)")
    p.add_argument("--seq-factor", type=float, default=2.0,
                   help="attention: length step, rounded to 128 tokens (default 2, as hcpcal)")
    p.add_argument("--heads-kv", default="32,8", help="attention: KV head counts, 32 query heads (default 32,8)")
    p.add_argument("--cases", default="",
                   help="attention: only the grid's cases whose name matches this regular expression "
                   "(re.search; default: every case)")
    p.add_argument("-n", "--iters", type=int, default=20, help="timed iterations (default 20)")
    p.add_argument("-w", "--warmup-iters", "--warmup_iters", dest="warmup", type=int, default=3,
                   help="warm-up iterations, at least (default 3)")
    p.add_argument("--warmup-ms", type=float, default=500,
                   help="and at least MS ms of back-to-back warm-up, for the GPU's sustained clock "
                   "(default 500; 0: by count)")
    p.add_argument("--timed-ms", type=float, default=0,
                   help="cap the timed iterations at about MS ms of GPU time, never fewer than 5 "
                   "(default 0: exactly -n)")
    p.add_argument("-c", "--check", type=int, default=1, help="check results, #wrong column (default 1)")
    p.add_argument("--layer-seqs", default="8192,16384,32768,65536,131072",
                   help="layer and kernels suites: token counts (default 8192,16384,32768,65536,131072)")
    p.add_argument("--layer-iters", type=int, default=5,
                   help="layer suite: timed iterations of the layer and of each op (default 5)")
    p.add_argument("--ce-max-tokens", type=int, default=32768,
                   help="kernels suite: largest token count of the cross entropy (default 32768; "
                   "logits [T, 128256] bf16 + fp32 softmax + fp32 grad)")
    p.add_argument("--adam-params", default=f"{LAYER_PARAMS},{VOCAB * HIDDEN}",
                   help=f"kernels suite: AdamW parameter counts (default {LAYER_PARAMS} = one layer, "
                   f"{VOCAB * HIDDEN} = the embedding)")
    p.add_argument("--seed", type=int, default=1234, help="random inputs' seed (default 1234)")
    p.add_argument("--cudnn-frontend", default=None,
                   help="cuDNN frontend checkout for cuDNN's bottom-right causal kernels through its graph API "
                   "(default third_party/cudnn-frontend beside this script, from get-cudnn-frontend.sh)")
    p.add_argument("--cudnn-graph-build", default=None,
                   help="where the graph-API library is compiled (default third_party/build beside this script)")
    p.add_argument("--cudnn-graph-impl", default="composite", choices=["composite", "unified", "auto"],
                   help="cuDNN frontend SDPA implementation of the graph path's forward (default composite: "
                   "the fused flash graph PyTorch and Transformer Engine build)")
    o = p.parse_args(argv)

    def ints(flag, text, lo):
        try:
            v = [int(t) for t in text.split(",") if t]
        except ValueError:
            p.error(f"{flag}: '{text}' is not a list of integers")
        if not v or min(v) < lo:
            p.error(f"{flag}: '{text}' needs integers >= {lo}")
        return v

    o.suites = [s for s in o.suite.split(",") if s]
    for s in o.suites:
        if s not in ("attention", "layer", "kernels", "cp", "gemm"):
            p.error(f"--suite: unknown suite '{s}' (attention, layer, kernels, cp, gemm)")
    o.backend_list = [b for b in o.backends.split(",") if b]
    for b in o.backend_list:
        if b not in ("cudnn", "flash"):
            p.error(f"--backends: unknown backend '{b}' (cudnn, flash)")
    o.heads_kv = ints("--heads-kv", o.heads_kv, 1)
    for hk in o.heads_kv:
        if HEADS_Q % hk:
            p.error(f"--heads-kv: {hk} does not divide {HEADS_Q}")
    if o.seq_min < 128 or o.seq_max < 128:
        p.error("--seq-min/--seq-max: at least 128")
    if o.seq_min > o.seq_max:
        p.error("--seq-min is larger than --seq-max")
    if not (1.1 <= o.seq_factor <= 16):
        p.error("--seq-factor: a number in [1.1, 16]")
    if o.iters < 1 or o.layer_iters < 1 or o.warmup < 0 or o.warmup_ms < 0 or o.timed_ms < 0:
        p.error("-n/--layer-iters >= 1, -w/--warmup-ms/--timed-ms >= 0")
    try:
        o.cases_re = re.compile(o.cases) if o.cases else None
    except re.error as e:
        p.error(f"--cases: '{o.cases}' is not a regular expression ({e})")
    o.layer_seq_list = ints("--layer-seqs", o.layer_seqs, 128)
    o.adam_list = ints("--adam-params", o.adam_params, 1)
    o.gemm_token_list = ints("--gemm-tokens", o.gemm_tokens, 16)
    o.check = bool(o.check)
    if not selected_cases(o):
        p.error(f"--cases: '{o.cases}' matches no case of the attention grid (its names: s<len>_full_hk<n>, "
                "c<len>_lower_hk<n>, c<len>_prefix<m>, s<len>_causal_hq<n>, ...)")
    return o


# ----------------------------------------------------------------------------------------------
# measurements.json (schema: calibrate/hcpcal/results.h, plus the additions in README.md)

def num(x):
    """A float with 9 significant digits, as hcpcal's json_number; None for non-finite."""
    if x is None or not math.isfinite(x):
        return None
    return float(f"{x:.9g}")


class MeasurementLog:
    def __init__(self, path, argv, environment):
        self.path, self.argv, self.environment = path, argv, environment
        self.records, self.unsupported = [], []
        self.write(False)

    def add(self, record):
        self.records.append(clean(record))
        self.write(False)

    def add_unsupported(self, backend, name, reason):
        self.unsupported.append({"backend": backend, "name": name, "reason": reason})
        self.write(False)

    def finish(self):
        self.write(True)

    def total_wrong(self):
        return sum(r["check"]["wrong"] for r in self.records)

    def write(self, complete):
        t = ["{", f'  "format": "{FORMAT}",', '  "tool": "hcpcal_torch",',
             f'  "argv": {json.dumps(self.argv)},', f'  "complete": {"true" if complete else "false"},',
             f'  "environment": {json.dumps(self.environment)},']
        t.append('  "measurements": [' + ",".join("\n    " + json.dumps(r) for r in self.records) +
                 ("\n  ]," if self.records else "],"))
        t.append('  "unsupported": [' + ",".join("\n    " + json.dumps(u) for u in self.unsupported) +
                 ("\n  ]" if self.unsupported else "]"))
        t.append("}")
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(t) + "\n")
        os.replace(tmp, self.path)


def clean(x):
    """JSON-safe: non-finite floats become null (as hcpcal's json_number)."""
    if isinstance(x, float):
        return num(x)
    if isinstance(x, dict):
        return {k: clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    return x


def record(kind, backend, config, t, checked, wrong, results=None):
    r = {"kind": kind, "backend": backend, "config": config, "iterations": t["iterations"],
         "median_s": num(t["median_s"]), "min_s": num(t["min_s"]), "max_s": num(t["max_s"])}
    if t.get("sm_clock_mhz", 0) > 0:
        r["sm_clock_mhz"] = num(t["sm_clock_mhz"])
    r["check"] = {"done": bool(checked), "wrong": int(wrong)}
    if results:
        r["results"] = results
    return r


def command_output(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=30).stdout
    except Exception:
        return ""


def environment():
    props = torch.cuda.get_device_properties(0)
    env = {"hostname": socket.gethostname(), "gpu_model": torch.cuda.get_device_name(0),
           "gpu_count": torch.cuda.device_count(), "device": 0,
           "compute_capability": f"{props.major}.{props.minor}", "sm_count": props.multi_processor_count,
           "l2_bytes": int(getattr(props, "L2_cache_size", 0)), "memory_bytes": int(props.total_memory)}
    drv = command_output("nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null").strip()
    env["driver"] = drv.splitlines()[0] if drv else None
    env["cuda_runtime"] = torch.version.cuda
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    env["cudnn"] = f"{cudnn // 10000}.{cudnn // 100 % 100}.{cudnn % 100}" if cudnn else None
    env["cudnn_version"] = cudnn
    try:
        env["nccl"] = ".".join(str(x) for x in torch.cuda.nccl.version())
    except Exception:
        env["nccl"] = None
    try:
        from importlib import metadata
        env["cublas"] = next((metadata.version(n) for n in ("nvidia-cublas", "nvidia-cublas-cu13", "nvidia-cublas-cu12")
                              if _has_dist(metadata, n)), None)
    except Exception:
        env["cublas"] = None
    env["torch"] = torch.__version__
    env["python"] = sys.version.split()[0]
    env["flash_impl"] = flash_impl_name()
    env["sm_clock"] = ("sm_clock_mhz: the SM clock the GPU counted just after the timed runs and, where they ran "
                       "back to back on the warm-up's backlog, just before them (two spin kernels of 100K and 300K "
                       "clock64 cycles in the same stream; cycle difference / time difference; effective_clock(): the mean "
                       "of the ends where they agree within 3 %, results.sm_clock_source gpu_cycles, else NVML's median); NVML's reading (nvmlDeviceGetClockInfo, polled "
                       "every ~0.5 ms while the runs execute, median) is kept as results.sm_clock_nvml_mhz")
    env["sm_clock_max_mhz"] = nvml_max_clock()
    env["launch"], env["mpi"], env["processes"], env["gpus_per_process"], env["ranks"] = "single", False, 1, 1, 1
    env["topology"] = command_output("nvidia-smi topo -m 2>/dev/null")
    return env


def _has_dist(metadata, name):
    try:
        metadata.version(name)
        return True
    except Exception:
        return False


def flash_impl_name():
    """Which FlashAttention SDPA's FLASH_ATTENTION backend runs: PyTorch's own FA2 kernels unless
    another implementation (FA3/FA4 packages) was activated through torch.nn.attention."""
    try:
        import torch.nn.attention as A
        cur = A.current_flash_attention_impl() if hasattr(A, "current_flash_attention_impl") else None
        avail = A.list_flash_attention_impls() if hasattr(A, "list_flash_attention_impls") else []
        if cur:
            return f"{cur} (activated; registered: {avail})"
        return f"FA2 (built into PyTorch; other registered implementations: {avail or 'none'})"
    except Exception as e:  # pragma: no cover
        return f"FA2 (built into PyTorch; {e})"


# ----------------------------------------------------------------------------------------------
# Timing: CUDA events around each call, after a warm-up to the GPU's sustained clock

def spin(seconds):
    """A one-thread GPU spin of about `seconds` (clock64 cycles at 2 GHz, the boost clock's order)."""
    torch.cuda._sleep(int(seconds * 2.0e9))


def event_times(fn, n, w, one_at_a_time=False):
    """Seconds of each of n calls of fn() on the current stream between CUDA events, after w untimed
    ones: queued back to back (as a training step runs its kernels), or each waited for before the
    next. The probes' timer (hcpcal_torch's own suites time through Timer.measure)."""
    for _ in range(w):
        fn()
    events = []
    for _ in range(n):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        if one_at_a_time:
            b.synchronize()
        events.append((a, b))
    torch.cuda.synchronize()
    return [a.elapsed_time(b) * 1e-3 for a, b in events]


def kernel_names(fn):
    """The CUDA kernels one call of fn launches, from torch.profiler (evidence of which library ran)."""
    try:
        from torch.profiler import profile, ProfilerActivity
        fn()
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            torch.cuda.synchronize()
        names = []
        for e in prof.events():
            if getattr(e, "device_type", None) is not None and "CUDA" in str(e.device_type) and e.name not in names:
                names.append(e.name)
        return [n[:120] for n in names][:6]
    except Exception as e:
        return [f"(profiler failed: {str(e).splitlines()[0][:100]})"]


_NVML = {}


def nvml_clock():
    """The GPU's current SM clock (MHz) from NVML (nvmlDeviceGetClockInfo(NVML_CLOCK_SM), what
    nvidia-smi --query-gpu=clocks.sm and torch.cuda.clock_rate() read); 0 where NVML is missing."""
    try:
        if "h" not in _NVML:
            import pynvml
            pynvml.nvmlInit()
            idx = torch.cuda._get_nvml_device_index(0) if hasattr(torch.cuda, "_get_nvml_device_index") else 0
            _NVML.update(m=pynvml, h=pynvml.nvmlDeviceGetHandleByIndex(idx))
        return float(_NVML["m"].nvmlDeviceGetClockInfo(_NVML["h"], _NVML["m"].NVML_CLOCK_SM))
    except Exception:
        try:
            return float(torch.cuda.clock_rate())
        except Exception:
            return 0.0


def clock_during(last_event):
    """The SM clock of the timed runs: NVML polled every ~0.5 ms by the host while they execute
    (until `last_event`, the last run's end event, completes): the median of those samples; where
    the runs finished before the first sample (short runs, or a host slower than the GPU), one
    reading right after them. Returns (MHz, source, samples, spread): spread is the samples' mean,
    10th and 90th percentiles (the power limiter can move the clock between two levels faster than
    the runs last; the median then says one level, the mean the time-average: both are kept)."""
    samples = []
    while not last_event.query():
        c = nvml_clock()
        if c > 0:
            samples.append(c)
        time.sleep(5e-4)
    if samples:
        samples.sort()
        n = len(samples)
        spread = {"sm_clock_mean_mhz": sum(samples) / n, "sm_clock_p10_mhz": samples[n // 10],
                  "sm_clock_p90_mhz": samples[min(n - 1, (9 * n) // 10)]}
        return samples[n // 2], "nvml_during", n, spread
    return nvml_clock(), "nvml_after", 0, {}


CLOCK_SPIN_CYCLES = (100_000, 300_000)


def enqueue_clock_probe():
    """Two spin kernels of known SM cycles (torch.cuda._sleep counts clock64), each between two CUDA
    events, enqueued where the clock is wanted; clock_of() reads them once they ran."""
    probe = []
    for cycles in CLOCK_SPIN_CYCLES:
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        torch.cuda._sleep(cycles)
        b.record()
        probe.append((cycles, a, b))
    return probe


def clock_of(probe):
    """The SM clock (MHz) a clock probe ran at: the cycle difference of its two spins over their time
    difference (what launching a kernel costs cancels out); 0 where the times do not differ."""
    (c1, a1, b1), (c2, a2, b2) = probe
    dt = (a2.elapsed_time(b2) - a1.elapsed_time(b1)) * 1e-3
    return (c2 - c1) / dt / 1e6 if dt > 0 else 0.0


CLOCK_ENDS_AGREE = 0.03  # the two ends within 3 %: the clock held still through the timed runs


def effective_clock(ends, nvml, nvml_source, max_mhz):
    """The SM clock to pair with a stretch's median time, from the GPU-counted clock at its ends (one
    or two readings, MHz) and NVML's median over it. A reading above the GPU's top clock (x 1.03, the
    probe's own error) is not a clock and is dropped. One end, or two that agree within
    CLOCK_ENDS_AGREE: their mean (NVML's reading can sit 10-20 % off for a whole stretch of short
    kernels at the power limit: RESULTS.md, fourteenth run). Two ends apart: the clock moved while
    the runs went on (long stretches, where the limiter reacts), and NVML's median over the stretch
    is the better pair for the median time. Returns (MHz, source)."""
    ok = [c for c in ends if c > 0 and (max_mhz <= 0 or c <= 1.03 * max_mhz)]
    if len(ok) == 1 and len(ends) == 1:
        return ok[0], "gpu_cycles"
    if len(ok) == 2 and abs(ok[0] - ok[1]) <= CLOCK_ENDS_AGREE * 0.5 * (ok[0] + ok[1]):
        return 0.5 * (ok[0] + ok[1]), "gpu_cycles"
    return nvml, nvml_source


def nvml_max_clock():
    """The GPU's top SM clock (MHz) from NVML (nvmlDeviceGetMaxClockInfo), read once; 0 where NVML is
    missing."""
    if "max" not in _NVML:
        try:
            nvml_clock()  # initialises _NVML
            _NVML["max"] = float(_NVML["m"].nvmlDeviceGetMaxClockInfo(_NVML["h"], _NVML["m"].NVML_CLOCK_SM))
        except Exception:
            _NVML["max"] = 0.0
    return _NVML["max"]


class Timer:
    def __init__(self, opts):
        self.o = opts

    def measure(self, run, iters, min_warmup=None, setup=True):
        """run(i) enqueues call i on the current stream. Call 0 is a set-up run (plans, lazy
        initialisation; untimed, not counted; left out with setup=False where the caller has
        just run the same work); call 1 is timed alone and sizes the warm-up as
        hcpcal's warmup_runs(): max(-w, ceil(warmup_ms / its time)) runs back to back, it among
        them, ending early only once -w runs and warmup_ms of wall time are done (a call whose
        host side is slower than its kernels cannot load the GPU more than that). Then `iters`
        calls (fewer under --timed-ms), each between two CUDA events; median, min, max. The
        sizing call is preceded by a 1 ms GPU spin (torch.cuda._sleep), so its kernels are
        queued before its start event runs. A call whose GPU time is at least twice its host
        time runs its timed calls straight after the warm-up, back to back with no
        synchronisation: the warm-up's backlog keeps the GPU busy, as in training, and the GPU
        stays in the power state of the work itself. (A spin before each call would idle the
        GPU for twice the host time, milliseconds for a layer's autograd pass: the power
        limiter then lets the clock rise, and a 21 ms layer at 8K tokens read 8 % fast; RESULTS.md,
        eighth run.) A host-bound call (GPU time under twice the host time) cannot be kept busy
        that way: each timed call is preceded by a spin of twice the host time (at least 20 us),
        so the events bracket GPU work, not Python's launch gaps."""
        o = self.o
        w = o.warmup if min_warmup is None else min_warmup
        torch.cuda.synchronize()
        if setup:
            run(0)
            torch.cuda.synchronize()
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        spin(1e-3)
        a.record()
        h0 = time.perf_counter()
        run(1)
        host1 = time.perf_counter() - h0
        b.record()
        b.synchronize()
        first = a.elapsed_time(b) * 1e-3
        target = w
        if o.warmup_ms > 0 and first > 0:
            target = max(w, min(10 ** 6, math.ceil(o.warmup_ms * 1e-3 / first)))
        call, done, host = 2, 1, []
        t0 = time.perf_counter()
        while done < target:
            h0 = time.perf_counter()
            run(call)
            h1 = time.perf_counter()
            if len(host) < 8:
                host.append(h1 - h0)
            call += 1
            done += 1
            if o.warmup_ms > 0 and done >= w and h1 - t0 >= o.warmup_ms * 1e-3:
                break
        host.append(host1)
        cpu = sorted(host)[len(host) // 2]
        back_to_back = first >= 2 * cpu
        if not back_to_back:
            torch.cuda.synchronize()
        warm_s = time.perf_counter() - t0  # back to back: the host's enqueueing time (the GPU runs on)
        n = iters
        if o.timed_ms > 0:
            n = min(iters, max(5, int(o.timed_ms * 1e-3 / max(first, 1e-9))))
        spin_s = 0.0 if back_to_back else min(5e-3, max(20e-6, 2 * cpu))
        evs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(n)]
        # The clock at both ends of the timed runs, counted by the GPU: NVML's reading of a GPU at
        # its power limit can stay 10-20 % off the clock the kernels run at for a whole stretch
        # (calibrate/RESULTS.md, fourteenth run).
        # The probe before the runs only where the warm-up's backlog keeps the GPU busy up to it: after
        # an idle GPU (the spin mode's synchronisation) its first spin starts slowly and reads high.
        probe_before = enqueue_clock_probe() if back_to_back else None
        for ea, eb in evs:
            if spin_s > 0:
                spin(spin_s)
            ea.record()
            run(call)
            eb.record()
            call += 1
        probe_after = enqueue_clock_probe()
        if back_to_back:  # the GPU is still on the warm-up's backlog: sample the timed calls' clock
            while not evs[0][0].query():
                time.sleep(2e-4)
        nvml, nvml_source, nsamples, spread = clock_during(evs[-1][1])
        torch.cuda.synchronize()
        after = nvml_clock()
        ends = [clock_of(p) for p in (probe_before, probe_after) if p]
        clock, source = effective_clock(ends, nvml, nvml_source, nvml_max_clock())
        ts = sorted(ea.elapsed_time(eb) * 1e-3 for ea, eb in evs)
        med = ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])
        return {"median_s": med, "min_s": ts[0], "max_s": ts[-1], "iterations": n,
                "sm_clock_mhz": clock, "sm_clock_source": source, "sm_clock_samples": nsamples,
                "sm_clock_after_mhz": after, "sm_clock_spread": spread, "sm_clock_nvml_mhz": nvml,
                "sm_clock_ends_mhz": ends,
                "warmup_runs": done, "warmup_wall_s": warm_s, "host_s": cpu, "spin_s": spin_s,
                "back_to_back": back_to_back}


def rotation_sets(nbytes, cap):
    """As hcpcal's rotation_sets(): copies of a working set of `nbytes` so the rotation is larger
    than twice the L2 and every timed call reads its inputs from HBM; 1..cap."""
    l2 = int(getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 50 << 20))
    want = 2 * l2
    sets = 1 if nbytes == 0 else -(-want // nbytes)
    return max(1, min(cap, sets))


def timing_results(t):
    return {"sm_clock_source": t["sm_clock_source"], "sm_clock_samples": t["sm_clock_samples"],
            "sm_clock_after_mhz": num(t["sm_clock_after_mhz"]), "sm_clock_nvml_mhz": num(t["sm_clock_nvml_mhz"]),
            "sm_clock_ends_mhz": [num(c) for c in t["sm_clock_ends_mhz"]],
            **{k: num(v) for k, v in t.get("sm_clock_spread", {}).items()},
            "warmup_runs": t["warmup_runs"],
            "warmup_wall_s": num(t["warmup_wall_s"]), "host_s": num(t["host_s"]), "spin_s": num(t["spin_s"]),
            "back_to_back": t["back_to_back"]}


# ----------------------------------------------------------------------------------------------
# Checks

def flat(x):
    if isinstance(x, (tuple, list)):
        return [t for y in x for t in flat(y)]
    return [x] if torch.is_tensor(x) else []


def poisoned(fn):
    """Calls fn() once to learn the sizes of the tensors it returns, frees them, fills blocks of
    exactly those sizes with 0xFF bytes (NaN in bf16 and fp32) and frees them too, so PyTorch's
    caching allocator hands them to the checked call fn() that follows; returns its result and
    whether every returned tensor landed in a poisoned block (the allocator decides, so this is
    reported, not assumed)."""
    sizes = [t.untyped_storage().nbytes() for t in flat(fn())]
    blocks = [torch.full((n,), 255, dtype=torch.uint8, device=DEV) for n in sizes if n > 0]
    ptrs = {b.data_ptr() for b in blocks}
    del blocks
    out = fn()
    hit = all(t.untyped_storage().data_ptr() in ptrs for t in flat(out))
    return out, hit


def nonfinite(t):
    return int((~torch.isfinite(t)).sum().item())


def compare(x, ref):
    """Elements of x farther than 0.02 + 0.02|ref| from the float64 reference (suite_attention.cu's
    rule), NaN counting as wrong; and the normwise relative error, above NORM_TOL of which every
    element of the sample counts as wrong."""
    xd = x.detach().to(torch.float64)
    ref = ref.detach()
    diff = (xd - ref).abs()
    wrong = int((~(diff <= 0.02 + 0.02 * ref.abs())).sum().item())
    den = float(torch.linalg.norm(ref))
    rel = float(torch.linalg.norm(xd - ref)) / den if den > 0 else float(torch.linalg.norm(xd - ref))
    if not (rel <= NORM_TOL):
        wrong = max(wrong, x.numel())
    return wrong, rel


# ----------------------------------------------------------------------------------------------
# Suite: attention

class AttnCase:
    def __init__(self, name, sq, skv, hq, hk, causal, bottom_right=False):
        self.name, self.sq, self.skv, self.hq, self.hk = name, sq, skv, hq, hk
        self.causal, self.bottom_right = causal, bottom_right

    @property
    def offset(self):  # row i sees keys 0..i + offset
        return self.skv - self.sq if self.causal and self.bottom_right else 0

    @property
    def mask(self):
        return "none" if not self.causal else "causal_bottom_right" if self.bottom_right else "causal"


def lengths(lo, hi, factor):
    """suite_attention.cu's lengths(): lo to hi, each `factor` times the last, rounded to 128."""
    out, x = [], float(lo)
    while x <= hi * 1.0001:
        n = max(128, int(x + 64) // 128 * 128)
        if n <= hi and (not out or n > out[-1]):
            out.append(n)
        x *= factor
    return out


def attention_cases(o):
    """suite_attention.cu's attention_cases(), same names and order."""
    out = []
    for hk in o.heads_kv:
        tag = f"_hk{hk}"
        for s in lengths(o.seq_min, o.seq_max, o.seq_factor):
            for causal in (False, True):
                out.append(AttnCase(f"s{s}{'_causal' if causal else '_full'}{tag}", s, s, HEADS_Q, hk, causal))
        for c in lengths(o.seq_min, o.seq_max // 2, o.seq_factor):
            out.append(AttnCase(f"c{c}_lower{tag}", 2 * c, c, HEADS_Q, hk, False))
            out.append(AttnCase(f"c{c}_upper{tag}", c, 2 * c, HEADS_Q, hk, False))
    # all_gather chunks (bottom-right causal against the gathered prefix) and a2a kernels, GQA 4
    for m in (2, 4, 8):
        for c in lengths(o.seq_min, o.seq_max // m, o.seq_factor * o.seq_factor):
            out.append(AttnCase(f"c{c}_prefix{m}", c, m * c, HEADS_Q, 8, True, True))
    for r in (2, 4, 8):
        for s in lengths(o.seq_min, o.seq_max, o.seq_factor * o.seq_factor):
            out.append(AttnCase(f"s{s}_causal_hq{HEADS_Q // r}", s, s, HEADS_Q // r, 8 // r, True))
    return out


def visible(c):
    """Score elements the kernel computes: sq*skv, or row i sees keys 0..min(i + offset, skv-1)."""
    if not c.causal:
        return c.sq * c.skv
    off, skv, sq = c.offset, c.skv, c.sq
    # sum_{i=0}^{sq-1} min(skv, i + 1 + off): rows below the saturation point, then skv each
    k = max(0, min(sq, skv - off))          # rows with i + 1 + off <= skv
    return k * (off + 1) + k * (k - 1) // 2 + (sq - k) * skv


def fwd_flops(c):
    return 4.0 * c.hq * HEAD_DIM * visible(c)


def sdpa_backend(name):
    from torch.nn.attention import SDPBackend
    return {"cudnn": SDPBackend.CUDNN_ATTENTION, "flash": SDPBackend.FLASH_ATTENTION}[name]


def sdpa_context(name):
    from torch.nn.attention import sdpa_kernel
    return sdpa_kernel([sdpa_backend(name)])


def attn_call(s, c, mode, expand, graph=None):
    """One SDPA call on input set s (bshd leaves, viewed as [b, h, s, d] as TE's bshd layout).
    mode: "causal" (is_causal, top-left), "none", "lower_right" (the CausalBias from
    torch.nn.attention.bias.causal_lower_right), or "cudnn_graph" (cuDNN's bottom-right causal
    kernel through its graph API, cudnn_graph.py; graph: its CudnnGraph). expand: K/V were
    expanded to the query heads."""
    from torch.nn.attention.bias import causal_lower_right
    q = s["q"].transpose(1, 2)
    k = (s["ke"] if expand else s["k"]).transpose(1, 2)
    v = (s["ve"] if expand else s["v"]).transpose(1, 2)
    if mode == "cudnn_graph":
        return graph.attention(q, k, v, "causal_bottom_right")
    gqa = (not expand) and c.hq != c.hk
    if mode == "lower_right":
        return F.scaled_dot_product_attention(q, k, v, attn_mask=causal_lower_right(c.sq, c.skv), enable_gqa=gqa)
    return F.scaled_dot_product_attention(q, k, v, is_causal=(mode == "causal"), enable_gqa=gqa)


def make_attn_set(c, gen, expand):
    def rnd(rows, heads):
        return torch.randn((1, rows, heads, HEAD_DIM), generator=gen, device=DEV, dtype=torch.bfloat16)
    s = {"q": rnd(c.sq, c.hq).requires_grad_(), "k": rnd(c.skv, c.hk), "v": rnd(c.skv, c.hk), "do": rnd(c.sq, c.hq)}
    if expand:  # K/V expanded to the query heads outside the timed call; their grads are summed back for the check
        g = c.hq // c.hk
        s["ke"] = s["k"].repeat_interleave(g, dim=2).requires_grad_()
        s["ve"] = s["v"].repeat_interleave(g, dim=2).requires_grad_()
    s["k"].requires_grad_()
    s["v"].requires_grad_()
    return s


def d_out(s):
    """dO as the output's [b, h, s, d] view of the bshd buffer."""
    return s["do"].transpose(1, 2)


def grad_inputs(s, expand):
    return (s["q"], s["ke"], s["ve"]) if expand else (s["q"], s["k"], s["v"])


def attn_reference(c, s, rows, cols):
    """Float64 reference on the GPU from the bf16 inputs: O and dQ on sampled query rows of the
    first and the last query head; dK and dV on sampled key rows of the last KV head, summed over
    its query-head group, from a blocked pass over every query row of those heads."""
    d, group, off, scale = HEAD_DIM, c.hq // c.hk, c.offset, HEAD_DIM ** -0.5
    q, k, v, do = s["q"][0].detach(), s["k"][0].detach(), s["v"][0].detach(), s["do"][0]
    rows_t = torch.tensor(rows, device=DEV)
    cols_t = torch.tensor(cols, device=DEV)
    keys = torch.arange(c.skv, device=DEV)
    ref = {}
    for h in sorted({0, c.hq - 1}):
        g = h // group
        kh, vh = k[:, g].double(), v[:, g].double()
        qh, doh = q[rows_t, h].double(), do[rows_t, h].double()
        sc = qh @ kh.T * scale
        if c.causal:
            sc.masked_fill_(keys[None, :] > rows_t[:, None] + off, float("-inf"))
        p = torch.softmax(sc, dim=-1)
        o = p @ vh
        dp = doh @ vh.T
        ds = p * (dp - (doh * o).sum(-1, keepdim=True))
        ref[("o", h)] = o
        ref[("dq", h)] = ds @ kh * scale
    g = c.hk - 1
    kh, vh = k[:, g].double(), v[:, g].double()
    kc, vc = kh[cols_t], vh[cols_t]
    dk = torch.zeros(len(cols), d, dtype=torch.float64, device=DEV)
    dv = torch.zeros_like(dk)
    block = max(64, (1 << 26) // c.skv)
    for h in range(g * group, (g + 1) * group):
        qh, doh = q[:, h].double(), do[:, h].double()
        for r0 in range(0, c.sq, block):
            r1 = min(c.sq, r0 + block)
            kend = c.skv if not c.causal else min(c.skv, r1 + off)
            ri = torch.arange(r0, r1, device=DEV)
            sc = qh[r0:r1] @ kh[:kend].T * scale
            if c.causal:
                sc.masked_fill_(keys[None, :kend] > ri[:, None] + off, float("-inf"))
            lse = torch.logsumexp(sc, dim=-1, keepdim=True)
            sc.sub_(lse).exp_()
            o = sc @ vh[:kend]
            del sc
            dd = (doh[r0:r1] * o).sum(-1, keepdim=True)
            sj = qh[r0:r1] @ kc.T * scale
            if c.causal:
                sj.masked_fill_(cols_t[None, :] > ri[:, None] + off, float("-inf"))
            pj = torch.exp(sj - lse)
            dsj = pj * (doh[r0:r1] @ vc.T - dd)
            dv += pj.T @ doh[r0:r1]
            dk += dsj.T @ qh[r0:r1] * scale
    ref["dk"], ref["dv"], ref["kv_head"] = dk * 1.0, dv, g
    return ref


def sample_rows(n, count, gen):
    pick = torch.randperm(n, generator=gen)[:count].tolist()
    return sorted(set(pick) | {0, n - 1})


def check_attention(c, s, ref, rows, cols, call, expand):
    """One poisoned checked forward and backward on input set s against the reference."""
    (o,), hit_f = poisoned(lambda: (call(),))
    fwd_wrong, rel = nonfinite(o), {}
    rows_t = torch.tensor(rows, device=DEV)
    for h in sorted({0, c.hq - 1}):
        w, rel[f"o_h{h}"] = compare(o[0, h, rows_t], ref[("o", h)])
        fwd_wrong += w
    gi = grad_inputs(s, expand)
    grads, hit_b = poisoned(lambda: torch.autograd.grad(o, gi, d_out(s), retain_graph=True))
    dq, dk, dv = grads
    bwd_wrong = sum(nonfinite(t) for t in grads)
    if expand:
        grp = c.hq // c.hk
        dk = dk.view(1, c.skv, c.hk, grp, HEAD_DIM).float().sum(3)
        dv = dv.view(1, c.skv, c.hk, grp, HEAD_DIM).float().sum(3)
    for h in sorted({0, c.hq - 1}):
        w, rel[f"dq_h{h}"] = compare(dq[0, rows_t, h], ref[("dq", h)])
        bwd_wrong += w
    cols_t = torch.tensor(cols, device=DEV)
    g = ref["kv_head"]
    w1, rel[f"dk_kv{g}"] = compare(dk[0, cols_t, g], ref["dk"])
    w2, rel[f"dv_kv{g}"] = compare(dv[0, cols_t, g], ref["dv"])
    bwd_wrong += w1 + w2
    del o, grads
    return fwd_wrong, bwd_wrong, {k: num(v) for k, v in rel.items()}, hit_f, hit_b


def small_ref(q, k, v, off, causal):
    """Plain float64 attention on [b, s, h, d] inputs with a (possibly offset) causal mask."""
    g = q.shape[2] // k.shape[2]
    qd = q.double().transpose(1, 2)
    kd = k.double().repeat_interleave(g, 2).transpose(1, 2)
    vd = v.double().repeat_interleave(g, 2).transpose(1, 2)
    sc = qd @ kd.transpose(-1, -2) * q.shape[-1] ** -0.5
    if causal:
        i = torch.arange(q.shape[1], device=q.device)[:, None]
        j = torch.arange(k.shape[1], device=q.device)[None, :]
        sc.masked_fill_(j > i + off, float("-inf"))
    return torch.softmax(sc, -1) @ vd


def _probe_call(b, s, c, mode, expand):
    with sdpa_context(b):
        try:
            return attn_call(s, c, mode, expand)
        except Exception:
            return None


def probe_backends(backends, opts, timer):
    """Which backends run, whether they take GQA natively, and how each expresses a bottom-right
    causal mask (is_causal with sq < skv, the CausalBias from causal_lower_right, or for cuDNN
    its graph API), checked against float64 at a small shape. Returns {backend: {...}}."""
    info = {}
    gen = torch.Generator(device=DEV)
    gen.manual_seed(7)
    for b in backends:
        r = {"available": False, "expand_kv": False, "bottom_right": None, "reason": ""}
        c = AttnCase("probe", 256, 256, 4, 2, True)
        try:
            with sdpa_context(b):
                try:
                    s = make_attn_set(c, gen, False)
                    o = attn_call(s, c, "causal", False)
                    torch.autograd.grad(o, grad_inputs(s, False), d_out(s))
                except RuntimeError as e:
                    r["gqa_error"] = str(e).splitlines()[0][:300]
                    s = make_attn_set(c, gen, True)
                    o = attn_call(s, c, "causal", True)
                    torch.autograd.grad(o, grad_inputs(s, True), d_out(s))
                    r["expand_kv"] = True
                torch.cuda.synchronize()
                r["available"] = True
        except Exception as e:
            r["reason"] = f"{b} backend did not run a 256x256 causal bf16 d128 attention: {str(e).splitlines()[0][:300]}"
            info[b] = r
            continue
        # bottom-right causal at 128 x 384 (offset 256)
        c = AttnCase("probe_br", 128, 384, 4, 2, True, True)
        s = make_attn_set(c, gen, r["expand_kv"])
        q, k, v = s["q"].detach(), s["k"].detach(), s["v"].detach()
        ref_br = small_ref(q, k, v, c.offset, True)
        ref_tl = small_ref(q, k, v, 0, True)
        tries = {}
        for mode in ("causal", "lower_right"):
            try:
                with sdpa_context(b):
                    o = attn_call(s, c, mode, r["expand_kv"]).double()
                    torch.autograd.grad(o.sum(), grad_inputs(s, r["expand_kv"]))
                o = o.detach()
                e_br = float((o - ref_br).abs().max())
                e_tl = float((o - ref_tl).abs().max())
                tries[mode] = "bottom-right" if e_br < 2e-2 else "top-left" if e_tl < 2e-2 else \
                    f"neither mask (max err {e_br:.3g} vs bottom-right)"
            except Exception as e:
                tries[mode] = "error: " + str(e).splitlines()[0][:200]
        r["probe"] = tries
        r["kernels_causal_square"] = kernel_names(lambda: _probe_call(b, make_attn_set(AttnCase("k", 256, 256, 4, 2, True),
                                                                                       gen, r["expand_kv"]),
                                                                      AttnCase("k", 256, 256, 4, 2, True), "causal",
                                                                      r["expand_kv"]))
        r["kernels_lower_right"] = kernel_names(lambda: _probe_call(b, s, c, "lower_right", r["expand_kv"]))
        if tries["causal"] == "bottom-right":
            r["bottom_right"] = "causal"
        elif tries["lower_right"] == "bottom-right" and b == "flash":
            # CausalBias(LOWER_RIGHT) calls aten::_scaled_dot_product_flash_attention with
            # is_causal=True, which FlashAttention-2 aligns bottom-right: the flash kernel itself
            r["bottom_right"] = "lower_right"
        else:
            if b == "cudnn":
                lr = tries["lower_right"]
                sdpa_reason = (
                    "PyTorch's cuDNN SDPA sets only a top-left causal mask (is_causal; probe at 128x384: "
                    f"{tries['causal']}); torch.nn.attention.bias.causal_lower_right under "
                    "SDPBackend.CUDNN_ATTENTION cannot take its FlashAttention path and "
                    + (f"fails (probe: {lr})" if lr.startswith("error") else
                       f"falls back to a materialised dense sq x skv boolean attn_mask (probe: {lr}; kernels: "
                       f"{r['kernels_lower_right']}), a masked kernel that computes every score")
                    + ", not cuDNN's bottom-right causal kernel that Transformer Engine runs")
                graph = probe_cudnn_graph(opts, timer, gen, s, c, r)
                if graph:
                    r["bottom_right"], r["graph"], r["sdpa_bottom_right"] = "cudnn_graph", graph, sdpa_reason
                else:
                    r["reason_br"] = sdpa_reason + "; cuDNN's graph API: " + r["graph_error"]
            else:
                r["reason_br"] = f"no bottom-right causal path (probe at 128x384: {tries})"
        info[b] = r
    return info


def probe_cudnn_graph(o, timer, gen, s, c, r):
    """cuDNN's bottom-right causal kernel through its graph API (cudnn_graph.py): build it, check it
    at the probe's shape against float64 (O, dQ, dK, dV), list its kernels, and time a causal square
    through both PyTorch's SDPA and the graph, the evidence that the graph path runs the kernels
    SDPA runs. Returns the CudnnGraph, or None with r["graph_error"] saying why."""
    import cudnn_graph as cg
    try:
        lib, desc = cg.build_library(torch, o.cudnn_frontend or cg.DEFAULT_FRONTEND,
                                     o.cudnn_graph_build or os.path.join(cg.HERE, "third_party", "build"), log)
        graph = cg.CudnnGraph(torch, lib, o.cudnn_graph_impl)
    except (cg.GraphUnavailable, OSError) as e:
        r["graph_error"] = str(e)[:1500]
        return None
    r["graph_build"] = dict(desc, **graph.versions(), implementation=o.cudnn_graph_impl)
    try:
        leaves = grad_inputs(s, False)
        x64 = [t.detach().double().requires_grad_() for t in leaves]
        ref = small_ref(*x64, c.offset, True)
        gout = torch.randn(ref.shape, generator=gen, device=DEV, dtype=torch.float64)
        ref_grads = torch.autograd.grad(ref, x64, gout)
        out = attn_call(s, c, "cudnn_graph", False, graph)
        grads = torch.autograd.grad(out, leaves, gout.to(out.dtype))
        errs = {"o": float((out.double() - ref).norm() / ref.norm())}
        for name, g, rg in zip(("dq", "dk", "dv"), grads, ref_grads):
            errs[name] = float((g.double() - rg).norm() / rg.norm())
    except Exception as e:
        r["graph_error"] = "probe failed: " + str(e).splitlines()[0][:500]
        return None
    r["graph_probe_rel_err"] = {k: num(v) for k, v in errs.items()}
    if max(errs.values()) > NORM_TOL:
        r["graph_error"] = f"bottom-right probe at 128x384 off the float64 reference: {errs}"
        return None
    r["kernels_graph_bottom_right"] = kernel_names(lambda: attn_call(s, c, "cudnn_graph", False, graph))
    sq = AttnCase("probe_square", 4096, 4096, HEADS_Q, 8, True)
    ss = make_attn_set(sq, gen, False)
    # The same square through SDPA (top-left causal), the graph with the top-left mask, and the
    # graph with the bottom-right mask (identical scores on a square): the first two show the graph
    # path runs SDPA's kernels at SDPA's speed; the third how cuDNN runs the bottom-right mask.
    def call(path):
        if path == "sdpa":
            return attn_call(ss, sq, "causal", False)
        q, k, v = (ss[n].transpose(1, 2) for n in ("q", "k", "v"))
        return graph.attention(q, k, v, "causal" if path == "graph_top_left" else "causal_bottom_right")

    # Evidence only: where it fails (memory, a GPU whose top-left graph does not build), the
    # graph path stays, checked above, and the probe says why the comparison is missing.
    try:
        cmp = {}
        for path in ("sdpa", "graph_top_left", "graph"):
            with sdpa_context("cudnn"):
                tf = timer.measure(lambda i: call(path), 10)
                out = call(path)
                bwd = lambda: torch.autograd.grad(out, grad_inputs(ss, False), d_out(ss), retain_graph=True)
                tb = timer.measure(lambda i: bwd(), 10)
                cmp[path] = {"fwd_us": num(tf["median_s"] * 1e6), "bwd_us": num(tb["median_s"] * 1e6),
                             "kernels": kernel_names(lambda: call(path)), "kernels_bwd": kernel_names(bwd)}
            del out
        cmp["graph_over_sdpa"] = {p: num(cmp["graph"][f"{p}_us"] / cmp["sdpa"][f"{p}_us"]) for p in ("fwd", "bwd")}
        cmp["graph_top_left_over_sdpa"] = {p: num(cmp["graph_top_left"][f"{p}_us"] / cmp["sdpa"][f"{p}_us"])
                                           for p in ("fwd", "bwd")}
        r["graph_vs_sdpa_causal_4096_h32_kv8"] = cmp
    except Exception as e:
        r["graph_vs_sdpa_error"] = str(e).splitlines()[0][:500] if str(e) else type(e).__name__
    del ss
    torch.cuda.empty_cache()
    return graph


GRAPH_MASK = ("cuDNN graph API (cudnn_graph.py): diagonal alignment BOTTOM_RIGHT, right bound 0, "
              "as Transformer Engine sets causal_bottom_right")


def log_graph_probe(b, r):
    """The cuDNN graph path's probe, in the log: what it was built against, its check, and its
    time against PyTorch's SDPA on the same causal square."""
    if "graph_build" not in r and "graph_error" not in r:
        return
    if "graph_error" in r:
        log(f"#   cuDNN graph API for bottom-right causal: unavailable: {r['graph_error'].splitlines()[0]}")
        return
    gb, cmp = r["graph_build"], r.get("graph_vs_sdpa_causal_4096_h32_kv8", {})
    log(f"#   cuDNN graph API for bottom-right causal: frontend {gb['cudnn_frontend']}, cuDNN runtime "
        f"{gb['cudnn_runtime']} ({gb['cudnn_library']}), forward implementation {gb['implementation']}; "
        f"probe 128x384 vs float64 {r['graph_probe_rel_err']}; kernels {r['kernels_graph_bottom_right']}")
    if "graph_vs_sdpa_error" in r:
        log(f"#   causal 4096x4096 h32/8 through SDPA and the graph: not compared: {r['graph_vs_sdpa_error']}")
    if cmp:
        log(f"#   causal 4096x4096 h32/8, fwd / bwd: SDPA {cmp['sdpa']['fwd_us']:.1f} / {cmp['sdpa']['bwd_us']:.1f} us; "
            f"graph, top-left mask {cmp['graph_top_left']['fwd_us']:.1f} / {cmp['graph_top_left']['bwd_us']:.1f} us "
            f"(x {cmp['graph_top_left_over_sdpa']['fwd']:.3f} / {cmp['graph_top_left_over_sdpa']['bwd']:.3f}); "
            f"graph, bottom-right mask {cmp['graph']['fwd_us']:.1f} / {cmp['graph']['bwd_us']:.1f} us "
            f"(x {cmp['graph_over_sdpa']['fwd']:.3f} / {cmp['graph_over_sdpa']['bwd']:.3f})")
        for path in ("sdpa", "graph_top_left", "graph"):
            log(f"#     {path}: fwd kernels {cmp[path]['kernels']}; bwd kernels {cmp[path]['kernels_bwd']}")


def probe_summary(info):
    """The probe as JSON for the environment block (without the graph object and the long reasons)."""
    return {b: {k: v for k, v in r.items() if k not in ("reason_br", "graph", "sdpa_bottom_right")}
            for b, r in info.items()}


def selected_cases(o):
    """The attention grid's cases --cases keeps (all without it), in the grid's order (parse_args
    refuses an expression that keeps none, before any file is written)."""
    return [c for c in attention_cases(o) if o.cases_re is None or o.cases_re.search(c.name)]


def run_attention_suite(o, mlog, timer):
    cases = selected_cases(o)
    log("#")
    log(f"# attention: PyTorch SDPA backends {','.join(o.backend_list)}, bf16, batch 1, head dim {HEAD_DIM}, "
        f"layout bshd, GQA via enable_gqa; TFLOP/s = 4*hq*d*visible (bwd x{BWD_FLOP_RATIO}) / time")
    log("# backward timed alone: torch.autograd.grad(out, (q, k, v), dO, retain_graph=True) on a forward graph "
        "built once per input set (the SDPA backward op, as hcpcal times its backward kernel)")
    import warnings
    with warnings.catch_warnings():  # SDPA's "kernel not used because" warnings of the probes' expected failures
        warnings.simplefilter("ignore")
        info = probe_backends(o.backend_list, o, timer)
    mlog.environment["sdpa_probe"] = probe_summary(info)
    backends = []
    for b in o.backend_list:
        r = info[b]
        if not r["available"]:
            log(f"# backend {b}: unavailable, skipped: {r['reason']}")
            for c in cases:
                mlog.add_unsupported(b, c.name, r["reason"])
            continue
        backends.append(b)
        log(f"# backend {b}: GQA {'expanded K/V (enable_gqa failed: ' + r.get('gqa_error', '') + ')' if r['expand_kv'] else 'native (enable_gqa=True)'}; "
            f"bottom-right causal probe {r['probe']} -> "
            f"{'via ' + r['bottom_right'] if r['bottom_right'] else 'unsupported'}")
        log(f"#   kernels of a causal 256x256 call: {r['kernels_causal_square']}")
        log(f"#   kernels of a causal_lower_right 128x384 call: {r['kernels_lower_right']}")
        log_graph_probe(b, r)
    log(f"# {len(cases)} cases x {len(backends)} backends, {o.iters} timed runs after >= {o.warmup} runs and "
        f">= {o.warmup_ms:g} ms of warm-up; check {int(o.check)} (O and dQ on sampled rows of heads 0 and hq-1, "
        "dK/dV on sampled key rows of the last KV head, float64; non-finite after NaN poisoning)")
    hdr = (f"# {'name':<22} {'backend':>7} {'sq':>6} {'skv':>6} {'hq':>3} {'hkv':>3} {'mask':>6} {'fwd':>10} {'fwd':>8} "
           f"{'clock':>5} {'bwd':>10} {'bwd':>8} {'clock':>5} {'#wrong':>6} {'sets':>4} {'t':>6}")
    log(hdr)
    log(f"# {'':<22} {'':>7} {'(tok)':>6} {'(tok)':>6} {'':>3} {'':>3} {'':>6} {'(us)':>10} {'(TF/s)':>8} "
        f"{'(MHz)':>5} {'(us)':>10} {'(TF/s)':>8} {'(MHz)':>5} {'':>6} {'':>4} {'(s)':>6}")
    t_start = time.perf_counter()
    for idx, c in enumerate(cases):
        qn, kn, lsen = c.sq * c.hq * HEAD_DIM, c.skv * c.hk * HEAD_DIM, c.hq * c.sq
        nsets = rotation_sets(2 * (3 * qn + 2 * kn) + 4 * lsen, 4)
        todo = []
        for b in backends:
            r = info[b]
            if c.bottom_right and not r["bottom_right"]:
                log(f"# {c.name:<22} {b:>7}: unsupported: {r['reason_br']}")
                mlog.add_unsupported(b, c.name, r["reason_br"])
                continue
            todo.append(b)
        if not todo:
            continue
        gen = torch.Generator(device=DEV)
        gen.manual_seed(o.seed + 16 * idx)
        cpu_gen = torch.Generator()
        cpu_gen.manual_seed(o.seed + 16 * idx + 1)
        expand_any = any(info[b]["expand_kv"] for b in todo)
        sets = [make_attn_set(c, gen, expand_any) for _ in range(nsets)]
        rows = sample_rows(c.sq, 64, cpu_gen)
        cols = sample_rows(c.skv, 64, cpu_gen)
        ref = attn_reference(c, sets[0], rows, cols) if o.check else None
        ff = fwd_flops(c)
        for b in todo:
            expand, graph = info[b]["expand_kv"], info[b].get("graph")
            mode = ("none" if not c.causal else
                    ("causal" if not c.bottom_right else info[b]["bottom_right"]))
            try:
                with sdpa_context(b):
                    fw = bw = 0
                    rel, hits = {}, (None, None)
                    if o.check:
                        fw, bw, rel, hf, hb = check_attention(c, sets[0], ref, rows, cols,
                                                              lambda: attn_call(sets[0], c, mode, expand, graph), expand)
                        hits = (hf, hb)
                    tf = timer.measure(lambda i: attn_call(sets[i % nsets], c, mode, expand, graph), o.iters)
                    outs = [attn_call(s, c, mode, expand, graph) for s in sets]
                    gis = [grad_inputs(s, expand) for s in sets]
                    dos = [d_out(s) for s in sets]
                    tb = timer.measure(lambda i: torch.autograd.grad(outs[i % nsets], gis[i % nsets],
                                                                     dos[i % nsets], retain_graph=True),
                                       o.iters)
                    del outs
            except Exception as e:
                reason = "error: " + str(e).splitlines()[0][:300]
                log(f"# {c.name:<22} {b:>7}: {reason}")
                mlog.add_unsupported(b, c.name, reason)
                torch.cuda.empty_cache()
                continue
            bf = BWD_FLOP_RATIO * ff
            log(f"  {c.name:<22} {b:>7} {c.sq:>6} {c.skv:>6} {c.hq:>3} {c.hk:>3} "
                f"{('none' if not c.causal else 'causbr' if c.bottom_right else 'causal'):>6} "
                f"{tf['median_s'] * 1e6:>10.1f} {ff / tf['median_s'] * 1e-12:>8.1f} {tf['sm_clock_mhz']:>5.0f} "
                f"{tb['median_s'] * 1e6:>10.1f} {bf / tb['median_s'] * 1e-12:>8.1f} {tb['sm_clock_mhz']:>5.0f} "
                f"{fw + bw:>6} {nsets:>4} {time.perf_counter() - t_start:>6.0f}")
            for backward, t, wrong in ((False, tf, fw), (True, tb, bw)):
                cfg = {"name": c.name, "pass": "bwd" if backward else "fwd", "batch": 1, "sq": c.sq, "skv": c.skv,
                       "heads_q": c.hq, "heads_kv": c.hk, "head_dim": HEAD_DIM, "mask": c.mask}
                res = {"tflops": num((bf if backward else ff) / t["median_s"] * 1e-12), "sets": nsets,
                       "sdpa_mask": {"none": "none", "causal": "is_causal=True",
                                     "lower_right": "attn_mask=causal_lower_right(sq, skv)",
                                     "cudnn_graph": GRAPH_MASK}[mode],
                       "gqa": "expanded K/V outside the timed call" if expand else (
                           "enable_gqa=True" if c.hq != c.hk else "none")}
                if o.check:
                    res["rel_err"] = {k: v for k, v in rel.items() if k.startswith("o_") != backward}
                    res["poisoned"] = hits[1] if backward else hits[0]
                res.update(timing_results(t))
                mlog.add(record("attention", b, cfg, t, o.check, wrong, res))
        del sets, ref
        torch.cuda.empty_cache()


def run_cp_suite(o, mlog, timer):
    """CP attention per rank, as hcpcal's cp suite on virtual ranks: every rank's attention kernels of
    one pass (hcpsim's schedule, --cp-cases) timed alone at the sustained clock on this GPU, one
    cp_attention record per backend, transport and pass; `hcpsim check` sums each rank's kernels."""
    with open(o.cp_cases) as f:
        cases = json.load(f)["cases"]
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = probe_backends(o.backend_list, o, timer)
    mlog.environment["sdpa_probe"] = probe_summary(info)
    log("#")
    for b in o.backend_list:
        log_graph_probe(b, info[b])
    log(f"# cp: {len(cases)} transport x pass cases from {o.cp_cases}; each distinct kernel shape timed once per "
        f"backend ({o.iters} runs after >= {o.warmup_ms:g} ms of warm-up), ranks' kernels listed by hcpsim's labels")
    log(f"# {'transport':<10} {'pass':>4} {'backend':>7} {'rank':>4} {'kernels':>7} {'compute':>10} {'clock':>5}")
    log(f"# {'':<10} {'':>4} {'':>7} {'':>4} {'':>7} {'(us)':>10} {'(MHz)':>5}")
    gen = torch.Generator(device=DEV)
    gen.manual_seed(o.seed)
    for b in o.backend_list:
        r = info[b]
        if not r["available"]:
            for c in cases:
                mlog.add_unsupported(b, cp_case_name(c), r["reason"])
            continue
        timed = {}  # (sq, skv, hq, hk, mask, backward) -> timing
        for c in cases:
            backward = c["pass"] == "bwd"
            name = cp_case_name(c)
            if c["head_dim"] != HEAD_DIM:
                mlog.add_unsupported(b, name, f"head dim {c['head_dim']}: this harness's inputs are head dim {HEAD_DIM}")
                continue
            try:
                run_cp_case(o, mlog, timer, gen, b, r, c, backward, name, timed)
            except Exception as e:  # one case failing (a backend error, out of memory) leaves the others
                reason = "error: " + str(e).splitlines()[0][:300]
                log(f"# {c['transport']:<10} {c['pass']:>4} {b:>7}: {reason}")
                mlog.add_unsupported(b, name, reason)
                torch.cuda.empty_cache()


def cp_case_name(c):
    return f"cp_{c['transport']}_r{c['ranks']}_s{c['seq']}_{c['pass']}"


def run_cp_case(o, mlog, timer, gen, b, r, c, backward, name, timed):
    """One transport and pass with backend b: every rank's kernels (each distinct shape timed once,
    kept in `timed`), one cp_attention record."""
    masks = {k["mask"] for rk in c["per_rank"] for k in rk["kernels"]}
    if "causal_bottom_right" in masks and not r["bottom_right"]:
        log(f"# {c['transport']:<10} {c['pass']:>4} {b:>7}: unsupported: {r['reason_br']}")
        mlog.add_unsupported(b, name, r["reason_br"])
        return
    kernels, sums, clocks = [], [], []
    for rk in c["per_rank"]:
        total, rank_clocks = 0.0, []
        for k in rk["kernels"]:
            causal = k["mask"] != "no_mask"
            br = k["mask"] == "causal_bottom_right"
            key = (k["sq"], k["skv"], k["heads_q"], k["heads_kv"], k["mask"], backward)
            if key not in timed:
                ac = AttnCase(k["label"], k["sq"], k["skv"], k["heads_q"], k["heads_kv"], causal, br)
                mode = "none" if not causal else (r["bottom_right"] if br else "causal")
                nsets = rotation_sets(2 * (3 * ac.sq * ac.hq + 2 * ac.skv * ac.hk) * HEAD_DIM + 4 * ac.hq * ac.sq, 4)
                sets = [make_attn_set(ac, gen, r["expand_kv"]) for _ in range(nsets)]
                with sdpa_context(b):
                    if backward:
                        outs = [attn_call(s_, ac, mode, r["expand_kv"], r.get("graph")) for s_ in sets]
                        gis = [grad_inputs(s_, r["expand_kv"]) for s_ in sets]
                        dos = [d_out(s_) for s_ in sets]
                        t = timer.measure(lambda i: torch.autograd.grad(outs[i % nsets], gis[i % nsets],
                                                                        dos[i % nsets], retain_graph=True),
                                          o.iters)
                        del outs
                    else:
                        t = timer.measure(lambda i: attn_call(sets[i % nsets], ac, mode, r["expand_kv"], r.get("graph")), o.iters)
                del sets
                torch.cuda.empty_cache()
                timed[key] = t
            t = timed[key]
            # Each kernel's own clock: a rank's kernels differ in size, and a long one sustains a
            # lower clock than a short one (all_gather's chunks: 5-42 ms).
            entry = {"rank": rk["rank"], "label": k["label"], "median_s": num(t["median_s"]),
                     "min_s": num(t["min_s"]), "max_s": num(t["max_s"]), "back_to_back": t["back_to_back"]}
            if t["sm_clock_mhz"] > 0:  # as record() does: no reading (NVML missing, NaN) is left out
                entry["sm_clock_mhz"], entry["sm_clock_source"] = num(t["sm_clock_mhz"]), t["sm_clock_source"]
            kernels.append(entry)
            total += t["median_s"]
            clocks.append(t["sm_clock_mhz"])
            rank_clocks.append(t["sm_clock_mhz"])
        sums.append(total)
        log(f"  {c['transport']:<10} {c['pass']:>4} {b:>7} {rk['rank']:>4} {len(rk['kernels']):>7} "
            f"{total * 1e6:>10.1f} {statistics.median(rank_clocks) if rank_clocks else 0:>5.0f}")
    if not kernels:
        mlog.add_unsupported(b, name, "no attention kernels in the case")
        return
    cfg = {"transport": c["transport"], "pass": c["pass"], "ranks": c["ranks"], "seq": c["seq"], "batch": 1,
           "heads_q": c["heads_q"], "heads_kv": c["heads_kv"], "head_dim": c["head_dim"], "mask": "causal",
           "format": "bshd", "launch": "virtual"}
    if c["hcp"]:
        cfg["hcp"] = c["hcp"]
    slowest = max(sums)
    t = {"median_s": slowest, "min_s": slowest, "max_s": slowest, "iterations": o.iters,
         "sm_clock_mhz": statistics.median(clocks) if clocks else 0}
    # Each distinct kernel shape timed alone at the sustained clock; median_s: the slowest
    # rank's sum (hcpsim check sums every rank's kernels itself).
    res = {"kernels": kernels}
    if "causal_bottom_right" in masks:
        res["bottom_right_path"] = GRAPH_MASK if r["bottom_right"] == "cudnn_graph" else r["bottom_right"]
    mlog.add(record("cp_attention", b, cfg, t, False, 0, res))


# ----------------------------------------------------------------------------------------------
# The Llama-3.1-8B layer (plain PyTorch, Megatron-core's op order and op forms, TP1 CP1, batch 1,
# tokens-major [T, hidden] = Megatron's [s, b, h] at b = 1)

def llama3_rope_freqs(T):
    """Megatron's rotary embedding table [T, 1, 128] fp32 (emb = cat(freqs, freqs)) with Llama 3.1's
    frequency scaling (base 500000; factor 8, low/high frequency factors 1 and 4, 8192 original)."""
    dim, base = HEAD_DIM, 500000.0
    inv = 1.0 / base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    factor, low, high, orig = 8.0, 1.0, 4.0, 8192.0
    wavelen = 2 * math.pi / inv
    smooth = (orig / wavelen - low) / (high - low)
    scaled = torch.where(wavelen > orig / low, inv / factor, inv)
    mid = (wavelen <= orig / low) & (wavelen >= orig / high)
    scaled = torch.where(mid, (1 - smooth) * inv / factor + smooth * inv, scaled)
    freqs = torch.outer(torch.arange(T, dtype=torch.float64), scaled)
    return torch.cat([freqs, freqs], dim=-1).float().to(DEV).view(T, 1, dim)


def rotate_half(x):
    x1, x2 = torch.chunk(x, 2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(t, freqs):
    """Megatron-core's _apply_rotary_pos_emb_bshd (unfused, non-interleaved, rot_dim = head dim)."""
    cos_ = torch.cos(freqs).to(t.dtype)
    sin_ = torch.sin(freqs).to(t.dtype)
    return t * cos_ + rotate_half(t) * sin_


def qkv_rope(qkv, freqs):
    """Megatron's split of the fused QKV output [T, ng * (np/ng + 2) * hn] into q [T, np, hn] (a
    reshape that copies, as Megatron's) and k, v [T, ng, hn] (views), then RoPE on q and k."""
    T = qkv.shape[0]
    x = qkv.view(T, N_HK, (N_HQ // N_HK + 2) * HEAD_DIM)
    q, k, v = torch.split(x, [N_HQ // N_HK * HEAD_DIM, HEAD_DIM, HEAD_DIM], dim=-1)
    q = q.reshape(T, N_HQ, HEAD_DIM)
    return apply_rope(q, freqs), apply_rope(k, freqs), v


def core_attention(q, k, v):
    """Causal GQA attention through SDPA in the current sdpa_kernel backend: [T, h, d] -> [T, np*hn]."""
    T = q.shape[0]
    o = F.scaled_dot_product_attention(q.unsqueeze(0).transpose(1, 2), k.unsqueeze(0).transpose(1, 2),
                                       v.unsqueeze(0).transpose(1, 2), is_causal=True, enable_gqa=True)
    return o.transpose(1, 2).reshape(T, N_HQ * HEAD_DIM)


def swiglu(x):
    """Megatron's swiglu without fusion: chunk fc1's output [gate | up], silu(gate) * up."""
    a, b = torch.chunk(x, 2, dim=-1)
    return F.silu(a) * b


def rms_norm(x, w):
    return F.rms_norm(x, (x.shape[-1],), w, RMS_EPS)


def make_layer_weights(gen):
    def w(*shape, std=0.02):
        return (torch.randn(shape, generator=gen, device=DEV, dtype=torch.float32) * std).to(
            torch.bfloat16).requires_grad_()

    def norm():
        return (1 + 0.1 * torch.randn((HIDDEN,), generator=gen, device=DEV)).to(torch.bfloat16).requires_grad_()
    return {"norm1": norm(), "qkv": w((N_HQ + 2 * N_HK) * HEAD_DIM, HIDDEN), "proj": w(HIDDEN, N_HQ * HEAD_DIM),
            "norm2": norm(), "fc1": w(2 * FFN, HIDDEN), "fc2": w(HIDDEN, FFN)}


def layer_forward(x, W, freqs):
    """input RMSNorm -> fused QKV GEMM -> RoPE on q, k -> core attention -> output projection ->
    residual add -> pre-MLP RMSNorm -> FC1 (gate + up, one GEMM) -> SwiGLU -> FC2 -> residual add."""
    n1 = rms_norm(x, W["norm1"])
    qkv = F.linear(n1, W["qkv"])
    q, k, v = qkv_rope(qkv, freqs)
    a = core_attention(q, k, v)
    h = x + F.linear(a, W["proj"])
    n2 = rms_norm(h, W["norm2"])
    return h + F.linear(swiglu(F.linear(n2, W["fc1"])), W["fc2"])


def layer_gemm_flops(T):
    return 2.0 * T * (HIDDEN * (N_HQ + 2 * N_HK) * HEAD_DIM + N_HQ * HEAD_DIM * HIDDEN + HIDDEN * 2 * FFN + FFN * HIDDEN)


def causal_attn_flops(T):
    return 4.0 * N_HQ * HEAD_DIM * (T * (T + 1) // 2)


# Ops of the layer, timed alone. Each: (key, inputs(T, gen) -> [(tensor, row_indexed, wants_grad)],
# fn(*inputs) -> output, has_backward, bytes_moved(T) for (fwd, bwd) or None for GEMMs/attention,
# label width). bytes_moved is the minimum each op must read plus write (every input read once,
# every output written once), bf16 = 2 bytes, fp32 = 4:
#   rmsnorm fwd: x [T,H] read + y [T,H] written + rstd [T] fp32 saved: 4TH + 4T (+ weight 2H)
#           bwd: dy, x read, dx written (6TH) + rstd read (4T) + weight read and dweight written (2H + 4H)
#   rope    fwd: q and k columns of qkv read, rotated q, k written: 2 * 2 * T*(32+8)*128 + freqs [T,128] fp32
#           bwd: dq, dk read, their rotation written into dqkv, and dv copied into dqkv:
#                2 * 2 * T*(32+8)*128 + 2 * 2 * T*8*128 + freqs
#   swiglu  fwd: fc1 output [T, 2F] read, [T, F] written: 4TF + 2TF = 6TF
#           bwd: dy [T,F] and the saved [T,2F] read, d[T,2F] written: 2TF + 4TF + 4TF = 10TF
#   add     (residual) fwd: two [T,H] read, one written: 6TH; its backward is a pass-through, and
#           the gradient accumulation into a residual stream (dh = d(norm input) + d(out)) is the
#           same add, so the layer's bwd ops list it as residual{1,2}.bwd with this time.
GEMMS = {"qkv": ((N_HQ + 2 * N_HK) * HEAD_DIM, HIDDEN), "proj": (HIDDEN, N_HQ * HEAD_DIM),
         "fc1": (2 * FFN, HIDDEN), "fc2": (HIDDEN, FFN)}


def op_bytes(op, T):
    H, E = HIDDEN, T * (N_HQ + N_HK) * HEAD_DIM
    return {"rmsnorm": (4 * T * H + 4 * T + 2 * H, 6 * T * H + 4 * T + 6 * H),
            "rope": (4 * E + 4 * T * HEAD_DIM, 4 * E + 4 * T * N_HK * HEAD_DIM + 4 * T * HEAD_DIM),
            "swiglu": (6 * T * FFN, 10 * T * FFN),
            "add": (6 * T * H, None)}.get(op)


def op_spec(op, T, gen, freqs):
    """Inputs (tensor, row_indexed, wants_grad) and the function of one op at T tokens."""
    def rnd(*shape, std=1.0):
        return torch.randn(shape, generator=gen, device=DEV, dtype=torch.float32).mul_(std).to(torch.bfloat16)
    if op == "rmsnorm":
        return [(rnd(T, HIDDEN), True, True), ((1 + 0.1 * rnd(HIDDEN).float()).bfloat16(), False, True)], rms_norm
    if op == "rope":
        return [(rnd(T, (N_HQ + 2 * N_HK) * HEAD_DIM), True, True), (freqs, True, False)], qkv_rope
    if op == "swiglu":
        return [(rnd(T, 2 * FFN), True, True)], swiglu
    if op == "add":
        return [(rnd(T, HIDDEN), True, True), (rnd(T, HIDDEN), True, True)], lambda a, b: a + b
    if op in GEMMS:
        n, k = GEMMS[op]
        return [(rnd(T, k), True, True), (rnd(n, k, std=0.02), False, True)], F.linear
    if op == "attention":
        qkv = rnd(T, (N_HQ + 2 * N_HK) * HEAD_DIM).requires_grad_()
        q, k, v = qkv_rope(qkv.detach(), freqs)
        v = qkv_rope(qkv, freqs)[2]  # a strided view of qkv, as in the layer (non-leaf: grads stop at it)
        return [(q, True, True), (k, True, True), (v, True, True)], core_attention
    raise ValueError(op)


def check_rowwise(fn, inputs, out, grads, gout, rows):
    """Float64 reference of a row-wise op on sampled rows: forward outputs, and the gradients of the
    row-indexed inputs that want one (a weight's gradient sums over every row and is only checked
    for non-finite values)."""
    rows_t = torch.tensor(rows, device=DEV)
    xs = []
    for t, rowwise, want in inputs:
        x = t.detach()[rows_t] if rowwise else t.detach()
        if x.is_floating_point():
            x = x.double()
        xs.append(x.requires_grad_(want and rowwise and x.is_floating_point()))
    ref = fn(*xs)
    outs, refs = flat(out), flat(ref)
    fwd_wrong = sum(nonfinite(t) for t in outs)
    rel = {}
    for i, (a, r) in enumerate(zip(outs, refs)):
        w, rel[f"out{i}"] = compare(a[rows_t], r)
        fwd_wrong += w
    bwd_wrong = 0
    if grads is not None:
        bwd_wrong = sum(nonfinite(g) for g in grads)
        want = [x for x, (_, rowwise, w) in zip(xs, inputs) if w and rowwise]
        gsel = [g for g, (_, rowwise, _w) in zip(grads, [i for i in inputs if i[2]]) if rowwise]
        grefs = torch.autograd.grad(refs, want, [g.detach()[rows_t].double() for g in flat(gout)])
        for i, (g, r) in enumerate(zip(gsel, grefs)):
            w, rel[f"grad{i}"] = compare(g[rows_t], r)
            bwd_wrong += w
    return fwd_wrong, bwd_wrong, {k: num(v) for k, v in rel.items()}


class OpCache:
    """Per-op measurements shared by the layer and kernels suites: (op, backend, T) -> results."""

    def __init__(self, opts, timer):
        self.o, self.timer, self.items = opts, timer, {}

    def get(self, op, T, freqs, backend=None, iters=None, check=False, min_warmup=None):
        key = (op, backend, T)
        if key in self.items:
            return self.items[key]
        gen = torch.Generator(device=DEV)
        gen.manual_seed(self.o.seed + 7919 * T + sum(map(ord, op)))
        first, fn = op_spec(op, T, gen, freqs)
        nbytes = sum(t.numel() * t.element_size() for t, _, _ in first)
        nsets = rotation_sets(2 * nbytes, 4) if op not in GEMMS and op != "attention" else 1
        sets = [first] + [op_spec(op, T, gen, freqs)[0] for _ in range(nsets - 1)]
        for s in sets:
            for t, _, want in s:
                if want and t.is_leaf:
                    t.requires_grad_()
        args = [[t for t, _, _ in s] for s in sets]
        gins = [[t for t, _, want in s if want] for s in sets]
        iters = iters or self.o.iters
        ctx = sdpa_context(backend) if backend else _null()
        res = {}
        with ctx:
            outs = [fn(*a) for a in args]
            gouts = [tuple(torch.randn_like(t) for t in flat(out)) for out in outs]
            fw = bw = 0
            rel = {}
            if check:
                out, _ = poisoned(lambda: fn(*args[0]))
                grads, _ = poisoned(lambda: torch.autograd.grad(flat(outs[0]), gins[0], gouts[0], retain_graph=True))
                fw, bw, rel = check_rowwise(fn, sets[0], out, grads, gouts[0], sample_rows(T, 256, _cpu_gen(T)))
                del out, grads
            res["fwd"] = self.timer.measure(lambda i: fn(*args[i % nsets]), iters, min_warmup)
            if op != "add":
                res["bwd"] = self.timer.measure(
                    lambda i: torch.autograd.grad(flat(outs[i % nsets]), gins[i % nsets], gouts[i % nsets],
                                                  retain_graph=True), iters, min_warmup)
        res.update({"sets": nsets, "checked": check, "fwd_wrong": fw, "bwd_wrong": bw, "rel": rel})
        del outs, gouts, sets, args, gins
        self.items[key] = res
        return res


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _cpu_gen(seed):
    g = torch.Generator()
    g.manual_seed(seed)
    return g


def op_flops(op, T):
    if op in GEMMS:
        n, k = GEMMS[op]
        return 2.0 * T * n * k, 4.0 * T * n * k
    if op == "attention":
        f = causal_attn_flops(T)
        return f, BWD_FLOP_RATIO * f
    return None


FWD_OPS = [("input_norm", "rmsnorm"), ("qkv", "qkv"), ("rope", "rope"), ("attention", "attention"),
           ("proj", "proj"), ("residual1", "add"), ("pre_mlp_norm", "rmsnorm"), ("fc1", "fc1"),
           ("swiglu", "swiglu"), ("fc2", "fc2"), ("residual2", "add")]
BWD_OPS = [("fc2", "fc2"), ("swiglu", "swiglu"), ("fc1", "fc1"), ("pre_mlp_norm", "rmsnorm"),
           ("residual2", "add"), ("proj", "proj"), ("attention", "attention"), ("rope", "rope"),
           ("qkv", "qkv"), ("input_norm", "rmsnorm"), ("residual1", "add")]


def ops_list(cache, T, backend, passes):
    out = []
    for p in passes:
        for label, op in (FWD_OPS if p == "fwd" else BWD_OPS):
            r = cache.items[(op, backend if op == "attention" else None, T)]
            t = r["fwd"] if (p == "fwd" or op == "add") else r["bwd"]
            out.append({"label": f"{label}.{p}", "median_s": num(t["median_s"]), "min_s": num(t["min_s"]),
                        "max_s": num(t["max_s"]), "sm_clock_mhz": num(t["sm_clock_mhz"])})
    return out


def run_layer_suite(o, mlog, timer, cache):
    log("#")
    log(f"# layer: Llama-3.1-8B, one transformer layer in plain PyTorch, Megatron's op order (hidden {HIDDEN}, "
        f"{N_HQ}/{N_HK} heads, d {HEAD_DIM}, FFN {FFN} SwiGLU, RMSNorm, RoPE, no bias, bf16), TP1 CP1 batch 1, causal")
    log("# fwd: the layer with autograd recording; bwd: torch.autograd.grad(out, [x] + weights, dy, retain_graph=True); "
        "fwd+bwd: both. TFLOP/s = (GEMMs + causal attention 4*hq*d*T(T+1)/2; bwd 2x GEMMs + 2.5x attention) / time")
    log(f"# each op also timed alone at the layer's shapes (results.ops); {o.layer_iters} timed runs, "
        f"warm-up >= {o.warmup_ms:g} ms; #wrong: non-finite elements in out, dx and the weight grads")
    backends = [b for b in o.backend_list]
    t_start = time.perf_counter()
    ref_rows = {}
    for T in o.layer_seq_list:
        freqs = llama3_rope_freqs(T)
        # ops, timed alone
        log(f"# ops at T = {T}: {'op':<12} {'backend':>7} {'fwd':>10} {'fwd':>9} {'clock':>5} {'bwd':>10} {'bwd':>9} "
            f"{'clock':>5} {'#wrong':>6} {'t':>6}")
        log(f"#                {'':<12} {'':>7} {'(us)':>10} {'(TF|GB/s)':>9} {'(MHz)':>5} {'(us)':>10} "
            f"{'(TF|GB/s)':>9} {'(MHz)':>5} {'':>6} {'(s)':>6}")
        failed = set()
        for op in ("rmsnorm", "qkv", "rope", "attention", "proj", "add", "fc1", "swiglu", "fc2"):
            for b in (backends if op == "attention" else [None]):
                try:
                    r = cache.get(op, T, freqs, backend=b, iters=o.layer_iters, min_warmup=1,
                                  check=o.check and op in ("rmsnorm", "rope", "swiglu", "add"))
                except Exception as e:
                    if op != "attention":
                        raise
                    reason = f"error: the layer's core attention failed: {str(e).splitlines()[0][:300]}"
                    log(f"#   {op:<12} {b:>7}: {reason}")
                    mlog.add_unsupported("torch+" + b, f"llama3.1-8b_s{T}", reason)
                    failed.add(b)
                    torch.cuda.empty_cache()
                    continue
                fl, by = op_flops(op, T), op_bytes(op, T)

                def rate(t, i):
                    if fl:
                        return f"{fl[i] / t['median_s'] * 1e-12:>9.1f}"
                    if by and by[i]:
                        return f"{by[i] / t['median_s'] * 1e-9:>9.1f}"
                    return f"{'-':>9}"
                tf, tb = r["fwd"], r.get("bwd")
                log(f"  op T={T:<7} {op:<12} {b or '':>7} {tf['median_s'] * 1e6:>10.1f} {rate(tf, 0)} "
                    f"{tf['sm_clock_mhz']:>5.0f} "
                    + (f"{tb['median_s'] * 1e6:>10.1f} {rate(tb, 1)} {tb['sm_clock_mhz']:>5.0f} " if tb else
                       f"{'-':>10} {'-':>9} {'-':>5} ")
                    + f"{r['fwd_wrong'] + r['bwd_wrong']:>6} {time.perf_counter() - t_start:>6.0f}")
        # the whole layer
        log(f"# layer at T = {T}: {'name':<22} {'backend':>11} {'pass':>7} {'time':>11} {'TF/s':>7} {'clock':>5} "
            f"{'ops sum':>11} {'#wrong':>6} {'t':>6}")
        for b in [b for b in backends if b not in failed]:
            gen = torch.Generator(device=DEV)
            gen.manual_seed(o.seed + 31 * T)
            W = make_layer_weights(gen)
            x = torch.randn((T, HIDDEN), generator=gen, device=DEV, dtype=torch.bfloat16).requires_grad_()
            dy = torch.randn((T, HIDDEN), generator=gen, device=DEV, dtype=torch.bfloat16)
            params = [x] + list(W.values())
            name = f"llama3.1-8b_s{T}"
            with sdpa_context(b):
                # check: one fwd+bwd, non-finite elements; and the two backends' out/dx on sampled rows
                out = layer_forward(x, W, freqs)
                grads = torch.autograd.grad(out, params, dy)
                wrong = nonfinite(out) + sum(nonfinite(g) for g in grads)
                rows = torch.tensor(sample_rows(T, 64, _cpu_gen(T)), device=DEV)
                sample = (out.detach()[rows].double(), grads[0][rows].double())
                cmp = {}
                if T in ref_rows:
                    for nm, a, r in (("out", sample[0], ref_rows[T][0]), ("dx", sample[1], ref_rows[T][1])):
                        cmp[nm] = num(float(torch.linalg.norm(a - r) / torch.linalg.norm(r)))
                else:
                    ref_rows[T] = sample
                del out, grads
                ts = {}
                # the check run above set up plans and memory: no set-up run; warm-up >= 1 run
                # and >= --warmup-ms (a 128K-token layer pass takes about a second)
                ts["fwd"] = timer.measure(lambda i: layer_forward(x, W, freqs), o.layer_iters, 1, False)
                keep = layer_forward(x, W, freqs)
                ts["bwd"] = timer.measure(lambda i: torch.autograd.grad(keep, params, dy, retain_graph=True),
                                          o.layer_iters, 1, False)
                del keep
                ts["fwd+bwd"] = timer.measure(lambda i: torch.autograd.grad(layer_forward(x, W, freqs), params, dy),
                                              o.layer_iters, 1, False)
            gf, af = layer_gemm_flops(T), causal_attn_flops(T)
            flops = {"fwd": gf + af, "bwd": 2 * gf + BWD_FLOP_RATIO * af}
            flops["fwd+bwd"] = flops["fwd"] + flops["bwd"]
            for p in ("fwd", "bwd", "fwd+bwd"):
                t = ts[p]
                ops = ops_list(cache, T, b, ["fwd", "bwd"] if p == "fwd+bwd" else [p])
                sum_ops = sum(x_["median_s"] for x_ in ops)
                log(f"  layer T={T:<7} {name:<22} {'torch+' + b:>11} {p:>7} {t['median_s'] * 1e6:>9.0f}us "
                    f"{flops[p] / t['median_s'] * 1e-12:>7.1f} {t['sm_clock_mhz']:>5.0f} {sum_ops * 1e6:>9.0f}us "
                    f"{wrong:>6} {time.perf_counter() - t_start:>6.0f}")
                cfg = {"name": name, "model": "llama3.1-8b", "seq": T, "batch": 1, "hidden": HIDDEN, "heads_q": N_HQ,
                       "heads_kv": N_HK, "head_dim": HEAD_DIM, "ffn": FFN, "pass": p}
                res = {"model_flops": num(flops[p]), "tflops": num(flops[p] / t["median_s"] * 1e-12),
                       "ops": ops, "ops_sum_s": num(sum_ops)}
                if cmp:
                    res["rel_diff_vs_" + backends[0]] = cmp
                res.update(timing_results(t))
                mlog.add(record("layer", "torch+" + b, cfg, t, True, wrong, res))
            del W, x, dy, params
            torch.cuda.empty_cache()
        del freqs
        torch.cuda.empty_cache()


# ----------------------------------------------------------------------------------------------
# Suite: kernels (the layer's small kernels, the loss and the optimizer)

def make_ce_function():
    class CE(torch.autograd.Function):
        """Megatron-core's _VocabParallelCrossEntropy at TP1 (no all-reduces): logits bf16 -> float,
        subtract the row max, exp in place, sum, loss = log(sum) - target logit, softmax (exp / sum)
        saved for backward; backward = softmax * dloss with dloss subtracted at the target (written
        out of place so the same graph can be replayed; Megatron updates the saved softmax in place,
        the same passes over memory), returned as fp32 and cast to bf16 by autograd."""

        @staticmethod
        def forward(ctx, logits, target):
            x = logits.float()
            m = x.max(dim=-1)[0]
            x.sub_(m.unsqueeze(-1))
            pred = x.gather(1, target.unsqueeze(1)).squeeze(1)
            x.exp_()
            s = x.sum(dim=-1)
            loss = torch.log(s) - pred
            x.div_(s.unsqueeze(-1))
            ctx.save_for_backward(x, target)
            return loss

        @staticmethod
        def backward(ctx, g):
            softmax, target = ctx.saved_tensors
            grad = softmax * g.unsqueeze(-1)
            grad.scatter_add_(1, target.unsqueeze(1), -g.unsqueeze(1))
            return grad, None
    return CE


def ce_reference(logits, target):
    lp = torch.log_softmax(logits.double(), dim=-1)
    return -lp.gather(1, target.unsqueeze(1)).squeeze(1)


def run_kernels_suite(o, mlog, timer, cache):
    log("#")
    log("# kernels: the layer's non-GEMM, non-attention kernels alone (plain PyTorch, as the layer suite runs them), "
        "a Megatron-style vocab-parallel cross entropy (TP1) and torch.optim.AdamW(fused=True)")
    log("# GB/s = bytes_moved (the minimum bytes read + written, per op in hcpcal_torch.py) / time; #wrong: sampled rows "
        "against float64 (0.02 + 0.02|ref|, normwise <= 2e-2) + non-finite elements")
    log(f"# {'name':<28} {'op':>14} {'pass':>4} {'size':>10} {'bytes':>12} {'time':>10} {'GB/s':>7} {'clock':>5} "
        f"{'#wrong':>6} {'t':>6}")
    t_start = time.perf_counter()

    def emit(name, op, p, size_key, size, nbytes, t, checked, wrong, extra=None):
        log(f"  {name:<28} {op:>14} {p:>4} {size:>10} {nbytes:>12} {t['median_s'] * 1e6:>8.1f}us "
            f"{nbytes / t['median_s'] * 1e-9:>7.1f} {t['sm_clock_mhz']:>5.0f} {wrong:>6} "
            f"{time.perf_counter() - t_start:>6.0f}")
        cfg = {"name": name, "op": op, "pass": p, size_key: size, "bytes_moved": int(nbytes)}
        res = {"GBps": num(nbytes / t["median_s"] * 1e-9)}
        if extra:
            res.update(extra)
        res.update(timing_results(t))
        mlog.add(record("elementwise", "torch", cfg, t, checked, wrong, res))

    widths = {"rmsnorm": [HIDDEN], "rope": [(N_HQ + 2 * N_HK) * HEAD_DIM], "swiglu": [2 * FFN], "add": [HIDDEN, HIDDEN]}
    for T in o.layer_seq_list:
        freqs = llama3_rope_freqs(T)
        for op in ("rmsnorm", "rope", "swiglu", "add"):
            reused = (op, None, T) in cache.items
            r = cache.get(op, T, freqs, iters=o.iters, check=o.check)
            by = op_bytes(op, T)
            extra = {"rel_err": r["rel"], "sets": r["sets"], "shape_in": [T] + widths[op][:1],
                     "measured_in": "layer suite" if reused else "kernels suite"}
            emit(f"{'residual_add' if op == 'add' else op}_fwd_t{T}", op, "fwd", "tokens", T, by[0], r["fwd"],
                 r["checked"], r["fwd_wrong"], extra)
            if "bwd" in r:
                emit(f"{op}_bwd_t{T}", op, "bwd", "tokens", T, by[1], r["bwd"], r["checked"], r["bwd_wrong"], extra)
        del freqs
        torch.cuda.empty_cache()

    # cross entropy: logits [T, V] bf16 -> fp32 loss [T]
    #   fwd bytes: logits read (2TV) + fp32 softmax saved for backward (4TV) + target (8T) + loss (4T)
    #   bwd bytes: softmax read (4TV) + bf16 dlogits written (2TV) + target (8T) + dloss (4T)
    CE = make_ce_function()
    for T in [t for t in o.layer_seq_list if t <= o.ce_max_tokens]:
        gen = torch.Generator(device=DEV)
        gen.manual_seed(o.seed + 104729 + T)
        logits = (torch.randn((T, VOCAB), generator=gen, device=DEV, dtype=torch.float32) * 2).to(torch.bfloat16)
        logits.requires_grad_()
        target = torch.randint(0, VOCAB, (T,), generator=gen, device=DEV)
        dloss = torch.rand((T,), generator=gen, device=DEV, dtype=torch.float32)
        wrong_f = wrong_b = 0
        rel = {}
        if o.check:
            loss, _ = poisoned(lambda: CE.apply(logits, target))
            (grad,), _ = poisoned(lambda: torch.autograd.grad(loss, (logits,), dloss, retain_graph=True))
            rows = torch.tensor(sample_rows(T, 64, _cpu_gen(T)), device=DEV)
            lr = logits.detach()[rows].double().requires_grad_()
            ref = ce_reference(lr, target[rows])
            (gref,) = torch.autograd.grad(ref, (lr,), dloss[rows].double())
            wrong_f = nonfinite(loss)
            w, rel["loss"] = compare(loss[rows], ref)
            wrong_f += w
            wrong_b = nonfinite(grad)
            w, rel["dlogits"] = compare(grad[rows], gref)
            wrong_b += w
            del loss, grad, lr, ref, gref
        tf = timer.measure(lambda i: CE.apply(logits, target), o.iters)
        keep = CE.apply(logits, target)
        tb = timer.measure(lambda i: torch.autograd.grad(keep, (logits,), dloss, retain_graph=True), o.iters)
        del keep
        tv = T * VOCAB
        extra = {"vocab": VOCAB, "rel_err": {k: num(v) for k, v in rel.items()},
                 "implementation": "Megatron-core _VocabParallelCrossEntropy at TP1, plain PyTorch ops"}
        emit(f"cross_entropy_fwd_t{T}", "cross_entropy", "fwd", "tokens", T, 6 * tv + 12 * T, tf, o.check, wrong_f, extra)
        emit(f"cross_entropy_bwd_t{T}", "cross_entropy", "bwd", "tokens", T, 6 * tv + 12 * T, tb, o.check, wrong_b, extra)
        del logits, target, dloss
        torch.cuda.empty_cache()
    for T in [t for t in o.layer_seq_list if t > o.ce_max_tokens]:
        log(f"# cross_entropy at T = {T}: not run (--ce-max-tokens {o.ce_max_tokens}: logits {T * VOCAB * 2 / 2**30:.0f} GiB "
            f"bf16 + {T * VOCAB * 4 / 2**30:.0f} GiB fp32 softmax + the fp32 and bf16 grads)")

    # AdamW step, fp32 params, fused: reads p, g, m, v and writes p, m, v: 28 bytes per parameter
    for N in o.adam_list:
        gen = torch.Generator(device=DEV)
        gen.manual_seed(o.seed + 1299709 + N % 100000)
        if N == LAYER_PARAMS:
            shapes = [((N_HQ + 2 * N_HK) * HEAD_DIM, HIDDEN), (HIDDEN, N_HQ * HEAD_DIM), (2 * FFN, HIDDEN),
                      (HIDDEN, FFN), (HIDDEN,), (HIDDEN,)]
            what = "one Llama-3.1-8B layer's weights (6 tensors)"
        elif N == VOCAB * HIDDEN:
            shapes, what = [(VOCAB, HIDDEN)], "the embedding [128256, 4096]"
        else:
            shapes, what = [(N,)], "one tensor"
        params = [torch.randn(s, generator=gen, device=DEV, dtype=torch.float32).requires_grad_() for s in shapes]
        for p in params:
            p.grad = torch.randn(p.shape, generator=gen, device=DEV, dtype=torch.float32) * 1e-3
        opt = torch.optim.AdamW(params, lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1, fused=True)
        wrong = 0
        rel = {}
        if o.check:
            p0 = params[0].detach().flatten()[: 1 << 20].double().clone()
            g0 = params[0].grad.flatten()[: 1 << 20].double().clone()
            opt.step()  # step 1: m_hat = g, v_hat = g^2
            ref = p0 * (1 - 1e-4 * 0.1) - 1e-4 * g0 / (g0.abs() + 1e-8)
            got = params[0].detach().flatten()[: 1 << 20]
            wrong = nonfinite(params[0].detach()) + int((~((got.double() - ref).abs() <= 1e-6 + 1e-5 * ref.abs())).sum())
            rel["param"] = num(float(torch.linalg.norm(got.double() - ref) / torch.linalg.norm(ref)))
        t = timer.measure(lambda i: opt.step(), o.iters)
        emit(f"adamw_fused_n{N}", "adamw", "step", "params", N, 28 * N, t, o.check, wrong,
             {"what": what, "rel_err": rel, "optimizer": "torch.optim.AdamW(fused=True), fp32 params/grads/states"})
        del opt, params
        torch.cuda.empty_cache()


# ----------------------------------------------------------------------------------------------
# Suite: gemm

# Llama-3.1-8B's four linears (in, out), as suite_gemm.cu's gemm_cases().
GEMM_LINEARS = (("qkv", HIDDEN, (N_HQ + 2 * N_HK) * HEAD_DIM), ("proj", HIDDEN, N_HQ * HEAD_DIM),
                ("fc1", HIDDEN, 2 * FFN), ("fc2", FFN, HIDDEN))


def gemm_cases(o):
    """suite_gemm.cu's gemm_cases(): per token count and linear, C[m,n] = A[m,k] B[k,n] for the
    forward (tokens x out x in), the data gradient (tokens x in x out) and the weight gradient
    (in x out x tokens)."""
    out = []
    for t in o.gemm_token_list:
        for name, fin, fout in GEMM_LINEARS:
            tag = f"{name}_t{t}"
            out += [(tag + "_fwd", t, fout, fin), (tag + "_dgrad", t, fin, fout), (tag + "_wgrad", fin, fout, t)]
    return out


def fp8_operands(name):
    """The fp8 types of A and B as Transformer Engine's default recipe (Format.HYBRID) gives them:
    E4M3 activations and weights, the output gradient E5M2. dgrad: A = dY, B = W; wgrad: A = X^T,
    B = dY."""
    e4, e5 = torch.float8_e4m3fn, torch.float8_e5m2
    if name.endswith("_dgrad"):
        return e5, e4
    if name.endswith("_wgrad"):
        return e4, e5
    return e4, e4


# The fp8 check's error bound per element, as a fraction of sum |a_i b_i| (the bound a floating-point
# sum's error obeys): Hopper's fp8 tensor cores accumulate with about 14 bits of mantissa under fast
# accumulation (DeepSeek-V3 technical report, arXiv 2412.19437, section 3.3.2: up to about 2 %
# relative error at K = 4096), more than bf16's rule (0.02 + 0.02 |ref|) allows at these K; 2^-8 of
# the magnitudes' sum passes that and still fails a result of the wrong layout or scale (errors of
# the size of |ref|, several times the bound). Normwise, the sample must stay within NORM_TOL.
FP8_ACCUM_GAMMA = 2.0 ** -8


def run_gemm_suite(o, mlog, timer):
    """The layer's GEMMs in bf16 and in fp8. fp8: torch._scaled_mm, the cuBLASLt call PyTorch and
    Transformer Engine make on Hopper (A row-major, B column-major: TE's "TN" layout, for which it
    keeps transposed fp8 copies), per-tensor scales, bf16 out; use_fast_accum=False is the split
    accumulator TE's recipes ask for in dgrad and wgrad (fp8_gemm_dgrad / fp8_gemm_wgrad
    use_split_accumulator=True, fprop False; transformer_engine/common/recipe). Inputs rotate over
    sets larger than twice the L2. Check: 16 sampled elements against float64 of the same
    (dequantized) inputs (fp8: within FP8_ACCUM_GAMMA of the products' magnitudes, above)."""
    log("#")
    log("# gemm: the layer's GEMMs, bf16 (torch.matmul, cuBLAS) and fp8 (torch._scaled_mm, cuBLASLt; TE's operand "
        "types; fast accumulation on and off)")
    log(f"# {'name':<22} {'dtype':>14} {'accum':>5} {'m':>6} {'n':>6} {'k':>6} {'time':>10} {'TFLOP/s':>8} "
        f"{'clock':>5} {'#wrong':>6}")
    gen = torch.Generator(device=DEV)
    for name, m, n, k in gemm_cases(o):
        flops = 2.0 * m * n * k
        variants = [("bf16", None)] + [("fp8", fast) for fast in (True, False)]
        for dtype, fast in variants:
            gen.manual_seed(o.seed + m * 7 + n * 13 + k * 17)
            a16 = torch.randn((m, k), generator=gen, device=DEV, dtype=torch.float32)
            b16 = torch.randn((n, k), generator=gen, device=DEV, dtype=torch.float32)  # B^T, row-major
            if dtype == "bf16":
                ta, tb = torch.bfloat16, torch.bfloat16
                per = (m * k + n * k) * 2
            else:
                ta, tb = fp8_operands(name)
                per = m * k + n * k
            sets = rotation_sets(per, 16)
            A = [a16.to(ta) for _ in range(sets)]
            B = [b16.to(tb) for _ in range(sets)]
            del a16, b16
            one = torch.ones((), device=DEV, dtype=torch.float32)
            if dtype == "bf16":
                call = lambda i: torch.matmul(A[i % sets], B[i % sets].t())
            else:
                call = lambda i: torch._scaled_mm(A[i % sets], B[i % sets].t(), scale_a=one, scale_b=one,
                                                  out_dtype=torch.bfloat16, use_fast_accum=fast)
            wrong = 0
            if o.check:
                c = call(0)
                rows = torch.tensor([(i * 7919) % m for i in range(16)], device=DEV)
                cols = torch.tensor([(i * 104729) % n for i in range(16)], device=DEV)
                prods = A[0].float()[rows].double() * B[0].float()[cols].double()
                ref = prods.sum(dim=1)
                if dtype == "bf16":
                    wrong, _ = compare(c[rows, cols], ref)
                else:  # the summation bound: an element is wrong beyond 0.02 + FP8_ACCUM_GAMMA x sum |a_i b_i|
                    got = c[rows, cols].double()
                    wrong = int((~((got - ref).abs() <= 0.02 + FP8_ACCUM_GAMMA * prods.abs().sum(dim=1))).sum())
                    den = float(torch.linalg.norm(ref))
                    if not (float(torch.linalg.norm(got - ref)) <= NORM_TOL * den):
                        wrong = max(wrong, 16)
                wrong += nonfinite(c)
                del c, prods
            t = timer.measure(call, o.iters)
            cfg = {"name": name, "m": m, "n": n, "k": k,
                   "dtype": "bf16" if dtype == "bf16" else
                   ("fp8_" + ("e4m3" if ta == torch.float8_e4m3fn else "e5m2") + "_" +
                    ("e4m3" if tb == torch.float8_e4m3fn else "e5m2"))}
            if dtype == "fp8":
                cfg["fast_accum"] = bool(fast)
            res = {"TFLOPs": num(flops / t["median_s"] * 1e-12), "sets": sets,
                   "call": "torch.matmul" if dtype == "bf16" else "torch._scaled_mm"}
            res.update(timing_results(t))
            mlog.add(record("gemm", "torch" if dtype == "bf16" else "cublaslt", cfg, t, o.check, wrong, res))
            log(f"  {name:<22} {cfg['dtype']:>14} {('-' if fast is None else 'fast' if fast else 'split'):>5} {m:>6} "
                f"{n:>6} {k:>6} {t['median_s'] * 1e6:>8.1f}us {flops / t['median_s'] * 1e-12:>8.1f} "
                f"{t['sm_clock_mhz']:>5.0f} {wrong:>6}")
            del A, B
        torch.cuda.empty_cache()


# ----------------------------------------------------------------------------------------------

def bind_torch(*modules):
    """Imports PyTorch and hands it to this module and to each of `modules` (kernel_profile, which
    import it lazily so that --help works without it; each also gets this module as `H`): the one
    place a tool or probe binds them. Returns (torch, torch.nn.functional)."""
    global torch, F
    import torch as _torch
    import torch.nn.functional as _F
    torch, F = _torch, _F
    for m in modules:
        m.torch, m.F, m.H = _torch, _F, sys.modules[__name__]
    return _torch, _F


def main(argv):
    o = parse_args(argv[1:])
    bind_torch()
    if not torch.cuda.is_available():
        print("hcpcal_torch: no CUDA device", file=sys.stderr)
        return 3
    torch.backends.cuda.matmul.allow_tf32 = False
    env = environment()
    mlog = MeasurementLog(o.out, argv, env)
    log(f"# hcpcal_torch: {env['hostname']}: {env['gpu_count']} x {env['gpu_model']} (cc {env['compute_capability']}, "
        f"{env['sm_count']} SMs, L2 {env['l2_bytes'] >> 20} MiB), driver {env['driver']}, CUDA runtime "
        f"{env['cuda_runtime']}, cuDNN {env['cudnn']}, torch {env['torch']}, flash: {env['flash_impl']}")
    log(f"# iterations {o.iters} (layer {o.layer_iters}), warm-up {o.warmup} runs and >= {o.warmup_ms:g} ms, "
        f"timed-ms {o.timed_ms:g}, check {int(o.check)}, suites {','.join(o.suites)}, out {o.out}")
    log(f"# {env['sm_clock']}; now {nvml_clock():.0f} MHz")
    timer = Timer(o)
    cache = OpCache(o, timer)
    t0 = time.perf_counter()
    try:
        if "attention" in o.suites:
            run_attention_suite(o, mlog, timer)
            log(f"# attention suite: {time.perf_counter() - t0:.1f} s")
        if "layer" in o.suites:
            t1 = time.perf_counter()
            run_layer_suite(o, mlog, timer, cache)
            log(f"# layer suite: {time.perf_counter() - t1:.1f} s")
        if "cp" in o.suites:
            t1 = time.perf_counter()
            run_cp_suite(o, mlog, timer)
            log(f"# cp suite: {time.perf_counter() - t1:.1f} s")
        if "kernels" in o.suites:
            t1 = time.perf_counter()
            run_kernels_suite(o, mlog, timer, cache)
            log(f"# kernels suite: {time.perf_counter() - t1:.1f} s")
        if "gemm" in o.suites:
            t1 = time.perf_counter()
            run_gemm_suite(o, mlog, timer)
            log(f"# gemm suite: {time.perf_counter() - t1:.1f} s")
    except Exception as e:
        import traceback
        traceback.print_exc()
        log(f"# FAILED after {time.perf_counter() - t0:.1f} s: {e}; the file keeps the finished records")
        return 3
    mlog.finish()
    wrong = mlog.total_wrong()
    kinds = {}
    for r in mlog.records:
        kinds[(r["kind"], r["backend"])] = kinds.get((r["kind"], r["backend"]), 0) + 1
    log("#")
    log("# records: " + ", ".join(f"{k[0]}/{k[1]} {v}" for k, v in sorted(kinds.items())) +
        f"; unsupported {len(mlog.unsupported)}; total {time.perf_counter() - t0:.1f} s")
    log(f"# peak memory allocated {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB; SM clock now {nvml_clock():.0f} MHz")
    log(f"# Out of bounds values : {wrong} {'FAILED' if wrong else 'OK'}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
