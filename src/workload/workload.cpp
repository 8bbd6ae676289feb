// Names of the workload enums and the per-rank wire volume of a comm op.
#include "workload/workload.hpp"

#include <cassert>

namespace hcpsim {

const char* to_string(OpKind k) { return k == OpKind::Compute ? "compute" : "comm"; }

const char* to_string(ComputeClass c) {
  switch (c) {
    case ComputeClass::Gemm: return "gemm";
    case ComputeClass::Attention: return "attention";
    case ComputeClass::Elementwise: return "elementwise";
  }
  return "?";
}

const char* to_string(KernelMask m) {
  switch (m) {
    case KernelMask::None: return "no_mask";
    case KernelMask::CausalTopLeft: return "causal";
    case KernelMask::CausalBottomRight: return "causal_bottom_right";
  }
  return "?";
}

const char* to_string(CommPattern p) {
  switch (p) {
    case CommPattern::SendRecv: return "sendrecv";
    case CommPattern::AllGather: return "all_gather";
    case CommPattern::ReduceScatter: return "reduce_scatter";
    case CommPattern::AllReduce: return "all_reduce";
    case CommPattern::AllToAll: return "all_to_all";
  }
  return "?";
}

const char* to_string(Phase p) {
  switch (p) {
    case Phase::Forward: return "fwd";
    case Phase::Backward: return "bwd";
    case Phase::Optimizer: return "opt";
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
  }
  return "?";
}

double bytes_sent_per_rank(const Op& op, int64_t group_size) {
  if (op.kind != OpKind::Comm) return 0;
  const double n = static_cast<double>(group_size);
  switch (op.pattern) {
    case CommPattern::SendRecv: return op.send_peer >= 0 ? op.message_bytes : 0;
    // Ring all-gather / reduce-scatter: N-1 steps of one shard each.
    case CommPattern::AllGather:
    case CommPattern::ReduceScatter: return (n - 1) * op.message_bytes;
    // Ring all-reduce = reduce-scatter + all-gather of buffer/N shards.
    case CommPattern::AllReduce: return n > 0 ? 2 * (n - 1) / n * op.message_bytes : 0;
    // Direct all-to-all: 1/N of the buffer to each of the N-1 peers.
    case CommPattern::AllToAll: return n > 0 ? (n - 1) / n * op.message_bytes : 0;
  }
  assert(false);
  return 0;
}

}  // namespace hcpsim
