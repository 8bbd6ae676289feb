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

TEST_CASE("the CPU's launches bound a stage's end, and a fast CPU changes nothing", "[simulator][step]") {
  // 4 layers, 3 micro batches, fwd 1 + bwd 2 a layer: the GPUs' schedule is 3 x 12 = 36 s.
  StepInputs in = one_stage(4, 3, 1, 2);
  in.stages[0].optimizer_s = 0.5;
  in.stages[0].host_launches = 100;
  in.host_per_launch_s = 0.1;  // 10 s a micro batch: 30 s for the step, within 36
  const StepTime fast = compose_step(in);
  CHECK(fast.host_launch_s == Approx(30));
  CHECK(fast.host_launches == 100);
  CHECK_FALSE(fast.host_bound);
  CHECK(fast.host_wait_s == 0);
  CHECK(fast.step_s == Approx(36 + 0.5));
  // 0.15 s a launch: 15 s a micro batch, 45 s for the step: the stage ends at 45, 9 s after the GPUs' schedule.
  in.host_per_launch_s = 0.15;
  const StepTime slow = compose_step(in);
  CHECK(slow.host_bound);
  CHECK(slow.host_launch_s == Approx(45));
  CHECK(slow.host_wait_s == Approx(9));
  CHECK(slow.pipeline_s == Approx(36));  // the GPUs' schedule is what it was
  CHECK(slow.step_s == Approx(45 + 0.5));
  // The CPU paces every pass alike, 45 / 36 = 1.25x: the last backward (8 s on the GPU) takes 10 s.
  // 2 buckets of 5 s: bucket 0 ready at 5 -> done 10, bucket 1 ready at 10 -> done 15: 5 s past
  // its end (at the GPU's pace it would be 9 -> 4 + 5 + 5 = 14, 6 s past).
  in.stages[0].buckets = 2;
  in.stages[0].grad_reduce_s = 10;
  const StepTime synced = compose_step(in);
  CHECK(synced.grad_reduce_exposed_s == Approx(5));
  CHECK(synced.step_s == Approx(45 + 5 + 0.5));
}

TEST_CASE("with pipeline stages the step waits only for launches past the whole schedule", "[simulator][step]") {
  // 2 stages of 2 layers (fwd 1 + bwd 2 a layer: 2 + 4 = 6 s a micro batch a stage), 4 micro
  // batches, 1F1B: the schedule is (M + P - 1) x 6 = 5 x 6 = 30 s.
  StepInputs in = one_stage(4, 4, 1, 2);
  in.pipeline.stages = 2;
  in.stages = {StageInputs{}, StageInputs{}};
  for (StageInputs& st : in.stages) st.chunk_layers = {2};
  in.host_per_launch_s = 1;
  in.stages[0].host_launches = 5;  // 4 x 5 = 20 s, within the schedule
  in.stages[1].host_launches = 7;  // 4 x 7 = 28 s: after stage 1's own last backward, before 30
  const StepTime within = compose_step(in);
  CHECK(within.pipeline_s == Approx(30));
  CHECK(within.host_launch_s == Approx(28));
  CHECK(within.host_launches == 7);
  CHECK_FALSE(within.host_bound);
  CHECK(within.host_wait_s == 0);
  CHECK(within.step_s == Approx(30));
  // Stage 1 launching 20 a micro batch: 80 s of launches, 50 s past the schedule.
  in.stages[1].host_launches = 20;
  const StepTime t = compose_step(in);
  CHECK(t.host_bound);
  CHECK(t.host_launches == 20);
  CHECK(t.host_launch_s == Approx(80));
  CHECK(t.host_wait_s == Approx(50));
  CHECK(t.step_s == Approx(80));
}
