#!/usr/bin/env python3
"""probe_varlen: what does one launch over packed documents of unequal lengths cost?

Long-context training packs documents of unequal lengths into a sequence and masks attention to
each document (Megatron's THD input; cu_seqlens). FlashAttention-2 runs such a batch as one varlen
launch: a grid of (query tiles of the longest document, documents, heads), a CTA past its
document's end exiting at once. This probe times, for each --packings entry, that one launch
(forward, and forward + backward through autograd), and beside it the same documents as one launch
per distinct length (documents of one length batched), so the cost of one ragged launch can be told
from the sum of its equal-length parts. Every launch is causal, bf16, head dim 128, --heads query
heads over --kv-heads KV heads, through PyTorch's FlashAttention-2 varlen op
(torch.ops.aten._flash_attention_forward with cum_seq_q/cum_seq_k), timed with hcpcal_torch's timer
(warm-up to the sustained clock). The default packings are ring-flash-attention's varlen benchmark's
four (benchmark/benchmark_varlen_kvpacked_func.py, 8192 tokens), those times 8 (65536 tokens, the
whole sequence its 8-GPU rings split), and two of many short documents.

    python3 calibrate/torch/probe_varlen.py --out varlen.json

Writes JSON {tool, argv, gpu, sms, torch, records: [{packing, lengths, launch: "ragged" | "group",
group_length, group_count, pass: "fwd" | "fwd+bwd", median_s, min_s, max_s, sm_clock_*, ...}]}.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (its timer)
from json_out import write_json  # noqa: E402  (complete or not at all)

RFA_PACKINGS = [[8192], [256, 7392, 544], [4096, 4096], [3104, 3200, 1600, 160, 128]]


def default_packings():
    out = {f"rfa{i}": p for i, p in enumerate(RFA_PACKINGS)}
    out.update({f"rfa{i}x8": [d * 8 for d in p] for i, p in enumerate(RFA_PACKINGS)})
    out["short64"] = [256 + 128 * (i % 7) for i in range(64)]  # 64 documents of 256-1024 tokens
    out["mixed"] = [16384, 8192, 4096, 2048, 1024, 512, 256, 256, 128, 128]
    return out


def parse_packings(text):
    out = {}
    for i, part in enumerate(text.split(";")):
        name, _, lens = part.rpartition("=")
        out[name or f"p{i}"] = [int(x) for x in lens.split(",")]
    return out


def main(argv):
    p = argparse.ArgumentParser(prog="probe_varlen", description=__doc__.splitlines()[0])
    p.add_argument("--packings", help="name=len,len,...;name=... (default: ring-flash-attention's four, x8, two more)")
    p.add_argument("--heads", type=int, default=32)
    p.add_argument("--kv-heads", type=int, default=8)
    p.add_argument("--out", required=True)
    o = p.parse_args(argv[1:])
    packings = parse_packings(o.packings) if o.packings else default_packings()
    if o.heads % o.kv_heads:
        p.error("--heads must be a multiple of --kv-heads")

    torch, _ = H.bind_torch()
    opts = H.parse_args(["-n", "20", "-w", "1", "--timed-ms", "200", "--warmup-ms", "200"])
    timer = H.Timer(opts)
    gen = torch.Generator(device="cuda").manual_seed(1234)
    props = torch.cuda.get_device_properties(0)
    dev = "cuda"

    def launch_set(lengths):
        total = sum(lengths)
        def rnd(heads):
            return torch.randn((total, heads, 128), generator=gen, device=dev, dtype=torch.bfloat16)
        cu = torch.tensor([0] + [sum(lengths[:i + 1]) for i in range(len(lengths))], device=dev, dtype=torch.int32)
        return {"q": rnd(o.heads).requires_grad_(), "k": rnd(o.kv_heads).requires_grad_(),
                "v": rnd(o.kv_heads).requires_grad_(), "do": rnd(o.heads), "cu": cu, "max": max(lengths)}

    def forward(s):
        return torch.ops.aten._flash_attention_forward(s["q"], s["k"], s["v"], s["cu"], s["cu"], s["max"], s["max"],
                                                       0.0, True, False)[0]

    def fwd_bwd(s):
        out = forward(s)
        torch.autograd.backward(out, s["do"])

    records = []

    def timed(name, lengths, launch, s, group):
        for pass_, fn in (("fwd", lambda i: forward(s)), ("fwd+bwd", lambda i: fwd_bwd(s))):
            t = timer.measure(fn, opts.iters)
            rec = {"packing": name, "lengths": lengths, "launch": launch, "pass": pass_,
                   "heads": o.heads, "kv_heads": o.kv_heads, "head_dim": 128, "causal": True,
                   "group_length": group[0] if group else None, "group_count": group[1] if group else None,
                   **{k: t[k] for k in ("median_s", "min_s", "max_s", "iterations", "sm_clock_mhz")}, **H.timing_results(t)}
            records.append(rec)
            what = f"{launch} {group[1]} x {group[0]}" if group else launch
            print(f"{name:8} {what:16} {pass_:8} {t['median_s'] * 1e6:10.1f} us "
                  f"[{t['min_s'] * 1e6:.1f}-{t['max_s'] * 1e6:.1f}]", flush=True)

    for name, lengths in packings.items():
        timed(name, lengths, "ragged", launch_set(lengths), None)
        groups = sorted({d: lengths.count(d) for d in lengths}.items(), reverse=True)
        if len(groups) > 1:
            for d, n in groups:
                timed(name, lengths, "group", launch_set([d] * n), (d, n))
    doc = {"tool": "probe_varlen.py", "argv": argv[1:], "gpu": props.name, "sms": props.multi_processor_count,
           "torch": torch.__version__, "records": records}
    write_json(o.out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
