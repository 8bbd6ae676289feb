// Megatron-FSDP v1 with data_parallel_sharding_strategy "optim_grads_params" (ZeRO-3), as Megatron-LM
// runs it (megatron/core/distributed/fsdp/src/megatron_fsdp/, read at Megatron-LM d98e8a64; the
// version Megatron-Bridge 067f987 pins differs in nothing below). One definition for the workload
// builder (workload/fsdp_ops.cpp) and the memory estimate (memory/model_states.cpp).
//
// - Units: every TransformerLayer is an FSDP unit (mcore_fsdp_adapter.py, fsdp_unit_modules); the
//   embedding, the final norm and the output layer are not. A unit's parameters are one bucket per
//   dtype, gathered in one coalesced all-gather (param_and_grad_buffer.py, _get_parameter_groups:
//   bucket_size splits non-unit groups alone), over the DP x CP group.
// - Forward: a unit's pre-forward hook issues the next unit's all-gather (prefetch one unit ahead:
//   with fsdp_double_buffer at most two units are live) and waits for its own; the post-forward
//   hook frees the unit's gathered parameters, so the backward gathers them again. The first unit
//   of each micro batch is not prefetched.
// - Backward: a unit's pre-backward hook gathers it and prefetches the unit before it; once the
//   unit's gradients are ready their reduce-scatter is issued, and the compute stream waits for
//   queued ones beyond suggested_RS_queue_capacity (max(1e9, 2 x a unit's elements): about two 70B
//   layers; hcpsim's one-deep queue is more pessimistic); the micro batch's
//   end waits for every pending reduce-scatter (_root_post_backward). Gradients are reduce-scattered
//   every micro batch (grad_reduce_every_bprop for optim_grads_params), the reduced shard added
//   into the sharded gradient buffer.
// - Non-unit parameters are gathered once a step, on first use, and kept (PRESERVED).
// - Wire types: parameters in the model weights' type (bf16; with fp8_param_gather the GEMM weights
//   in fp8, the norms in bf16, one coalesced call); gradients in bf16 (main_grads_dtype and
//   grad_comm_dtype "auto": the parameters' type, bf16 for fp8 parameters); Megatron-FSDP does not
//   read grad_reduce_in_fp32. The optimizer casts its bf16 gradient shard to fp32 (update_main_grads).
// - Memory (fsdp_double_buffer): sharded bf16 (or fp8) weights, bf16 gradients, fp32 main weights and
//   Adam's two moments (1/(DP x CP) each); two units' gathered parameters and two units' unsharded
//   gradients in fixed buffers; the non-unit parameters unsharded.
// - keep_fp8_transpose_cache off (Megatron-Bridge's FSDP recipes): on GPUs whose fp8 GEMMs take one
//   layout (Hopper) the fp8 weights' transposes are made again after each backward gather.
#pragma once

#include <cstdint>

#include "rules/fp8_gemm.hpp"

namespace hcpsim::rules {

inline constexpr double kFsdpGradBytesPerParam = 2;  // bf16 on the wire and in the sharded buffer
inline constexpr double kFsdpDoubleBufferUnits = 2;  // fsdp_double_buffer: two units live

// Bytes of one unit's parameters as gathered: `gemm_params` GEMM weights (fp8 with fp8 primary
// weights, else bf16) and `other_params` (norm weights) in bf16.
inline double fsdp_param_bytes(double gemm_params, double other_params, bool fp8_params) {
  return (fp8_params ? 1.0 : 2.0) * gemm_params + 2.0 * other_params;
}

// HBM bytes per GEMM weight of the transposes a unit's backward makes after its gather: fp8 primary
// weights on a GPU whose fp8 GEMMs want the transposed copy (read one copy, write the other), else none.
inline double fsdp_backward_transpose_bytes_per_param(bool fp8_params, int64_t compute_capability) {
  return fp8_params && fp8_needs_transposed_copy(compute_capability) ? 2.0 : 0.0;
}

}  // namespace hcpsim::rules
