#!/usr/bin/env python3
"""probe_host: the CPU time PyTorch spends to launch work, per call and per kernel.

hcpsim bounds a step by the CPU's time to launch its kernels and NCCL calls (src/rules/host_launch.hpp,
docs/simulation.md, "The CPU's launches"); TransformerEngine issue #2053 timed PyTorch's Linear
module at 13.48 us a forward on a DGX H100's Xeon 8480C. This probe measures that cost on the node
it runs on, for the same call as the issue (BF16 Linear, 8192 tokens x hidden 2048: the functional
call, the module without autograd, and the module recording autograd) and for hcpcal's
Llama layer (calibrate/torch/hcpcal_torch.py, layer_forward: PyTorch eager, no Transformer Engine)
forward, backward and both, at --tokens tokens: the host's time per call (wall time of the Python
call while a long GPU spin keeps the GPU busy, so no call waits for the GPU or a full launch queue)
and the kernels each call launches (torch.profiler), hence the host's time per kernel.

    python3 calibrate/torch/probe_host.py --tokens 1024 --out host.json

With --loop N it also runs the layer's forward + backward N times back to back and records the
wall time an iteration beside the GPU's busy time and the CPU's time a call: whether a training
loop takes the larger of the two (the CPU running ahead of the GPU, or the GPU waiting for it), as
hcpsim composes it, or their sum.

Writes JSON {tool, argv, gpu, cpu, torch, records: [{what, tokens, calls, host_s_median, host_s_min,
kernels, host_s_per_kernel} ..., {what: "... looped", tokens, iterations, wall_s_per_iteration,
gpu_busy_s, host_s}]}.
"""
import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (the layer, its weights, the GPU spin)
from json_out import write_json  # noqa: E402  (complete or not at all)
import kernel_profile as KP  # noqa: E402  (its CUPTI kernel records)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def host_times(fn, calls, torch):
    """fn() `calls` times behind a GPU spin long enough to hold every call's kernels (the host never
    waits for the GPU); the wall time of each call. Three untimed calls first (lazy set-up)."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    H.spin(0.5)
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    torch.cuda.synchronize()
    return sorted(out)


def main(argv):
    p = argparse.ArgumentParser(prog="probe_host", description=__doc__.splitlines()[0])
    p.add_argument("--tokens", type=int, default=1024, help="the layer's tokens (default 1024)")
    p.add_argument("--calls", type=int, default=20,
                   help="timed calls of each (default 20; fewer where that would queue over 600 kernels)")
    p.add_argument("--loop", type=int, default=0, metavar="N",
                   help="also run the layer's forward + backward N times back to back, as training does, and "
                        "record the wall time an iteration against the GPU's busy time (its kernels' durations, "
                        "profiled) and the CPU's time a call (default 0: not)")
    p.add_argument("--out", required=True)
    o = p.parse_args(argv[1:])

    torch, F = H.bind_torch(KP)
    gen = torch.Generator(device="cuda").manual_seed(7)
    dev, bf16 = "cuda", torch.bfloat16
    x_lin = torch.randn((8192, 2048), generator=gen, device=dev, dtype=bf16)
    w_lin = torch.randn((2048, 2048), generator=gen, device=dev, dtype=bf16) * 0.02
    module = torch.nn.Linear(2048, 2048, bias=False, device=dev, dtype=bf16)
    y_add = torch.randn_like(x_lin)
    T = o.tokens
    W = H.make_layer_weights(gen)
    freqs = H.llama3_rope_freqs(T)
    x = (torch.randn((T, H.HIDDEN), generator=gen, device=dev, dtype=torch.float32)).to(bf16).requires_grad_()
    dy = torch.randn((T, H.HIDDEN), generator=gen, device=dev, dtype=bf16)
    leaves = [x] + list(W.values())
    with H.sdpa_context("cudnn"):
        out = H.layer_forward(x, W, freqs)

        def layer_bwd():
            torch.autograd.grad(out, leaves, dy, retain_graph=True)

        def layer_fwd_bwd():
            torch.autograd.grad(H.layer_forward(x, W, freqs), leaves, dy)

        cases = [("linear F.linear [8192,2048]x[2048,2048] bf16", 8192, lambda: F.linear(x_lin, w_lin)),
                 ("linear nn.Linear module, same shape", 8192, lambda: module(x_lin)),
                 ("nn.Linear module, same shape, autograd recording (weights require grad)", 8192,
                  lambda: module(x_lin)),
                 ("elementwise add [8192,2048] bf16", 8192, lambda: x_lin + y_add),
                 ("llama3.1-8b layer forward (eager, SDPA cudnn)", T, lambda: H.layer_forward(x, W, freqs)),
                 ("llama3.1-8b layer backward (autograd)", T, layer_bwd),
                 ("llama3.1-8b layer forward + backward", T, layer_fwd_bwd)]
        records = []
        for what, tokens, fn in cases:
            with torch.no_grad() if what.startswith(("linear", "elementwise")) else torch.enable_grad():
                kernels = len(KP.kernels_of(fn))
                # At most about 600 launches behind the spin: a full launch queue would make the host wait.
                calls = max(3, min(o.calls, 600 // max(kernels, 1)))
                ts = host_times(fn, calls, torch)
            med = ts[len(ts) // 2]
            records.append({"what": what, "tokens": tokens, "calls": calls, "host_s_median": med,
                            "host_s_min": ts[0], "kernels": kernels,
                            "host_s_per_kernel": med / kernels if kernels else None})
            print(f"{what:50} host {med * 1e6:9.1f} us (min {ts[0] * 1e6:8.1f}), {kernels:3d} kernels"
                  + (f", {med / kernels * 1e6:6.1f} us a kernel" if kernels else ""), flush=True)
        if o.loop > 0:  # the layer as a training loop runs it: the CPU ahead of the GPU or behind it
            busy_s = sum(k["dur_us"] for k in KP.kernels_of(layer_fwd_bwd)) * 1e-6
            for _ in range(3):
                layer_fwd_bwd()
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(o.loop):
                layer_fwd_bwd()
            torch.cuda.synchronize()
            wall_s = (time.perf_counter() - t0) / o.loop
            host_s = records[-1]["host_s_median"]
            records.append({"what": "llama3.1-8b layer forward + backward, looped", "tokens": T, "iterations": o.loop,
                            "wall_s_per_iteration": wall_s, "gpu_busy_s": busy_s, "host_s": host_s})
            print(f"loop of {o.loop}: {wall_s * 1e6:9.1f} us an iteration; GPU busy {busy_s * 1e6:9.1f} us, "
                  f"CPU {host_s * 1e6:9.1f} us: max {max(busy_s, host_s) * 1e6:9.1f}, sum {(busy_s + host_s) * 1e6:9.1f}",
                  flush=True)
    props = torch.cuda.get_device_properties(0)
    doc = {"tool": "probe_host.py", "argv": argv[1:], "gpu": props.name, "cpu": cpu_model(),
           "cpus": os.cpu_count(), "torch": torch.__version__, "records": records}
    write_json(o.out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
