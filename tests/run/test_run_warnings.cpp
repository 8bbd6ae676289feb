// Warnings a run gives where a setting does less than a user may have chosen it for.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>

#include "memory/estimate.hpp"
#include "run/simulate.hpp"
#include "scenario/parse.hpp"

using namespace hcpsim;

TEST_CASE("selective recompute that frees under 1 % of the peak says so, with the peak it lowers", "[run][memory]") {
  // Llama-3.1-8B at 8K on one H100: the fused attention keeps O and its softmax statistics, no score
  // matrix, so Megatron's core-attention checkpoint frees almost nothing. The warning's number is the
  // estimate's peak without recompute less the one with it. (SimGrid runs once a process: one simulation.)
  const std::string text = R"({"model": {"preset": "llama3.1-8b"},
    "training": {"seq_length": 8192, "micro_batch_size": 1, "global_batch_size": 1, "recompute_granularity": "selective"},
    "parallel": {"tensor_model_parallel_size": 1, "context_parallel_size": 1},
    "cluster": {"preset": "dgx-h100", "num_nodes": 1, "gpus_per_node": 1, "inter_node": {"nics_per_node": 1}}})";
  const Scenario sel = parse_scenario_text(text, ParseOptions{});
  Scenario none = sel;
  none.training.recompute_granularity = RecomputeGranularity::None;
  const double saved = estimate_memory(none).peak_bytes - estimate_memory(sel).peak_bytes;
  REQUIRE(saved >= 0);
  REQUIRE(saved < 0.01 * estimate_memory(sel).peak_bytes);
  const SimulationResult r = simulate_scenario(sel);
  char gb[32];
  std::snprintf(gb, sizeof gb, "lowers the peak by %.2f GB", saved / 1e9);
  CHECK(std::count_if(r.scenario.warnings.begin(), r.scenario.warnings.end(),
                      [&](const std::string& w) { return w.find(gb) != std::string::npos; }) == 1);
}
