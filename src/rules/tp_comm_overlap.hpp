// Transformer Engine's tensor-parallel communication/GEMM overlap ("userbuffers"), as Megatron's
// `tp_comm_overlap` switches it on: which method each of the layer's TP GEMMs runs and its default
// configuration. One definition for the workload builder (workload/layer_ops.cpp), the validation
// (scenario/validate.cpp) and the tests.
//
// Read in TransformerEngine (commit d0067d0, 2.20.0.dev0; the v2.18 tag's defaults are the same),
// transformer_engine/pytorch/module/base.py, initialize_ub:
//  - ring_exchange: qkv_fprop, fc1_fprop (the all-gather of the sequence-parallel input before a
//    column-parallel GEMM) and proj_dgrad, fc2_dgrad (the all-gather of the output gradient before
//    a row-parallel GEMM's backward). CommOverlapP2PBase::split_overlap_ag: TP steps; at step i
//    the GEMM runs on the chunk (T / TP rows) the rank holds while that chunk goes to the next rank
//    of the TP ring and the next one comes from the previous (one direction); copy-engine
//    transfers (use_ce), one SM for the signal, no SM margin.
//  - pipeline: proj_fprop, fc2_fprop (the reduce-scatter after a row-parallel GEMM).
//    CommOverlapBase::split_overlap_rs: the weight split along its output features into
//    num_splits = 4 chunks (each chunk's output [T, h / 4]); after chunk i a userbuffers
//    reduce-scatter of that chunk's output (strided into each rank's [T / TP, h]) runs on
//    num_sm = 16 SMs beside chunk i + 1; the chunks rotate over up to 3 compute streams; the GEMM
//    runs on the SMs less those 16 (set_sm_margin).
//  - bulk: qkv_dgrad, fc1_dgrad (the all-gather of the saved input under the dgrad GEMM) and
//    qkv_wgrad, fc1_wgrad (the reduce-scatter of dgrad under the wgrad GEMM), num_sm = 16 with the
//    SM margin: the same overlap the NCCL path makes asynchronously, the GEMM on fewer SMs.
// Megatron-LM (megatron/core/model_parallel_config.py): tp_comm_overlap defaults to false and
// needs sequence parallelism (megatron/training/arguments.py). TE runs userbuffers inside one
// NVLink domain only (examples/pytorch/comm_gemm_overlap/README.md; userbuffers_send asserts an
// intra-node peer; since TE 2.2 a multi-node NVLink domain such as an NVL72 rack registers its
// buffers as fabric handles), never over InfiniBand.
#pragma once

#include <cstdint>

namespace hcpsim::rules {

enum class TpOverlapMethod : uint8_t { RingExchange, Pipeline, Bulk };

// The method TE's defaults give each overlapped GEMM of the layer.
inline constexpr TpOverlapMethod kColumnForwardMethod = TpOverlapMethod::RingExchange;  // qkv_fprop, fc1_fprop
inline constexpr TpOverlapMethod kRowForwardMethod = TpOverlapMethod::Pipeline;         // proj_fprop, fc2_fprop
inline constexpr TpOverlapMethod kRowBackwardMethod = TpOverlapMethod::RingExchange;    // proj_dgrad, fc2_dgrad
inline constexpr TpOverlapMethod kColumnBackwardMethod = TpOverlapMethod::Bulk;         // qkv/fc1 dgrad, wgrad

// get_default_config: num_splits (ring_exchange: the TP size), the SMs its communication kernels
// hold and whether the GEMM gives them up (set_sm_margin).
inline constexpr int64_t kPipelineSplits = 4;
inline constexpr int64_t kCommSms = 16;  // pipeline and bulk; ring_exchange: 1, no margin

inline int64_t overlap_splits(TpOverlapMethod m, int64_t tp) {
  return m == TpOverlapMethod::RingExchange ? tp : m == TpOverlapMethod::Pipeline ? kPipelineSplits : 1;
}

// SMs the GEMM of method `m` runs without (0: all of them).
inline int64_t gemm_sm_margin(TpOverlapMethod m) { return m == TpOverlapMethod::RingExchange ? 0 : kCommSms; }

// The communication buffers initialize_ub registers: one per overlapped GEMM name, each of the
// shape Megatron passes, [seq_length x micro_batch_size / CP, hidden] (Megatron-LM
// megatron/training/initialize.py, _initialize_tp_communicators; CommOverlapP2PBase and
// CommOverlapBase allocate that shape for an all-gather or a pipelined reduce-scatter). From TE
// 2.7 on twelve names (4 ring_exchange, 2 pipeline, 4 bulk, 2 external: the wgrad all-gathers of
// PR #1982), ten before. The all-gather ones (8, before 2.7 6) hold fp8 (1 byte) under an fp8
// recipe; the rest the activation type.
struct UserbufferCounts {
  int64_t all_gather = 0, reduce_scatter = 0;
};
inline UserbufferCounts userbuffer_counts(bool te_2_7_or_newer) {
  return te_2_7_or_newer ? UserbufferCounts{8, 4} : UserbufferCounts{6, 4};
}

// Size of chunk `i` of `n` when a GEMM dimension of `size` is split (the last takes the remainder).
inline int64_t chunk_size(int64_t size, int64_t n, int64_t i) {
  const int64_t base = size / n;
  return i + 1 < n ? base : size - base * (n - 1);
}

}  // namespace hcpsim::rules
