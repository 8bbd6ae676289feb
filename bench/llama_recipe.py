"""A dense Llama pre-training run as NVIDIA's NeMo / Megatron-Bridge performance recipes set it up,
as one hcpsim scenario; shared by bench/dgxc-llama (NeMo 2.0, 2025) and bench/mbridge-llama
(Megatron-Bridge, 2025-2026). Each bench's README says where each setting was read.

What both families of recipes set (Megatron's defaults where they set nothing): sequence
parallelism and TE's userbuffers TP overlap wherever TP > 1; `cp_comm_type` p2p (not set: Megatron's
default); the distributed optimizer with its overlapped gradient reduce-scatter and parameter
all-gather; bf16 gradients (`grad_reduce_in_fp32` off); no recomputation; RoPE, SwiGLU and
cross-entropy fusions; `NCCL_NVLS_ENABLE=0` in every launch; for 405B the embedding and the loss
each counted as a layer in the pipeline split (126 + 2 = 128 layers); TE's attention backend chosen
by TE (`cudnn`, its default on Hopper and Blackwell).
"""

MODEL = {"8B": "llama3.1-8b", "70B": "llama3.1-70b", "405B": "llama3.1-405b"}

# One hcpsim node: a DGX (8 GPUs, NVSwitch); on GB200 and GB300 an NVL72 rack of which a job holds 64
# GPUs (16 compute trays of 4; Slurm segments of 16 nodes), so that a 64-GPU model replica sits in
# one NVLink domain and data parallelism crosses racks; a smaller job, its GPUs in one rack.
CLUSTER = {"DGX-H100": ("dgx-h100", 8), "DGX-B200": ("dgx-b200", 8),
           "DGX-GB200": ("gb200-nvl72", 64), "DGX-GB300": ("gb300-nvl72", 64)}


def model_size(model):
    """'Llama3.1 405B', 'LLAMA3.1_405B', 'LLAMA3_70B' -> '405B', '70B'."""
    return model.replace("_", " ").split()[-1].upper()


def scenario(name, model, system, gpus, seq, micro_batch, global_batch, tp, pp, cp, vp, precision="bf16",
             fp8_recipe=None, fp8_param_gather=False, fp4_param_gather=False):
    preset, per_node = CLUSTER[system]
    per_node = min(per_node, gpus)
    assert gpus % per_node == 0, (system, gpus)
    size = model_size(model)
    # TE's userbuffers take no NVFP4 quantizer; Megatron-Bridge's NVFP4 recipes turn the overlap off
    # (scripts/performance/configs/llama/llama31_llm_pretrain.py at 06f25c227).
    parallel = {"tensor_model_parallel_size": tp, "pipeline_model_parallel_size": pp, "context_parallel_size": cp,
                "cp_comm_type": "p2p", "sequence_parallel": tp > 1, "tp_comm_overlap": tp > 1 and precision != "nvfp4",
                "use_distributed_optimizer": True, "grad_reduce_in_fp32": False}
    if vp:
        parallel["virtual_pipeline_model_parallel_size"] = vp
    if size == "405B":  # 126 layers + embedding + loss
        parallel["account_for_embedding_in_pipeline_split"] = True
        parallel["account_for_loss_in_pipeline_split"] = True
    training = {"seq_length": seq, "micro_batch_size": micro_batch, "global_batch_size": global_batch,
                "precision": precision, "recompute_granularity": "none", "attn_mask_type": "causal"}
    if precision == "fp8":
        training["fp8_param_gather"] = fp8_param_gather
        if fp8_recipe:
            training["fp8_recipe"] = fp8_recipe
    if precision == "nvfp4":
        training["fp4_param_gather"] = fp4_param_gather
    return {
        "name": name,
        "model": {"preset": MODEL[size]},
        "training": training,
        "parallel": parallel,
        "cluster": {"preset": preset, "num_nodes": gpus // per_node, "gpus_per_node": per_node},
        # Megatron's cross_entropy_loss_fusion: on in NeMo 2.0's Llama recipes (bench/dgxc-llama/README.md) and by
        # default in Megatron-Bridge (GPTModelProvider.cross_entropy_loss_fusion = True, models/gpt_provider.py at
        # 067f987df), where Megatron-LM's own default, hcpsim's, is off; RoPE and SwiGLU fusions: hcpsim's defaults.
        "software": {"attention_backend": "cudnn", "nccl": {"nvls_enable": False}, "fusions": {"cross_entropy": True}},
    }
