// Names of the workload enums and the per-rank wire volume of a comm op.
#include "workload/workload.hpp"


namespace hcpsim {

const char* to_string(ElementwiseKind k) {
  switch (k) {
    case ElementwiseKind::Copy: return "copy";
    case ElementwiseKind::Norm: return "norm";
    case ElementwiseKind::Rope: return "rope";
    case ElementwiseKind::Activation: return "activation";
    case ElementwiseKind::Add: return "add";
    case ElementwiseKind::CrossEntropy: return "cross_entropy";
    case ElementwiseKind::Optimizer: return "optimizer";
    case ElementwiseKind::Fused: return "fused";
  }
  return "?";
}

const char* to_string(OpKind k) { return k == OpKind::Compute ? "compute" : "comm"; }

const char* to_string(ComputeClass c) {
  switch (c) {
    case ComputeClass::Gemm: return "gemm";
    case ComputeClass::Attention: return "attention";
    case ComputeClass::Elementwise: return "elementwise";
  }
  return "?";
}

std::vector<AttentionShape> sequence_parts(const AttentionShape& s) {
  std::vector<AttentionShape> out{s};
  out.front().more.clear();
  out.front().varlen = s.varlen_launch();  // a group of a varlen launch runs as the launch does
  for (const SequenceTile& t : s.more) {
    AttentionShape part = out.front();
    part.batch = t.batch, part.sq = t.sq, part.skv = t.skv;
    out.push_back(part);
  }
  return out;
}

const char* to_string(KernelMask m) {
  switch (m) {
    case KernelMask::None: return "no_mask";
    case KernelMask::CausalTopLeft: return "causal";
    case KernelMask::CausalBottomRight: return "causal_bottom_right";
  }
  return "?";
}

const char* to_string(Stream s) {
  switch (s) {
    case Stream::Compute: return "compute";
    case Stream::Cp: return "cp";
    case Stream::NcclTp: return "nccl_tp";
    case Stream::NcclCp: return "nccl_cp";
    case Stream::NcclCpInner: return "nccl_cp_inner";
    case Stream::NcclDp: return "nccl_dp";
    case Stream::NcclPp: return "nccl_pp";
  }
  return "?";
}

double bytes_sent_per_rank(const Op& op, int64_t group_size) {
  if (op.kind != OpKind::Comm) return 0;
  if (op.pattern == CommPattern::SendRecv && op.send_peer < 0) return 0;
  return collective::bytes_sent_per_rank(op.pattern, op.message_bytes, group_size);
}

}  // namespace hcpsim
