// Model-state memory per GPU: weights, gradients, optimizer state, and the fixed
// allowance for the CUDA context, library workspaces and NCCL buffers.
//
// What is counted where (Megatron-LM with bf16 training, Adam; P = params of this
// rank's TP shard of its pipeline stage, scenario/model_params.hpp count_params_per_stage):
//   weights       2 B/param   bf16 model parameters (DDP param buffer)
//   main grads    4 B/param   the DDP grad buffer (main_grad), full size on every rank; the
//                             wgrad GEMMs accumulate into it directly (gradient accumulation
//                             fusion), so no separate .grad is kept. Its type is the one
//                             the gradients are reduced in (param_and_grad_buffer.py:
//                             torch.float if grad_reduce_in_fp32 else the param's dtype):
//                             fp32 by Megatron-LM's bf16 default, 2 B/param bf16 with
//                             parallel.grad_reduce_in_fp32 off (NeMo's performance recipes).
//   optimizer    12 B/param   fp32 master weights + Adam m + v (4 + 4 + 4), divided by
//                             shard = DP*CP with the distributed optimizer (it shards over
//                             the DP x CP group, docs/cp-transports.md §8).
// Sum (fp32 grads): 6 + 12/shard B/param with the distributed optimizer, 18 without: the rule in
// Megatron Core's distributed-optimizer guide ("bf16 parameters, fp32 gradients: 18 / 6 + 12/d")
// and Megatron-Bridge's theoretical memory estimator (shard = DP*CP). With bf16 gradients the
// optimizer step also holds an fp32 copy of its shard of them (4 B/param / shard, the
// optimizer.step phase of memory/estimate.cpp): the guide's "fp16 gradients: 20 / 4 + 16/d".
//
// fp8: Transformer Engine keeps the bf16 weights above and, for every layer GEMM weight, its fp8
// copies cached across micro-batches (rules::quantized_copy_bytes_per_element: the copy and its transpose
// on TN-only GPUs such as Hopper, 2 B per layer GEMM parameter; one copy, 1 B, on the data-centre
// Blackwell; MXFP8's two quantizations, 2 x (1 + 1/32) B); with fp8 primary weights
// (fp8_param_gather) those copies replace the bf16 weights. Embedding, output layer and norms stay
// bf16. The saved GEMM inputs are fp8 (memory/activations.cpp).
//
// Workspace allowance (outside PyTorch's allocator, a documented estimate, not measured):
//   CUDA context with the loaded PyTorch/cuBLAS/cuDNN/TE/NCCL kernels  512 MiB
//   cuBLAS/TE GEMM workspaces (TE: 32 MiB per stream on Hopper, 2 streams)  64 MiB
//   NCCL buffers: 256 MiB per communicator this rank uses. NCCL_BUFFSIZE is 4 MiB per
//   channel per peer for the Simple protocol; a ring on H100 uses up to 32 channels with a
//   send and a receive peer: 32 * 2 * 4 MiB = 256 MiB. Communicators: TP (TP > 1); the CP
//   transport's (p2p: the two ring-neighbour pair communicators, one when the ring has 2
//   ranks; all_gather, a2a: the CP group; a2a+p2p: the a2a group plus the ring's pair
//   communicators); DP x CP (gradient reduce-scatter / param all-gather, when > 1); the
//   pipeline's (PP > 1).
// Megatron-FSDP (optim_grads_params): 2 B/param (fp8 primary GEMM weights 1 B) and 2 B/param of bf16
// gradients, both / DP*CP, with the optimizer's 12 / DP*CP; plus its double buffers (two layers'
// gathered parameters and two layers' unsharded bf16 gradients) and the embedding, final norm and
// output layer gathered whole (kept across micro batches).
// Allocator fragmentation is not included (PyTorch's caching allocator typically loses a
// few percent; it depends on expandable_segments and is left to calibration).
#pragma once

#include <cstdint>

#include "scenario/scenario.hpp"

namespace hcpsim {

inline constexpr double kMainGradFp32BytesPerParam = 4;  // an fp32 gradient

struct ModelStateBytes {
  double params_per_gpu = 0;      // parameters of this rank's TP shard
  double weights_bytes = 0;       // bf16
  double quantized_weight_copies_bytes = 0;  // fp8 and nvfp4 precision only
  double main_grads_bytes = 0;    // fp32, or bf16 with grad_reduce_in_fp32 off
  double optimizer_bytes = 0;     // fp32 master + Adam m, v (sharded with dist. optimizer)
  int64_t optimizer_shard = 1;    // DP*CP with the distributed optimizer, else 1
  // Megatron-FSDP (parallel.use_megatron_fsdp, rules/megatron_fsdp.hpp): weights and gradients are
  // shards too (weights_bytes, main_grads_bytes above / DP*CP); beside them two layers' gathered
  // parameters and unsharded gradients (with Hopper's fp8 transposes of the gathered weights), and
  // the parameters outside the layers unsharded.
  bool fsdp = false;
  double fsdp_unit_buffers_bytes = 0;
  double fsdp_non_layer_bytes = 0;
};

// Of pipeline stage `stage` (PP = 1: the whole model's TP shard).
ModelStateBytes model_state_bytes(const Scenario& s, int64_t stage = 0);

struct WorkspaceBytes {
  double cuda_context_bytes = 0;
  double gemm_workspace_bytes = 0;
  double nccl_bytes = 0;
  int64_t nccl_communicators = 0;
  double userbuffers_bytes = 0;  // TE's TP overlap buffers (parallel.tp_comm_overlap), else 0
  int64_t userbuffers = 0;
  double total() const { return cuda_context_bytes + gemm_workspace_bytes + nccl_bytes + userbuffers_bytes; }
};

WorkspaceBytes workspace_bytes(const Scenario& s);

}  // namespace hcpsim
