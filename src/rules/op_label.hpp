// What an op of the workload is, in typed fields, and the one function that spells its label.
// The workload builder names every op with it, and hcpcal names the kernels it times with it,
// so that `hcpsim check` matches measured kernels to the builder's ops by label. Plain C++17:
// nvcc compiles it for hcpcal.
//
// Label: "[recompute.]<area>.<pass>.<what>", the pass left out of once-per-step ops:
//   layer.fwd.qkv_gemm  attn.fwd.step2.lower  attn.bwd.kv_dkv_send1  recompute.attn.fwd.kernel
//   embed.fwd.lookup  head.bwd.logits_wgrad  dp.grad_rs.bucket0  dp.param_ag.bucket1  optimizer.adam
// A recomputed op runs in the backward phase but computes a forward: its pass reads "fwd".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "rules/cp_schedule.hpp"

namespace hcpsim {

// When an op runs: per micro batch forward or backward, or once per step (gradient sync,
// optimizer).
enum class Phase : uint8_t { Forward, Backward, Optimizer };

inline const char* to_string(Phase p) {
  switch (p) {
    case Phase::Forward: return "fwd";
    case Phase::Backward: return "bwd";
    case Phase::Optimizer: return "opt";
  }
  return "?";
}

// What part of the step an op belongs to.
enum class OpArea : uint8_t {
  Layer,        // a transformer layer's norms, GEMMs, TP collectives, elementwise ops
  Attention,    // core attention with its CP transport
  Embedding,    // vocab-parallel embedding
  Head,         // final norm, LM head, loss
  GradReduce,   // data-parallel gradient reduce-scatter (all-reduce without the distributed optimizer)
  ParamGather,  // distributed optimizer's parameter all-gather
  Optimizer,    // the optimizer step
  Pipeline,     // stage-to-stage activation / gradient transfers (pipeline parallelism)
};

inline const char* to_string(OpArea a) {
  switch (a) {
    case OpArea::Layer: return "layer";
    case OpArea::Attention: return "attn";
    case OpArea::Embedding: return "embed";
    case OpArea::Head: return "head";
    case OpArea::GradReduce:
    case OpArea::ParamGather: return "dp";
    case OpArea::Optimizer: return "optimizer";
    case OpArea::Pipeline: return "pp";
  }
  return "?";
}

inline std::string op_label(OpArea area, Phase phase, std::string_view what, bool recompute) {
  std::string s = recompute ? "recompute." : "";
  s += to_string(area);
  if (phase != Phase::Optimizer) {
    s += '.';
    s += to_string(recompute ? Phase::Forward : phase);
  }
  s += '.';
  s += what;
  return s;
}

// The "what" of the attention kernels the CP transports launch, as hcpcal times them:
//   ring step i of section s   "step<i>.<s>"   (p2p, a2a+p2p)
//   all_gather's chunk k       "chunk<k>"      (the chunk's id in the 2·CP split)
//   one kernel over the whole  "kernel"        (a2a, CP = 1)
inline std::string ring_step_what(int64_t step, RingSection s) {
  return "step" + std::to_string(step) + "." + to_string(s);
}
inline std::string chunk_what(int64_t chunk_id) { return "chunk" + std::to_string(chunk_id); }
inline constexpr const char* kWholeKernelWhat = "kernel";

// The label of an attention kernel of the forward (backward = false) or backward pass.
inline std::string attention_kernel_label(bool backward, std::string_view what) {
  return op_label(OpArea::Attention, backward ? Phase::Backward : Phase::Forward, what, false);
}

}  // namespace hcpsim
