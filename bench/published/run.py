#!/usr/bin/env python3
"""Validate hcpsim against published measurements (bench/published/README.md).

Turns every row of the dataset that hcpsim can express into a scenario (attention rows) or a
collective run (nccl-tests anchors), runs the simulator, and prints per row predicted vs
measured, then per table the pairwise order agreement and the error of throughput ratios.

    bench/published/run.py [--hcpsim build/hcpsim] [--data bench/published/published-dev.json]
                           [--jobs 2] [--rows ID_REGEX]

Rows that hcpsim cannot express are listed with the reason; nothing is bent to fit.
"""
import argparse
import concurrent.futures as futures
import itertools
import json
import math
import os
import re
import statistics
import subprocess
import sys

# Two rows whose measured times differ by less than this are a tie: their order is within the
# run-to-run noise of the source (the yunchang tables repeat configurations 1-3% apart).
TIE_BAND = 0.05

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from simulate import SimulationFailed, simulate  # noqa: E402  (bench/simulate.py)

# GPUs that hcpsim has no preset for, from their datasheets (dense tensor-core peaks).
#   L20: NVIDIA L20 datasheet: 119.5 TFLOP/s FP16/BF16 tensor (239 FP8), 48 GB GDDR6, 864 GB/s, PCIe Gen4 x16;
#        Ada AD102, 11776 CUDA cores = 92 SMs of 128, 2520 MHz boost, SM 8.9.
#   A100 PCIe 80GB: NVIDIA A100 datasheet: 312 TFLOP/s BF16 tensor, 1935 GB/s HBM2e, PCIe Gen4 x16;
#        108 SMs, 1410 MHz boost, SM 8.0 (NVIDIA A100 Tensor Core GPU Architecture whitepaper).
L20 = {"name": "L20-48GB", "peak_bf16_tflops": 119.5, "peak_fp8_tflops": 239, "memory_gb": 48, "hbm_GBps": 864,
       "sm_count": 92, "sm_clock_mhz": 2520, "compute_capability": 89}
A100_PCIE = {"name": "A100-PCIe-80GB", "peak_bf16_tflops": 312, "peak_fp8_tflops": 0, "memory_gb": 80, "hbm_GBps": 1935,
             "sm_count": 108, "sm_clock_mhz": 1410, "compute_capability": 80}


def cluster_for(hw):
    """The scenario's cluster section for a row's hardware, or (None, reason)."""
    gpu, n = hw.get("gpu") or "", hw.get("total_gpus") or 0
    if (hw.get("nodes") or 1) != 1:
        return None, "multi-node attention rows are not in this set's attention tables"
    if gpu.startswith("A100-SXM4") and "NVLink" in (hw.get("intra_node_link") or ""):
        return {"preset": "dgx-a100", "num_nodes": 1, "gpus_per_node": n}, None
    if gpu.startswith("H800"):
        return {"preset": "hgx-h800", "num_nodes": 1, "gpus_per_node": n}, None
    if gpu.startswith("L20"):
        # PCIe Gen4 x16 per GPU, PCIe-switch pairs under two CPU sockets (the l40s-pcie shape).
        return {"preset": "l40s-pcie", "num_nodes": 1, "gpus_per_node": n, "gpu": L20}, None
    if gpu.startswith("A100-80GB") and "PCIe" in (hw.get("intra_node_link") or ""):
        return {"preset": "l40s-pcie", "num_nodes": 1, "gpus_per_node": n, "gpu": A100_PCIE}, None
    return None, f"no cluster description for GPU {gpu!r}"


# ring-flash-attention's ring variants and the token order each gives the ring's ranks
# (parallel.cp_load_balance): zigzag_ring_flash_attn is TE's DualChunkSwap; ring_flash_attn
# ("basic", "ring") keeps contiguous blocks; stripe_flash_attn deals tokens round-robin.
RING_ORDERS = {"zigzag": "zigzag", "zigzag_ring": "zigzag", "basic": "contiguous", "ring": "contiguous",
               "stripe": "stripe"}


