// Issue 14: the layer's memory-bound kernels cost what they were measured to cost (PyTorch's
// forms on the H200, per kind and pass), Megatron's fusion switches make them one kernel at the
// copy's efficiency, and the scenario names the attention backend and the switches.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cost/cost_model.hpp"
#include "scenario/parse.hpp"
#include "scenario/presets.hpp"
#include "workload/builder.hpp"
#include "../scenario/parse_outcome.hpp"

using namespace hcpsim;

namespace {

nlohmann::json layer_scenario() {
  return {{"model", {{"preset", "llama3.1-8b"}}},
          {"training", {{"seq_length", 8192}, {"micro_batch_size", 1}, {"global_batch_size", 1}}},
          {"parallel", {{"tensor_model_parallel_size", 1}, {"context_parallel_size", 1}}},
          {"cluster", {{"preset", "dgx-h200"}, {"num_nodes", 1}, {"gpus_per_node", 1}}},
          {"workload", "layer"}};
}

// The op labelled `what` (layer area, forward or backward) in rank 0's layer program.
const Op& op_named(const Workload& w, const std::string& label) {
  for (const Op& op : w.layer.at(0).ops)
    if (op.label == label) return op;
  FAIL("no op " << label);
  return w.layer.at(0).ops.front();
}

}  // namespace

TEST_CASE("memory-bound kernels: each kind and pass at its measured fraction of HBM bandwidth", "[cost][memory]") {
  const GpuSpec h200 = find_cluster_preset("dgx-h200")->spec.gpu;
  const CostParams p = default_cost_params(h200, AttentionBackend::CuDNN);
  // The built-in h200-memory-bound fit (calibrate/results/h200-v25-torch-measurements.json): PyTorch's
  // unfused RoPE moved its minimum traffic (forward 4 x T x 40 x 128 + 4 x T x 128 bytes: 172 MB at
  // 8K tokens) at 289-318 GB/s forward over 8K-128K tokens, of the H200's 4.8 TB/s (0.060-0.066; the
  // least-squares constant on relative error 0.064), its backward (206 MB at 8K) at 387-412 GB/s
  // (0.081-0.086; 0.0836); the residual add at the copy's ~4.1-4.4 TB/s (0.86-0.91).
  CHECK(p.elementwise_efficiency_of(ElementwiseKind::Rope, false) == Approx(0.064).epsilon(0.01));
  CHECK(p.elementwise_efficiency_of(ElementwiseKind::Rope, true) == Approx(0.0836).epsilon(0.01));
  CHECK(p.elementwise_efficiency_of(ElementwiseKind::Add, true) == p.elementwise_efficiency_of(ElementwiseKind::Add, false));
  CHECK(p.elementwise_efficiency_of(ElementwiseKind::Fused, true) == p.memory_efficiency);
  // An op's time is its bytes over HBM bandwidth x the efficiency of its kind and pass.
  const CostModel m(h200, Precision::BF16, p);
  Op rope;
  rope.kind = OpKind::Compute;
  rope.compute_class = ComputeClass::Elementwise;
  rope.elementwise = ElementwiseKind::Rope;
  rope.bytes = 1e9;
  rope.phase = Phase::Backward;
  CHECK(m.compute_time_s(rope) == Approx(1e9 / (4.8e12 * p.elementwise_efficiency_of(ElementwiseKind::Rope, true))));
  rope.recompute = true;  // a recomputed forward in the backward is a forward kernel
  CHECK(m.compute_time_s(rope) == Approx(1e9 / (4.8e12 * p.elementwise_efficiency_of(ElementwiseKind::Rope, false))));
}

TEST_CASE("memory-bound kernels: Megatron's fusion switches pick the fused kernel", "[cost][memory][scenario]") {
  // Megatron-LM's defaults (arguments.py): RoPE and SwiGLU fused, cross entropy not.
  const Scenario defaults = parse_scenario_text(layer_scenario().dump(), ParseOptions{});
  CHECK(defaults.software.fusions.rope);
  CHECK(defaults.software.fusions.swiglu);
  CHECK_FALSE(defaults.software.fusions.cross_entropy);
  CHECK(defaults.software.attention_backend == AttentionBackend::CuDNN);
  const Workload fused = build_workload(defaults);
  CHECK(op_named(fused, "layer.fwd.rope").elementwise == ElementwiseKind::Fused);
  CHECK(op_named(fused, "layer.fwd.swiglu").elementwise == ElementwiseKind::Fused);
  CHECK(op_named(fused, "layer.fwd.input_norm").elementwise == ElementwiseKind::Norm);
  nlohmann::json j = layer_scenario();
  j["software"] = {{"fusions", {{"rope", false}, {"swiglu", false}}}};
  const Workload unfused = build_workload(parse_scenario_text(j.dump(), ParseOptions{}));
  CHECK(op_named(unfused, "layer.fwd.rope").elementwise == ElementwiseKind::Rope);
  CHECK(op_named(unfused, "layer.bwd.swiglu").elementwise == ElementwiseKind::Activation);
  // Same bytes either way: the minimum traffic; the kind decides the rate.
  CHECK(op_named(unfused, "layer.fwd.rope").bytes == op_named(fused, "layer.fwd.rope").bytes);
}

TEST_CASE("software.attention_backend: a known name, or an error that says which", "[scenario]") {
  nlohmann::json j = layer_scenario();
  j["software"] = {{"attention_backend", "flash"}};
  CHECK(test::parse(j).scenario.software.attention_backend == AttentionBackend::Flash);
  j["software"] = {{"attention_backend", "FusedAttention"}};
  const auto o = test::parse(j);
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].path == "software.attention_backend");
  CHECK_THAT(o.errors[0].fix, Catch::Contains("write \"cudnn\""));
}
