#!/usr/bin/env python3
"""probe_mamf: the maximum achievable matmul FLOP/s (MAMF) by its published method, and the same
GEMM at the sustained clock, on one GPU.

hcpsim times a GPU it has not measured (B200, GB200, ...) by that GPU's MAMF fraction, brought to
training's sustained clock by the ratio a Hopper shows between the two (src/cost/roofline.hpp,
sustained_gemm_fraction). That ratio has so far taken its MAMF from ml-engineering's table (an H100
measured elsewhere, 794.5 of 989 TFLOP/s) and its sustained plateau from hcpsim's own H200 fit.
This probe measures both on the GPU at hand:

1. MAMF as ml-engineering's mamf-finder defines it (compute/accelerator/benchmarks/README.md:
   torch.mm of bf16 [M, K] x [K, N] for every shape of a grid, 50 warm-up calls, then 100 calls each
   timed alone, the fastest call kept; the best shape's TFLOP/s is the MAMF). The GPU idles between
   shapes while the next one is allocated, as there: each shape starts near the boost clock.
   Implemented here from that description.
2. The same GEMM sustained: the best shape, and the table's H100 and GH200 best shapes, through
   hcpcal_torch's timer (warm-up to the sustained clock, calls back to back, median; the clock the
   GPU counted during the timed calls).

    python3 calibrate/torch/probe_mamf.py --out mamf.json
    python3 calibrate/torch/probe_mamf.py --m 2048:16384:2048 --k 1024:20480:1024 --n 1024:16384:1024 --out mamf.json

Shapes are M x K x N as mamf-finder prints them. Writes JSON {tool, argv, gpu, sms, torch,
peak_bf16_tflops (--peak), grid: [{m, k, n, best_s, median_s, tflops}], mamf: {m, k, n, tflops,
fraction}, sustained: [{m, k, n, median_s, tflops, fraction, sm_clock_mhz, ...}]}.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (its timer, clock probes, environment)
from json_out import write_json  # noqa: E402  (complete or not at all)

torch = None  # bound in main(), so --help works without PyTorch

# ml-engineering's table's best shapes (M x K x N): H100 SXM 792.1-794.5 TFLOP/s, GH200 821.0.
TABLE_BEST = [(6144, 17920, 2816), (11264, 19712, 1536)]


def span(text):
    """"lo:hi:step" or "a,b,c"."""
    if ":" in text:
        lo, hi, step = (int(x) for x in text.split(":"))
        return list(range(lo, hi + 1, step))
    return [int(x) for x in text.split(",")]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--m", default="2048,4096,6144,8192,12288,16384", help="M values, a,b,c or lo:hi:step")
    p.add_argument("--k", default="1024,2048,4096,8192,12288,16384,20480", help="K values (the reduction)")
    p.add_argument("--n", default="1536,2816,4096,8192,12288,16384", help="N values")
    p.add_argument("--warmup-calls", type=int, default=50, help="mamf-finder's warm-up calls per shape")
    p.add_argument("--calls", type=int, default=100, help="mamf-finder's timed calls per shape (fastest kept)")
    p.add_argument("--peak", type=float, default=989.4, help="dense bf16 peak, TFLOP/s (H100/H200 SXM: 989.4)")
    p.add_argument("--sustained-warmup-ms", type=float, default=3000, help="warm-up before the sustained timing")
    p.add_argument("--sustained-timed-ms", type=float, default=1000, help="timed calls of the sustained timing")
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def operands(m, k, n, gen):
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16, generator=gen)
    b = torch.randn(k, n, device="cuda", dtype=torch.bfloat16, generator=gen)
    return a, b


def mamf_shape(m, k, n, o, gen):
    """mamf-finder's measurement of one shape: warm-up calls, then each call timed alone; the
    fastest and the median call."""
    a, b = operands(m, k, n, gen)
    c = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(o.warmup_calls):
        torch.mm(a, b, out=c)
    evs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(o.calls)]
    for ea, eb in evs:
        ea.record()
        torch.mm(a, b, out=c)
        eb.record()
    torch.cuda.synchronize()
    ts = sorted(ea.elapsed_time(eb) * 1e-3 for ea, eb in evs)
    flops = 2.0 * m * n * k
    return {"m": m, "k": k, "n": n, "best_s": ts[0], "median_s": ts[len(ts) // 2], "tflops": flops / ts[0] / 1e12}


def sustained(m, k, n, o, gen):
    a, b = operands(m, k, n, gen)
    c = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
    timer = H.Timer(argparse.Namespace(warmup=10, warmup_ms=o.sustained_warmup_ms, timed_ms=o.sustained_timed_ms))
    t = timer.measure(lambda i: torch.mm(a, b, out=c), 10 ** 6)
    flops = 2.0 * m * n * k
    t.update({"m": m, "k": k, "n": n, "tflops": flops / t["median_s"] / 1e12,
              "fraction": flops / t["median_s"] / 1e12 / o.peak})
    return t


def main(argv):
    global torch
    o = parse_args(argv)
    torch, _ = H.bind_torch()
    gen = torch.Generator(device="cuda")
    gen.manual_seed(0)
    grid = []
    shapes = [(m, k, n) for m in span(o.m) for k in span(o.k) for n in span(o.n)] + TABLE_BEST
    for i, (m, k, n) in enumerate(shapes):
        r = mamf_shape(m, k, n, o, gen)
        grid.append(r)
        if i % 50 == 0 or (m, k, n) in TABLE_BEST:
            H.log("mamf %5d/%d %5dx%5dx%5d %7.1f TFLOP/s" % (i + 1, len(shapes), m, k, n, r["tflops"]))
        torch.cuda.empty_cache()
    best = max(grid, key=lambda r: r["tflops"])
    mamf = {"m": best["m"], "k": best["k"], "n": best["n"], "tflops": best["tflops"], "fraction": best["tflops"] / o.peak}
    H.log("MAMF %.1f TFLOP/s (%.3f of %.1f) at %dx%dx%d" % (mamf["tflops"], mamf["fraction"], o.peak, best["m"], best["k"],
                                                          best["n"]))
    held = []
    for (m, k, n) in [(best["m"], best["k"], best["n"])] + [s for s in TABLE_BEST if s != (best["m"], best["k"], best["n"])]:
        t = sustained(m, k, n, o, gen)
        held.append(t)
        H.log("sustained %dx%dx%d %.1f TFLOP/s (%.3f) at %.0f MHz" % (m, k, n, t["tflops"], t["fraction"], t["sm_clock_mhz"]))
    props = torch.cuda.get_device_properties(0)
    write_json(o.out, {"tool": "probe_mamf", "argv": sys.argv, "gpu": props.name, "sms": props.multi_processor_count,
                       "torch": torch.__version__, "environment": H.environment(), "peak_bf16_tflops": o.peak,
                       "grid": grid, "mamf": mamf, "sustained": held})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
