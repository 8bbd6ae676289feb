#!/usr/bin/env python3
"""probe_host_link: what a GPU moves to and from pinned host memory, and what those copies cost the
kernels beside them.

hcpsim times Megatron's activation offloading (training.cpu_offloading_num_layers) as each offloaded
layer's saved activations over cluster.host_link_GBps, each way, one copy after another on a side
stream (src/rules/activation_offload.hpp, docs/simulation.md); the presets' figures are public
(PCIe Gen5 x16: 55 GB/s). This probe measures them on the node it runs on, the way Transformer
Engine's cpu_offload.py copies: `dst.copy_(src, non_blocking=True)` between a CUDA tensor and a
pinned CPU tensor, on a side stream.

1. Copies alone: device to host and host to device, per size (--sizes, MiB), each timed with CUDA
   events around one copy, median of -n after -w; checked: each round trip's bytes compared with the
   source (#wrong counts differing bf16 elements).
2. Beside the kernels: a bf16 GEMM (--gemm M,N,K) and a device-to-device copy of --d2d MiB, each timed
   alone and while device-to-host copies of the largest size run back to back on a side stream
   (the slowdown hcpsim does not model: the copies' HBM traffic); and the copy's own rate meanwhile.

    python3 calibrate/torch/probe_host_link.py --out host-link.json

Writes JSON {tool, argv, environment, records: [{what, direction, bytes, median_s, min_s, max_s,
GBps, wrong} ..., {what: "gemm" | "d2d copy", alone_s, beside_d2h_s, slowdown, d2h_GBps_meanwhile}]}.
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hcpcal_torch as H  # noqa: E402  (environment(), spin())
from json_out import write_json  # noqa: E402  (complete or not at all)

torch = None  # bound in main() (hcpcal_torch.bind_torch), so --help works without PyTorch


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="64,256,1024,4096", help="copy sizes in MiB (default 64,256,1024,4096)")
    p.add_argument("-n", type=int, default=10, help="timed copies per size and direction (default 10)")
    p.add_argument("-w", type=int, default=3, help="untimed copies first (default 3)")
    p.add_argument("--gemm", default="16384,8192,28672", help="M,N,K of the bf16 GEMM beside the copies")
    p.add_argument("--d2d", type=int, default=2048, help="MiB of the device-to-device copy beside them (default 2048)")
    p.add_argument("--out", required=True)
    return p.parse_args(argv)


def timed(fn, stream, n, w):
    """fn() on `stream`, -w untimed then n timed one at a time with CUDA events; seconds each."""
    with torch.cuda.stream(stream):
        for _ in range(w):
            fn()
        out = []
        for _ in range(n):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record(stream)
            fn()
            b.record(stream)
            b.synchronize()
            out.append(a.elapsed_time(b) * 1e-3)
    return out


def copies(sizes_mib, n, w, side):
    records = []
    gen = torch.Generator(device="cuda").manual_seed(7)
    for mib in sizes_mib:
        elems = mib * (1 << 20) // 2
        dev = torch.randn(elems, device="cuda", dtype=torch.bfloat16, generator=gen)
        host = torch.empty(elems, dtype=torch.bfloat16, pin_memory=True)
        back = torch.empty_like(dev)
        for direction, fn in (("d2h", lambda: host.copy_(dev, non_blocking=True)),
                              ("h2d", lambda: back.copy_(host, non_blocking=True))):
            t = timed(fn, side, n, w)
            torch.cuda.synchronize()
            records.append({"what": "copy", "direction": direction, "bytes": elems * 2, "median_s": statistics.median(t),
                            "min_s": min(t), "max_s": max(t), "GBps": elems * 2 / statistics.median(t) / 1e9})
        # The last h2d brought back what the last d2h took out: any differing element is a wrong copy.
        wrong = int((back != dev).sum().item())
        for r in records[-2:]:
            r["wrong"] = wrong
        H.log("  copy %6d MiB  d2h %6.1f GB/s  h2d %6.1f GB/s  #wrong %d" %
              (mib, records[-2]["GBps"], records[-1]["GBps"], wrong))
        del dev, host, back
        torch.cuda.empty_cache()
    return records


def beside(label, kernel, n, w, side, mib):
    """kernel() on the current stream alone, then while d2h copies of `mib` run back to back on `side`."""
    main = torch.cuda.current_stream()
    alone = statistics.median(timed(kernel, main, n, w))
    elems = mib * (1 << 20) // 2
    dev = torch.randn(elems, device="cuda", dtype=torch.bfloat16)
    host = torch.empty(elems, dtype=torch.bfloat16, pin_memory=True)
    copy_s = statistics.median(timed(lambda: host.copy_(dev, non_blocking=True), side, 3, 1))
    # Enough copies queued to outlast every timed kernel (and the warm-up), then the kernels.
    total = (n + w) * alone * 1.5
    count = max(4, int(total / copy_s) + 2)
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    with torch.cuda.stream(side):
        start.record(side)
        for _ in range(count):
            host.copy_(dev, non_blocking=True)
        end.record(side)
    t = timed(kernel, main, n, w)
    torch.cuda.synchronize()
    span = start.elapsed_time(end) * 1e-3
    with_copies = statistics.median(t)
    rec = {"what": label, "alone_s": alone, "beside_d2h_s": with_copies, "slowdown": with_copies / alone,
           "d2h_bytes": count * elems * 2, "d2h_GBps_meanwhile": count * elems * 2 / span / 1e9}
    H.log("  %-10s alone %.3f ms, beside d2h copies %.3f ms (x%.3f); d2h meanwhile %.1f GB/s" %
          (label, alone * 1e3, with_copies * 1e3, rec["slowdown"], rec["d2h_GBps_meanwhile"]))
    return rec


def main(argv):
    global torch
    o = parse(argv)
    torch, _ = H.bind_torch()
    sizes = [int(s) for s in o.sizes.split(",")]
    side = torch.cuda.Stream()
    H.log("# probe_host_link: pinned host copies as TE's cpu_offload.py makes them")
    records = copies(sizes, o.n, o.w, side)
    m, n, k = (int(x) for x in o.gemm.split(","))
    a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
    src = torch.randn(o.d2d * (1 << 20) // 2, device="cuda", dtype=torch.bfloat16)
    dst = torch.empty_like(src)
    H.spin(0.5)  # toward the sustained clock before the timed kernels
    records.append(dict(beside("gemm", lambda: torch.mm(a, b), o.n, o.w, side, max(sizes)), m=m, n=n, k=k))
    records.append(dict(beside("d2d copy", lambda: dst.copy_(src), o.n, o.w, side, max(sizes)), bytes=src.numel() * 2))
    write_json(o.out, {"tool": "probe_host_link", "argv": sys.argv, "environment": H.environment(), "records": records})


if __name__ == "__main__":
    main(sys.argv[1:])
