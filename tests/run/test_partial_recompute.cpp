// Full recompute of some layers (training.recompute_method, training.recompute_num_layers;
// rules/recompute.hpp): which layers Megatron's checkpointed_forward re-runs and what each saves,
// counted by hand; the memory estimate's saved activations as those counts times a layer's
// input (T e h) and a layer's whole set; the step's backward as the simulated layer's less the
// re-run of the layers block recompute leaves out; the rules Megatron sets on the two keys.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "memory/estimate.hpp"
#include "rules/recompute.hpp"
#include "run/result_json.hpp"
#include "run/simulate.hpp"
#include "run/step_composition.hpp"
#include "workload/builder.hpp"
#include "../scenario/parse_outcome.hpp"

using namespace hcpsim;

namespace {

// Llama-3.1-8B (32 layers, hidden 4096) at 8K tokens on one H100: T = 8192 tokens a rank.
nlohmann::json llama8b(const nlohmann::json& recompute) {
  nlohmann::json training = {{"seq_length", 8192}, {"micro_batch_size", 1}, {"global_batch_size", 2}};
  if (recompute.is_object()) training.update(recompute);
  return {{"model", {{"preset", "llama3.1-8b"}}},
          {"training", training},
          {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}}},
          {"cluster", {{"preset", "dgx-h100"}, {"num_nodes", 1}, {"gpus_per_node", 1}}},
          {"workload", "step"}};
}

Scenario valid(const nlohmann::json& recompute) {
  const test::Outcome o = test::parse(llama8b(recompute));
  INFO(test::describe(o));
  REQUIRE(o.valid);
  return o.scenario;
}

double phase_total(const MemoryEstimate& e, const std::string& name) {
  for (const MemoryPhaseTotal& p : e.phases)
    if (p.name == name) return p.bytes;
  FAIL("no phase " << name);
  return 0;
}

double saved_component(const MemoryEstimate& e) {
  for (const MemoryComponent& c : e.breakdown)
    if (c.name == "activations (saved)") return c.bytes;
  FAIL("no saved activations in the peak phase " << e.peak_phase);
  return 0;
}


