// Megatron-FSDP (parallel.use_megatron_fsdp; rules/megatron_fsdp.hpp, workload/fsdp_ops.hpp): the
// collectives of each layer and of the step, their sizes, the memory it keeps and the rules on it.
// Every size is worked out here from Llama-3.1-8B's shapes (hidden 4096, 32 heads, 8 KV heads of 128,
// ffn 14336 gated, vocab 128256 untied, 32 layers), not read back from the code.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "memory/estimate.hpp"
#include "memory/model_states.hpp"
#include "scenario/scenario_json.hpp"
#include "workload/builder.hpp"
#include "../scenario/parse_outcome.hpp"

using namespace hcpsim;

namespace {

// One layer's parameters (TP 1): QKV 4096 x (4096 + 2 x 1024), proj 4096 x 4096, fc1 4096 x 2 x 14336,
// fc2 14336 x 4096; two norm weights of 4096.
constexpr double kGemm = 4096.0 * 6144 + 4096.0 * 4096 + 3 * 4096.0 * 14336;
constexpr double kNorms = 2 * 4096.0;
constexpr double kVocabRows = 128256.0 * 4096;  // the embedding, and the untied output layer
constexpr double kDp = 8;

nlohmann::json fsdp_step(bool fp8) {
  nlohmann::json training = {{"seq_length", 4096}, {"micro_batch_size", 1}, {"global_batch_size", 16}};
  if (fp8) training.update({{"precision", "fp8"}, {"fp8_recipe", "tensorwise"}, {"fp8_param_gather", true}});
  return {{"model", {{"preset", "llama3.1-8b"}}},
          {"training", training},
          {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}, {"use_megatron_fsdp", true},
                        {"grad_reduce_in_fp32", false}}},
          {"cluster", {{"preset", "dgx-h100"}, {"num_nodes", 1}, {"gpus_per_node", 8}}},
          {"workload", "step"}};
}

struct Found {
  int count = 0;
  double message_bytes = 0;
  CommPattern pattern = CommPattern::AllReduce;
  Phase phase = Phase::Forward;
};

Found find(const RankProgram& p, const std::string& what) {
  Found f;
  for (const Op& op : p.ops)
    if (op.label.find(what) != std::string::npos) {
      ++f.count;
      f.message_bytes = op.kind == OpKind::Comm ? op.message_bytes : op.bytes;
      f.pattern = op.pattern;
      f.phase = op.phase;
    }
  return f;
}

}  // namespace

TEST_CASE("Megatron-FSDP: each layer gathers the next in its forward, the one before and reduces the one after in its backward",
          "[workload]") {
  for (const bool fp8 : {false, true}) {
    CAPTURE(fp8);
    const test::Outcome o = test::parse(fsdp_step(fp8));
    REQUIRE(o.valid);
    const Workload w = build_workload(o.scenario);
    const RankProgram& layer = w.layer.at(3);
    // fp8 primary weights gather the GEMM weights at 1 B, the norms at 2 B; bf16 both at 2 B. An
    // all-gather's message is one rank's shard, a reduce-scatter's its output shard: / DP.
    const double params = (fp8 ? 1.0 : 2.0) * kGemm + 2 * kNorms, grads = 2 * (kGemm + kNorms);
    const Found next = find(layer, "fsdp_param_ag.next_layer");
    CHECK(next.count == 1);
    CHECK(next.phase == Phase::Forward);
    CHECK(next.pattern == CommPattern::AllGather);
    CHECK(next.message_bytes == Approx(params / kDp));
    const Found previous = find(layer, "fsdp_param_ag.previous_layer"), reduce = find(layer, "fsdp_grad_rs.next_layer");
    CHECK(previous.phase == Phase::Backward);
    CHECK(previous.message_bytes == Approx(params / kDp));
    CHECK(reduce.phase == Phase::Backward);
    CHECK(reduce.pattern == CommPattern::ReduceScatter);
    CHECK(reduce.message_bytes == Approx(grads / kDp));
    // Hopper's fp8 GEMMs want the transposed weights: made again after each backward gather, one
    // fp8 copy read and one written.
    const Found transpose = find(layer, "fsdp_fp8_weight_transpose");
    CHECK(transpose.count == (fp8 ? 1 : 0));
    if (fp8) CHECK(transpose.message_bytes == Approx(2 * kGemm));

    // The step: no DDP buckets; per micro batch the first and last layers' gathers and the first layer's
    // and the embedding's reduce-scatter; once a step the non-layer parameters' gather in bf16.
    const RankProgram& step = w.step.at(3);
    CHECK(find(step, "bucket").count == 0);
    CHECK(w.dp_buckets.at(0).empty());
    CHECK(find(step, "fsdp_param_ag.first_layer").message_bytes == Approx(params / kDp));
    CHECK(find(step, "fsdp_param_ag.last_layer").message_bytes == Approx(params / kDp));
    CHECK(find(step, "fsdp_grad_rs.first_layer_and_embedding").message_bytes == Approx((grads + 2 * kVocabRows) / kDp));
    // The head's gradients (output layer, final norm), bf16, at the backward's start.
    const Found head = find(step, "fsdp_grad_rs.head");
    CHECK(head.phase == Phase::Backward);
    CHECK(head.message_bytes == Approx(2 * (kVocabRows + 4096) / kDp));
    CHECK(find(step, "fsdp_param_ag.non_layer").message_bytes == Approx(2 * (2 * kVocabRows + 4096) / kDp));
    // Timed with the optimizer: the composition counts the optimizer area's ops once a step.
    for (const Op& op : step.ops)
      if (op.label.find("fsdp_param_ag.non_layer") != std::string::npos) CHECK(op.area == OpArea::Optimizer);
    // The optimizer casts its bf16 gradient shard to fp32 before Adam.
    CHECK(find(step, "grad_to_fp32").count == 1);
  }
}

