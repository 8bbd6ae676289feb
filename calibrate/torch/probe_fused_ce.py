#!/usr/bin/env python3
"""probe_fused_ce: the fused cross entropies Megatron runs (cross_entropy_loss_fusion), timed beside a
copy on the same GPU, to test hcpsim's rule for them (src/rules/fused_kernels.hpp: each pass's
bytes at the copy's efficiency).

The loss over bf16 logits [T, V] at TP1, with per-token losses as Megatron's loss function takes them
(grad_output is a per-token tensor, never the scalar 1.0, so a backward that skips its scaling for 1.0
never skips it). Implementations, each written here from the algorithm its source runs, not copied:

  te          Transformer Engine >= 2.18 (PR #3193): Triton kernels, one program a row. Forward pass 1
              reads the row for its max and sum of exp (online softmax, Milakov & Gimelshein 2018,
              arXiv:1805.02867); pass 2 reads it again and writes the fp32 gradient (softmax - onehot)
              and the loss. Backward: the fp32 gradient scaled in place by grad_output, then the
              autograd engine's cast to the logits' bf16.
  te_inplace  Transformer Engine < 2.18: pass 2 writes the bf16 gradient over the logits; backward
              scales it in place.
  native      Megatron-core's cross_entropy_fusion_impl="native": its steps, each torch.compile'd as
              its jit_fuser does: fp32 logits and row max; subtract, exp, sum (in place); divide by
              the sum (in place); backward: subtract the onehot, scale by grad_output, cast to bf16.
  copy        a bf16 copy of [T, V] (2 B read + 2 B written an element): the copy's bandwidth here.

And Megatron's SwiGLU fusion (bias_swiglu_impl without a bias: swiglu and swiglu_back, each
torch.compile'd), over fc1's bf16 output [T, 2F] (--swiglu TxF), impl "swiglu_compiled", with a bf16
copy of [T, 2F] beside it.

Each implementation is compiled afresh for each shape (torch._dynamo.reset(): static shapes, as one
training run compiles them). Each pass: CUDA events around each call, median of -n after -w (and a GPU spin toward the sustained
clock); its kernels by torch.profiler; checked once: loss and gradient of 64 sampled rows against a
float64 reference (hcpcal_torch's rule, #wrong), NaN-poisoned outputs.

    python3 calibrate/torch/probe_fused_ce.py --out fused-ce.json

Writes JSON {tool, argv, environment, records: [{impl, pass, tokens, vocab, median_s, min_s, max_s,
kernels (in launch order), wrong, rel_err, checked_in_poisoned, grad_dtype}], unsupported: [{impl,
reason}]}; the copy's record has impl "copy", pass "copy".
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (environment(), spin(), compare(), kernel_names())
from json_out import write_json  # noqa: E402  (complete or not at all)

torch = None  # bound in main() (hcpcal_torch.bind_torch), so --help works without PyTorch
triton = tl = None
MAX_BLOCK = 32768  # elements a program reads per step: min(this, the row's next power of two), 32 warps, as TE


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shapes", default="4096x128256,8192x128256,16384x128256,16384x32064",
                   help="TxV logits shapes (default: Llama 3's vocabulary at 4K-16K tokens, and its TP4 shard)")
    p.add_argument("--impls", default="te,te_inplace,native", help="implementations (default te,te_inplace,native)")
    p.add_argument("-n", type=int, default=20, help="timed calls per pass (default 20)")
    p.add_argument("-w", type=int, default=5, help="untimed calls first (default 5)")
    p.add_argument("--swiglu", default="8192x14336,16384x14336,8192x7168",
                   help="TxF shapes of the SwiGLU fusion (default: Llama-3.1-8B's FFN at 8K and 16K tokens, 70B's at TP4)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def timed(fn, n, w):
    """fn()'s seconds, n calls queued back to back after w untimed and a spin toward the sustained clock."""
    for _ in range(w):
        fn()
    H.spin(0.2)
    return H.event_times(fn, n, 0)