def transport_for(p, row_id):
    """(context_parallel_size, cp_comm_type, hierarchical sizes or None, token order, note) or
    (None, reason)."""
    variant = (p.get("ring_variant") or "").lower()
    u, r = p.get("ulysses_degree") or 1, p.get("ring_degree") or 1
    if "varlen" in row_id and variant == "llama3_allgather":
        return None, ("varlen all-gather CP: ring-flash-attention's llama3 varlen splits the packed sequence in "
                      "contiguous blocks over the ranks (documents cut at their edges) on FlashAttention 2; TE's "
                      "THD all_gather, which hcpsim models, splits every document and refuses FlashAttention 2")
    if variant in ("llama3_allgather",):
        return (r * u, "all_gather", None, "zigzag", "ring-flash-attn llama3 all-gather CP (TE all_gather)"), None
    if u * r == 1:
        return (1, "p2p", None, "zigzag", "single GPU"), None
    if u > 1 and r == 1:
        if variant not in ("zigzag", "zigzag_ring"):
            return None, "one row per Ulysses config: the zigzag column is used"
        return (u, "a2a", None, "zigzag", "Ulysses (TE a2a)"), None
    order = RING_ORDERS.get(variant)
    if order is None:
        return None, f"ring variant {variant!r}: no token order hcpsim knows"
    ring = f"{variant} ring ({order} tokens)" if order != "zigzag" else "zigzag ring (TE p2p, DualChunkSwap)"
    if u == 1:
        return (r, "p2p", None, order, ring), None
    return (u * r, "a2a+p2p", [u, r], order, f"USP: Ulysses inner, {ring} outer (TE a2a+p2p)"), None


# ring-flash-attention's varlen benchmark (benchmark/benchmark_varlen_kvpacked_func.py at the rows'
# commit): each rank's 8192 tokens packed as one of four cu_seqlens, iteration i taking packing
# i mod 4; each document is split over the ring's ranks, so the whole sequence packs each
# document times the ranks (llama3_flash_attn_prepare_cu_seqlens(cu_seqlens * world_size)). A
# row's time is the mean of the four packings' times.
RFA_VARLEN_PACKINGS = [[8192], [256, 7392, 544], [4096, 4096], [3104, 3200, 1600, 160, 128]]


def backend_for(workload):
    """(software.attention_backend, note): the attention kernels the row's code ran (its
    workload.attn_kernel: every row of this set names FlashAttention 2), hcpsim's default where
    the row names none."""
    kernel = (workload.get("attn_kernel") or "").lower()
    if kernel.startswith("flash-attn") or kernel.startswith("flashattention"):
        return "flash", None
    if "cudnn" in kernel:
        return "cudnn", None
    return None, f"attention kernel {'not recorded' if not kernel else repr(kernel)}: hcpsim's default backend"