bool warns(const Scenario& s, const std::string& part) {
  for (const std::string& w : s.warnings)
    if (w.find(part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("recompute: the layers each method re-runs and saves", "[rules]") {
  using rules::chunk_recompute;
  // uniform 5 over 32 layers: units 0-4, 5-9, ..., 25-29, 30-31 (7 units, every layer re-run, the
  // largest unit 5 layers); nothing saves everything.
  CHECK(chunk_recompute(true, RecomputeMethod::Uniform, 5, 32) == rules::ChunkRecompute{32, 0, 7, 5});
  CHECK(rules::backward_extra_layers(chunk_recompute(true, RecomputeMethod::Uniform, 5, 32)) == 5);
  // uniform 1: every layer its own unit (hcpsim's "full" before the keys existed).
  CHECK(chunk_recompute(true, RecomputeMethod::Uniform, 1, 32) == rules::ChunkRecompute{32, 0, 32, 1});
  // block 5: layers 0-4 each checkpointed, 5-31 plain; their backwards come first and free more
  // than one re-run rebuilds, so the backward adds nothing on top.
  CHECK(chunk_recompute(true, RecomputeMethod::Block, 5, 32) == rules::ChunkRecompute{5, 27, 5, 1});
  CHECK(rules::backward_extra_layers(chunk_recompute(true, RecomputeMethod::Block, 5, 32)) == 0);
  // block past the chunk's layers: every layer re-run, one at a time.
  CHECK(chunk_recompute(true, RecomputeMethod::Block, 40, 32) == rules::ChunkRecompute{32, 0, 32, 1});
  CHECK(rules::backward_extra_layers(chunk_recompute(true, RecomputeMethod::Block, 40, 32)) == 1);
  // no full recompute: every layer plain.
  CHECK(chunk_recompute(false, RecomputeMethod::Block, 5, 32) == rules::ChunkRecompute{0, 32, 0, 0});
  // Per chunk, the layers without a re-run: block only, and only where some are left out.
  CHECK(rules::chunk_layers_without_rerun(true, RecomputeMethod::Block, 3, {4, 2, 5}) == std::vector<int64_t>{1, 0, 2});
  CHECK(rules::chunk_layers_without_rerun(true, RecomputeMethod::Block, 5, {4, 2, 5}).empty());
  CHECK(rules::chunk_layers_without_rerun(true, RecomputeMethod::Uniform, 3, {4, 2, 5}).empty());
  CHECK(rules::chunk_layers_without_rerun(false, RecomputeMethod::Block, 3, {4, 2, 5}).empty());
}

TEST_CASE("recompute: the in-flight peak weighs each chunk's saved bytes", "[rules][pipeline]") {
  // 1F1B over 4 stages, 8 micro batches: stage s holds min(4 - s, 8) micro batches at its first
  // backward. Each chunk saves 3 bytes a micro batch and its backward adds 1 on top: 3 (4 - s) + 1.
  PipelineSpec ps;
  ps.stages = 4;
  for (int64_t s = 0; s < 4; ++s) {
    const InFlightPeak peak =
        pipeline_peak_in_flight(ps, s, 8, [](size_t) { return 3.0; }, [](size_t) { return 1.0; });
    CHECK(peak.saved == Approx(3.0 * double(4 - s)));
    CHECK(peak.extra == Approx(1.0));
  }
}

TEST_CASE("recompute: the saved activations are the checkpoints' inputs and the plain layers' sets", "[memory]") {
  const Scenario none = valid({}), every = valid({{"recompute_granularity", "full"}});
  const Scenario block5 = valid({{"recompute_granularity", "full"}, {"recompute_method", "block"}, {"recompute_num_layers", 5}});
  const Scenario uniform4 =
      valid({{"recompute_granularity", "full"}, {"recompute_method", "uniform"}, {"recompute_num_layers", 4}});
  // I: a checkpoint's input, T e h = 8192 x 2 B x 4096; W: a layer without recompute, as the
  // memory model saves it (the activation offload's per-layer bytes, independently tested).
  const double I = 8192.0 * 2 * 4096, W = saved_activation_bytes_per_layer(none);
  REQUIRE(W > 10 * I);
  const MemoryEstimate e_none = estimate_memory(none), e_every = estimate_memory(every);
  const MemoryEstimate e_block = estimate_memory(block5), e_uniform = estimate_memory(uniform4);
  // The loss's forward holds all 32 layers' saved activations (PP = 1, one micro batch in flight).
  for (const MemoryEstimate* e : {&e_none, &e_every, &e_block, &e_uniform}) REQUIRE(e->peak_phase == "fwd.loss");
  CHECK(saved_component(e_none) == Approx(32 * W));
  CHECK(saved_component(e_every) == Approx(32 * I));
  CHECK(saved_component(e_block) == Approx(5 * I + 27 * W));  // layers 0-4 their input, 5-31 everything
  CHECK(saved_component(e_uniform) == Approx(8 * I));         // one input per 4 layers
  // The last layer's MLP backward: uniform 4 rebuilds 4 layers (W each) where uniform 1 rebuilds
  // one; block 5 rebuilds none there (a plain layer's backward comes first) and adds nothing to
  // what the same phase holds without recompute but 5 inputs in place of 5 layers' sets.
  CHECK(phase_total(e_uniform, "bwd.mlp") - phase_total(e_every, "bwd.mlp") == Approx((8 * I + 4 * W) - (32 * I + W)));
  CHECK(phase_total(e_block, "bwd.mlp") - phase_total(e_none, "bwd.mlp") == Approx(5 * I - 5 * W));
}

TEST_CASE("recompute: a chunk's layers without the re-run skip it in the backward", "[simulator][step]") {
  // 4 layers, 3 micro batches, forward 1, backward 3 of which the re-run 1; block leaves 3 of the 4
  // out: per micro batch 4 x 1 + 4 x 3 - 3 x 1 = 13.
  StepInputs in;
  in.layers = 4;
  in.microbatches = 3;
  in.layer_forward_s = 1;
  in.layer_backward_s = 3;
  in.layer_rerun_s = 1;
  in.stages.push_back(StageInputs{});
  in.stages[0].chunk_layers = {4};
  CHECK(compose_step(in).step_s == Approx(3 * 16.0));
  in.stages[0].chunk_layers_without_rerun = {3};
  CHECK(compose_step(in).step_s == Approx(3 * 13.0));
  CHECK(compose_step(in).microbatch_backward_s == Approx(9.0));
}

TEST_CASE("recompute: block's step runs 27 of 32 backwards without the simulated re-run", "[run][simgrid]") {
  const SimulationResult r =
      simulate_scenario(valid({{"recompute_granularity", "full"}, {"recompute_method", "block"}, {"recompute_num_layers", 5}}));
  REQUIRE(r.step);
  // On one GPU with nothing to overlap, the re-run is the forward's ops again, in the same order.
  CHECK(r.layer.rerun_s == Approx(r.layer.forward_s).epsilon(0.01));
  REQUIRE(r.layer.rerun_s < r.layer.backward_s);
  const StepInputs& in = r.step->inputs;
  CHECK(in.layer_rerun_s == r.layer.rerun_s);
  CHECK(in.stages.at(0).chunk_layers_without_rerun == std::vector<int64_t>{27});
  // A micro batch's backward: 32 layers' simulated backward less 27 re-runs, and the head's.
  const double head_s = in.stages[0].extra_backward_s;
  CHECK(r.step->composed.microbatch_backward_s ==
        Approx(32 * r.layer.backward_s - 27 * r.layer.rerun_s + head_s).epsilon(1e-9));
  CHECK(r.composed.find("27 of the model's 32 layers skip") != std::string::npos);
  // One GPU: DP x CP = 1, no gradient to reduce (it read "reduce-scatter in 0 buckets").
  CHECK(r.composed.find("no data-parallel gradient sync (DP x CP = 1)") != std::string::npos);
  // The CPU's launches, counted by hand on the layer's program: one per op (no CUDA graphs); a
  // micro batch's backward launches 32 layers' backward ops less the re-run's ops of the 27 plain
  // layers, and the head's and loss's backward ops once.
  const Workload w = build_workload(r.scenario);
  int64_t backward_ops = 0, rerun_ops = 0, head_backward_ops = 0;
  for (const Op& op : w.layer.at(0).ops) {
    backward_ops += op.phase == Phase::Backward ? 1 : 0;
    rerun_ops += op.recompute ? 1 : 0;
  }
  for (const Op& op : w.step.at(0).ops) head_backward_ops += op.phase == Phase::Backward ? 1 : 0;
  REQUIRE(rerun_ops > 0);
  REQUIRE(rerun_ops < backward_ops);
  CHECK(r.step->composed.host_backward_launches == 32 * backward_ops - 27 * rerun_ops + head_backward_ops);
  // The result reads back with the same step inputs (the layers without re-run from the rule).
  const SimulationResult back = result_from_json(nlohmann::json::parse(result_to_json(r).dump()), "result");
  CHECK(back.step->inputs == r.step->inputs);
  CHECK(back.layer == r.layer);
}

TEST_CASE("recompute: the keys as Megatron takes them", "[scenario][validation]") {
  // Megatron refuses recompute_num_layers with selective recompute.
  const test::Outcome selective = test::parse(llama8b({{"recompute_granularity", "selective"}, {"recompute_num_layers", 2}}));
  CHECK_FALSE(selective.valid);
  CHECK(test::has_error_at(selective, "training.recompute_num_layers"));
  // and any recompute_method with it (arguments.py: "recompute method is not yet supported for
  // selective recomputing granularity").
  const test::Outcome selective_method = test::parse(llama8b({{"recompute_granularity", "selective"}, {"recompute_method", "uniform"}}));
  CHECK_FALSE(selective_method.valid);
  CHECK(test::has_error_at(selective_method, "training.recompute_method"));
  // Neither key does anything without full recompute: said, not refused.
  CHECK(warns(valid({{"recompute_method", "block"}}), "have no effect"));
  // Block over at least every layer of a chunk: every layer re-run.
  CHECK(warns(valid({{"recompute_granularity", "full"}, {"recompute_method", "block"}, {"recompute_num_layers", 32}}),
              "every layer is re-run"));
  CHECK_FALSE(warns(valid({{"recompute_granularity", "full"}, {"recompute_method", "block"}, {"recompute_num_layers", 31}}),
                    "every layer is re-run"));
  // Unknown names and counts below 1 are errors at their keys.
  CHECK(test::has_error_at(test::parse(llama8b({{"recompute_granularity", "full"}, {"recompute_method", "blocks"}})),
                  "training.recompute_method"));
  CHECK(test::has_error_at(test::parse(llama8b({{"recompute_granularity", "full"}, {"recompute_num_layers", 0}})),
                  "training.recompute_num_layers"));
  // The scenario's defaults re-run every layer on its own.
  const Scenario full = valid({{"recompute_granularity", "full"}});
  CHECK(full.training.recompute_method == RecomputeMethod::Uniform);
  CHECK(full.training.recompute_num_layers == 1);
}

TEST_CASE("recompute: under Megatron-FSDP the re-run span leaves out the backward's own preamble", "[run][simgrid]") {
  // Megatron-FSDP starts every layer's backward with its gathers and fp8 transposes, re-run or not:
  // the re-run's span starts at its own first op, and on 8 GPUs it is the forward's ops again,
  // within the few percent their overlap with the FSDP traffic moves them (from the backward's
  // first op it read 5 % over the forward).
  nlohmann::json j = llama8b({{"recompute_granularity", "full"}, {"recompute_method", "block"}, {"recompute_num_layers", 5},
                              {"global_batch_size", 8}, {"precision", "fp8"}, {"fp8_recipe", "tensorwise"},
                              {"fp8_param_gather", true}});
  j["cluster"]["gpus_per_node"] = 8;
  j["parallel"]["use_megatron_fsdp"] = true;
  const test::Outcome o = test::parse(j);
  INFO(test::describe(o));
  REQUIRE(o.valid);
  const SimulationResult r = simulate_scenario(o.scenario);
  REQUIRE(r.step);
  CHECK(r.layer.rerun_s == Approx(r.layer.forward_s).epsilon(0.03));
}

TEST_CASE("recompute: selective recompute's result reads back equal (no full re-run span)", "[run][simgrid]") {
  const SimulationResult r = simulate_scenario(valid({{"recompute_granularity", "selective"}}));
  REQUIRE(r.step);
  CHECK(r.layer.rerun_s == 0);  // the core attention's re-run is inside every backward
  const SimulationResult back = result_from_json(nlohmann::json::parse(result_to_json(r).dump()), "result");
  CHECK(back.layer == r.layer);
  CHECK(back.step->inputs == r.step->inputs);
}

TEST_CASE("recompute: block over interleaved chunks saves per chunk in flight", "[memory][pipeline]") {
  // PP 2 x VPP 2 over 32 layers: chunks of 8; with 8 micro batches stage 0 holds 32 (1 + 1/4) = 40
  // layers, five chunks of a micro batch (Korthikanti et al. 2022, section 4.2.3). Block 3 saves per
  // chunk 3 inputs and 5 whole layers where none saves 8 whole layers: the saved activations move by
  // 5 x 3 (I - W), with nothing rebuilt on top in either.
  const auto pp2 = [](const nlohmann::json& recompute) {
    nlohmann::json j = llama8b(recompute);
    j["training"]["global_batch_size"] = 8;
    j["cluster"]["gpus_per_node"] = 2;
    j["parallel"]["pipeline_model_parallel_size"] = 2;
    j["parallel"]["virtual_pipeline_model_parallel_size"] = 2;
    const test::Outcome o = test::parse(j);
    INFO(test::describe(o));
    REQUIRE(o.valid);
    return o.scenario;
  };
  const Scenario none = pp2({}),
                 block3 = pp2({{"recompute_granularity", "full"}, {"recompute_method", "block"}, {"recompute_num_layers", 3}});
  const double I = 8192.0 * 2 * 4096, W = saved_activation_bytes_per_layer(none);
  const MemoryEstimate e_none = estimate_memory(none), e_block = estimate_memory(block3);
  REQUIRE(e_none.peak_stage == 0);
  REQUIRE(e_block.peak_stage == 0);
  CHECK(phase_total(e_block, "stage 0 bwd.mlp") - phase_total(e_none, "stage 0 bwd.mlp") == Approx(15 * (I - W)));
}

TEST_CASE("recompute: full recompute under per-layer CUDA graphs is Megatron's error", "[scenario][validation]") {
  nlohmann::json j = llama8b({{"recompute_granularity", "full"}});
  j["software"] = {{"cuda_graph_impl", "local"}};
  const test::Outcome o = test::parse(j);
  CHECK_FALSE(o.valid);
  CHECK(test::has_error_at(o, "training.recompute_granularity"));
  j["software"] = {{"cuda_graph_impl", "full_iteration"}};
  CHECK(test::parse(j).valid);
}

TEST_CASE("recompute: block under a 1F1B pipeline takes the plain layers' re-runs off every backward", "[run][simgrid][pipeline]") {
  // PP 2 over 32 layers (16 a stage), 8 micro batches, block 3: each stage's 13 plain layers skip
  // the re-run. With every backward shorter by the same 13 r (r the simulated layer's re-run), the
  // 1F1B schedule's critical path, which carries m + p - 1 = 9 backwards of its bottleneck stage
  // (Narayanan et al. 2021, (m + p - 1)(f + b)), ends 9 x 13 r earlier than the same schedule with
  // every layer re-run. Both are composed from the one simulation's inputs, with the CPU's launch
  // time set aside (it is tested above).
  nlohmann::json j = llama8b({{"recompute_granularity", "full"}, {"recompute_method", "block"}, {"recompute_num_layers", 3},
                              {"global_batch_size", 8}});
  j["cluster"]["gpus_per_node"] = 2;
  j["parallel"]["pipeline_model_parallel_size"] = 2;
  const test::Outcome o = test::parse(j);
  INFO(test::describe(o));
  REQUIRE(o.valid);
  const SimulationResult r = simulate_scenario(o.scenario);
  REQUIRE(r.step);
  StepInputs block = r.step->inputs;
  REQUIRE(block.microbatches == 8);
  REQUIRE(block.stages.size() == 2);
  for (const StageInputs& st : block.stages) CHECK(st.chunk_layers_without_rerun == std::vector<int64_t>{13});
  const double rerun_s = block.layer_rerun_s;
  REQUIRE(rerun_s > 0);
  block.host_per_launch_s = 0;
  StepInputs every = block;
  for (StageInputs& st : every.stages) st.chunk_layers_without_rerun.clear();
  const StepTime t_block = compose_step(block), t_every = compose_step(every);
  CHECK(t_every.pipeline_s - t_block.pipeline_s == Approx(9 * 13 * rerun_s).epsilon(1e-6));
  // A micro batch's backward through both stages: 2 x 13 re-runs fewer.
  CHECK(t_every.microbatch_backward_s - t_block.microbatch_backward_s == Approx(26 * rerun_s).epsilon(1e-9));
}

TEST_CASE("recompute: full recompute's methods share one simulation, nothing else does", "[run]") {
  // The simulated layer re-runs its forward under any full recompute; the method and layer count
  // change only the composition and the memory estimate (workload/ never reads them).
  const Scenario every = valid({{"recompute_granularity", "full"}});
  const Scenario block5 = valid({{"recompute_granularity", "full"}, {"recompute_method", "block"}, {"recompute_num_layers", 5}});
  const Scenario uniform4 =
      valid({{"recompute_granularity", "full"}, {"recompute_method", "uniform"}, {"recompute_num_layers", 4}});
  CHECK(same_simulation(every, block5));
  CHECK(same_simulation(block5, uniform4));
  CHECK_FALSE(same_simulation(every, valid({{"recompute_granularity", "selective"}})));
  CHECK_FALSE(same_simulation(every, valid({})));
  Scenario longer = block5;
  longer.training.seq_length *= 2;
  CHECK_FALSE(same_simulation(block5, longer));
  // Names and validation warnings never matter, with or without recompute.
  Scenario renamed = valid({});
  renamed.name = "another name";
  renamed.warnings.push_back("a warning the other lacks");
  CHECK(same_simulation(valid({}), renamed));
  Scenario renamed_block = block5;
  renamed_block.name = "another name";
  CHECK(same_simulation(every, renamed_block));
  // Scenarios of other simulations are refused before anything runs.
  CHECK_THROWS_AS(simulate_scenarios({every, longer}), std::logic_error);
}