def bind_triton():
    """Defines the Triton kernels; False where Triton is missing."""
    global triton, tl, row_stats, loss_and_grad, scale_rows
    try:
        import triton as _triton
        import triton.language as _tl
    except ImportError:
        return False
    triton, tl = _triton, _tl

    @triton.jit
    def row_stats(x_ptr, stride, y_ptr, max_ptr, sum_ptr, xy_ptr, n_cols, BLOCK: tl.constexpr):
        # One row: the running max and the sum of exp(x - max), rescaled as the max grows; the target's logit.
        row = tl.program_id(0).to(tl.int64)
        base = x_ptr + row * stride
        run_max = float("-inf")
        run_sum = 0.0
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(base + cols, mask=cols < n_cols, other=float("-inf")).to(tl.float32)
            new_max = tl.maximum(run_max, tl.max(x, 0))
            run_sum = run_sum * tl.exp(run_max - new_max) + tl.sum(tl.exp(x - new_max), 0)
            run_max = new_max
        tl.store(max_ptr + row, run_max)
        tl.store(sum_ptr + row, run_sum)
        tl.store(xy_ptr + row, tl.load(base + tl.load(y_ptr + row)).to(tl.float32))

    @triton.jit
    def loss_and_grad(x_ptr, stride, g_ptr, g_stride, y_ptr, max_ptr, sum_ptr, xy_ptr, loss_ptr, n_cols,
                      BLOCK: tl.constexpr):
        # One row again: softmax - onehot into g (fp32, or bf16 over the logits themselves); the loss.
        row = tl.program_id(0).to(tl.int64)
        base = x_ptr + row * stride
        gbase = g_ptr + row * g_stride
        target = tl.load(y_ptr + row)
        row_max = tl.load(max_ptr + row)
        row_sum = tl.load(sum_ptr + row)
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(base + cols, mask=cols < n_cols, other=0.0).to(tl.float32)
            p = tl.exp(x - row_max) / row_sum
            p = tl.where(cols == target, p - 1.0, p)
            tl.store(gbase + cols, p.to(g_ptr.dtype.element_ty), mask=cols < n_cols)
        tl.store(loss_ptr + row, tl.log(row_sum) + row_max - tl.load(xy_ptr + row))

    @triton.jit
    def scale_rows(g_ptr, stride, s_ptr, n_cols, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        base = g_ptr + row * stride
        s = tl.load(s_ptr + row)
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            g = tl.load(base + cols, mask=cols < n_cols, other=0.0).to(tl.float32)
            tl.store(base + cols, (g * s).to(g_ptr.dtype.element_ty), mask=cols < n_cols)

    globals().update(row_stats=row_stats, loss_and_grad=loss_and_grad, scale_rows=scale_rows)
    return True


def te_function(inplace):
    """TE's pass structure as an autograd function of (logits [T, V] bf16, target [T]) -> loss [T] fp32.
    The gradient is kept on ctx (not save_for_backward) so that the timed backward can run again."""
    class TritonCE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, logits, target):
            T, V = logits.shape
            BLOCK = min(MAX_BLOCK, triton.next_power_of_2(V))
            stats = torch.empty((3, T), dtype=torch.float32, device=logits.device)
            loss = torch.empty((T,), dtype=torch.float32, device=logits.device)
            row_stats[(T,)](logits, logits.stride(0), target, stats[0], stats[1], stats[2], V, BLOCK=BLOCK, num_warps=32)
            grad = logits if inplace else torch.empty_like(logits, dtype=torch.float32)
            loss_and_grad[(T,)](logits, logits.stride(0), grad, grad.stride(0), target, stats[0], stats[1], stats[2],
                                loss, V, BLOCK=BLOCK, num_warps=32)
            ctx.grad = grad
            return loss

        @staticmethod
        def backward(ctx, dloss):
            g = ctx.grad
            BLOCK = min(MAX_BLOCK, triton.next_power_of_2(g.shape[1]))
            scale_rows[(g.shape[0],)](g, g.stride(0), dloss.contiguous(), g.shape[1], BLOCK=BLOCK, num_warps=32)
            return g, None  # fp32 for a bf16 input: the autograd engine casts it
    return TritonCE


