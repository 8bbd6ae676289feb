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
  // 4 buckets of 0.25 s each way, ready at a quarter of the backward each (bwd per micro batch =
  // 4*2+0.5 = 8.5), first used at each quarter of the forward (4*1+0.5 = 4.5).
  for (int b = 0; b < 4; ++b) st.dp_buckets.push_back({0, (b + 1) / 4.0, (3 - b) / 4.0, 0.25, 0.25});
  CHECK(st.grad_reduce_s() == 1);
  CHECK(st.param_gather_s() == 1);
  st.optimizer_s = 0.1;
  const StepTime t = compose_step(in);
  CHECK(t.microbatch_forward_s == 4.5);
  CHECK(t.microbatch_backward_s == 8.5);
  // Buckets ready at 2.125, 4.25, 6.375, 8.5: each reduces in 0.25 before the next is ready,
  // the last finishes at 8.5 + 0.25 -> 0.25 exposed.
  CHECK(t.grad_reduce_exposed_s == Approx(0.25));
  // Gathered lazily (PP = 1), in the order the forward uses them (needed at 0, 1.125, 2.25,
  // 3.375): the first from the forward's start, done at 0.25 (the forward waits 0.25); each next
  // one when the one before is needed and done (0.25-0.5, 1.375-1.625, 2.5-2.75): no more waiting.
  CHECK(t.param_gather_exposed_s == Approx(0.25));
  CHECK(t.pipeline_s == Approx(3 * (4.5 + 8.5) + 0.25));
  CHECK(t.step_s == Approx(3 * (4.5 + 8.5) + 0.25 + 0.1 + 0.25));
  CHECK(t.bubble_fraction == 0);
}

TEST_CASE("a DP sync longer than the backward is exposed by the difference", "[simulator][step]") {
  StepInputs in = one_stage(1, 1, 1, 2);
  // 5 s a bucket, ready at half and all of the 2 s backward: bucket 0 ready at 1 -> done 6; bucket 1
  // ready at 2 -> done 11.
  in.stages[0].dp_buckets = {{0, 0.5, 0, 5, 0}, {0, 1, 0, 5, 0}};
  const StepTime t = compose_step(in);
  CHECK(t.grad_reduce_exposed_s == Approx(11 - 2));
  CHECK(t.param_gather_exposed_s == 0);
  CHECK(t.step_s == Approx(3 + 9));
}

TEST_CASE("the CPU launches each pass, running ahead of the GPU where it can", "[simulator][step]") {
  // 4 layers, 3 micro batches, fwd 1 + bwd 2 a layer: passes of 4 s and 8 s on the GPU, whose
  // schedule alone is 3 x 12 = 36 s. A micro batch launches 40 ops forward, 60 backward.
  StepInputs in = one_stage(4, 3, 1, 2);
  in.stages[0].optimizer_s = 0.5;
  in.stages[0].forward_launches = {40};
  in.stages[0].backward_launches = {60};
  CHECK(in.stages[0].host_launches() == 100);
  // 0.1 s a launch: the CPU needs 4 s and 6 s a pass. The first forward's first kernel waits for
  // one launch (0.1 s); from then on the CPU is ahead (it has launched F1 by 4, B1 by 10, F2 by 14,
  // ..., B3 by 30, each before the GPU gets there): the GPUs' 36 s, 0.1 s later.
  in.host_per_launch_s = 0.1;
  const StepTime fast = compose_step(in);
  CHECK(fast.host_launch_s == Approx(30));
  CHECK(fast.host_launches == 100);
  CHECK_FALSE(fast.host_bound);  // the one launch the first kernel waits for is latency, not the CPU's rate
  CHECK(fast.host_wait_s == Approx(0.1));
  CHECK(fast.pipeline_s == Approx(36.1));
  CHECK(fast.step_s == Approx(36.1 + 0.5));
  // 0.15 s a launch: 6 s and 9 s a pass, longer than the GPU's 4 s and 8 s. With no pipeline
  // transfer there is no host sync, so the CPU never waits: it launches continuously and every
  // pass ends at its last launch, B3 at 3 x 15 = 45 s, 9 s after the GPUs alone.
  in.host_per_launch_s = 0.15;
  const StepTime slow = compose_step(in);
  CHECK(slow.host_bound);
  CHECK(slow.host_launch_s == Approx(45));
  CHECK(slow.host_wait_s == Approx(9));
  CHECK(slow.pipeline_s == Approx(45));
  CHECK(slow.step_s == Approx(45 + 0.5));
  // The last backward's window is as long as the CPU made it: it starts at 36.15 (the CPU began
  // it at 36, its first kernel one launch later) and ends at 45, 8.85 s. 2 buckets of 5 s: bucket 0
  // ready at 4.425 -> done 9.425, bucket 1 ready at 8.85 -> done 14.425: 5.575 s past its end.
  in.stages[0].dp_buckets = {{0, 0.5, 0, 5, 0}, {0, 1, 0, 5, 0}};
  const StepTime synced = compose_step(in);
  CHECK(synced.grad_reduce_exposed_s == Approx(5.575));
  CHECK(synced.step_s == Approx(45 + 5.575 + 0.5));
}

