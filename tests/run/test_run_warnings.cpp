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

namespace {

// A flash attention workload over documents of unequal lengths, CP 2 p2p, on the preset's GPUs.
SimulationResult flash_varlen_on(const std::string& preset) {
  return simulate_scenario(parse_scenario_text(R"({"model": {"preset": "llama3.1-8b"},
    "training": {"seq_length": 8192, "micro_batch_size": 1, "document_lengths": [4096, 2048, 1024, 1024]},
    "parallel": {"tensor_model_parallel_size": 1, "context_parallel_size": 2, "cp_comm_type": "p2p"},
    "software": {"attention_backend": "flash"},
    "cluster": {"preset": ")" + preset + R"(", "num_nodes": 1, "gpus_per_node": 2}, "workload": "attention"})",
                                               ParseOptions{}));
}

int varlen_table_warnings(const SimulationResult& r) {
  return int(std::count_if(r.scenario.warnings.begin(), r.scenario.warnings.end(), [](const std::string& w) {
    return w.find("varlen launches on") != std::string::npos && w.find("are not counted") != std::string::npos;
  }));
}

}  // namespace

TEST_CASE("FlashAttention-2 varlen launches timed by FLOPs tables say their exiting CTAs are not counted", "[run]") {
  // The A100 has no shape model (the roofline times attention by FLOPs): validation's note on the
  // exiting CTAs, which describes the shape model's middle and band, does not hold there; the run
  // says what it does instead. (One simulation a process: the H100's counterpart is the next case.)
  CHECK(varlen_table_warnings(flash_varlen_on("dgx-a100")) == 1);
}

TEST_CASE("FlashAttention-2 varlen launches under the shape model carry no such warning", "[run]") {
  CHECK(varlen_table_warnings(flash_varlen_on("dgx-h100")) == 0);
}