def scenario_for(row):
    """(scenario dict, notes) or (None, reason) for an attention row."""
    w, p, m, hw = row["workload"], row.get("parallel") or {}, row["measurement"], row["hardware"]
    if m.get("status") not in (None, "ok"):
        return None, f"status {m.get('status')}"
    if m.get("metric") != "throughput" or not str(m.get("unit", "")).startswith("iterations/s"):
        return None, f"metric {m.get('metric')} in {m.get('unit')}"
    cluster, why = cluster_for(hw)
    if not cluster:
        return None, why
    t, why = transport_for(p, row["id"])
    if not t:
        return None, why
    cp, comm, hcp, order, note = t
    notes = [note]
    packed = p.get("qkv_packed")
    if packed is True:
        notes.append("packed QKV: one a2a where TE runs three")
    elif packed == "kv-packed":
        notes.append("kv-packed")
    if cp == 1 and (w.get("seq_len_per_gpu") or 0) != (w.get("seq_len_global") or 0):
        return None, "reference row with a partial sequence"
    heads, kv, d = w["num_heads"], w["num_kv_heads"], w["head_dim"]
    parallel = {"tensor_model_parallel_size": 1, "context_parallel_size": cp, "cp_comm_type": comm}
    if hcp:
        parallel["hierarchical_context_parallel_sizes"] = hcp
    if order != "zigzag":
        parallel["cp_load_balance"] = order
    scenario = {
        "name": row["id"],
        "model": {"num_layers": 1, "hidden_size": heads * d, "ffn_hidden_size": 4 * heads * d,
                  "num_attention_heads": heads, "num_query_groups": kv, "kv_channels": d, "vocab_size": 32000},
        "training": {"seq_length": w["seq_len_global"], "micro_batch_size": w.get("batch") or 1,
                     "attn_mask_type": "causal" if w.get("causal", True) else "no_mask"},
        "parallel": parallel,
        "cluster": cluster,
        "workload": "attention",
        "passes": "fwd" if m["pass"] == "fwd" else "fwd+bwd",
    }
    backend, why = backend_for(w)
    if backend:
        scenario["software"] = {"attention_backend": backend}
    else:
        notes.append(why)
    if "varlen" in row["id"]:
        ranks = w["seq_len_global"] // w["seq_len_per_gpu"]
        scenario["training"]["document_lengths"] = [[d * ranks for d in p] for p in RFA_VARLEN_PACKINGS]
        notes.append("varlen: the mean of the benchmark's 4 packings")
    return scenario, notes


def group_key(row):
    """Rows that differ only in their parallel layout: one table for order and ratio comparisons."""
    w, m = row["workload"], row["measurement"]
    api = "varlen" if "varlen" in row["id"] else "batch"
    return (row["source"].get("table_or_figure"), row["hardware"].get("gpu"), w.get("seq_len_global"),
            w.get("num_heads"), w.get("num_kv_heads"), w.get("head_dim"), w.get("batch"), m["pass"], api)


def run_scenario(hcpsim, scenario):
    """The layer's forward + backward seconds; for packings (a list of document_lengths lists),
    the mean over them."""
    packings = scenario["training"].get("document_lengths")
    if packings and isinstance(packings[0], list):
        times = []
        for p in packings:
            one = json.loads(json.dumps(scenario))
            one["training"]["document_lengths"] = p
            t, err = run_scenario(hcpsim, one)
            if t is None:
                return None, err
            times.append(t)
        return sum(times) / len(times), None
    try:
        d = simulate(hcpsim, scenario)
    except SimulationFailed as e:
        return None, str(e)
    layer = d["layer"]
    return layer["forward_s"] + layer["backward_s"], None


def fmt_pct(x):
    return "%+6.1f%%" % (100 * x)


# ---- nccl-tests anchors ---------------------------------------------------------------------------
# Each comparison: (row id, what, hcpsim collective arguments, how to read the measured value).
# Sizes are nccl-tests sizes; "1M" in the Azure tables is 1 MiB (their rows run 1K..8G by x2).
SIZE_NAMES = {"1M": 2**20, "2M": 2**21, "4M": 2**22, "8M": 2**23, "16M": 2**24, "33M": 2**25, "67M": 2**26,
              "134M": 2**27, "268M": 2**28, "536M": 2**29, "1G": 2**30, "2G": 2**31, "4G": 2**32, "8G": 2**33}