TEST_CASE("with 1F1B stages the CPU waits for the GPU after every transfer", "[simulator][step]") {
  // 2 stages of 2 layers (fwd 1 + bwd 2 a layer: 2 s and 4 s a pass), 2 micro batches, 1F1B, no
  // transfer time. Stage 0 runs F1 F2 B1 B2, stage 1 F1 B1 F2 B2; the GPUs alone: stage 0 F1 0-2,
  // F2 2-4; stage 1 F1 2-4, B1 4-8, F2 8-10, B2 10-14; stage 0 B1 8-12, B2 14-18: 18 s.
  StepInputs in = one_stage(4, 2, 1, 2);
  in.pipeline.stages = 2;
  in.stages = {StageInputs{}, StageInputs{}};
  for (StageInputs& st : in.stages) st.chunk_layers = {2}, st.forward_launches = {2}, st.backward_launches = {2};
  REQUIRE(in.pipeline.host_syncs_per_transfer());
  in.host_per_launch_s = 0.5;  // 1 s of launches a pass, less than any pass's GPU time
  // After a transfer into a pass, or out of the one before, the CPU starts on the pass only when
  // the GPU is there, and its first kernel runs one launch (0.5 s) later:
  //   stage 0 F1 0.5-2.5 (no transfer before it: the CPU starts at 0), F2 3.0-5.0 (F1 sent);
  //   stage 1 F1 3.0-5.0 (received at 2.5), B1 5.0-9.0 (no transfer: the CPU, done at 3.5, is ahead),
  //   F2 9.5-11.5 (received), B2 11.5-15.5 (ahead again);
  //   stage 0 B1 9.5-13.5 (received at 9), B2 16.0-20.0 (received at 15.5): 20 s.
  const StepTime gaps = compose_step(in);
  CHECK(gaps.pipeline_s == Approx(20));
  CHECK(gaps.host_wait_s == Approx(2));
  CHECK_FALSE(gaps.host_bound);  // every pass waited one launch, none the CPU's rate
  CHECK(gaps.host_launch_s == Approx(4));
  // Stage 1 launching 14 ops a backward: 7 s of CPU against its 4 s on the GPU.
  //   stage 1 B1: the CPU started at 3.5 (ahead), done at 10.5: B1 ends 10.5 (not 9);
  //   stage 1 F2: received at 5, after B1 at 10.5: 11.0-13.0, its launches done at 11.5;
  //   stage 0 B1: received at 10.5: 11.0-15.0;
  //   stage 1 B2: the CPU starts at 11.5 (no transfer before), done at 18.5: 13.0-18.5;
  //   stage 0 B2: received at 18.5: 19.0-23.0: 23 s, 5 s after the GPUs alone.
  in.stages[1].backward_launches = {14};
  const StepTime t = compose_step(in);
  CHECK(t.host_bound);
  CHECK(t.pipeline_s == Approx(23));
  CHECK(t.host_wait_s == Approx(5));
  CHECK(t.host_launches == 16);
  CHECK(t.host_launch_s == Approx(2 * (1 + 7)));
  CHECK(t.step_s == Approx(23));
}

