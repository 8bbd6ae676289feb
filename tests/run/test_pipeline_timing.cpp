// The pipeline schedule's timing against closed forms derived by hand (docs/pipeline.md).
#include <catch2/catch.hpp>

#include "run/pipeline_timing.hpp"
#include "run/step_composition.hpp"

using namespace hcpsim;

namespace {

// p equal stages of v chunks, each chunk tf / v forward and tb / v backward, transfers `send`.
PipelineTimingInput equal_stages(int64_t p, int64_t v, int64_t m, double tf, double tb, double send = 0) {
  PipelineTimingInput in;
  in.spec.stages = p;
  in.spec.virtual_stages = v;
  in.microbatches = m;
  in.forward_s.assign(size_t(p), std::vector<double>(size_t(v), tf / double(v)));
  in.backward_s.assign(size_t(p), std::vector<double>(size_t(v), tb / double(v)));
  in.send_forward_s.assign(size_t(p), send);
  in.send_backward_s.assign(size_t(p), send);
  return in;
}

}  // namespace

TEST_CASE("1F1B with equal stages and free transfers: (m + p - 1)(tf + tb), bubble (p - 1)/(m + p - 1)", "[run][pipeline]") {
  // Stage s starts its first forward at s*tf; after the warm-up every stage alternates one
  // forward and one backward, so the last backward of stage 0 ends after m (tf + tb) of its own
  // work plus the (p - 1)(tf + tb) it waited in warm-up and cool-down (Narayanan et al. 2021, §2.2).
  for (const auto& [p, m] : {std::pair<int64_t, int64_t>{4, 16}, {8, 8}, {2, 5}, {16, 64}, {4, 2}}) {
    const double tf = 1.0, tb = 2.0;
    const PipelineTiming t = time_pipeline(equal_stages(p, 1, m, tf, tb));
    INFO("p " << p << " m " << m);
    CHECK(t.makespan_s == Approx(double(m + p - 1) * (tf + tb)));
    CHECK(t.bubble_fraction == Approx(double(p - 1) / double(m + p - 1)));
    for (const StageTiming& s : t.stages) CHECK(s.busy_s == Approx(double(m) * (tf + tb)));
  }
}

TEST_CASE("interleaving with v virtual stages divides the bubble by v", "[run][pipeline]") {
  // Each chunk takes tf/v and tb/v; the bubble is (p - 1)(tf + tb)/v (Narayanan et al. 2021, §2.2.2),
  // the step m (tf + tb) + (p - 1)(tf + tb)/v, with m a multiple of p (Megatron's default groups).
  for (const auto& [p, v, m] : {std::tuple<int64_t, int64_t, int64_t>{4, 2, 8}, {4, 4, 16}, {8, 2, 16}, {3, 3, 6}}) {
    const double tf = 1.0, tb = 2.0;
    PipelineTimingInput in = equal_stages(p, v, m, tf, tb);
    const PipelineTiming t = time_pipeline(in);
    INFO("p " << p << " v " << v << " m " << m);
    const double bubble_s = double(p - 1) * (tf + tb) / double(v);
    CHECK(t.makespan_s == Approx(double(m) * (tf + tb) + bubble_s));
    CHECK(t.bubble_fraction == Approx(bubble_s / (double(m) * (tf + tb) + bubble_s)));
    // the same pipeline without interleaving has v times the bubble
    const PipelineTiming plain = time_pipeline(equal_stages(p, 1, m, tf, tb));
    CHECK(plain.makespan_s - double(m) * (tf + tb) == Approx(double(v) * bubble_s));
  }
}

TEST_CASE("one micro batch crosses every stage and every transfer twice", "[run][pipeline]") {
  // m = 1: F through p stages with p - 1 activation transfers, then B back with p - 1 gradient
  // transfers: p (tf + tb) + 2 (p - 1) send.
  for (const bool overlap : {false, true}) {
    PipelineTimingInput in = equal_stages(5, 1, 1, 1.0, 2.0, 0.25);
    in.spec.overlap_p2p_comm = overlap;
    CHECK(time_pipeline(in).makespan_s == Approx(5 * 3.0 + 2 * 4 * 0.25));
  }
}

TEST_CASE("blocking sends hold the sender, 1F1B always blocks (overlap_p2p_comm is interleaved-only)", "[run][pipeline]") {
  // p = 2, m = 2, tf = tb = 1, send s = 0.5 each way, blocking: stage 0 F0 [0,1] sends until 1.5,
  // F1 [1.5,2.5] sends until 3; stage 1 F0 [1.5,2.5] B0 [2.5,3.5] sends until 4, F1 (ready 3) [4,5],
  // B1 [5,6] sends until 6.5; stage 0 B0 (ready 4) [4,5], B1 (ready 6.5) [6.5,7.5]. Makespan 7.5.
  // (Were the sends overlapped, stage 1's F1 could start at 3.5 and the makespan be 7.0; Megatron
  // turns overlap_p2p_comm off without virtual stages, so the flag changes nothing here.)
  PipelineTimingInput in = equal_stages(2, 1, 2, 1.0, 1.0, 0.5);
  CHECK(time_pipeline(in).makespan_s == Approx(7.5));
  in.spec.overlap_p2p_comm = true;
  CHECK(time_pipeline(in).makespan_s == Approx(7.5));
}

