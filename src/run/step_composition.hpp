// Composing a training step from what was simulated (one layer forward and
// backward on every rank, and the step-level ops once) — Megatron's schedule
// with PP = 1, overlap_grad_reduce and overlap_param_gather on:
//
//   per micro batch  fwd = L x layer_fwd + extra_fwd (embedding, LM head, loss)
//                    bwd = L x layer_bwd + extra_bwd
//   step = M x (fwd + bwd) + exposed grad reduce-scatter + optimizer + exposed param all-gather
//
// Gradient buckets become ready evenly through the last micro batch's backward
// (bucket b at (b+1)/B of it) and reduce one after another on the DP stream;
// what runs past the end of that backward is exposed. Parameter buckets are
// gathered one after another at the start of the next step; bucket b is needed
// b/B of the way into the first forward; waiting for it is exposed.
#pragma once

#include <cstdint>

namespace hcpsim {

struct StepInputs {
  int64_t layers = 0;
  int64_t microbatches = 0;
  double layer_forward_s = 0, layer_backward_s = 0;  // one layer, slowest rank
  double extra_forward_s = 0, extra_backward_s = 0;  // embedding + head + loss, per micro batch
  double grad_reduce_s = 0;   // all buckets' reduce-scatter (or all-reduce), back to back
  double param_gather_s = 0;  // all buckets' all-gather (0 without the distributed optimizer)
  double optimizer_s = 0;
  int64_t buckets = 1;
  friend bool operator==(const StepInputs&, const StepInputs&) = default;
};

struct StepTime {
  double step_s = 0;
  double microbatch_forward_s = 0, microbatch_backward_s = 0;
  double grad_reduce_exposed_s = 0, param_gather_exposed_s = 0;
  friend bool operator==(const StepTime&, const StepTime&) = default;
};

StepTime compose_step(const StepInputs& in);

}  // namespace hcpsim
