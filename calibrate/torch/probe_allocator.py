#!/usr/bin/env python3
"""probe_allocator: what PyTorch's caching allocator holds beyond what a training step allocates,
the gap hcpsim's memory estimate leaves out ("not included: allocator fragmentation").

hcpsim estimates the bytes a step allocates at its peak; the GPU runs out when the allocator's
reserved segments, which also hold freed blocks it could not reuse, reach the memory. This runs a
training step in the way Megatron lays out its memory, on one GPU, and records both peaks:
  - a stack of --layers Llama-3.1-8B layers (hcpcal_torch's layer_forward, Megatron's op order in
    plain PyTorch) under full recompute as Megatron's checkpointed_forward runs it (probe_recompute's
    run_stack: none, uniformN, blockN), then the LM head (vocab 128256) and an unfused cross entropy
    over fp32 logits;
  - bf16 weights, an fp32 gradient buffer of one allocation that every weight's gradient is added
    into as soon as it is ready, then freed (Megatron's DDP main_grad), Adam's fp32 master weights
    and two moments, one allocation each, stepped in place after the micro batches;
  - --microbatches micro batches of --tokens tokens a step, --steps steps.
Per step: torch.cuda.max_memory_allocated and max_memory_reserved over the step (peaks reset before
it), the allocator's retries (num_alloc_retries: a cudaMalloc failed and it freed its cache to try
again) and its inactive split bytes at the end. One setting a process, as a training job runs one:
run it once per setting, and once more with PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True.
With --cap-search it then bisects the least memory the step runs in: the allocator capped by
torch.cuda.set_per_process_memory_fraction, two steps a trial, to --cap-resolution-bytes.

    python3 calibrate/torch/probe_allocator.py --tokens 8192 --setting block5 --out alloc.json

Writes JSON {tool, argv, environment, alloc_conf, records: [{tokens, layers, microbatches,
setting, step, allocated_peak_bytes, reserved_peak_bytes, reserved_over_allocated, alloc_retries,
inactive_split_bytes, step_s, wrong}], cap_search: null or {least_cap_bytes, over_allocated_bytes,
resolution_bytes, trials: [{cap_bytes, ran, reserved_peak_bytes}]}}.
"""
import argparse
import gc
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (layer_forward, make_layer_weights, bind_torch, ...)
import probe_recompute as R  # noqa: E402  (run_stack, method_of: Megatron's checkpointed_forward)
from json_out import write_json  # noqa: E402  (complete or not at all)

torch = None  # bound in main(), so --help works without PyTorch


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, default=8)
    p.add_argument("--tokens", type=int, default=8192)
    p.add_argument("--microbatches", type=int, default=2)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--setting", default="none", help="none, uniformN or blockN (default none)")
    p.add_argument("--backend", default="cudnn", choices=["cudnn", "flash"])
    p.add_argument("--cap-search", action="store_true",
                   help="then bisect the least memory cap the step runs under (set_per_process_memory_fraction)")
    p.add_argument("--cap-resolution-bytes", type=int, default=256 << 20)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--out", required=True)
    o = p.parse_args(argv)
    try:
        o.method, o.n = R.method_of(o.setting)
    except ValueError:
        p.error(f"--setting: '{o.setting}' is not none, uniformN or blockN")
    return o


