// Per-GPU memory estimate: the peak over the phases of one training step, with a breakdown.
//
// Static (alive all step): model states and workspaces (memory_states.hpp).
// Dynamic, per rank, for the worst rank of the CP group (n = layers in flight: num_layers with
// PP = 1, see below; T = mbs*S/CP,
// t_sp = TP with sequence parallelism else 1, e = 2, "saved" = saved_bytes_per_layer):
//   fwd.attention  core attention of the last layer: (n-1)*saved of the earlier layers
//                  + attn_pre of this layer (norm in/out, Q, K, V) + CP forward buffers
//   fwd.loss       LM head and cross entropy: n*saved + final norm in/out (2*T*e*h/t_sp, and
//                  T*e*h for the SP all-gathered output-layer input)
//                  + logits T*(V_pad/TP)*6: the bf16 vocab-parallel logits and the fp32 copy
//                  vocab_parallel_cross_entropy makes (it exps/normalises in place and saves it);
//                  the fused losses likewise, but TE's before 2.18, which writes its gradient over
//                  the logits: T*(V_pad/TP)*2 (rules/fused_kernels.hpp)
//   bwd.mlp        MLP backward of the last layer (the first to run backward, all n layers'
//                  activations still alive): n*saved + recomputed + T*e*(h/t_sp + [SP] h +
//                  3*ffn_r): incoming dY, its SP all-gather, d(SwiGLU out), d(gate, up)
//   bwd.attention  core-attention backward of the last layer: n*saved + recomputed
//                  + T*e*(h/t_sp + hq_r*d) (dY, dO) + CP backward buffers; with selective or
//                  full recompute the core attention's forward is re-run just before its
//                  backward, so the CP term is max(forward buffers, backward buffers)
//   recomputed     full: the layers one re-run rebuilds, each with its no-recompute activations
//                  (+ transport extra): 1 with recompute_method uniform and 1 layer (the default),
//                  N with uniform N; 0 with block where a chunk has layers past its first N, which
//                  save everything and whose backwards run first and free more than a re-run
//                  rebuilds (rules/recompute.hpp);
//                  selective: the recomputed core-attention internals (LSE + transport extra);
//                  none: 0.
// Under full recompute "saved" is per chunk: a checkpoint's input (T*e*h/t_sp) per unit (uniform:
// ceil(layers / N); block: min(N, layers)) and, under block, the rest's no-recompute activations;
// fwd.attention drops the last layer's part of it.
// Peak = max over these phase totals (a max of phase totals, not a timeline: transients
// inside a phase are assumed to coincide, which makes each phase an upper-end estimate).
// Pipeline parallelism (rules/pipeline.hpp): every stage is estimated with its own parameters
// (its layers; the embedding on the first, head on the last) and its own "n": the most layers'
// activations it holds at once under its schedule — for 1F1B min(p - s, m) micro batches of its
// layers, so the first stage holds L layers' worth (Korthikanti et al. 2022, §4.2.3); interleaved
// L (1 + (p-1)/(p v)) on the first stage — plus two p2p receive buffers. The loss phase is the
// last stage's. The peak over stages decides fit.
// Not included in the peak: CUDA graphs; the caching allocator's margin beyond it is apart (below).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenario/scenario.hpp"

namespace hcpsim {

struct MemoryComponent {
  std::string name;
  double bytes = 0;
  std::string note;
  friend bool operator==(const MemoryComponent&, const MemoryComponent&) = default;
};

struct MemoryPhase {
  std::string name;  // "fwd.attention", "fwd.loss", "bwd.mlp", "bwd.attention"
  std::vector<MemoryComponent> components;
  double total_bytes() const;
};

struct MemoryPhaseTotal {
  std::string name;
  double bytes = 0;
  friend bool operator==(const MemoryPhaseTotal&, const MemoryPhaseTotal&) = default;
};

struct MemoryEstimate {
  std::vector<MemoryComponent> breakdown;  // the peak phase's components; sums to peak_bytes
  std::vector<MemoryPhaseTotal> phases;    // every phase's total (of the peak stage with PP), for reports
  std::string peak_phase;                  // PP > 1: "stage <s> <phase>"
  int64_t peak_stage = 0;                  // the pipeline stage whose peak decides fit
  std::vector<double> stage_peak_bytes;    // PP > 1: every stage's peak, stage 0 first (empty with PP = 1)
  double peak_bytes = 0;
  double capacity_bytes = 0;  // cluster.gpu.memory_bytes
  double headroom_bytes = 0;  // capacity - peak; negative when it does not fit
  bool fits = false;
  // What PyTorch's caching allocator needs beyond the allocated peak (rules/allocator.hpp), on the
  // stage it leaves the least memory (the peak stage but with PP, where the last stage's logits may
  // ask more of a lower peak): the largest allocation there and what it is, the margin, and whether
  // a fit leaves less headroom than that (it may run out).
  double largest_allocation_bytes = 0;
  std::string largest_allocation;
  double allocator_margin_bytes = 0;
  int64_t allocator_margin_stage = 0;
  double allocator_stage_headroom_bytes = 0;  // that stage's headroom (headroom_bytes with PP = 1)
  bool expandable_segments = false;  // software.expandable_segments, which the margin follows
  bool within_allocator_margin = false;
  friend bool operator==(const MemoryEstimate&, const MemoryEstimate&) = default;
};

MemoryEstimate estimate_memory(const Scenario& s);

// What one transformer layer saves for its backward on a rank ("saved" above): what activation
// offloading (training.cpu_offloading_num_layers) copies to the host and back per offloaded layer.
double saved_activation_bytes_per_layer(const Scenario& s);

// When `s` does not fit: the lightest recompute setting heavier than its own
// under which it fits (selective, then full with every layer on its own, which is
// heavier than full by units or by block), and the lightest under which it also
// leaves the caching allocator's margin (the same where that one does; nullopt
// where none does). When `s` fits within the margin: only the latter. Both nullopt
// when it leaves the margin already or fits under none of them. The caller sets a
// full it returns as uniform 1.
struct LightestRecompute {
  std::optional<RecomputeGranularity> fits;
  std::optional<RecomputeGranularity> leaves_margin;
};
LightestRecompute lightest_fitting_recompute(const Scenario& s);

}  // namespace hcpsim
