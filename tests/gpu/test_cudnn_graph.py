#!/usr/bin/env python3
"""GPU test of hcpcal_torch's cuDNN graph path (calibrate/torch/cudnn_graph.py): cuDNN's fused
attention built through the cuDNN frontend with each mask hcpsim's CP schedules use, forward and
backward, against float64 attention written out here.

Reference (independent of the library and of hcpcal_torch): for query row i and key j of a
kernel with sq queries and skv keys, the score is q_i . k_j / sqrt(d), kept where the mask
allows it and -inf elsewhere: no mask keeps all; top-left causal keeps j <= i; bottom-right
causal (Transformer Engine's all_gather chunks: the queries are the last sq rows of a square)
keeps j <= i + (skv - sq). O = softmax(scores) V; query head h reads KV head h // (hq / hkv).
dQ, dK, dV come from float64 autograd of the same expression with a random dO. A case passes
when every output's normwise relative error is below 2e-2 (bf16 inputs and outputs) and, for
bottom-right cases with sq < skv, the output is NOT within that bound of the top-left result
(so the mask's alignment is what is tested, not only that attention runs).

Exit 0 pass, 1 fail, 77 skip (no PyTorch with CUDA, or no cuDNN frontend headers).
Usage: test_cudnn_graph.py BUILD_DIR
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "calibrate", "torch"))

TOL = 2e-2
CASES = [  # sq, skv, hq, hkv, mask
    (128, 384, 4, 2, "causal_bottom_right"),
    (1024, 4096, 8, 2, "causal_bottom_right"),
    (512, 512, 4, 4, "causal_bottom_right"),
    (256, 256, 8, 2, "causal"),
    (192, 320, 4, 1, "none"),
]


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def reference(torch, q, k, v, mask):
    """q [b, sq, hq, d], k/v [b, skv, hkv, d] float64 -> O [b, hq, sq, d]."""
    group = q.shape[2] // k.shape[2]
    qd = q.transpose(1, 2)
    kd = k.repeat_interleave(group, 2).transpose(1, 2)
    vd = v.repeat_interleave(group, 2).transpose(1, 2)
    scores = qd @ kd.transpose(-1, -2) * q.shape[-1] ** -0.5
    sq, skv = q.shape[1], k.shape[1]
    if mask != "none":
        offset = skv - sq if mask == "causal_bottom_right" else 0
        i = torch.arange(sq, device=q.device)[:, None]
        j = torch.arange(skv, device=q.device)[None, :]
        scores = scores.masked_fill(j > i + offset, float("-inf"))
    return torch.softmax(scores, -1) @ vd


def main(argv):
    if len(argv) != 2:
        print(__doc__)
        return 2
    try:
        import torch
    except ImportError:
        skip("PyTorch is not installed here; the cuDNN graph path runs on GPU nodes with PyTorch")
    if not torch.cuda.is_available():
        skip("no CUDA device visible to PyTorch; the cuDNN graph path runs on GPU nodes")
    import cudnn_graph as cg
    if not os.path.isfile(os.path.join(cg.DEFAULT_FRONTEND, "include", "cudnn_frontend.h")):
        skip(f"no cuDNN frontend headers at {cg.DEFAULT_FRONTEND} (calibrate/torch/get-cudnn-frontend.sh fetches them)")
    try:
        lib, desc = cg.build_library(torch, cg.DEFAULT_FRONTEND, argv[1], print)
    except cg.GraphUnavailable as e:  # a node without the toolchain the graph path builds with
        skip(f"the cuDNN graph path cannot be built here: {str(e).splitlines()[0]}")
    graph = cg.CudnnGraph(torch, lib)
    print(f"# built {desc['library']} against {desc['cudnn_library']} (frontend {desc['cudnn_frontend']}); "
          f"{graph.versions()}")
    gen = torch.Generator(device="cuda")
    gen.manual_seed(11)
    failed = 0
    for sq, skv, hq, hk, mask in CASES:
        d = 128
        leaves = [torch.randn((1, n, h, d), generator=gen, device="cuda", dtype=torch.bfloat16).requires_grad_()
                  for n, h in ((sq, hq), (skv, hk), (skv, hk))]
        out = graph.attention(*(t.transpose(1, 2) for t in leaves), mask)
        dout = torch.randn(out.shape, generator=gen, device="cuda", dtype=torch.float64)
        grads = torch.autograd.grad(out, leaves, dout.to(out.dtype))
        x64 = [t.detach().double().requires_grad_() for t in leaves]
        ref = reference(torch, *x64, mask)
        ref_grads = torch.autograd.grad(ref, x64, dout)
        err = {"o": float((out.double() - ref).norm() / ref.norm())}
        for name, g, rg in zip(("dq", "dk", "dv"), grads, ref_grads):
            err[name] = float((g.double() - rg).norm() / rg.norm())
        ok = max(err.values()) < TOL
        note = ""
        if mask == "causal_bottom_right" and sq < skv:
            top_left = reference(torch, *(t.detach() for t in x64), "causal")
            tl_err = float((out.double() - top_left).norm() / top_left.norm())
            note = f"; vs the top-left mask {tl_err:.3g} (must exceed {TOL})"
            ok = ok and tl_err > TOL
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'} {sq}x{skv} h{hq}/{hk} {mask}: normwise relative error "
              + ", ".join(f"{k} {v:.3g}" for k, v in err.items()) + note)
    print(f"{len(CASES) - failed}/{len(CASES)} cases passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