TEST_CASE("1F1B gathers each stage's parameters lazily: the fill waits for them stage after stage", "[simulator][step]") {
  // 2 stages of 2 layers (fwd 1 + bwd 2 a layer: 2 s and 4 s a pass), 2 micro batches, 1F1B, no
  // transfer time: without gathers 18 s (stage 0 F1 0-2, F2 2-4; stage 1 F1 2-4, B1 4-8, F2 8-10,
  // B2 10-14; stage 0 B1 8-12, B2 14-18). Each stage one bucket of 1 s, needed at its first
  // forward, where Megatron's pre-hook starts it: stage 0 waits 0-1, F1 1-3 (its pass 0-3), F2 3-5;
  // stage 1 receives at 3, waits 3-4, F1 4-6, B1 6-10, F2 10-12, B2 12-16; stage 0 B1 10-14, B2
  // 16-20: 20 s, both gathers (2 s) exposed, more than either stage's own.
  StepInputs in = one_stage(4, 2, 1, 2);
  in.pipeline.stages = 2;
  in.stages = {StageInputs{}, StageInputs{}};
  for (StageInputs& st : in.stages) st.chunk_layers = {2}, st.dp_buckets = {{0, 1, 0, 0, 1}};
  const StepTime t = compose_step(in);
  CHECK(t.param_gather_exposed_s == Approx(2));
  CHECK(t.pipeline_s == Approx(20));
  CHECK(t.step_s == Approx(20));
  CHECK(t.bubble_fraction == Approx(1 - 12.0 / 18));  // the schedule's own, without the waits
}

TEST_CASE("the interleaved schedule reduces a chunk's buckets together, after its last backward", "[simulator][step]") {
  // Megatron's align_grad_reduce: the first stage's first chunk starts its reduce when its last
  // backward (the stage's and the schedule's last pass) has ended, all buckets then: two buckets of
  // 1 s each are 2 s past the schedule. Without virtual stages the first stage reduces each bucket
  // as it becomes ready in that backward: the first (ready half-way through the 2 s pass, done at
  // its end) hides, 1 s is exposed.
  StepInputs in = one_stage(4, 2, 1, 2);
  in.pipeline.stages = 2;
  in.pipeline.virtual_stages = 2;
  in.stages = {StageInputs{}, StageInputs{}};
  for (StageInputs& st : in.stages) st.chunk_layers = {1, 1};
  in.stages[0].dp_buckets = {{0, 0.5, 0, 1, 0}, {0, 1, 0, 1, 0}};
  PipelineTiming timing;
  const StepTime interleaved = compose_step(in, timing);
  const PipelineEvent& last = timing.events.at(timing.events.size() / 2 - 1);  // stage 0's last pass
  REQUIRE(last.stage == 0);
  REQUIRE(last.slot.chunk == 0);
  REQUIRE_FALSE(last.slot.forward);
  REQUIRE(last.end_s == Approx(interleaved.pipeline_s));
  CHECK(interleaved.grad_reduce_exposed_s == Approx(2));

  StepInputs plain = one_stage(2, 2, 1, 2);
  plain.stages[0].dp_buckets = in.stages[0].dp_buckets;
  CHECK(compose_step(plain).grad_reduce_exposed_s == Approx(1));
}