def main(argv):
    global torch
    o = parse(argv)
    torch, F = H.bind_torch(R)
    gen = torch.Generator(device="cuda")
    gen.manual_seed(o.seed)
    weights = [H.make_layer_weights(gen) for _ in range(o.layers)]
    head = (torch.randn((H.VOCAB, H.HIDDEN), generator=gen, device="cuda", dtype=torch.float32) * 0.02).to(
        torch.bfloat16).requires_grad_()
    params = [t for W in weights for t in (W.values() if isinstance(W, dict) else W) if t.requires_grad] + [head]
    numel = sum(p.numel() for p in params)
    # Megatron's DDP: one fp32 gradient buffer, each parameter's main_grad a view of it; the
    # distributed optimizer (one rank): fp32 master weights and Adam's two moments, one buffer each.
    grad_buffer = torch.zeros(numel, device="cuda", dtype=torch.float32)
    master = torch.cat([p.detach().float().reshape(-1) for p in params])
    exp_avg, exp_avg_sq = torch.zeros_like(master), torch.zeros_like(master)
    offset = 0
    for p in params:
        p.main_grad = grad_buffer[offset:offset + p.numel()].view_as(p)
        offset += p.numel()

        def add_and_free(q):
            q.main_grad.add_(q.grad)
            q.grad = None
        p.register_post_accumulate_grad_hook(add_and_free)
    freqs = H.llama3_rope_freqs(o.tokens)

    def step():
        """One training step: the micro batches' forward and backward, then Adam. #wrong back."""
        grad_buffer.zero_()
        wrong = 0
        for _ in range(o.microbatches):
            x = torch.randn((o.tokens, H.HIDDEN), generator=gen, device="cuda", dtype=torch.bfloat16)
            labels = torch.randint(0, H.VOCAB, (o.tokens,), generator=gen, device="cuda")
            h = R.run_stack(x.requires_grad_(), weights, freqs, o.method, o.n)
            logits = h @ head.t()
            loss = F.cross_entropy(logits.float(), labels)
            wrong += int(not torch.isfinite(loss).item())
            loss.backward()
            del x, labels, h, logits, loss
        # Adam in place over the buffers (no temporaries of their size), then the bf16 weights.
        exp_avg.mul_(0.9).add_(grad_buffer, alpha=0.1)
        exp_avg_sq.mul_(0.95).addcmul_(grad_buffer, grad_buffer, value=0.05)
        master.addcdiv_(exp_avg, exp_avg_sq.sqrt().add_(1e-8), value=-1e-6)
        offset = 0
        with torch.no_grad():
            for p in params:
                p.copy_(master[offset:offset + p.numel()].view_as(p))
                offset += p.numel()
        torch.cuda.synchronize()
        return wrong

    records = []
    with H.sdpa_context(o.backend):
        for i in range(o.steps):
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            t0 = time.perf_counter()
            wrong = step()
            stats = torch.cuda.memory_stats()
            allocated, reserved = torch.cuda.max_memory_allocated(), torch.cuda.max_memory_reserved()
            rec = {"tokens": o.tokens, "layers": o.layers, "microbatches": o.microbatches, "setting": o.setting,
                   "step": i, "allocated_peak_bytes": allocated, "reserved_peak_bytes": reserved,
                   "reserved_over_allocated": reserved / allocated, "alloc_retries": stats.get("num_alloc_retries", 0),
                   "inactive_split_bytes": stats.get("inactive_split_bytes.all.current", 0),
                   "step_s": time.perf_counter() - t0, "wrong": wrong}
            records.append(rec)
            H.log("  T %6d %-9s step %d  allocated %6.2f GB  reserved %6.2f GB  (x%.3f)  retries %d  inactive %.2f GB"
                  % (o.tokens, o.setting, i, allocated / 1e9, reserved / 1e9, reserved / allocated,
                     rec["alloc_retries"], rec["inactive_split_bytes"] / 1e9))
        cap = None
        if o.cap_search:
            # The least memory the step runs in: the allocator capped (set_per_process_memory_fraction)
            # and bisected between the allocated peak and the device, two steps a trial; a trial
            # that runs out frees what it held and empties the cache before the next.
            total = torch.cuda.get_device_properties(0).total_memory
            lo, hi = records[-1]["allocated_peak_bytes"], total
            trials = []
            while hi - lo > o.cap_resolution_bytes:
                mid = (lo + hi) // 2
                torch.cuda.set_per_process_memory_fraction(mid / total)
                torch.cuda.empty_cache()
                ran = True
                torch.cuda.reset_peak_memory_stats()
                try:
                    step()
                    step()
                except RuntimeError as e:  # torch.OutOfMemoryError, also as the autograd engine rethrows it
                    if "out of memory" not in str(e):
                        raise
                    ran = False
                    del e
                reserved_peak = torch.cuda.max_memory_reserved()
                for p in params:
                    p.grad = None
                gc.collect()
                torch.cuda.empty_cache()
                trials.append({"cap_bytes": mid, "ran": ran, "reserved_peak_bytes": reserved_peak})
                H.log("  T %6d %-9s cap %6.2f GB: %s (reserved peak %6.2f GB)" % (
                    o.tokens, o.setting, mid / 1e9, "ran" if ran else "out of memory", reserved_peak / 1e9))
                if ran:
                    hi = mid
                else:
                    lo = mid
            torch.cuda.set_per_process_memory_fraction(1.0)
            cap = {"least_cap_bytes": hi, "over_allocated_bytes": hi - records[-1]["allocated_peak_bytes"],
                   "resolution_bytes": o.cap_resolution_bytes, "trials": trials}
            H.log("  T %6d %-9s runs in %6.2f GB: %.2f GB over its allocated peak"
                  % (o.tokens, o.setting, hi / 1e9, cap["over_allocated_bytes"] / 1e9))
    write_json(o.out, {"tool": "probe_allocator", "argv": sys.argv, "environment": H.environment(),
                       "alloc_conf": os.environ.get("PYTORCH_CUDA_ALLOC_CONF", ""), "records": records,
                       "cap_search": cap})


if __name__ == "__main__":
    main(sys.argv[1:])
