#!/usr/bin/env python3
"""probe_head_dim: attention at head dims other than 128, timed as hcpcal_torch times its suite.

Every attention table hcpsim has was measured at head dim 128. At another head dim d it scales the
time per FLOP by (1 - x) + x * 128 / d, x being the share of a score's time the softmax's
exponential takes on the special-function units at d = 128 (`head_dim_factor`,
src/cost/cost_model.cpp; docs/cost-model.md, "Head dims other than 128"). That rule has only been
checked against published A100 figures; this probe measures it: PyTorch's SDPA (cuDNN and
FlashAttention-2) forward and backward, causal and no mask, bf16, batch 1, MHA, at each head dim and
length, with hcpcal_torch's timer (warm-up to the sustained clock, calls back to back, median, the
clock the GPU counted). It writes hcpcal_torch's measurements.json schema, each record's
config.head_dim the probe's, so that `hcpsim check` predicts every record:

    python3 calibrate/torch/probe_head_dim.py --out head-dim.json
    hcpsim check head-dim.json --calibration src/cost/defaults/h200-cudnn.json --in-sample --backend cudnn --kind attention
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (its timer, records, SDPA calls and input sets)

torch = None  # bound in main(), so --help works without PyTorch


def ints(text):
    return [int(x) for x in text.split(",") if x]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dims", default="64,96,128,192,256", help="head dims (default 64,96,128,192,256)")
    p.add_argument("--seqs", default="8192,16384", help="sequence lengths (default 8192,16384)")
    p.add_argument("--heads", type=int, default=32, help="query and KV heads, MHA (default 32)")
    p.add_argument("--backends", default="cudnn,flash", help="SDPA backends (default cudnn,flash)")
    p.add_argument("-n", "--iters", type=int, default=20, help="timed calls (default 20)")
    p.add_argument("-w", "--warmup", type=int, default=3, help="warm-up calls at least (default 3)")
    p.add_argument("--warmup-ms", type=float, default=500, help="warm-up wall time at least (default 500)")
    p.add_argument("--timed-ms", type=float, default=0, help="timed calls stop after this (default 0: all)")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def main(argv):
    global torch
    o = parse_args(argv)
    torch, _ = H.bind_torch()
    if not torch.cuda.is_available():
        print("probe_head_dim: no CUDA device", file=sys.stderr)
        return 3
    env = H.environment()
    mlog = H.MeasurementLog(o.out, sys.argv, env)
    timer = H.Timer(o)
    gen = torch.Generator(device=H.DEV)
    gen.manual_seed(o.seed)
    H.log(f"# probe_head_dim: {env['gpu_model']}, cuDNN {env['cudnn']}, torch {env['torch']}; heads {o.heads}, "
          f"dims {o.dims}, seqs {o.seqs}")
    H.log("#  backend   d    seq   mask   fwd us  TFLOP/s   MHz    bwd us  TFLOP/s   MHz")
    t0 = time.perf_counter()
    for d in ints(o.dims):
        H.HEAD_DIM = d  # the harness's input sets, FLOPs and records read it
        for seq in ints(o.seqs):
            for causal in (True, False):
                c = H.AttnCase(f"s{seq}_{'causal' if causal else 'full'}_d{d}", seq, seq, o.heads, o.heads, causal)
                sets = [H.make_attn_set(c, gen, False) for _ in range(2)]
                mode = "causal" if causal else "none"
                ff = H.fwd_flops(c)
                for b in o.backends.split(","):
                    try:
                        with H.sdpa_context(b):
                            tf = timer.measure(lambda i: H.attn_call(sets[i % 2], c, mode, False), o.iters)
                            outs = [H.attn_call(s, c, mode, False) for s in sets]
                            gis = [H.grad_inputs(s, False) for s in sets]
                            dos = [H.d_out(s) for s in sets]
                            tb = timer.measure(lambda i: torch.autograd.grad(outs[i % 2], gis[i % 2], dos[i % 2],
                                                                             retain_graph=True), o.iters)
                            del outs
                    except Exception as e:  # a backend without this head dim: say so in the file
                        reason = "error: " + str(e).splitlines()[0][:300]
                        H.log(f"#  {b:>7} {d:>4} {seq:>6}: {reason}")
                        mlog.add_unsupported(b, c.name, reason)
                        torch.cuda.empty_cache()
                        continue
                    bf = H.BWD_FLOP_RATIO * ff
                    H.log(f"   {b:>7} {d:>4} {seq:>6} {c.mask:>6} {tf['median_s'] * 1e6:>8.1f} {ff / tf['median_s'] * 1e-12:>8.1f}"
                          f" {tf['sm_clock_mhz']:>5.0f} {tb['median_s'] * 1e6:>9.1f} {bf / tb['median_s'] * 1e-12:>8.1f}"
                          f" {tb['sm_clock_mhz']:>5.0f}")
                    for backward, t in ((False, tf), (True, tb)):
                        cfg = {"name": c.name, "pass": "bwd" if backward else "fwd", "batch": 1, "sq": seq, "skv": seq,
                               "heads_q": o.heads, "heads_kv": o.heads, "head_dim": d, "mask": c.mask}
                        res = {"tflops": H.num((bf if backward else ff) / t["median_s"] * 1e-12), "sets": 2,
                               "sdpa_mask": "is_causal=True" if causal else "none", "gqa": "none"}
                        res.update(H.timing_results(t))
                        mlog.add(H.record("attention", b, cfg, t, False, 0, res))
                del sets
                torch.cuda.empty_cache()
    mlog.finish()
    H.log(f"# {len(mlog.records)} records, {len(mlog.unsupported)} unsupported, {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
