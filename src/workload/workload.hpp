// The per-rank operation graph: what each GPU computes, sends and waits for.
//
// Produced by workload/ (builder.cpp and the files it calls), consumed by the simulator and printed by
// `hcpsim --dump-workload`. Ops carry *work* (FLOPs, bytes), never time: the
// cost model (cost/cost_model.hpp) is the one place that turns work into time.
//
// Execution semantics (what the simulator must honour):
//  - Ops of one rank run on named streams. Ops on the same stream run in the
//    order they appear in RankProgram::ops; ops on different streams overlap.
//  - An op may start when every op in `deps` (ids in the same program) has
//    finished and its stream is free.
//  - A comm op is *issued* by the CUDA stream that launched it; that ordering
//    is expressed as a dependency on the last op of the issuing stream. It then
//    runs on an NCCL stream. A compute op that needs the data lists the comm op
//    in its deps (TE's `req.wait()`).
//  - Comm ops of different ranks that form one logical communication share
//    `tag` (and `group` for collectives). A SendRecv on rank r with send_peer s
//    pairs with the SendRecv on rank s whose recv_peer is r and whose tag equals.
#pragma once

#include "rules/fp8_gemm.hpp"
#include <cstdint>
#include <string>
#include <vector>

#include "rules/collective.hpp"
#include "rules/ddp_buckets.hpp"
#include "rules/op_label.hpp"
#include "rules/pipeline.hpp"

namespace hcpsim {

enum class OpKind : uint8_t { Compute, Comm };
enum class ComputeClass : uint8_t { Gemm, Attention, Elementwise };
enum class KernelMask : uint8_t { None, CausalTopLeft, CausalBottomRight };
// What a memory-bound kernel is (its efficiency: docs/cost-model.md, "memory-bound kernels"):
// a copy (and every kernel with no measurement of its own), one of the layer's and the loss's
// kernels as PyTorch / Megatron run them unfused, or a fused kernel (Megatron's fusion switches,
// software.fusions; TE's quantize kernels), which runs at the copy's efficiency times its measured
// fraction of it (Op::fused_of_copy, rules/fused_kernels.hpp; 1 where none was measured).
enum class ElementwiseKind : uint8_t {
  Copy, Norm, Rope, Activation, Add, CrossEntropy, Optimizer,  // measured as hcpcal_torch runs them
  Fused                                                         // a fused kernel: the copy's, x fused_of_copy
};
inline constexpr int kElementwiseKinds = 8;
const char* to_string(ElementwiseKind k);  // "copy", "norm", "rope", "activation", "add", "cross_entropy", "optimizer", "fused"

// Streams of one rank. Compute/Cp are CUDA streams TE uses (current stream and
// the class-level cp_stream); the Nccl* are the internal streams of one NCCL
// communicator each (ops on one communicator serialise).
enum class Stream : uint8_t { Compute, Cp, NcclTp, NcclCp, NcclCpInner, NcclDp, NcclPp };
constexpr int kNumStreams = 7;

const char* to_string(OpKind k);
const char* to_string(ComputeClass c);
const char* to_string(KernelMask m);
const char* to_string(Stream s);

struct GemmShape {
  int64_t m = 0, n = 0, k = 0;  // C[m,n] = A[m,k] B[k,n]
};

// Sequences of one length in an attention launch: `batch` of them, sq queries and skv keys each.
struct SequenceTile {
  int64_t batch = 0, sq = 0, skv = 0;
  auto operator<=>(const SequenceTile&) const = default;
};

// One attention kernel call (FlashAttention / cuDNN fused attention).
struct AttentionShape {
  int64_t batch = 0;
  int64_t sq = 0, skv = 0;
  // Packed documents of unequal lengths run as one varlen launch (THD, cu_seqlens): the groups
  // after the first (batch, sq, skv), in launch order. Empty: every sequence of the launch alike.
  std::vector<SequenceTile> more;
  bool ragged() const { return !more.empty(); }
  // Packed documents (THD): a varlen launch, of one length or not (FlashAttention-2's varlen
  // kernels split no keys).
  bool varlen = false;
  bool varlen_launch() const { return varlen || ragged(); }
  int64_t heads_q = 0, heads_kv = 0;
  int64_t head_dim_qk = 0, head_dim_v = 0;
  KernelMask mask = KernelMask::None;
  int64_t window = 0;  // sliding window: keys visible per query incl. itself; 0 = none
  bool backward = false;
  // Set only on a kernel as its backend executes it (executed_attention_shape): it computes every
  // tile of its sq x skv rectangle and masks each by value, so every tile costs a masked tile's
  // time (cuDNN's bottom-right causal backward on sm_90). Workloads never set it.
  bool every_tile_masked = false;
  auto operator<=>(const AttentionShape&) const = default;  // every field: a key (CostModel's memo)
};

// Each group of sequences of a launch as a launch of its own (the shape itself where not ragged),
// varlen where the launch is (AttentionShape::varlen: no key splits).
std::vector<AttentionShape> sequence_parts(const AttentionShape& s);

struct Op {
  int32_t id = 0;  // index in RankProgram::ops
  OpKind kind = OpKind::Compute;
  Stream stream = Stream::Compute;
  Phase phase = Phase::Forward;
  OpArea area = OpArea::Layer;
  bool recompute = false;  // re-run in the backward for activation recomputation
  std::vector<int32_t> deps;
  std::string label;  // op_label(area, phase, what, recompute), e.g. "attn.fwd.step2.lower"

