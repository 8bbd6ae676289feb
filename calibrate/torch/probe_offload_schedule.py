#!/usr/bin/env python3
"""probe_offload_schedule: Transformer Engine's activation-offload schedule, run on the GPU, for
hcpsim's rule of it (src/rules/activation_offload.hpp) to be checked against.

A stack of L stand-in layers: each layer's forward is one bf16 GEMM (--gemm), its backward two; each
of the first N layers "saves" --saved MiB. As TE >= 2.10's cpu_offload.py schedules it:
  forward: once layer i (< N) has run, its saved tensor is copied to pinned host memory on one side
    stream (the copy waits for the layer's end); layer L - N + i waits for that copy;
  backward (layers L-1 .. 0): when layer L - 1 - N + i's backward starts, the side stream waits for the
    compute stream and reloads layer i; layer i's backward waits for its reload.
Timed with CUDA events: each pass of the stack, and alone the layer's forward (f) and backward (b) and
one copy each way (c_out, c_back), medians of -n after -w. N = 0 runs the stack without offloading: the
pass's own time, at the clock the GPU holds through a pass (each layer alone runs faster, between idle
gaps). The waits are a pass's time less that. tests/run/test_offload_schedule.cpp times the same schedule with hcpsim's rule from f, b and c
and compares.

    python3 calibrate/torch/probe_offload_schedule.py --out offload-schedule.json

Writes JSON {tool, argv, environment, records: [{layers, offloaded, saved_bytes, forward_s, backward_s,
copy_out_s, copy_back_s, forward_pass_s, backward_pass_s, wrong}]}.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (environment(), spin(), event_times(), bind_torch())
from json_out import write_json  # noqa: E402  (complete or not at all)

torch = None  # bound in main(), so --help works without PyTorch


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, default=16)
    p.add_argument("--offloaded", default="0,4,8,15", help="N values; 0: no offload, the pass's own time (default 0,4,8,15)")
    p.add_argument("--saved", default="64,256", help="MiB each offloaded layer saves (default 64,256)")
    p.add_argument("--gemm", type=int, default=8192, help="M = N = K of the layer's bf16 GEMM (default 8192)")
    p.add_argument("-n", type=int, default=7)
    p.add_argument("-w", type=int, default=2)
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def event_time(fn, n, w):
    """Median seconds of fn() on the current stream, one call at a time between CUDA events."""
    return statistics.median(H.event_times(fn, n, w, one_at_a_time=True))


def main(argv):
    global torch
    o = parse(argv)
    torch, _ = H.bind_torch()
    L = o.layers
    a = torch.randn(o.gemm, o.gemm, device="cuda", dtype=torch.bfloat16)
    wts = torch.randn(o.gemm, o.gemm, device="cuda", dtype=torch.bfloat16)
    out, out2 = torch.empty_like(a), torch.empty_like(a)
    side = torch.cuda.Stream()
    main_stream = torch.cuda.current_stream()

    def layer_fwd():
        torch.mm(a, wts, out=out)

    def layer_bwd():  # two GEMMs of the forward's size: dgrad and wgrad
        torch.mm(a, wts, out=out)
        torch.mm(a, wts, out=out2)

    H.spin(0.5)
    f = event_time(layer_fwd, o.n, o.w)
    b = event_time(layer_bwd, o.n, o.w)
    records = []
    for mib in (int(x) for x in o.saved.split(",")):
        elems = mib * (1 << 20) // 2
        for n_off in (int(x) for x in o.offloaded.split(",")):
            assert 0 <= n_off < L
            saved = [torch.randn(elems, device="cuda", dtype=torch.bfloat16) for _ in range(max(1, n_off))]
            host = [torch.empty(elems, dtype=torch.bfloat16, pin_memory=True) for _ in range(max(1, n_off))]
            back = [torch.empty_like(t) for t in saved]

            def one_copy(direction):
                with torch.cuda.stream(side):
                    if direction == "out":
                        host[0].copy_(saved[0], non_blocking=True)
                    else:
                        back[0].copy_(host[0], non_blocking=True)

            def copy_time(direction):
                ts = []
                for _ in range(o.n):
                    e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    e0.record(side)
                    one_copy(direction)
                    e1.record(side)
                    e1.synchronize()
                    ts.append(e0.elapsed_time(e1) * 1e-3)
                return statistics.median(ts)

            c_out, c_back = copy_time("out"), copy_time("back")

            def forward_pass():
                done = [None] * n_off
                for j in range(L):
                    if j >= L - n_off:  # layer L - N + i releases layer i: it waits for its copy
                        main_stream.wait_event(done[j - (L - n_off)])
                    layer_fwd()
                    if j < n_off:
                        ready = torch.cuda.Event()
                        ready.record(main_stream)
                        side.wait_event(ready)
                        with torch.cuda.stream(side):
                            host[j].copy_(saved[j], non_blocking=True)
                        done[j] = torch.cuda.Event()
                        done[j].record(side)

            def backward_pass():
                lead = L - 1 - n_off
                reloaded = [None] * n_off
                for j in range(L - 1, -1, -1):
                    i = j - lead
                    if 0 <= i < n_off:  # the reload starts once the compute issued so far is done
                        side.wait_stream(main_stream)
                        with torch.cuda.stream(side):
                            back[i].copy_(host[i], non_blocking=True)
                        reloaded[i] = torch.cuda.Event()
                        reloaded[i].record(side)
                    if j < n_off:
                        main_stream.wait_event(reloaded[j])
                    layer_bwd()

            fwd = event_time(forward_pass, o.n, o.w)
            torch.cuda.synchronize()
            bwd = event_time(backward_pass, o.n, o.w)
            torch.cuda.synchronize()
            wrong = sum(int((back[i] != saved[i]).sum().item()) for i in range(n_off))
            rec = {"layers": L, "offloaded": n_off, "saved_bytes": elems * 2, "forward_s": f, "backward_s": b,
                   "copy_out_s": c_out, "copy_back_s": c_back, "forward_pass_s": fwd, "backward_pass_s": bwd,
                   "wrong": wrong}
            records.append(rec)
            H.log("  L %d N %2d %4d MiB: f %.2f b %.2f c %.2f/%.2f ms; fwd pass %.2f, bwd pass %.2f ms; #wrong %d"
                  % (L, n_off, mib, f * 1e3, b * 1e3, c_out * 1e3, c_back * 1e3, fwd * 1e3, bwd * 1e3, wrong))
            del saved, host, back
            torch.cuda.empty_cache()
    write_json(o.out, {"tool": "probe_offload_schedule", "argv": sys.argv, "environment": H.environment(),
                       "records": records})


if __name__ == "__main__":
    main(sys.argv[1:])
