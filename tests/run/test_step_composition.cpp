// Step composition against schedules worked out by hand.
#include <catch2/catch.hpp>

#include "run/step_composition.hpp"

using namespace hcpsim;

namespace {

// PP = 1: one stage holding every layer, the embedding and the head.
StepInputs one_stage(int64_t layers, int64_t microbatches, double layer_f, double layer_b) {
  StepInputs in;
  in.layers = layers;
  in.microbatches = microbatches;
  in.layer_forward_s = layer_f;
  in.layer_backward_s = layer_b;
  in.stages.push_back(StageInputs{});
  in.stages[0].chunk_layers = {layers};
  return in;
}

}  // namespace

TEST_CASE("step = micro batches x (fwd + bwd) when DP sync hides", "[simulator][step]") {
  StepInputs in = one_stage(4, 3, 1, 2);
  StageInputs& st = in.stages[0];
  st.extra_forward_s = 0.5;
  st.extra_backward_s = 0.5;
  st.buckets = 4;
  st.grad_reduce_s = 1;   // 0.25 per bucket; bwd per micro batch = 4*2+0.5 = 8.5
  st.param_gather_s = 1;  // 0.25 per bucket; fwd per micro batch = 4*1+0.5 = 4.5
  st.optimizer_s = 0.1;
  const StepTime t = compose_step(in);
  CHECK(t.microbatch_forward_s == 4.5);
  CHECK(t.microbatch_backward_s == 8.5);
  // Buckets ready at 2.125, 4.25, 6.375, 8.5: each reduces in 0.25 before the next is ready,
  // the last finishes at 8.5 + 0.25 -> 0.25 exposed.
  CHECK(t.grad_reduce_exposed_s == Approx(0.25));
  // Gathers finish at 0.25, 0.5, 0.75, 1.0; needed at 0, 1.125, 2.25, 3.375 -> only bucket 0 waits, 0.25.
  CHECK(t.param_gather_exposed_s == Approx(0.25));
  CHECK(t.step_s == Approx(3 * (4.5 + 8.5) + 0.25 + 0.1 + 0.25));
  CHECK(t.pipeline_s == Approx(3 * (4.5 + 8.5)));
  CHECK(t.bubble_fraction == 0);
}

TEST_CASE("a DP sync longer than the backward is exposed by the difference", "[simulator][step]") {
  StepInputs in = one_stage(1, 1, 1, 2);
  in.stages[0].buckets = 2;
  in.stages[0].grad_reduce_s = 10;  // 5 per bucket: bucket 0 ready at 1 -> done 6; bucket 1 ready at 2 -> done 11
  const StepTime t = compose_step(in);
  CHECK(t.grad_reduce_exposed_s == Approx(11 - 2));
  CHECK(t.param_gather_exposed_s == 0);
  CHECK(t.step_s == Approx(3 + 9));
}
