// Pipeline stages in the memory model: in-flight activations by schedule against Korthikanti et
// al. 2022 (§4.2.3, "Reducing Activation Recomputation in Large Transformer Models"): with 1F1B the
// first stage holds p micro batches of its L/p layers = L layers' activations whatever p is;
// interleaving with v model chunks multiplies that by (1 + (p - 1)/(p v)). Parameters per stage
// from the layer split.
#include <catch2/catch.hpp>

#include "memory/estimate.hpp"
#include "memory/model_states.hpp"
#include "rules/pipeline.hpp"
#include "scenario/model_params.hpp"
#include "memory_component.hpp"

using namespace hcpsim;

namespace {

Scenario llama8b_pipelined(int64_t pp, int64_t vpp, int64_t microbatches) {
  Scenario s;
  ModelSpec& m = s.model;
  m.num_layers = 32;
  m.hidden_size = 4096;
  m.ffn_hidden_size = 14336;
  m.num_attention_heads = 32;
  m.num_query_groups = 8;
  m.kv_channels = 128;
  m.vocab_size = 128256;
  s.training.seq_length = 8192;
  s.training.micro_batch_size = 1;
  s.training.global_batch_size = microbatches;
  s.parallel.tensor_model_parallel_size = 1;
  s.parallel.data_parallel_size = 1;
  s.parallel.pipeline_model_parallel_size = pp;
  s.parallel.virtual_pipeline_model_parallel_size = vpp;
  s.cluster.gpu.memory_bytes = 1e12;
  return s;
}


}  // namespace

TEST_CASE("1F1B: stage s holds min(p - s, m) micro batches of its layers", "[memory][pipeline]") {
  for (const int64_t p : {2, 4, 8, 16}) {
    PipelineSpec ps;
    ps.stages = p;
    const PipelineSplit split = pipeline_split(ps, 32 * p);  // 32 layers per stage
    for (int64_t s = 0; s < p; ++s) {
      CHECK(pipeline_peak_layers_in_flight(ps, split, s, 64) == (p - s) * 32);
      CHECK(pipeline_peak_layers_in_flight(ps, split, s, 2) == std::min<int64_t>(p - s, 2) * 32);
    }
  }
}

TEST_CASE("interleaved: the first stage holds L (1 + (p - 1)/(p v)) layers", "[memory][pipeline]") {
  // L = p v k layers of k per chunk; Korthikanti's factor times L = k (p v + p - 1).
  for (const auto& [p, v] : {std::pair<int64_t, int64_t>{4, 2}, {8, 4}, {16, 2}, {3, 5}}) {
    PipelineSpec ps;
    ps.stages = p;
    ps.virtual_stages = v;
    const int64_t k = 2, L = p * v * k;
    const PipelineSplit split = pipeline_split(ps, L);
    REQUIRE(split.problem.empty());
    const double expected = double(L) * (1.0 + double(p - 1) / double(p * v));
    CHECK(double(pipeline_peak_layers_in_flight(ps, split, 0, 4 * p)) == Approx(expected));
  }
}

TEST_CASE("the memory estimate's first stage saves Korthikanti's multiple of one stage-less layer", "[memory][pipeline]") {
  // PP = 1 saves 32 layers in the backward; PP 4 x v 2 saves 32 (1 + 3/8) = 44 on stage 0.
  const MemoryEstimate flat = estimate_memory(llama8b_pipelined(1, 1, 8));
  const MemoryEstimate piped = estimate_memory(llama8b_pipelined(4, 2, 8));
  REQUIRE(piped.peak_stage == 0);
  REQUIRE(piped.stage_peak_bytes.size() == 4);
  CHECK(test::component(piped, "activations (saved)") == Approx(test::component(flat, "activations (saved)") * 44.0 / 32.0));
  // later stages hold less
  for (size_t s = 1; s < 4; ++s) CHECK(piped.stage_peak_bytes[s] < piped.stage_peak_bytes[0]);
}

TEST_CASE("stage parameters: the layers split, the embedding first, the head last", "[memory][pipeline]") {
  const Scenario s = llama8b_pipelined(4, 1, 8);
  const PipelineSplit split = pipeline_split(s.parallel.pipeline(), 32);
  const ParamCounts whole = count_params_per_tp_rank(s.model, 1);
  int64_t sum = 0;
  for (int64_t st = 0; st < 4; ++st) sum += count_params_per_stage(s.model, 1, split, st).total();
  CHECK(sum == whole.total());  // untied: every parameter on exactly one stage
  const ParamCounts first = count_params_per_stage(s.model, 1, split, 0), middle = count_params_per_stage(s.model, 1, split, 1);
  CHECK(first.total() - middle.total() == whole.embedding);
  CHECK(model_state_bytes(s, 1).weights_bytes == Approx(2.0 * double(8 * whole.layer.total())));
}

