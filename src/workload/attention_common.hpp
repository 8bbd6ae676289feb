// Shared pieces of the core-attention workload (docs/cp-transports.md §1-§5):
// the per-rank view of CP attention, exact visible-element counts of masks,
// and the one place where an attention kernel's FLOPs and bytes are counted.
//
// FLOPs convention (used by every transport and by the tests):
//   forward  = 2 * b * hq * (dk + dv) * visible   (QK^T and PV, 2 FLOPs per multiply-add)
//            = 4 * b * hq * d * visible            for dk = dv = d
//   backward = 2.5 * forward                       (FlashAttention convention, docs/cost-model.md)
// where `visible` is the exact number of (query, key) score elements the mask
// lets through: n(n+1)/2 for a top-left causal n x n tile, the exact count for
// bottom-right aligned rectangles, and the sliding window clipped exactly.
// Bytes: forward reads Q, K, V and writes O and the fp32 LSE; backward reads
// Q, K, V, O, dO and the LSE and writes dQ, dK, dV.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "scenario/scenario.hpp"
#include "workload/workload.hpp"
#include "workload/program_builder.hpp"

namespace hcpsim {

// The backward's FLOPs over the forward's. The kernels' work: FlashAttention's backward (and cuDNN's)
// recomputes S = QK^T and runs dV = P^T dO, dP = dO V^T, dQ = dS K and dK = dS^T Q, five matmuls
// against the forward's two (QK^T, PV). The model's: the four gradients alone, as Megatron counts
// MFU (3x the forward for forward and backward: training.py, num_floating_point_operations) and
// PaLM's definition excludes recomputation.
constexpr double kAttnBwdFlopRatio = 2.5;
constexpr double kAttnBwdModelFlopRatio = 2.0;
constexpr double kLseBytesPerElement = 4;  // softmax LSE is fp32

// Megatron hands TE sbhd tensors; bshd is TE's other dense layout. The layout
// decides which slices are contiguous, hence which copy kernels exist.
// Thd: packed documents, token-first as sbhd, whose p2p halves TE gathers (tex.thd_read_half_tensor)
// as bshd's are copied.
enum class QkvFormat : uint8_t { Sbhd, Bshd, Thd };

// Tensor geometry of one attention call site: `len` tokens per rank with
// `hq`/`hk` heads (after any a2a).
struct AttnDims {
  int64_t batch = 1;
  int64_t len = 0;
  // Packed documents of unequal lengths: the rank's pieces of them (`count` of `length` tokens
  // each), in launch order, its kernels one varlen launch over them (over_documents); batch x len
  // are then its tokens (the micro batch, S/CP). Empty: `batch` sequences of `len` tokens.
  std::vector<TrainingSpec::SequenceGroup> documents;
  bool varlen = false;  // packed documents (THD): every kernel a varlen launch (AttentionShape::varlen)
  bool zero_fills = false;  // THD on TE's FusedAttention (cuDNN): each call zero-fills its outputs (attention_call)
  int64_t hq = 0, hk = 0;
  int64_t head_dim = 0;
  int64_t elem_bytes = 2;

  double q_bytes() const { return double(batch) * len * hq * head_dim * elem_bytes; }  // |Q| = |O|
  double k_bytes() const { return double(batch) * len * hk * head_dim * elem_bytes; }  // |K| = |V|
  double lse_bytes() const { return double(batch) * hq * len * kLseBytesPerElement; }
};

// What one rank needs to emit core attention for its CP transport.
struct CpAttention {
  AttnDims local;          // the rank's own tensors: L = S/CP tokens, heads per TP rank
  bool causal = true;
  CpLoadBalance order = CpLoadBalance::Zigzag;  // the tokens a ring rank holds (p2p, a2a+p2p)
  std::optional<int64_t> window;  // keys visible per query, including itself
  QkvFormat format = QkvFormat::Sbhd;
  bool ag_zeroed_output = false;  // all_gather: TE's second, zeroed output (rules/cp_schedule.hpp)
  CpCommType type = CpCommType::P2P;
  int64_t cp = 1, cp_rank = 0;
  int64_t a2a_size = 1, p2p_size = 1;           // A, P (a2a: A = CP; p2p: P = CP)
  int32_t cp_group = -1;                        // flat CP group (all_gather, a2a)
  int32_t a2a_group = -1;                       // HCP inner group (a2a+p2p)
  int32_t ring_next = -1, ring_prev = -1;       // forward ring neighbours (global ranks)
  int32_t ring_group = -1;                      // the ring's communicator (cp, or cp_p2p for a2a+p2p)
};

// Exact number of visible score elements of an sq x skv tile. Query row i sits
// at key position i (top-left) or i + skv - sq (bottom-right); causal keeps
// keys at or before that position; a window w keeps the w most recent of them
// (no mask + window: keys within w positions either side).
double visible_elements(int64_t sq, int64_t skv, KernelMask mask, std::optional<int64_t> window);

// Appends one attention kernel (forward or backward per shape.backward) with
// FLOPs and bytes by the convention above.
int32_t attention_kernel(ProgramBuilder& b, Stream s, std::string_view what,
                         const AttentionShape& shape, std::optional<int64_t> window,
                         std::vector<int32_t> deps = {});

// One of TE's attention calls over tensors of dims `d`: the kernel, after, where the call zero-fills
// its outputs (AttnDims::zero_fills: THD on FusedAttention, csrc/extensions/attention.cpp: te_O.zero_()
// in the forward, dQ, dK, dV fill_(0) in the backward, bf16 and fp16), that memset on the kernel's
// stream, issued inside the call (no launch of its own). `output_bytes`: the output tensors the call
// is handed, where larger than the kernel's own rows (all_gather's THD chunks).
int32_t attention_call(ProgramBuilder& b, Stream s, std::string_view what, const AttnDims& d,
                       const AttentionShape& shape, std::optional<int64_t> window,
                       std::optional<double> output_bytes = std::nullopt);

AttentionShape attention_shape(const AttnDims& d, int64_t sq, int64_t skv, KernelMask mask,
                               bool backward);

// The kernel tile(g) gives for dims g of sequences of one length, over d's documents: one launch
// of a group per length (tile(d) where d has no documents of unequal lengths).
template <class Tile>
AttentionShape over_documents(const AttnDims& d, const Tile& tile) {
  if (d.documents.empty()) return tile(d);
  AttentionShape out;
  AttnDims g = d;  // one group's dims (copied once: a packing may hold thousands of groups)
  g.documents.clear();
  for (size_t i = 0; i < d.documents.size(); ++i) {
    g.batch = d.documents[i].count, g.len = d.documents[i].length;
    const AttentionShape part = tile(g);
    if (i == 0) out = part;
    else out.more.push_back({part.batch, part.sq, part.skv});
  }
  return out;
}

// The CUDA stream of the i-th ring step / chunk: current stream, then cp_stream.
inline Stream alternating_stream(int64_t i) { return i % 2 == 0 ? Stream::Compute : Stream::Cp; }

}  // namespace hcpsim
