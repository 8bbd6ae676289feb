#!/usr/bin/env python3
"""hcpsim's cuDNN attention times against NVIDIA's own cuDNN SDPA training benchmark
(nvidia-cudnn-sdpa.csv: Llama 3.1 GQA, 64 query / 8 KV heads of 128, bf16, 2K-32K tokens, on the
H200, GB200 and GB300; NVIDIA times each case briefly, 10 iterations, at or near the boost clock).

hcpsim predicts training's sustained clock, so its times are longer by the sustained / brief ratio:
on the H200 that ratio is what hcpsim's own measured cuDNN model says against NVIDIA's figures; on
GB200 and GB300 hcpsim's roofline takes its plateau from these same figures (the highest of
8K-32K, divided by the H200's ratio: docs/cost-model.md, the roofline), so only the ratio's
change with the sequence length is out of sample there: how small kernels fall off (the H200's
measured curve at equal time at peak). The table gives hcpsim / NVIDIA per case and that ratio
around its median for that GPU and pass ("spread": how well the shape model follows NVIDIA's
shapes; NVIDIA's own 32K cases read slower than its 16K ones on GB200, a clock its 10 timed
iterations of a long kernel already lose).

Usage: bench/cudnn-sdpa/run.py [HCPSIM] > bench/cudnn-sdpa/results.txt
"""
import csv, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HCPSIM = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "hcpsim")
sys.path.insert(0, os.path.dirname(HERE))
from simulate import simulate  # noqa: E402  (bench/simulate.py)
PRESET = {"h200": "dgx-h200", "gb200": "gb200-nvl72", "gb300": "gb300-nvl72"}
MASK = {"top_left": "causal", "no_mask": "no_mask"}


def predict(row):
    scenario = {
        "name": "cuDNN SDPA %s %s %s" % (row["gpu"], row["mask"], row["seq"]),
        "model": {"preset": "llama3.1-70b"},  # 64 query heads, 8 KV groups, head dim 128
        "training": {"seq_length": int(row["seq"]), "micro_batch_size": int(row["batch"]),
                     "global_batch_size": int(row["batch"]), "precision": "bf16",
                     "attn_mask_type": MASK[row["mask"]]},
        "parallel": {"tensor_model_parallel_size": 1, "context_parallel_size": 1},
        "cluster": {"preset": PRESET[row["gpu"]], "num_nodes": 1, "gpus_per_node": 1},
        "software": {"attention_backend": "cudnn"},
        "workload": "attention",
    }
    r = simulate(HCPSIM, scenario)
    return r["attention"]["forward_s"] * 1e3, r["attention"]["backward_s"] * 1e3


def main():
    rows = [r for r in csv.DictReader(line for line in open(os.path.join(HERE, "nvidia-cudnn-sdpa.csv")) if not line.startswith("#"))]
    for r in rows:
        r["pred_fwd"], r["pred_bwd"] = predict(r)
    print("# hcpsim's cuDNN attention against NVIDIA's cuDNN SDPA benchmark (bench/cudnn-sdpa/nvidia-cudnn-sdpa.csv)")
    print("# command: bench/cudnn-sdpa/run.py")
    print("# ratio = hcpsim (sustained clock) / NVIDIA (brief); spread = ratio / the median ratio of that GPU and pass - 1")
    ratios = {}
    for r in rows:
        for p in ("fwd", "bwd"):
            r["ratio_" + p] = r["pred_" + p] / float(r[p + "_ms"])
            ratios.setdefault((r["gpu"], p), []).append(r["ratio_" + p])
    median = {k: sorted(v)[len(v) // 2] for k, v in ratios.items()}
    print("%-6s %-8s %6s  %9s %9s %6s %7s  %9s %9s %6s %7s" % ("gpu", "mask", "seq", "fwd NV ms", "hcpsim", "ratio", "spread",
                                                          "bwd NV ms", "hcpsim", "ratio", "spread"))
    for gpu in ("h200", "gb200", "gb300"):
        for mask in ("top_left", "no_mask"):
            for r in sorted([r for r in rows if r["gpu"] == gpu and r["mask"] == mask], key=lambda r: int(r["seq"])):
                cells = []
                for p in ("fwd", "bwd"):
                    cells += [float(r[p + "_ms"]), r["pred_" + p], r["ratio_" + p], 100 * (r["ratio_" + p] / median[(gpu, p)] - 1)]
                print("%-6s %-8s %6s  %9.3f %9.3f %6.3f %+6.1f%%  %9.3f %9.3f %6.3f %+6.1f%%" % ((gpu, mask, r["seq"]) + tuple(cells)))
    print()
    print("# per GPU and pass: the median ratio, and the largest spread around it (2K-32K, both masks)")
    for (gpu, p), v in ratios.items():
        m = median[(gpu, p)]
        print("%-6s %s  median ratio %.3f  spread %+.1f%% .. %+.1f%%" % (gpu, p, m, 100 * (min(v) / m - 1), 100 * (max(v) / m - 1)))


if __name__ == "__main__":
    main()
