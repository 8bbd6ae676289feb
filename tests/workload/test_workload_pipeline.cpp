// The pipeline's programs: stage-to-stage transfers (peers, sizes, the interleaved ring), the
// embedding on the first stage and the head on the last, each stage's DP sync of its own
// parameters. Expected values from Megatron's rank order (tp-cp-dp-pp) and schedules.py's
// tensor_shape, worked out by hand.
#include <catch2/catch.hpp>

#include "scenario/model_params.hpp"
#include "workload/builder.hpp"
#include "workload/step_ops.hpp"
#include "workload_helpers.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

namespace {

Scenario piped(int64_t tp, int64_t cp, int64_t pp, int64_t vpp) {
  Shape sh;
  sh.tp = tp;
  sh.cp = cp;
  sh.kind = WorkloadKind::Step;
  Scenario s = make_scenario(sh);
  s.parallel.pipeline_model_parallel_size = pp;
  s.parallel.virtual_pipeline_model_parallel_size = vpp;
  s.training.global_batch_size = 2 * pp;  // DP 1
  s.cluster.gpus_per_node = tp * cp * pp;
  return s;
}

bool has(const RankProgram& p, OpArea area) {
  for (const Op& op : p.ops)
    if (op.area == area) return true;
  return false;
}

double grad_bytes(const RankProgram& p) {
  double b = 0;
  for (const Op& op : p.ops)
    if (op.area == OpArea::GradReduce) b += op.repeats * op.message_bytes;  // each op its equal buckets
  return b;
}

}  // namespace

TEST_CASE("1F1B transfers: each CP rank sends its SP-sharded chunk to the same place in the next stage", "[workload][pipeline]") {
  // TP2 x CP2 x PP4: rank = tp + 2 cp + 4 pp. Stage s's rank (tp, cp) sends to rank + 4.
  const Scenario s = piped(2, 2, 4, 1);
  const Workload w = build_workload(s);
  REQUIRE(w.pipeline.size() == 16);
  // tensor_shape = (seq / CP / TP with SP, micro batch, hidden) x 2 B = 4096 / 2 / 2 x 4096 x 2
  const double bytes = 4096.0 / 2 / 2 * 4096 * 2;
  for (int32_t r = 0; r < 16; ++r) {
    const int32_t stage = r / 4;
    const std::vector<Op>& ops = w.pipeline[size_t(r)].ops;
    REQUIRE(ops.size() == 2);
    const Op& fwd = ops[0];
    const Op& bwd = ops[1];
    CHECK(fwd.stream == Stream::NcclPp);
    CHECK(fwd.send_peer == (stage < 3 ? r + 4 : -1));
    CHECK(fwd.recv_peer == (stage > 0 ? r - 4 : -1));
    CHECK(fwd.message_bytes == (stage < 3 ? bytes : 0));
    CHECK(bwd.send_peer == (stage > 0 ? r - 4 : -1));
    CHECK(bwd.recv_peer == (stage < 3 ? r + 4 : -1));
    CHECK(bwd.message_bytes == (stage > 0 ? bytes : 0));
    // the communicator is the rank's pipeline group
    CHECK(w.groups[size_t(fwd.group)].name == "pp");
    CHECK(w.groups[size_t(fwd.group)].ranks == std::vector<int32_t>{r % 4, r % 4 + 4, r % 4 + 8, r % 4 + 12});
  }
}

TEST_CASE("interleaved transfers wrap from the last stage to the first", "[workload][pipeline]") {
  const Scenario s = piped(1, 1, 4, 2);
  const Workload w = build_workload(s);
  CHECK(w.pipeline[3].ops[0].send_peer == 0);  // chunk c of stage 3 feeds chunk c + 1 of stage 0
  CHECK(w.pipeline[0].ops[0].recv_peer == 3);
  CHECK(w.pipeline[0].ops[1].send_peer == 3);
  CHECK(w.pipeline_split.layers == std::vector<std::vector<int64_t>>{{4, 4}, {4, 4}, {4, 4}, {4, 4}});
}