def run_collective(hcpsim, args):
    out = subprocess.run([hcpsim, "collective", "--format", "json"] + args, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("hcpsim collective %s: %s" % (" ".join(args), out.stderr.strip()))
    return json.loads(out.stdout)["points"]


def anchor_comparisons(rows, hcpsim):
    """(anchor, case, measured busbw GB/s, predicted busbw GB/s, algorithm) for every anchor hcpsim
    can run, and (anchor, reason) for those it cannot."""
    by_id = {r["id"]: r for r in rows}
    got, not_run = [], []

    def curve(rid, preset):  # Azure all_reduce curves, 1 node, sizes >= 1 MiB
        # The guide runs `NCCL_ALGO=NVLS all_reduce_perf -b 8 -e 8G -f 2 -g 8` on 8 GPUs
        # (Azure/AI-benchmarking-guide, Benchmarks/NVIDIA/NCCLBandwidth.py): NVLS is forced at
        # every size, so hcpsim forces it too instead of NCCL's own choice (ring/LL at 1 MiB).
        vals = by_id[rid]["measurement"]["value"]
        pts = run_collective(hcpsim, ["--cluster", preset, "--op", "all_reduce", "-b", "1M", "-e", "8G",
                                      "--algo", "nvls"])
        pred = {int(p["size_bytes"]): p for p in pts}
        for name, meas in vals.items():
            if name in SIZE_NAMES:
                p = pred[SIZE_NAMES[name]]
                got.append((rid, "all_reduce %s" % name, meas, p["busbw_GBps"], p["algorithm"]))

    def peak(rid, preset, op, label, meas, extra=()):
        pts = run_collective(hcpsim, ["--cluster", preset, "--op", op, "-b", "8G", "-e", "8G"] + list(extra))
        got.append((rid, label, meas, pts[-1]["busbw_GBps"], pts[-1]["algorithm"]))

    if "anchor-azure-allreduce-nvls-h100" in by_id:
        curve("anchor-azure-allreduce-nvls-h100", "dgx-h100")
    if "anchor-azure-allreduce-nvls-h200" in by_id:
        curve("anchor-azure-allreduce-nvls-h200", "dgx-h200")
    rid = "anchor-nccl-maintainer-h100-nvlink"
    if rid in by_id:
        v = by_id[rid]["measurement"]["value"]
        ring = [x for k, x in v.items() if "RING" in k][0]
        peak(rid, "dgx-h100", "all_gather", "all_gather 8G (ring rule)", ring)
        peak(rid, "dgx-h100", "reduce_scatter", "reduce_scatter 8G (ring rule)", ring)
        peak(rid, "dgx-h100", "all_reduce", "all_reduce 8G, NCCL_ALGO=ring", ring, ["--algo", "ring"])
        peak(rid, "dgx-h100", "all_reduce", "all_reduce 8G (NVLS peak)", [x for k, x in v.items() if "NVLS" in k][0])
    rid = "anchor-nccl-h200-allreduce-intra"
    if rid in by_id:
        peak(rid, "dgx-h200", "all_reduce", "all_reduce 8G peak", by_id[rid]["measurement"]["value"])
    rid = "anchor-h100-allreduce-multinode-vm"
    if rid in by_id:  # 8 NICs per node; the link speed is not stated: the preset's 400G CX-7
        for k, meas in by_id[rid]["measurement"]["value"].items():
            nodes = int(k.split()[0])
            peak(rid, "dgx-h100", "all_reduce", "all_reduce 8G, %d node%s" % (nodes, "s" if nodes > 1 else ""), meas,
                 ["--nodes", str(nodes)])
    rid = "anchor-nccl-a2a-internode-per-nic"
    if rid in by_id:  # the rule: an all-to-all across nodes runs at one NIC's rate (48-49 GB/s)
        pts = run_collective(hcpsim, ["--cluster", "dgx-h100", "--nodes", "6", "--op", "all_to_all", "-b", "1G", "-e", "1G"])
        n = 48.0
        inter_share = (n - 8) / (n - 1)  # of a rank's peers, those on other nodes
        per_nic = pts[-1]["busbw_GBps"] * inter_share  # what each GPU's NIC carries
        got.append((rid, "all_to_all 1G, 6 nodes: per-NIC rate", 48.5, per_nic, pts[-1]["algorithm"]))
    rid = "anchor-h100-sendrecv-2gpu"
    if rid in by_id:
        pts = run_collective(hcpsim, ["--cluster", "dgx-h100", "--op", "sendrecv", "-g", "2", "-b", "4G", "-e", "4G"])
        got.append((rid, "sendrecv 4G, 2 GPUs (plateau, user report)", 180.0, pts[-1]["busbw_GBps"], pts[-1]["algorithm"]))
    for r in rows:
        if r["kind"] == "calibration_anchor" and r["id"] not in {g[0] for g in got}:
            not_run.append((r["id"], "not an nccl-tests collective over a preset cluster hcpsim has (%s)" %
                            r["measurement"].get("metric", "?")))
    return got, not_run


def print_anchors(got, not_run):
    print("## nccl-tests anchors: bus bandwidth, predicted vs measured (target: within 10% from 1 MB up)")
    print("  %-40s %-40s %9s %9s %8s  %s" % ("anchor", "case", "meas", "pred", "error", "algorithm"))
    errs = []
    for rid, case, meas, pred, algo in got:
        e = pred / meas - 1
        errs.append(abs(e))
        print("  %-40s %-40s %9.1f %9.1f %8s  %s%s" % (rid[:40], case[:40], meas, pred, fmt_pct(e), algo,
                                                     "" if abs(e) <= 0.10 else "   > 10%"))
    if errs:
        within = sum(1 for e in errs if e <= 0.10)
        print("  within 10%%: %d / %d; median |error| %.1f%%, max %.1f%%" % (
            within, len(errs), 100 * statistics.median(errs), 100 * max(errs)))
    for rid, why in not_run:
        print("  not run: %-40s %s" % (rid, why))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hcpsim", default=os.path.join(ROOT, "build", "hcpsim"))
    ap.add_argument("--data", default=os.path.join(HERE, "published-dev.json"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--rows", default="", help="only rows whose id matches this regex")
    a = ap.parse_args()

    rows = json.load(open(a.data))
    pick = re.compile(a.rows) if a.rows else None
    cases, skipped = [], []
    for row in rows:
        if pick and not pick.search(row["id"]):
            continue
        if row["kind"] != "measured_case":
            continue  # calibration anchors: compared by `hcpsim collective` below
        sc, why = scenario_for(row)
        if sc is None:
            skipped.append((row["id"], why))
        else:
            cases.append((row, sc, why))

    # One row per layout and table: separate q, k, v (as TE runs them) where a table has both packings.
    unpacked = {(group_key(r), json.dumps(sc["parallel"], sort_keys=True)) for r, sc, _ in cases
                if r.get("parallel", {}).get("qkv_packed") is False}
    kept = []
    for r, sc, notes in cases:
        if r.get("parallel", {}).get("qkv_packed") is True and \
                (group_key(r), json.dumps(sc["parallel"], sort_keys=True)) in unpacked:
            skipped.append((r["id"], "packed QKV duplicate of a separate-q,k,v row (TE runs separate)"))
        else:
            kept.append((r, sc, notes))
    cases = kept

    with futures.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        results = list(pool.map(lambda c: run_scenario(a.hcpsim, c[1]), cases))

    print("# hcpsim against published measurements: %s" % os.path.relpath(a.data, ROOT))
    print("# command: bench/published/run.py %s" % " ".join(sys.argv[1:]))
    print("# %d rows: %d expressed, %d not expressible" % (len(cases) + len(skipped), len(cases), len(skipped)))
    print()
    if not pick or any(pick.search(r["id"]) for r in rows if r["kind"] == "calibration_anchor"):
        print_anchors(*anchor_comparisons([r for r in rows if not pick or pick.search(r["id"])], a.hcpsim))
    print("## Rows (time per iteration; error = predicted / measured - 1; norm = error after the table's common factor)")
    groups = {}
    failed = []
    for (row, sc, notes), (pred_s, err) in zip(cases, results):
        if pred_s is None:
            failed.append((row["id"], err))
            continue
        meas_s = 1.0 / row["measurement"]["value"]
        groups.setdefault(group_key(row), []).append((row, sc, notes, pred_s, meas_s))

    all_norm, all_pairs, all_agree, all_abs = [], 0, 0, []
    all_decided = all_decided_agree = 0
    table_lines = []
    for key, members in groups.items():
        # The table's common factor: geometric mean of predicted / measured (compute calibration of
        # the GPU, which hcpsim does not have for these GPUs; issue 14).
        logs = [math.log(pred / meas) for _, _, _, pred, meas in members]
        common = math.exp(sum(logs) / len(logs))
        print()
        print("### %s | %s | S=%s h=%s kv=%s d=%s bs=%s | %s %s" % key)
        print("  %-58s %-30s %10s %10s %8s %8s" % ("row", "layout", "meas ms", "pred ms", "error", "norm"))
        for row, sc, notes, pred, meas in members:
            par = sc["parallel"]
            layout = "%s CP%d" % (par["cp_comm_type"], par["context_parallel_size"])
            if "hierarchical_context_parallel_sizes" in par:
                layout += " %s" % par["hierarchical_context_parallel_sizes"]
            if "cp_load_balance" in par:
                layout += " " + par["cp_load_balance"]
            err = pred / meas - 1
            norm = pred / meas / common - 1
            all_abs.append(abs(err))
            if len(members) > 1:
                all_norm.append(abs(norm))
            print("  %-58s %-30s %10.3f %10.3f %8s %8s" % (row["id"][:58], layout, 1e3 * meas, 1e3 * pred,
                                                            fmt_pct(err), fmt_pct(norm) if len(members) > 1 else "-"))
        pairs = agree = decided = decided_agree = 0
        for (_, _, _, pa, ma), (_, _, _, pb, mb) in itertools.combinations(members, 2):
            if ma == mb:
                continue
            pairs += 1
            ok = (pa < pb) == (ma < mb)
            agree += ok
            if max(ma, mb) / min(ma, mb) - 1 >= TIE_BAND:  # the measurement tells them apart
                decided += 1
                decided_agree += ok
        all_pairs += pairs
        all_agree += agree
        all_decided += decided
        all_decided_agree += decided_agree
        if pairs:
            table_lines.append("  %-74s %3d/%-3d pairs in order, %3d/%-3d of those %d%%+ apart" % (
                "%s | S=%s h=%s kv=%s d=%s bs=%s | %s" % (key[1][:18], key[2], key[3], key[4], key[5], key[6], key[7]),
                agree, pairs, decided_agree, decided, round(100 * TIE_BAND)))

    print()
    print("## Tables: pairwise order agreement")
    for line in table_lines:
        print(line)
    print()
    print("## Summary")
    if all_pairs:
        print("  pairwise order agreement:           %d / %d = %.1f%% (all pairs)" % (all_agree, all_pairs, 100.0 * all_agree / all_pairs))
    if all_decided:
        print("  pairwise order agreement:           %d / %d = %.1f%% (pairs measured %d%%+ apart)" % (
            all_decided_agree, all_decided, 100.0 * all_decided_agree / all_decided, round(100 * TIE_BAND)))
    if all_norm:
        print("  throughput-ratio error (norm), median: %.1f%%, max: %.1f%% over %d rows in tables of 2+" %
              (100 * statistics.median(all_norm), 100 * max(all_norm), len(all_norm)))
    if all_abs:
        print("  absolute time error, median: %.1f%%, max: %.1f%% over %d rows (GPU compute not calibrated)" %
              (100 * statistics.median(all_abs), 100 * max(all_abs), len(all_abs)))
    if failed:
        print()
        print("## Rows hcpsim refused")
        for rid, why in failed:
            print("  %-60s %s" % (rid, why))
    print()
    print("## Rows not expressible")
    reasons = {}
    for rid, why in skipped:
        reasons.setdefault(why, []).append(rid)
    for why, ids in sorted(reasons.items(), key=lambda kv: -len(kv[1])):
        print("  %3d  %s" % (len(ids), why))


if __name__ == "__main__":
    main()
