#include "run/step_composition.hpp"

#include <algorithm>
#include <cassert>

namespace hcpsim {

StepTime compose_step(const StepInputs& in) {
  assert(in.buckets >= 1 && in.microbatches >= 1);
  StepTime t;
  t.microbatch_forward_s = in.layers * in.layer_forward_s + in.extra_forward_s;
  t.microbatch_backward_s = in.layers * in.layer_backward_s + in.extra_backward_s;
  const double B = static_cast<double>(in.buckets);

  // Reduce-scatter chain during the last backward.
  const double rs_each = in.grad_reduce_s / B;
  double rs_done = 0;
  for (int64_t b = 0; b < in.buckets; ++b)
    rs_done = std::max(rs_done, (b + 1) / B * t.microbatch_backward_s) + rs_each;
  t.grad_reduce_exposed_s = std::max(0.0, rs_done - t.microbatch_backward_s);

  // All-gather chain feeding the first forward: the stall is the worst lateness.
  const double ag_each = in.param_gather_s / B;
  for (int64_t b = 0; b < in.buckets; ++b)
    t.param_gather_exposed_s = std::max(t.param_gather_exposed_s, (b + 1) * ag_each - b / B * t.microbatch_forward_s);

  t.step_s = in.microbatches * (t.microbatch_forward_s + t.microbatch_backward_s) + t.grad_reduce_exposed_s +
             in.optimizer_s + t.param_gather_exposed_s;
  return t;
}

}  // namespace hcpsim
