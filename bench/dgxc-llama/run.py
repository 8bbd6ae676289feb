#!/usr/bin/env python3
"""hcpsim's full training step against NVIDIA's published BF16 and FP8 pre-training step times of Llama 3.1
8B, 70B and 405B on DGX H100 and DGX GB200 (published.json, from NVIDIA/dgxc-benchmarking; NeMo 2.0
containers 25.02.01 and 25.04.01; sequence 8192, micro batch 1, context parallel 2 but in the 70B FP8 rows).

Nothing in hcpsim is derived from these rows: they are a check of the whole step (GEMMs, attention,
the memory-bound kernels, TP/CP/PP/DP communication, the pipeline schedule, the CPU's launches) on
shapes and clusters hcpsim was not fitted on. Each row becomes one scenario with the recipes'
settings (`scenario` below; README.md says where each was read); the table gives hcpsim's step time and band
against the page's step time, and ratio = hcpsim / published.

Usage: bench/dgxc-llama/run.py [HCPSIM] > bench/dgxc-llama/results.txt
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HCPSIM = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "hcpsim")
sys.path.insert(0, os.path.dirname(HERE))
from llama_recipe import scenario as llama_scenario  # noqa: E402  (bench/llama_recipe.py)
import step_compare as cmp  # noqa: E402  (bench/step_compare.py: the columns both Llama benches print)


def scenario(row):
    """The NeMo 2.0 performance recipe the benchmark pins, for one published row (README.md beside
    this file says where each setting was read; bench/llama_recipe.py, what all recipes share). FP8
    rows: NeMo's bf16_with_fp8_mixed, delayed scaling, fp8_param_gather on."""
    precision = row.get("precision", "bf16")
    s = llama_scenario("%s on %d x %s" % (row["model"], row["gpus"], row["system"]), row["model"], row["system"],
                       row["gpus"], row["seq"], row["micro_batch"], row["global_batch"], row["tp"], row["pp"],
                       row["cp"], row["vp"], precision, fp8_recipe="delayed" if precision == "fp8" else None,
                       fp8_param_gather=precision == "fp8")
    s["software"]["transformer_engine_version"], s["software"]["fusions"]["cross_entropy_impl"] = SOFTWARE[row["container"]]
    return s


# The fused loss and Transformer Engine of each container. NeMo 25.04.01's recipes (NeMo 6f2c6fda,
# scripts/performance/utils.py, set_primary_perf_configs, since c358dce3d5 of 2025-04-10) set
# cross_entropy_fusion_impl "te"; NeMo 25.02.01's (d2b21556) predate the option: Megatron-core's native
# loss. The pages do not give the containers' TE: 25.02.01 predates TE 2.2 (2025-04-07), 25.04.01 runs
# TE's loss, which came with 2.2, and predates 2.4 (2025-06-03); 2.1 and 2.3 stand for them (no rule
# hcpsim keys on TE differs within 2.0-2.1 or 2.2-2.5).
SOFTWARE = {"25.02.01": ("2.1", "native"), "25.04.01": ("2.3", "te")}


def main():
    rows = json.load(open(os.path.join(HERE, "published.json")))["rows"]
    print("# hcpsim's training step against NVIDIA's published BF16 and FP8 Llama 3.1 step times (bench/dgxc-llama/published.json)")
    print("# command: bench/dgxc-llama/run.py")
    print("# ratio = hcpsim / published step time; band = hcpsim's own uncertainty band (docs/cost-model.md, bands)")
    print("# memory = hcpsim's peak per GPU / the GPU's memory (every published run ran, so each must fit)")
    print("%-13s %-9s %-4s %5s %6s %-11s %s" % ("model", "system", "prec", "GPUs", "GBS", "TPxPPxCPxVP", cmp.HEADER))
    ratios = {}
    fits = tight = 0
    for row in rows:
        c = cmp.Compared(cmp.predict(HCPSIM, scenario(row), row), row["step_s"])
        precision = row.get("precision", "bf16")
        ratios.setdefault((row["system"], precision), []).append(c.ratio)
        fits += c.fits
        tight += c.fits and c.within_margin
        print("%-13s %-9s %-4s %5d %6d %-11s %s" % (row["model"], row["system"], precision, row["gpus"],
                                                    row["global_batch"], cmp.layout(row), c.columns))
    print("%-13s %d of %d rows fit in hcpsim's memory estimate, %d of them with less headroom than PyTorch's default "
          "caching allocator's margin (marked \"margin\": hcpsim says they may run out; they ran)" % ("summary", fits, len(rows), tight))
    for (system, precision), v in sorted(ratios.items()):
        print("%-13s %-9s %-4s %d rows: %s" % ("summary", system, precision, len(v), cmp.ratio_summary(v)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