  // Compute ops.
  ComputeClass compute_class = ComputeClass::Elementwise;
  double flops = 0;  // floating-point operations (multiply-add = 2)
  double bytes = 0;  // device-memory traffic (read + write)
  GemmShape gemm;          // when compute_class == Gemm
  rules::GemmType gemm_type = rules::GemmType::Bf16;  // Gemm: bf16 or TE's fp8 GEMM (rules/fp8_gemm.hpp)
  int64_t gemm_sm_margin = 0;  // Gemm: SMs it runs without, held by userbuffers' comm kernels (rules/tp_comm_overlap.hpp)
  // Gemm: a chunk of a GEMM of these FLOPs (0: not a chunk), which takes that GEMM's efficiency:
  // TE runs the chunks on up to 3 streams, so one chunk's tail runs beside the next one's start.
  double gemm_whole_flops = 0;
  AttentionShape attn;     // when compute_class == Attention
  ElementwiseKind elementwise = ElementwiseKind::Copy;  // when compute_class == Elementwise
  double fused_of_copy = 1.0;  // ElementwiseKind::Fused: its measured fraction of the copy's efficiency

  // Comm ops. message_bytes means, per pattern (NCCL conventions):
  //   SendRecv:      bytes sent to send_peer (recv_bytes come from recv_peer)
  //   AllGather:     this rank's shard; it receives (N-1)*message_bytes
  //   ReduceScatter: this rank's output shard; input is N*message_bytes
  //   AllReduce:     the whole buffer
  //   AllToAll:      the whole per-rank buffer; 1/N goes to each peer
  CommPattern pattern = CommPattern::SendRecv;
  int32_t group = -1;      // index into Workload::groups (collectives; SendRecv: its communicator, -1 none)
  int32_t send_peer = -1;  // global rank (SendRecv), -1 = none
  int32_t recv_peer = -1;  // global rank (SendRecv), -1 = none
  double message_bytes = 0;
  double recv_bytes = 0;   // SendRecv only
  int32_t repeats = 1;     // equal DP buckets this op stands for (simulated once; workload/step_ops.hpp)
  int64_t tag = 0;
  // Part of TE's userbuffers overlap (parallel.tp_comm_overlap; rules/tp_comm_overlap.hpp). A comm
  // op: a ring-exchange send by the copy engines, a reduce-scatter or all-gather by comm kernels on
  // SMs the GEMM beside it gave up; neither waits for the SMs a kernel holds (no interference
  // slowdown) and a send is not held to NCCL's p2p channels: it runs at what the links carry. A
  // GEMM: a chunk or a GEMM beside them (its time is a band part of its own, run/uncertainty.hpp).
  bool userbuffers = false;
  // Whether the CPU launches it with a call of its own (one eager op's launch, rules/host_launch.hpp).
  // False where Transformer Engine's C++ issues it inside another op's call: userbuffers' sends,
  // reduce-scatters and bulk collectives (CommOverlap's split_overlap_ag / split_overlap_rs and bulk
  // overlaps, inside the GEMM's call), a split GEMM's chunks after the first (the same call's loop),
  // FusedAttention's zero-fill of a THD call's outputs. The buffers' fills and clone are calls of
  // their own.
  bool own_launch = true;
};

// Bytes this rank puts on the wire for `op` under NCCL's ring (AG/RS/AR) or
// direct (A2A, SendRecv) algorithm, with `group_size` members (rules/collective.hpp).
double bytes_sent_per_rank(const Op& op, int64_t group_size);

// Ops of a `step` program run once per micro batch when their phase is Forward
// or Backward, and once per step when it is Optimizer (gradient sync, optimizer).
struct RankProgram {
  int32_t rank = 0;
  std::vector<Op> ops;
};

struct ProcessGroup {
  std::string name;            // "tp", "cp", "cp_a2a", "cp_p2p", "dp_cp", "dp"
  std::vector<int32_t> ranks;  // global ranks, in group-rank order
};

// One DP bucket of a stage as its step program runs it: its chunk, when it is ready and needed
// (rules::DdpBucket) and the ops of its stage's step programs that time its reduce and its gather
// (-1: none; equal buckets share them).
struct DpBucketOps {
  int64_t chunk = 0;
  rules::DdpBucket bucket;
  int32_t reduce_op = -1, gather_op = -1;
};

struct Workload {
  std::vector<ProcessGroup> groups;
  // One transformer layer (forward, or forward then backward) on every rank.
  std::vector<RankProgram> layer;
  // Per rank, the once-per-step pieces: embedding, LM head + loss, optimizer,
  // data-parallel gradient sync. Empty unless the workload kind is Step.
  std::vector<RankProgram> step;
  // Per rank, the stage-to-stage transfers of one micro batch (PP > 1 and a Step workload, else
  // empty): the activation to the next stage, then the gradient to the previous one.
  std::vector<RankProgram> pipeline;
  int64_t layers_per_step = 0;   // transformer layers of the whole model
  int64_t microbatches = 0;      // per step per DP rank
  PipelineSpec pipeline_spec;    // stages, virtual stages, schedule options (p = 1: none)
  PipelineSplit pipeline_split;  // layers of every (stage, chunk)
  // Per pipeline stage, its DP buckets and the ops of its ranks' step programs that time them
  // (workload/step_ops.hpp; empty without DP or a Step workload).
  std::vector<std::vector<DpBucketOps>> dp_buckets;
};

}  // namespace hcpsim