TEST_CASE("the embedding and loss accounted in the split take a layer's slot", "[memory][pipeline]") {
  PipelineSpec ps;
  ps.stages = 4;
  ps.account_for_embedding = true;
  ps.account_for_loss = true;
  const PipelineSplit split = pipeline_split(ps, 30);  // 32 slots, 8 per stage
  REQUIRE(split.problem.empty());
  CHECK(split.layers == std::vector<std::vector<int64_t>>{{7}, {8}, {8}, {7}});
  PipelineSpec uneven;
  uneven.stages = 4;
  uneven.first_stage_layers = 6;
  uneven.last_stage_layers = 6;
  CHECK(pipeline_split(uneven, 32).layers == std::vector<std::vector<int64_t>>{{6}, {10}, {10}, {6}});
  // The largest model chunk, which recompute by block counts against: 8 of the even split's
  // middle stages, 10 of the uneven one's.
  CHECK(split.largest_chunk_layers() == 8);
  CHECK(pipeline_split(uneven, 32).largest_chunk_layers() == 10);
}

TEST_CASE("the MLP's backward peaks at FC1's data gradient under TP, at the activation's backward without", "[memory]") {
  // Llama-3.1-70B's dims at TP8 with SP, PP2, T = 8192 tokens, e = 2 B. Stage 0 holds no loss, so
  // its peak is a backward phase; per token and byte (h = 8192, h/t = 1024, ffn/t = 3584, gated):
  //   activation's backward: dY h/t + d(act out) ffn/t + d(FC1 out) 2 ffn/t + the gathered input h
  //                          = 1024 + 10752 + 8192 = 19968
  //   FC1's backward:        dY h/t + d(FC1 out) 2 ffn/t + gathered input h + data gradient h
  //                          + its reduce-scatter's output h/t = 1024 + 7168 + 8192 + 8192 + 1024 = 25600
  //   attention's backward:  dY h/t + dO (64/8 heads x 128) + its dQ, dK, dV (1024 + 2 x 128; the
  //                          "cp buffers (bwd)" at CP1, no workspace) = 2048 + 1280 = 3328
  Scenario s = llama8b_pipelined(2, 1, 8);
  s.model.num_layers = 80;
  s.model.hidden_size = 8192;
  s.model.ffn_hidden_size = 28672;
  s.model.num_attention_heads = 64;
  s.parallel.tensor_model_parallel_size = 8;
  s.parallel.sequence_parallel = true;
  const double T_e = 8192.0 * 2.0;
  const MemoryEstimate m = estimate_memory(s);
  REQUIRE(m.peak_phase == "stage 0 bwd.mlp");
  CHECK(test::component(m, "backward grads") == Approx(25600 * T_e));
  const auto total = [&](const std::string& name) {
    for (const MemoryPhaseTotal& p : m.phases)
      if (p.name == name) return p.bytes;
    FAIL("no phase " << name);
    return 0.0;
  };
  CHECK(total("stage 0 bwd.mlp") - total("stage 0 bwd.attention") == Approx((25600 - 3328) * T_e));
  // The first stage receives gradients only: one micro batch's [T, h/t] (Megatron's p2p buffers).
  CHECK(test::component(m, "pipeline transfer buffers") == Approx(1024 * T_e));
  // With virtual stages the first stage also receives activations, for its later chunks: both.
  const MemoryEstimate interleaved = estimate_memory(llama8b_pipelined(4, 2, 8));
  REQUIRE(interleaved.peak_stage == 0);
  CHECK(test::component(interleaved, "pipeline transfer buffers") == Approx(2 * 4096 * T_e));

  // Llama-3.1-8B at TP1 (h = 4096, ffn = 14336): the activation's backward, h + 3 ffn = 47104,
  // holds more than FC1's, 2 h + 2 ffn = 36864.
  const MemoryEstimate one = estimate_memory(llama8b_pipelined(2, 1, 8));
  REQUIRE(one.peak_phase == "stage 0 bwd.mlp");
  CHECK(test::component(one, "backward grads") == Approx(47104 * T_e));
}