TEST_CASE("interleaved, one micro batch: the chain through every virtual stage", "[run][pipeline]") {
  // p = 2, v = 2, chunks of 1 s each way, sends 0.5: F through virtual stages 0..3 (stages
  // 0,1,0,1), then B back: 8 ops and 6 transfers on one chain = 8 + 3 = 11, blocking or not.
  for (const bool overlap : {false, true}) {
    PipelineTimingInput in = equal_stages(2, 2, 1, 2.0, 2.0, 0.5);
    in.spec.overlap_p2p_comm = overlap;
    CHECK(time_pipeline(in).makespan_s == Approx(11.0));
  }
}

TEST_CASE("a pipelined step adds each stage's exposed DP sync and optimizer after its last backward", "[run][pipeline]") {
  // p = 2 equal stages of 2 layers (layer 1 s fwd, 2 s bwd), m = 2, no transfers: makespan
  // (m + p - 1)(tf + tb) = 3 x 6 = 18. Stage 1 ends its last backward at 18 - 4 = 14, stage 0 at
  // 18. Stage 1's sync of 10 s in one bucket starts at its last backward's end (ready at 14):
  // done 24, exposed 6 past the pipeline; stage 0's 1 s: done 19. Step = max(24 + 0.5, 19 + 0.5).
  StepInputs in;
  in.layers = 4;
  in.microbatches = 2;
  in.layer_forward_s = 1;
  in.layer_backward_s = 2;
  in.pipeline.stages = 2;
  for (const double sync : {1.0, 10.0}) {
    StageInputs st;
    st.chunk_layers = {2};
    st.dp_buckets = {DpBucket{.chunk = 0, .grad_ready = 1, .first_used = 0, .grad_reduce_s = sync, .param_gather_s = 0}};
    st.optimizer_s = 0.5;
    in.stages.push_back(st);
  }
  const StepTime t = compose_step(in);
  CHECK(t.pipeline_s == Approx(18));
  CHECK(t.grad_reduce_exposed_s == Approx(6));
  CHECK(t.step_s == Approx(24.5));
  CHECK(t.bubble_fraction == Approx(1.0 / 3.0));
}

TEST_CASE("the CPU synchronises with the GPU at 1F1B's transfers, not at overlapped interleaved ones", "[pipeline]") {
  // Megatron's batch_p2p_sync: only where the transfers are batched and block (1F1B, or interleaved
  // without overlap_p2p_comm); PP = 1 has no transfer.
  PipelineSpec plain;
  CHECK_FALSE(plain.host_syncs_per_transfer());
  plain.stages = 4;
  CHECK(plain.host_syncs_per_transfer());
  PipelineSpec interleaved = plain;
  interleaved.virtual_stages = 2;
  CHECK(interleaved.host_syncs_per_transfer());
  interleaved.overlap_p2p_comm = true;
  CHECK_FALSE(interleaved.host_syncs_per_transfer());

  // A CPU far faster than every pass (5 launches of 0.1 s against chunks of 1 s and 2 s) that
  // never waits for the GPU costs the one launch of the first kernel: every pass depends on stage
  // 0's first forward, which starts 0.1 s late, and the CPU is ahead of every later one.
  const auto with_cpu = [](PipelineTimingInput in) {
    const size_t p = in.forward_s.size(), chunks = in.forward_s[0].size();
    in.forward_launch_s.assign(p, std::vector<double>(chunks, 0.5));
    in.backward_launch_s.assign(p, std::vector<double>(chunks, 0.5));
    in.first_launch_s = 0.1;
    return in;
  };
  PipelineTimingInput overlapped = equal_stages(4, 2, 8, 2.0, 4.0, 0.25);
  overlapped.spec.overlap_p2p_comm = true;
  const double alone_s = time_pipeline(overlapped).makespan_s;
  const PipelineTiming ahead = time_pipeline(with_cpu(overlapped));
  CHECK(ahead.makespan_s == Approx(alone_s + 0.1));
  for (const StageTiming& st : ahead.stages) {
    CHECK(st.host_paced == 0);
    CHECK(st.host_launch_s == Approx(2 * 8 * 2 * 0.5));  // 2 chunks x 8 micro batches x 2 passes
  }
  // The same stages with 1F1B: the CPU waits at every transfer and every pass after one starts a
  // launch late, several on the critical path, though the CPU never sets a pass's end.
  const PipelineTimingInput blocking = equal_stages(4, 1, 8, 2.0, 4.0, 0.25);
  const double blocking_s = time_pipeline(blocking).makespan_s;
  const PipelineTiming synced = time_pipeline(with_cpu(blocking));
  CHECK(synced.makespan_s > blocking_s + 2 * 0.1);
  for (const StageTiming& st : synced.stages) CHECK(st.host_paced == 0);
}
