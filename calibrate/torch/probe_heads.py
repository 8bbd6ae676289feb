#!/usr/bin/env python3
"""probe_heads: attention kernel time against the number of query heads, at one small length.

A probe for how an attention launch's CTAs land on the SMs below one wave (docs/cost-model.md:
small launches are what the kernel tables and the shape model miss). For every head count in
--heads it times PyTorch SDPA's forward (and with --backward its backward) of one square of
--seq tokens, no GQA, with hcpcal_torch's own timer (warm-up to the sustained clock; host-bound
calls preceded by a GPU spin so the events bracket GPU work, not Python's launch gaps). The
FlashAttention-2 forward runs one CTA per (128-row query tile, head): the head count walks the CTA
count through the SM count.

    python3 calibrate/torch/probe_heads.py --backend flash --seq 1024 --heads 1-48 --out probe.json

Writes JSON {tool, argv, gpu, sms, records: [{backend, seq, heads, mask, pass, median_s, ...}]}.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (its timer and SDPA call)
from json_out import write_json  # noqa: E402  (complete or not at all)
import kernel_profile as KP  # noqa: E402  (its CUPTI kernel records)


def kernel_medians(fn, calls):
    """fn() `calls` times under the profiler, right after its timed runs (the GPU at their clock);
    per kernel of one call (launch order): name, grid and the median of its durations. None
    when the calls did not launch the same number of kernels."""
    ks = KP.kernels_of(lambda: [fn() for _ in range(calls)])
    if not ks or len(ks) % calls:
        return None
    per = len(ks) // calls
    out = []
    for i in range(per):
        durs = sorted(ks[j * per + i]["dur_us"] for j in range(calls))
        out.append({"name": ks[i]["name"][:160], "grid": ks[i]["grid"], "block": ks[i]["block"],
                    "median_us": durs[len(durs) // 2]})
    return out


def head_counts(text):
    out = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def main(argv):
    p = argparse.ArgumentParser(prog="probe_heads", description=__doc__.splitlines()[0])
    p.add_argument("--backend", choices=["flash", "cudnn"], default="flash")
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--heads", default="1-48", help="query head counts: 1-48 or 4,8,16 (default 1-48)")
    p.add_argument("--masks", default="causal,none")
    p.add_argument("--backward", action="store_true", help="time the backward too")
    p.add_argument("--kernels", type=int, default=0, metavar="N",
                   help="also profile N calls of each pass (torch.profiler, CUPTI) and record each of its "
                        "kernels' median duration and grid: a backward's preprocessing, main and dQ-conversion "
                        "kernels apart (default 0: none)")
    p.add_argument("--out", required=True)
    o = p.parse_args(argv[1:])

    torch, _ = H.bind_torch(KP)
    opts = H.parse_args(["-n", "20", "-w", "1", "--timed-ms", "200", "--warmup-ms", "200"])
    timer = H.Timer(opts)
    gen = torch.Generator(device="cuda").manual_seed(1234)
    props = torch.cuda.get_device_properties(0)
    records = []
    for mask in o.masks.split(","):
        for h in head_counts(o.heads):
            c = H.AttnCase(f"s{o.seq}_{mask}_h{h}", o.seq, o.seq, h, h, mask == "causal")
            s = H.make_attn_set(c, gen, False)
            mode = "causal" if mask == "causal" else "none"
            with H.sdpa_context(o.backend):
                fwd = timer.measure(lambda i: H.attn_call(s, c, mode, False), opts.iters)
                rec = {"backend": o.backend, "seq": o.seq, "heads": h, "mask": mask, "pass": "fwd", **fwd}
                if o.kernels:
                    rec["kernels"] = kernel_medians(lambda: H.attn_call(s, c, mode, False), o.kernels)
                records.append(rec)
                line = f"{o.backend} {mask:6} s{o.seq} h{h:3}: fwd {fwd['median_s'] * 1e6:9.2f} us"
                if o.backward:
                    out = H.attn_call(s, c, mode, False)
                    grads = H.grad_inputs(s, False)
                    bwd = timer.measure(lambda i: torch.autograd.grad(out, grads, H.d_out(s), retain_graph=True),
                                        opts.iters)
                    brec = {"backend": o.backend, "seq": o.seq, "heads": h, "mask": mask, "pass": "bwd", **bwd}
                    if o.kernels:
                        brec["kernels"] = kernel_medians(
                            lambda: torch.autograd.grad(out, grads, H.d_out(s), retain_graph=True), o.kernels)
                    records.append(brec)
                    line += f"  bwd {bwd['median_s'] * 1e6:9.2f} us"
            print(line + f"  ({'back to back' if fwd['back_to_back'] else 'spin %.0f us' % (fwd['spin_s'] * 1e6)})",
                  flush=True)
            del s
    doc = {"tool": "probe_heads.py", "argv": argv[1:], "gpu": props.name, "sms": props.multi_processor_count,
           "torch": torch.__version__, "records": records}
    write_json(o.out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