TEST_CASE("with virtual stages every stage gathers from the schedule's start, a chunk's buckets in their order",
          "[simulator][step]") {
  // PP 2 x VP 2, 2 micro batches, one layer a chunk (fwd 1 s, bwd 2 s a pass), no transfers.
  // Megatron's interleaved order: stage 0 F(g0,m0) F(g0,m1) F(g2,m0) F(g2,m1) B(g2,m0) B(g2,m1)
  // B(g0,m0) B(g0,m1); stage 1 F(g1,m0) F(g1,m1) F(g3,m0) B(g3,m0) F(g3,m1) B(g3,m1) B(g1,m0)
  // B(g1,m1) (g = chunk x 2 + stage). Without gathers: stage 0 F 0-1, 1-2; stage 1 F 1-2, 2-3;
  // stage 0 F(g2) 2-3, 3-4; stage 1 F(g3,m0) 3-4, B 4-6, F(g3,m1) 6-7, B 7-9; stage 0 B(g2) 6-8,
  // 9-11; stage 1 B(g1) 9-11, 11-13; stage 0 B(g0) 11-13, 13-15: 15 s.
  StepInputs in = one_stage(4, 2, 1, 2);
  in.pipeline.stages = 2;
  in.pipeline.virtual_stages = 2;
  in.stages = {StageInputs{}, StageInputs{}};
  for (StageInputs& st : in.stages) st.chunk_layers = {1, 1};
  REQUIRE(compose_step(in).pipeline_s == Approx(15));
  // Chunk 0 of each stage one bucket of 3 s, dispatched at 0 on both (align_param_gather): stage 0
  // starts at 3 and everything after it 3 s later; stage 1's gather is done (3) before its input
  // arrives (4), so it adds nothing: 18 s (waiting for it again from its first forward would be 20).
  for (StageInputs& st : in.stages) st.dp_buckets = {{0, 1, 0, 0, 3}};
  StepTime t = compose_step(in);
  CHECK(t.pipeline_s == Approx(18));
  CHECK(t.param_gather_exposed_s == Approx(3));
  // DDP's start_param_sync issues a chunk's buckets in their order, the one used last first: a
  // bucket of 2 s used half-way through the 1 s forward, then one of 1 s used at its start. Done at
  // 2 and 3: the forward starts at max(2 - 0.5, 3 - 0) = 3 (in the forward's order, 1 then 3: 2.5).
  in.stages[1].dp_buckets.clear();
  in.stages[0].dp_buckets = {{0, 1, 0.5, 0, 2}, {0, 1, 0, 0, 1}};
  t = compose_step(in);
  CHECK(t.param_gather_exposed_s == Approx(3));
  CHECK(t.pipeline_s == Approx(18));
}

TEST_CASE("without Megatron's overlap switches the DP reduce follows the backward, the gather the optimizer",
          "[simulator][step]") {
  // The first case's stage (3 micro batches of 4.5 s forward and 8.5 s backward: 39 s; four buckets
  // of 0.25 s each way; optimizer 0.1 s). overlap_grad_reduce off: all four reduce after the last
  // backward, 1 s exposed; overlap_param_gather off: the four gather after the optimizer, 1 s
  // exposed and no wait in the schedule: 39 + 1 + 0.1 + 1.
  StepInputs in = one_stage(4, 3, 1, 2);
  StageInputs& st = in.stages[0];
  st.extra_forward_s = 0.5;
  st.extra_backward_s = 0.5;
  for (int b = 0; b < 4; ++b) st.dp_buckets.push_back({0, (b + 1) / 4.0, (3 - b) / 4.0, 0.25, 0.25});
  st.optimizer_s = 0.1;
  in.overlap_grad_reduce = false;
  in.overlap_param_gather = false;
  const StepTime t = compose_step(in);
  CHECK(t.pipeline_s == Approx(39));
  CHECK(t.grad_reduce_exposed_s == Approx(1));
  CHECK(t.param_gather_exposed_s == Approx(1));
  CHECK(t.step_s == Approx(41.1));
  in.overlap_grad_reduce = true;  // the first case's 0.25 s of reduce; the gather still after
  CHECK(compose_step(in).step_s == Approx(39 + 0.25 + 0.1 + 1));
}
