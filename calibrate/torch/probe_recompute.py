#!/usr/bin/env python3
"""probe_recompute: Megatron's full activation recompute, by block and uniform, on a stack of
Llama-3.1-8B layers, for hcpsim's rule of it (src/rules/recompute.hpp) to be checked against.

A stack of --layers layers, each hcpcal_torch's layer_forward (Megatron's op order in plain
PyTorch, its own weights, the attention in SDPA's --backend), over T tokens (--tokens). Each setting
runs the stack as Megatron's checkpointed_forward does (megatron/core/recompute.py):
  none       every layer as is;
  uniformN   units of N layers, the last one shorter, each unit under one checkpoint;
  blockN     the first N layers each under its own checkpoint, the rest as is.
The checkpoint is torch.utils.checkpoint with use_reentrant=True: it saves the unit's input,
runs it without recording, and in the backward runs it again recording and then back through it
(the mechanism of Megatron's tensor_parallel.checkpoint).

Per setting: the forward and backward passes (CUDA events, median of -n after -w runs, each run a
forward then a backward); the memory the forward leaves allocated (torch.cuda.memory_allocated
after the forward less before it: the saved activations and the stack's output) and the most the
backward adds on top (max_memory_allocated over the backward less that). The weights' gradients
exist from the warm-up on, so the backward allocates only activations' gradients and rebuilt
layers. #wrong: non-finite elements of the output and the input's gradient, and the input's
gradient against the setting "none" (relative norm, on 64 rows).

    python3 calibrate/torch/probe_recompute.py --tokens 8192,16384 --out recompute.json

Writes JSON {tool, argv, environment, records: [{tokens, layers, setting, method, num_layers,
forward_pass_s, backward_pass_s, saved_bytes, backward_extra_bytes, input_bytes, dx_rel_diff, wrong,
sm_clock_mhz}]}.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (layer_forward, make_layer_weights, sdpa_context, bind_torch, ...)
from json_out import write_json  # noqa: E402  (complete or not at all)

torch = None  # bound in main(), so --help works without PyTorch


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--tokens", default="8192,16384", help="T values (default 8192,16384)")
    p.add_argument("--settings", default="none,uniform1,uniform2,uniform4,block2,block5",
                   help="none, uniformN, blockN (default none,uniform1,uniform2,uniform4,block2,block5)")
    p.add_argument("--backend", default="cudnn", choices=["cudnn", "flash"])
    p.add_argument("-n", type=int, default=5)
    p.add_argument("-w", type=int, default=2)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--out", required=True)
    o = p.parse_args(argv)
    o.token_list = [int(t) for t in o.tokens.split(",") if t]
    o.setting_list = [s for s in o.settings.split(",") if s]
    for s in o.setting_list:
        if s != "none" and not (s.startswith(("uniform", "block")) and s.lstrip("uniformblock").isdigit()):
            p.error(f"--settings: '{s}' is not none, uniformN or blockN")
    return o


def method_of(setting):
    """('none', 0), ('uniform', N) or ('block', N)."""
    if setting == "none":
        return "none", 0
    for m in ("uniform", "block"):
        if setting.startswith(m):
            return m, int(setting[len(m):])
    raise ValueError(setting)


def run_stack(x, weights, freqs, method, n):
    """Megatron's checkpointed_forward over the stack: returns its output."""
    from torch.utils.checkpoint import checkpoint

    def unit(first, last):
        def f(h):
            for W in weights[first:last]:
                h = H.layer_forward(h, W, freqs)
            return h
        return f
    L = len(weights)
    h = x
    if method == "uniform":
        for first in range(0, L, n):
            h = checkpoint(unit(first, min(first + n, L)), h, use_reentrant=True)
    else:
        for i in range(L):
            f = unit(i, i + 1)
            h = checkpoint(f, h, use_reentrant=True) if method == "block" and i < n else f(h)
    return h


def main(argv):
    global torch
    o = parse(argv)
    torch, _ = H.bind_torch()
    records = []
    for T in o.token_list:
        gen = torch.Generator(device="cuda")
        gen.manual_seed(o.seed + T)
        weights = [H.make_layer_weights(gen) for _ in range(o.layers)]
        freqs = H.llama3_rope_freqs(T)
        x = torch.randn((T, H.HIDDEN), generator=gen, device="cuda", dtype=torch.bfloat16).requires_grad_()
        dy = torch.randn((T, H.HIDDEN), generator=gen, device="cuda", dtype=torch.bfloat16)
        rows = torch.arange(0, T, max(1, T // 64), device="cuda")[:64]
        reference_dx = None
        H.spin(0.5)
        for setting in o.setting_list:
            method, n = method_of(setting)
            with H.sdpa_context(o.backend):
                def once(events=None, memory=None):
                    if events:
                        events[0].record()
                    before = torch.cuda.memory_allocated()
                    out = run_stack(x, weights, freqs, method, n)
                    if events:
                        events[1].record()
                    if memory is not None:
                        torch.cuda.synchronize()
                        memory["saved"] = torch.cuda.memory_allocated() - before
                        torch.cuda.reset_peak_memory_stats()
                        after = torch.cuda.memory_allocated()
                    torch.autograd.backward(out, dy)
                    if events:
                        events[2].record()
                    if memory is not None:
                        torch.cuda.synchronize()
                        memory["extra"] = torch.cuda.max_memory_allocated() - after
                    return out
                x.grad = None
                out = once()  # the weights' gradients exist from here on
                wrong = int((~torch.isfinite(out)).sum().item()) + int((~torch.isfinite(x.grad)).sum().item())
                dx = x.grad[rows].double()
                if reference_dx is None:
                    reference_dx = dx
                rel = float(torch.linalg.norm(dx - reference_dx) / torch.linalg.norm(reference_dx))
                del out
                memory = {}
                x.grad = None
                once(memory=memory)
                fwd, bwd, clocks = [], [], []
                for i in range(o.w + o.n):
                    x.grad = None
                    ev = [torch.cuda.Event(enable_timing=True) for _ in range(3)]
                    once(events=ev)
                    ev[2].synchronize()
                    if i >= o.w:
                        fwd.append(ev[0].elapsed_time(ev[1]) * 1e-3)
                        bwd.append(ev[1].elapsed_time(ev[2]) * 1e-3)
                        clocks.append(H.nvml_clock())
            rec = {"tokens": T, "layers": o.layers, "setting": setting, "method": method, "num_layers": n,
                   "backend": o.backend, "forward_pass_s": statistics.median(fwd),
                   "backward_pass_s": statistics.median(bwd), "saved_bytes": memory["saved"],
                   "backward_extra_bytes": memory["extra"], "input_bytes": T * H.HIDDEN * 2,
                   "dx_rel_diff": rel, "wrong": wrong, "sm_clock_mhz": statistics.median(clocks)}
            records.append(rec)
            H.log("  T %6d %-9s fwd %8.2f ms  bwd %8.2f ms  saved %6.2f GB  bwd extra %6.2f GB  dx %.1e  #wrong %d  %4.0f MHz"
                  % (T, setting, rec["forward_pass_s"] * 1e3, rec["backward_pass_s"] * 1e3, rec["saved_bytes"] / 1e9,
                     rec["backward_extra_bytes"] / 1e9, rel, wrong, rec["sm_clock_mhz"]))
        del weights, x, dy, freqs
        torch.cuda.empty_cache()
    write_json(o.out, {"tool": "probe_recompute", "argv": sys.argv, "environment": H.environment(),
                       "records": records})


if __name__ == "__main__":
    main(sys.argv[1:])