def native_function():
    """Megatron-core's native fused steps, each torch.compile'd (its jit_fuser under PyTorch >= 2.2)."""
    @torch.compile
    def logits_max(logits):
        x = logits.float()
        return x, torch.max(x, dim=-1)[0]

    @torch.compile
    def predicted_and_exp(x, target, row_max):
        x -= row_max.unsqueeze(-1)
        target_mask = (target < 0) | (target >= x.shape[-1])  # TP1: the whole vocabulary is this rank's
        masked = torch.where(target_mask, torch.zeros_like(target), target)
        predicted = x.gather(-1, masked.unsqueeze(-1)).squeeze(-1).masked_fill(target_mask, 0.0)
        torch.exp(x, out=x)
        return target_mask, masked, torch.cat((predicted, x.sum(dim=-1))), x

    @torch.compile
    def loss_of(exp_x, predicted_and_sum):
        predicted, sum_exp = torch.split(predicted_and_sum, predicted_and_sum.shape[0] // 2)
        loss = torch.log(sum_exp) - predicted
        exp_x.div_(sum_exp.unsqueeze(-1))
        return exp_x, loss

    @torch.compile
    def gradient(softmax, dloss, target_mask, masked):
        rows = torch.arange(softmax.shape[0], device=softmax.device)
        softmax[rows, masked] -= 1.0 - target_mask.float()
        softmax.mul_(dloss.unsqueeze(-1))
        return softmax.to(torch.bfloat16)

    class NativeCE(torch.autograd.Function):
        @staticmethod
        def forward(ctx, logits, target):
            x, row_max = logits_max(logits)
            target_mask, masked, predicted_and_sum, exp_x = predicted_and_exp(x, target, row_max)
            softmax, loss = loss_of(exp_x, predicted_and_sum)
            ctx.softmax, ctx.target_mask, ctx.masked = softmax, target_mask, masked
            return loss

        @staticmethod
        def backward(ctx, dloss):
            return gradient(ctx.softmax, dloss, ctx.target_mask, ctx.masked), None
    return NativeCE


def reference(logits, target, dloss):
    x = logits.detach().double().requires_grad_()
    loss = -torch.log_softmax(x, dim=-1).gather(1, target.unsqueeze(1)).squeeze(1)
    (g,) = torch.autograd.grad(loss, (x,), dloss.double())
    return loss.detach(), g


def kernels_of(fn):
    """The CUDA kernels one call of fn launches, in order (torch.profiler), names cut to 100 characters."""
    from torch.profiler import profile, ProfilerActivity
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    events = [e for e in prof.events() if "CUDA" in str(getattr(e, "device_type", ""))]
    return [e.name[:100] for e in sorted(events, key=lambda e: e.time_range.start)]


def probe(fn_class, T, V, o, gen, impl):
    logits = (torch.randn((T, V), generator=gen, device="cuda", dtype=torch.float32) * 2).to(torch.bfloat16)
    target = torch.randint(0, V, (T,), generator=gen, device="cuda")
    dloss = torch.rand((T,), generator=gen, device="cuda", dtype=torch.float32) / T
    rows = torch.randperm(T, generator=gen, device="cuda")[:64]
    ref_loss, ref_grad = reference(logits[rows], target[rows], dloss[rows])

    def checked():  # on a fresh copy of the logits (te_inplace overwrites its input)
        leaf = logits.clone().requires_grad_()
        loss = fn_class.apply(leaf, target)
        (g,) = torch.autograd.grad(loss, (leaf,), dloss)
        return loss.detach(), g
    (loss, grad), poisoned = H.poisoned(checked)
    wrong_f, rel_f = H.compare(loss[rows], ref_loss)
    wrong_b, rel_b = H.compare(grad[rows], ref_grad)
    wrong_f += H.nonfinite(loss)
    wrong_b += H.nonfinite(grad)
    grad_dtype = str(grad.dtype)
    del loss, grad
    leaf = logits.requires_grad_()
    fwd = timed(lambda: fn_class.apply(leaf, target), o.n, o.w)
    fwd_kernels = kernels_of(lambda: fn_class.apply(leaf, target))
    keep = fn_class.apply(leaf, target)
    bwd_call = lambda: torch.autograd.grad(keep, (leaf,), dloss, retain_graph=True)  # noqa: E731
    bwd = timed(bwd_call, o.n, o.w)
    bwd_kernels = kernels_of(bwd_call)
    out = []
    for p, t, kernels, wrong, rel in (("fwd", fwd, fwd_kernels, wrong_f, rel_f), ("bwd", bwd, bwd_kernels, wrong_b, rel_b)):
        out.append({"impl": impl, "pass": p, "tokens": T, "vocab": V, "median_s": statistics.median(t), "min_s": min(t),
                    "max_s": max(t), "kernels": kernels, "wrong": wrong, "rel_err": rel, "checked_in_poisoned": poisoned,
                    "grad_dtype": grad_dtype})
        H.log("  %-10s %s T %6d V %6d  %8.1f us  kernels %d  #wrong %d" %
              (impl, p, T, V, out[-1]["median_s"] * 1e6, len(kernels), wrong))
    del keep, leaf, logits
    torch.cuda.empty_cache()
    return out


def swiglu_records(T, F_, o, gen):
    """Megatron's swiglu / swiglu_back, each torch.compile'd, as one autograd function; and a copy of its input."""
    @torch.compile
    def swiglu(y):
        gate, up = torch.chunk(y, 2, -1)
        return torch.nn.functional.silu(gate) * up

    @torch.compile
    def swiglu_back(g, y):
        gate, up = torch.chunk(y, 2, -1)
        sig = torch.sigmoid(gate)
        return torch.cat((g * sig * (1 + gate * (1 - sig)) * up, g * torch.nn.functional.silu(gate)), -1)

    class SwiGLU(torch.autograd.Function):
        @staticmethod
        def forward(ctx, y):
            ctx.save_for_backward(y)
            return swiglu(y)

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return swiglu_back(g, y)

    y = torch.randn((T, 2 * F_), generator=gen, device="cuda", dtype=torch.float32).to(torch.bfloat16).requires_grad_()
    g = torch.randn((T, F_), generator=gen, device="cuda", dtype=torch.float32).to(torch.bfloat16)
    rows = torch.randperm(T, generator=gen, device="cuda")[:64]
    out = SwiGLU.apply(y)
    (dy,) = torch.autograd.grad(out, (y,), g)
    yr = y.detach()[rows].double().requires_grad_()
    gate, up = torch.chunk(yr, 2, -1)
    ref = torch.nn.functional.silu(gate) * up
    (dref,) = torch.autograd.grad(ref, (yr,), g[rows].double())
    wrong_f, rel_f = H.compare(out[rows], ref)
    wrong_b, rel_b = H.compare(dy[rows], dref)
    del out, dy
    fwd = timed(lambda: SwiGLU.apply(y), o.n, o.w)
    fwd_kernels = kernels_of(lambda: SwiGLU.apply(y))
    keep = SwiGLU.apply(y)
    bwd_call = lambda: torch.autograd.grad(keep, (y,), g, retain_graph=True)  # noqa: E731
    bwd = timed(bwd_call, o.n, o.w)
    bwd_kernels = kernels_of(bwd_call)
    dst = torch.empty_like(y)
    src = y.detach()
    cp = timed(lambda: dst.copy_(src), o.n, o.w)
    recs = [{"impl": "copy", "pass": "copy", "tokens": T, "width": 2 * F_, "median_s": statistics.median(cp),
             "min_s": min(cp), "max_s": max(cp), "kernels": kernels_of(lambda: dst.copy_(src)),
             "wrong": int((dst != src).sum().item()), "rel_err": 0.0}]
    for p, t, kernels, wrong, rel in (("fwd", fwd, fwd_kernels, wrong_f, rel_f), ("bwd", bwd, bwd_kernels, wrong_b, rel_b)):
        recs.append({"impl": "swiglu_compiled", "pass": p, "tokens": T, "ffn": F_, "median_s": statistics.median(t),
                     "min_s": min(t), "max_s": max(t), "kernels": kernels, "wrong": wrong, "rel_err": rel})
    for r in recs:
        H.log("  %-15s %-4s T %6d  %8.1f us  kernels %d  #wrong %d" %
              (r["impl"], r["pass"], T, r["median_s"] * 1e6, len(r["kernels"]), r["wrong"]))
    del keep, y, g, dst, src
    torch.cuda.empty_cache()
    return recs


def copy_record(T, V, o):
    src = torch.randn((T, V), device="cuda", dtype=torch.bfloat16)
    dst = torch.empty_like(src)
    t = timed(lambda: dst.copy_(src), o.n, o.w)
    wrong = int((dst != src).sum().item())
    rec = {"impl": "copy", "pass": "copy", "tokens": T, "vocab": V, "median_s": statistics.median(t), "min_s": min(t),
           "max_s": max(t), "kernels": kernels_of(lambda: dst.copy_(src)), "wrong": wrong, "rel_err": 0.0}
    H.log("  copy       T %6d V %6d  %8.1f us  %.0f GB/s  #wrong %d" %
          (T, V, rec["median_s"] * 1e6, 4 * T * V / rec["median_s"] / 1e9, wrong))
    del src, dst
    torch.cuda.empty_cache()
    return rec


def main(argv):
    global torch
    o = parse(argv)
    torch, _ = H.bind_torch()
    has_triton = bind_triton()
    impls = o.impls.split(",")
    H.log("# probe_fused_ce: fused cross entropies at TP1 (triton %s, torch %s)" %
          (getattr(triton, "__version__", "missing"), torch.__version__))
    records, unsupported = [], []
    gen = torch.Generator(device="cuda").manual_seed(o.seed)
    classes = {}
    for impl in impls:
        if impl.startswith("te") and not has_triton:
            unsupported.append({"impl": impl, "reason": "Triton is not installed"})
            continue
        classes[impl] = te_function(impl == "te_inplace") if impl.startswith("te") else native_function()
    for shape in o.shapes.split(","):
        T, V = (int(x) for x in shape.split("x"))
        records.append(copy_record(T, V, o))
        for impl, cls in classes.items():
            # Compiled afresh for each shape: a training run compiles one shape, and a second shape
            # would make torch.compile recompile with dynamic sizes (slower kernels).
            torch._dynamo.reset()
            try:
                records += probe(cls, T, V, o, gen, impl)
            except Exception as e:  # a compile or launch failure is reported, and the others still run
                H.log("  %-10s T %6d V %6d  failed: %s" % (impl, T, V, str(e).splitlines()[0][:200]))
                unsupported.append({"impl": impl, "tokens": T, "vocab": V, "reason": str(e).splitlines()[0][:400]})
                torch.cuda.empty_cache()
    for shape in filter(None, o.swiglu.split(",")):
        T, F_ = (int(x) for x in shape.split("x"))
        torch._dynamo.reset()  # static shapes, as above
        try:
            records += swiglu_records(T, F_, o, gen)
        except Exception as e:
            H.log("  swiglu T %d F %d failed: %s" % (T, F_, str(e).splitlines()[0][:200]))
            unsupported.append({"impl": "swiglu_compiled", "tokens": T, "ffn": F_, "reason": str(e).splitlines()[0][:400]})
    write_json(o.out, {"tool": "probe_fused_ce", "argv": sys.argv, "environment": H.environment(),
                       "records": records, "unsupported": unsupported})


if __name__ == "__main__":
    main(sys.argv[1:])
