"""Times PyTorch SDPA (FlashAttention-2 and cuDNN backends) on the kernel benchmark's shapes.

Writes CSV rows `name,backend,fwd_ms,bwd_ms` (bwd = (fwd+bwd) - fwd, medians of
triton.testing.do_bench) for hcpsim_attn_bench --torch-csv to print side by side.
Usage: python3 sdpa_bench.py OUT.csv [name-filter]
"""
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from triton.testing import do_bench


def shapes():
    # Same list and names as kernels/bench/shapes.h.
    out = []
    for hk in (32, 8):
        for s in (2048, 4096, 8192, 16384, 32768):
            for causal in (False, True):
                out.append((f"s{s}{'_causal' if causal else '_full'}_hk{hk}", s, s, 32, hk, 128, causal))
        for s in (8192, 16384):
            out.append((f"s{s}_lower_hk{hk}", s, s // 2, 32, hk, 128, False))
            out.append((f"s{s}_upper_hk{hk}", s // 2, s, 32, hk, 128, False))
    return out


def time_backend(backend, sq, skv, hq, hk, d, causal):
    dev = "cuda"
    q = torch.randn(1, hq, sq, d, device=dev, dtype=torch.bfloat16, requires_grad=True)
    k = torch.randn(1, hk, skv, d, device=dev, dtype=torch.bfloat16, requires_grad=True)
    v = torch.randn(1, hk, skv, d, device=dev, dtype=torch.bfloat16, requires_grad=True)
    g = torch.randn(1, hq, sq, d, device=dev, dtype=torch.bfloat16)
    gqa = hq != hk

    def fwd():
        with sdpa_kernel(backend):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=gqa)

    def fwd_bwd():
        out = fwd()
        out.backward(g)

    try:
        fwd_bwd()
    except RuntimeError:
        # A backend without native GQA: expand KV heads outside the timed region.
        if not gqa:
            raise
        rep = hq // hk
        k = k.detach().repeat_interleave(rep, dim=1).requires_grad_()
        v = v.detach().repeat_interleave(rep, dim=1).requires_grad_()
        gqa = False
        fwd_bwd()
    t_fwd = do_bench(fwd, warmup=25, rep=100, return_mode="median")
    t_all = do_bench(fwd_bwd, warmup=25, rep=100, return_mode="median", grad_to_none=[q, k, v])
    return t_fwd, t_all - t_fwd


def main():
    out_path = sys.argv[1]
    filt = sys.argv[2] if len(sys.argv) > 2 else ""
    with open(out_path, "w") as f:
        f.write("name,backend,fwd_ms,bwd_ms\n")
        for name, sq, skv, hq, hk, d, causal in shapes():
            if filt not in name:
                continue
            for label, backend in (("flash", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION)):
                try:
                    fwd_ms, bwd_ms = time_backend(backend, sq, skv, hq, hk, d, causal)
                except RuntimeError as e:
                    print(f"# {name} {label}: {str(e).splitlines()[0]}", flush=True)
                    continue
                f.write(f"{name},{label},{fwd_ms:.4f},{bwd_ms:.4f}\n")
                f.flush()
                print(f"# torch {label} {name}: fwd {fwd_ms:.3f} ms bwd {bwd_ms:.3f} ms", flush=True)
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
