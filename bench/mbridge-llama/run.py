#!/usr/bin/env python3
"""hcpsim's full training step against NVIDIA's published Megatron-Bridge pre-training throughput of
dense Llama 3 / 3.1 (published.json, from NVIDIA-NeMo/Megatron-Bridge's performance summary; NeMo
containers 25.09 to 26.06; DGX H100, DGX B200, GB200 NVL72, GB300 NVL72).

Nothing in hcpsim is derived from these rows. The rows hcpsim can express become one scenario each
with the recipes' settings (`scenario` below; README.md says where each was read); the others are
listed with what hcpsim does not model. ratio = hcpsim's step time / the published one, the step
time being global batch x sequence / (tokens/s/GPU x GPUs).

Usage: bench/mbridge-llama/run.py [HCPSIM] > bench/mbridge-llama/results.txt
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HCPSIM = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "hcpsim")
sys.path.insert(0, os.path.dirname(HERE))
from llama_recipe import model_size, scenario as llama_scenario  # noqa: E402  (bench/llama_recipe.py)
import step_compare as cmp  # noqa: E402  (bench/step_compare.py: the columns both Llama benches print)


def not_expressible(row):
    """Why hcpsim cannot express a row, or None."""
    precision = row["precision"]
    if precision is None:
        return "the table names no precision (FP8 current scaling or MXFP8 per its footnote)"
    assert precision in ("FP8", "FP8-CS", "FP8-CS (FP8-MX)", "MXFP8", "NVFP4"), precision
    return None


def norm_fwd_use_cudnn(row, recipe):
    """NVTE_NORM_FWD_USE_CUDNN as Megatron-Bridge's launcher leaves it at 06f25c227: set for every run
    (scripts/performance/utils/executors.py, PERF_ENV_VARS), then removed (perf_plugins.py,
    PerfEnvPlugin._set_model_specific_environment_variables, del_cudnn_ln) but for pre-training
    Llama-3 8B in FP8-CS on H100, Llama-3 70B in BF16 or FP8-CS and Llama-3.1 405B in FP8-CS on GB200
    and GB300. Under current scaling cuDNN's norm writes no amax, under MXFP8 it writes the fp8
    tensor itself (hcpsim's rules/te_norm_quantize.hpp)."""
    size, system = model_size(row["model"]), row["system"]
    if recipe != "tensorwise":
        return False
    if system == "DGX-H100":
        return size == "8B"
    return system in ("DGX-GB200", "DGX-GB300") and size in ("70B", "405B")


def scenario(row):
    """Megatron-Bridge's FP8 recipes on the row's layout: "FP8", "FP8-CS" = bf16_with_fp8_current_scaling_mixed
    (tensorwise scaling, fp8_param_gather on, first_last_layers_bf16 off for benchmarks); "MXFP8" =
    bf16_with_mxfp8_mixed (mxfp8, fp8_param_gather and reuse_grad_buf_for_mxfp8_param_ag on); "NVFP4" =
    bf16_with_nvfp4_mixed (fp4 e2m1, fp4_recipe nvfp4, fp4_param_gather on)
    (README.md beside this file; bench/llama_recipe.py, what all recipes share). The 8B recipes
    capture the whole iteration in one CUDA graph (cuda_graph_impl "local" with cuda_graph_scope
    "full_iteration", since renamed cuda_graph_impl "full_iteration")."""
    name = "%s %s on %d x %s" % (row["container"], row["model"], row["gpus"], row["system"])
    layout = (row["model"], row["system"], row["gpus"], row["seq"], row["micro_batch"], row["global_batch"], row["tp"],
              row["pp"], row["cp"], row["vp"])
    if row["precision"] == "NVFP4":
        return llama_scenario(name, *layout, "nvfp4", fp4_param_gather=True)
    recipe = "mxfp8" if row["precision"] == "MXFP8" else "tensorwise"
    s = llama_scenario(name, *layout, "fp8", fp8_recipe=recipe, fp8_param_gather=True)
    # The fused loss: Transformer Engine's (scripts/performance/utils/overrides.py sets
    # cross_entropy_fusion_impl "te", at 06f25c227 and 067f987df), under the TE of containers up to
    # 26.06, which predate TE 2.17 (2026-07-06): 2.16 stands for it, the loss's gradient written over
    # the logits (TE 2.18 keeps it in fp32); no other rule hcpsim keys on TE's version differs from 2.10 on.
    s["software"]["fusions"]["cross_entropy_impl"] = "te"
    s["software"]["transformer_engine_version"] = "2.16"
    if model_size(row["model"]) == "8B":
        s["software"]["cuda_graph_impl"] = "full_iteration"
    if norm_fwd_use_cudnn(row, recipe):
        s["software"]["norm_fwd_use_cudnn"] = True
    if row["system"] == "DGX-H100" and model_size(row["model"]) == "8B" and recipe == "tensorwise":
        # LLAMA3_8B_PRETRAIN_CONFIG_H100_FP8_CS(_V1): recompute_num_layers 5, which Megatron-Bridge's
        # override turns into full recompute by block (scripts/performance/configs/llama/
        # llama3_workload_base_configs.py and utils/overrides.py _set_recompute_overrides, at
        # 3d672313e, 06f25c227 and, as perf_recipes/llama/h100/llama3.py, 067f987df).
        s["training"].update(recompute_granularity="full", recompute_method="block", recompute_num_layers=5)
    if row["fsdp"]:
        s["parallel"]["use_megatron_fsdp"] = True
        if row["system"] in FSDP_OFFLOADED_LAYERS:
            s["training"]["cpu_offloading_num_layers"] = FSDP_OFFLOADED_LAYERS[row["system"]]
    return s


# Megatron-Bridge's Llama-3 70B FP8-CS recipes on 64 GPUs with Megatron-FSDP (optim_grads_params,
# fsdp_double_buffer) also offload the first layers' activations to the host (cpu_offloading, weights
# not): 20 layers on GB300, 40 on GB200 (scripts/performance/configs/llama/llama3_workload_base_configs.py
# at 06f25c227, LLAMA3_70B_PRETRAIN_CONFIG_GB300_FP8_CS_V1 / _GB200_; the same at 067f987df in
# src/megatron/bridge/perf_recipes/llama/gb300/llama3.py and gb200/llama3.py).
FSDP_OFFLOADED_LAYERS = {"DGX-GB300": 20, "DGX-GB200": 40}


def main():
    rows = json.load(open(os.path.join(HERE, "published.json")))["rows"]
    print("# hcpsim's training step against NVIDIA's published Megatron-Bridge Llama pre-training throughput "
          "(bench/mbridge-llama/published.json)")
    print("# command: bench/mbridge-llama/run.py")
    print("# ratio = hcpsim / published step time; band = hcpsim's own uncertainty band (docs/cost-model.md, bands)")
    print("# memory = hcpsim's peak per GPU / the GPU's memory (every published run ran, so each must fit)")
    print("%-9s %-14s %-9s %-5s %5s %5s %-11s %s" % ("container", "model", "system", "prec", "GPUs", "GBS", "TPxPPxCPxVP",
                                                    cmp.HEADER))
    ratios, skipped = {}, []
    fits = expressed = tight = 0
    for row in rows:
        why = not_expressible(row)
        if why:
            skipped.append((row, why))
            continue
        expressed += 1
        published_s = row["global_batch"] * row["seq"] / (row["tokens_per_s_per_gpu"] * row["gpus"])
        c = cmp.Compared(cmp.predict(HCPSIM, scenario(row), row), published_s, " DOES NOT FIT: not in the summaries")
        recipe = {"MXFP8": "mxfp8", "NVFP4": "nvfp4"}.get(row["precision"], "fp8")
        fits += c.fits
        tight += c.fits and c.within_margin
        if c.fits:  # a run that ran but does not fit used settings the table does not give: not compared
            ratios.setdefault((row["system"], recipe), []).append(c.ratio)
        print("%-9s %-14s %-9s %-5s %5d %5d %-11s %s" % (row["container"], row["model"], row["system"], recipe, row["gpus"],
                                                        row["global_batch"], cmp.layout(row), c.columns))
    print("%-9s %d of %d expressed rows fit in hcpsim's memory estimate (a published run that does not fit used "
          "recomputation or offloading its table does not give)" % ("summary", fits, expressed))
    print("%-9s %d of them with less headroom than PyTorch's default caching allocator's margin (marked \"margin\": "
          "hcpsim says they may run out; they ran)" % ("summary", tight))
    for (system, recipe), v in sorted(ratios.items()):
        print("%-9s %-9s %-5s %2d rows: %s" % ("summary", system, recipe, len(v), cmp.ratio_summary(v)))
    reasons = {}
    for _, why in skipped:
        reasons[why] = reasons.get(why, 0) + 1
    print("# rows not expressible: %d" % len(skipped))
    for why, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
        print("skipped   %3d  %s" % (n, why))
    return 0


if __name__ == "__main__":
    sys.exit(main())