TEST_CASE("embedding on the first stage, head on the last, each stage syncs its own parameters", "[workload][pipeline]") {
  const Scenario s = piped(1, 1, 4, 1);
  const Workload w = build_workload(s);
  CHECK(has(w.step[0], OpArea::Embedding));
  CHECK_FALSE(has(w.step[0], OpArea::Head));
  CHECK_FALSE(has(w.step[1], OpArea::Embedding));
  CHECK_FALSE(has(w.step[1], OpArea::Head));
  CHECK(has(w.step[3], OpArea::Head));
  CHECK_FALSE(has(w.step[3], OpArea::Embedding));
  // DP 1: no gradient sync at all; with DP 2 each stage reduces its own parameter count.
  CHECK(grad_bytes(w.step[1]) == 0);
  Scenario dp2 = s;
  dp2.parallel.data_parallel_size = 2;
  dp2.cluster.gpus_per_node = 8;
  dp2.training.global_batch_size = 16;
  const Workload w2 = build_workload(dp2);
  const PipelineSplit split = pipeline_split(dp2.parallel.pipeline(), 32);
  for (int32_t stage = 0; stage < 4; ++stage) {
    const int32_t rank = stage * 2;  // dp 0 of the stage
    const double params = double(count_params_per_stage(dp2.model, 1, split, stage).total());
    // reduce-scatter message = this rank's shard of the fp32 gradients (Megatron-LM's bf16
    // default, parallel.grad_reduce_in_fp32): params x 4 B / DP
    CHECK(grad_bytes(w2.step[size_t(rank)]) == Approx(params * 4 / 2));
  }
}

TEST_CASE("a stage's chunks hold its parameters in Megatron's order, bucketed on the first stage's first chunk only",
          "[model][workload]") {
  // Llama-3.1-8B on PP 2 x VP 2 (8 layers a chunk): every tensor of a stage in exactly one chunk's
  // list, so the chunks' parameters sum to count_params_per_stage's total.
  Scenario s = make_scenario(Shape{.kind = WorkloadKind::Step});
  s.parallel.pipeline_model_parallel_size = 2;
  s.parallel.virtual_pipeline_model_parallel_size = 2;
  const PipelineSplit split = pipeline_split(s.parallel.pipeline(), 32);
  for (int64_t stage = 0; stage < 2; ++stage) {
    const ParamCounts c = count_params_per_stage(s.model, 1, split, stage);
    const auto& chunks = split.layers[size_t(stage)];
    int64_t sum = 0;
    for (size_t k = 0; k < chunks.size(); ++k) {
      const auto params = chunk_params(c, true, chunks[k], stage == 0 && k == 0, stage == 1 && k + 1 == chunks.size());
      REQUIRE(params.size() == size_t(6 * chunks[k] + (stage == 0 && k == 0) + 2 * (stage == 1 && k + 1 == chunks.size())));
      for (const rules::DdpParam& p : params) {
        sum += p.numel;
        REQUIRE(p.grad_ready >= 0);
        REQUIRE(p.grad_ready <= 1);
        REQUIRE(p.first_used >= 0);
        REQUIRE(p.first_used <= 1);
      }
    }
    CHECK(sum == c.total());
  }
  // The first layer's QKV is used at the chunk's start and readied at its end; the last layer's
  // fc2 is readied first in the backward, after its own share of the layer's GEMM weights: Llama-3.1-8B
  // fc2 4096 x 14336 = 58,720,256 of QKV 4096 x 6144 + proj 4096 x 4096 + MLP 3 x 4096 x 14336 =
  // 218,103,808, in the last of 8 layers: 0.2692 / 8 = 0.03365 of the chunk's backward.
  const ParamCounts c0 = count_params_per_stage(s.model, 1, split, 0);
  const auto first = chunk_params(c0, true, 8, false, false);
  CHECK(first[2].numel == c0.layer.qkv);
  CHECK(first[2].first_used == 0);
  CHECK(first[2].grad_ready == 1);
  CHECK(first.back().numel == c0.layer.mlp / 3);  // fc2: a third of the gated MLP
  CHECK(first.back().grad_ready == Approx(58720256.0 / 218103808.0 / 8));
}