TEST_CASE("Megatron-FSDP: over DP x CP, and no transposes where the fp8 GEMMs take any layout", "[workload]") {
  // CP 2 of 8 GPUs: DP 4, the gathers and reduce-scatters over the DP x CP group of 8.
  nlohmann::json cp = fsdp_step(false);
  cp["parallel"]["context_parallel_size"] = 2;
  cp["training"]["global_batch_size"] = 8;
  const test::Outcome o = test::parse(cp);
  REQUIRE(o.valid);
  REQUIRE(o.scenario.parallel.data_parallel_size == 4);
  const Workload w = build_workload(o.scenario);
  CHECK(find(w.layer.at(0), "fsdp_param_ag.next_layer").message_bytes == Approx((2 * kGemm + 2 * kNorms) / kDp));
  CHECK(find(w.layer.at(0), "fsdp_grad_rs.next_layer").message_bytes == Approx(2 * (kGemm + kNorms) / kDp));
  // A B200's fp8 GEMMs take either layout: the gathered fp8 weights need no transpose, nor memory for one.
  nlohmann::json b200 = fsdp_step(true);
  b200["cluster"]["preset"] = "dgx-b200";
  const test::Outcome ob = test::parse(b200);
  REQUIRE(ob.valid);
  CHECK(find(build_workload(ob.scenario).layer.at(0), "fsdp_fp8_weight_transpose").count == 0);
  CHECK(model_state_bytes(ob.scenario, 0).fsdp_unit_buffers_bytes == Approx(2 * ((kGemm + 2 * kNorms) + 2 * (kGemm + kNorms))));
}

TEST_CASE("Megatron-FSDP: the shards, the double buffers and the non-layer parameters in memory", "[memory]") {
  const test::Outcome o = test::parse(fsdp_step(true));
  REQUIRE(o.valid);
  const ModelStateBytes m = model_state_bytes(o.scenario, 0);
  const double all = 32 * (kGemm + kNorms) + 2 * kVocabRows + 4096, gemm = 32 * kGemm;
  REQUIRE(m.params_per_gpu == Approx(all));
  CHECK(m.fsdp);
  CHECK(m.weights_bytes == Approx((gemm + 2 * (all - gemm)) / kDp));  // fp8 GEMM weights, the rest bf16
  CHECK(m.quantized_weight_copies_bytes == 0);                          // the primary weights are the copies
  CHECK(m.main_grads_bytes == Approx(2 * all / kDp));                   // bf16, sharded
  CHECK(m.optimizer_bytes == Approx(12 * all / kDp));
  // Two layers' gathered parameters (fp8 GEMM weights, bf16 norms), unsharded bf16 gradients and,
  // on Hopper, the gathered weights' fp8 transposes.
  CHECK(m.fsdp_unit_buffers_bytes == Approx(2 * ((kGemm + 2 * kNorms) + 2 * (kGemm + kNorms) + kGemm)));
  CHECK(m.fsdp_non_layer_bytes == Approx(2 * (2 * kVocabRows + 4096)));
  // The optimizer step's fp32 copy of the bf16 gradient shard is a phase of its own.
  bool step_phase = false;
  for (const MemoryPhaseTotal& p : estimate_memory(o.scenario).phases) step_phase = step_phase || p.name == "optimizer.step";
  CHECK(step_phase);
  // The switch reads back from the result's scenario JSON.
  CHECK(scenario_from_json(scenario_to_json(o.scenario), "scenario").parallel.use_megatron_fsdp);
}

TEST_CASE("Megatron-FSDP: what hcpsim models of it, and one rank", "[validation]") {
  const auto error_at = [](const test::Outcome& o, const std::string& path) {
    for (const Diagnostic& d : o.errors)
      if (d.path == path) return true;
    return false;
  };
  nlohmann::json pp = fsdp_step(false);
  pp["parallel"]["pipeline_model_parallel_size"] = 2;
  CHECK(error_at(test::parse(pp), "parallel.use_megatron_fsdp"));
  nlohmann::json sync = fsdp_step(false);  // Megatron-FSDP reduce-scatters as gradients are ready, only
  sync["parallel"]["overlap_grad_reduce"] = false;
  CHECK(error_at(test::parse(sync), "parallel.overlap_grad_reduce"));
  nlohmann::json mx = fsdp_step(false);
  mx["cluster"]["preset"] = "dgx-b200";
  mx["training"].update({{"precision", "fp8"}, {"fp8_recipe", "mxfp8"}});
  CHECK(error_at(test::parse(mx), "parallel.use_megatron_fsdp"));
  // Megatron-FSDP v1 runs the distributed optimizer whatever the flag says.
  nlohmann::json no_dist = fsdp_step(true);
  no_dist["parallel"]["use_distributed_optimizer"] = false;
  const test::Outcome d = test::parse(no_dist);
  REQUIRE(d.valid);
  CHECK(d.scenario.parallel.use_distributed_optimizer);
  // One rank: nothing to shard, no collective.
  nlohmann::json one = fsdp_step(false);
  one["cluster"]["gpus_per_node"] = 1;
  one["training"]["global_batch_size"] = 2;
  const test::Outcome o = test::parse(one);
  REQUIRE(o.valid);
  const Workload w = build_workload(o.scenario);
  CHECK(find(w.layer.at(0), "fsdp").count == 0);
  CHECK_FALSE(model_state_bytes(o.scenario, 0).fsdp);
}
