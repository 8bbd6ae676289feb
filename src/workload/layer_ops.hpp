// One Megatron transformer layer with Transformer Engine on one rank:
// norms, TP collectives (all-gather / reduce-scatter with sequence parallel,
// all-reduce without), QKV / output / MLP GEMMs, RoPE, core attention.
//
// GEMM shapes per rank (tokens T = b * S/CP, hidden h, TP t, d = kv_channels):
//   qkv  [T, h] x [h, (hq + 2 hk) d]       proj [T, hq d] x [hq d, h]
//   fc1  [T, h] x [h, g ffn/t] (g = 2 with SwiGLU)   fc2 [T, ffn/t] x [ffn/t, h]
// Backward: dgrad [T, out] x [out, in] and wgrad [out, T] x [T, in] per GEMM,
// i.e. m n k = T * in * out each. With sequence parallel, column-parallel
// layers re-gather their input for wgrad (async, overlapped with dgrad) and
// reduce-scatter dgrad (async, overlapped with wgrad); row-parallel layers
// all-gather the output gradient first. Without it, column-parallel dgrad is
// all-reduced (async, overlapped with wgrad).
//
// With parallel.tp_comm_overlap (TE's userbuffers, rules/tp_comm_overlap.hpp) the forward's
// all-gathers and the row-parallel backward's gradient all-gather run as a ring exchange under
// the GEMM split in TP chunks, the forward's reduce-scatters under the GEMM split in 4 chunks (the
// GEMM on the SMs the comm kernels leave), and the column-parallel backward's overlaps as above
// with the GEMMs on those SMs.
#pragma once

#include "workload/attention_common.hpp"
#include "workload/fsdp_ops.hpp"

namespace hcpsim {

struct LayerContext {
  const Scenario* scenario = nullptr;
  CpAttention attn;
  int32_t tp_group = -1;
  int32_t tp_next = -1, tp_prev = -1;  // global ranks after and before this one in the TP group's ring
  FsdpContext fsdp;  // Megatron-FSDP's per-layer collectives (inactive without it)
};

void layer_forward(ProgramBuilder& b, const LayerContext& c);
// With selective recompute, core attention's forward is re-run (labels
// "recompute.") right before its backward.
void layer_backward(ProgramBuilder& b, const LayerContext& c);

}  // namespace hcpsim
