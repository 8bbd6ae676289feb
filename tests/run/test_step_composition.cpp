// Step composition against schedules worked out by hand.
#include <catch2/catch.hpp>

#include "run/step_composition.hpp"

using namespace hcpsim;

TEST_CASE("step = micro batches x (fwd + bwd) when DP sync hides", "[simulator][step]") {
  StepInputs in;
  in.layers = 4;
  in.microbatches = 3;
  in.layer_forward_s = 1;
  in.layer_backward_s = 2;
  in.extra_forward_s = 0.5;
  in.extra_backward_s = 0.5;
  in.buckets = 4;
  in.grad_reduce_s = 1;   // 0.25 per bucket; bwd per micro batch = 4*2+0.5 = 8.5
  in.param_gather_s = 1;  // 0.25 per bucket; fwd per micro batch = 4*1+0.5 = 4.5
  in.optimizer_s = 0.1;
  const StepTime t = compose_step(in);
  CHECK(t.microbatch_forward_s == 4.5);
  CHECK(t.microbatch_backward_s == 8.5);
  // Buckets ready at 2.125, 4.25, 6.375, 8.5: each reduces in 0.25 before the next is ready,
  // the last finishes at 8.5 + 0.25 -> 0.25 exposed.
  CHECK(t.grad_reduce_exposed_s == Approx(0.25));
  // Gathers finish at 0.25, 0.5, 0.75, 1.0; needed at 0, 1.125, 2.25, 3.375 -> only bucket 0 waits, 0.25.
  CHECK(t.param_gather_exposed_s == Approx(0.25));
  CHECK(t.step_s == Approx(3 * (4.5 + 8.5) + 0.25 + 0.1 + 0.25));
}

TEST_CASE("a DP sync longer than the backward is exposed by the difference", "[simulator][step]") {
  StepInputs in;
  in.layers = 1;
  in.microbatches = 1;
  in.layer_forward_s = 1;
  in.layer_backward_s = 2;
  in.buckets = 2;
  in.grad_reduce_s = 10;  // 5 per bucket: bucket 0 ready at 1 -> done 6; bucket 1 ready at 2 -> done 11
  const StepTime t = compose_step(in);
  CHECK(t.grad_reduce_exposed_s == Approx(11 - 2));
  CHECK(t.param_gather_exposed_s == 0);
  CHECK(t.step_s == Approx(3 + 9));
}
