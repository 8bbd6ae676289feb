// Bug 3 (issue 12): a calibration made on one GPU model, applied to a cluster of another,
// carries over only what does not depend on the GPU model, and says so.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cost/calibration_file.hpp"

using namespace hcpsim;

namespace {

// A calibration of an H200: every kind of parameter, with values unlike the defaults.
CalibrationFile h200_calibration() {
  nlohmann::json cal = {{"format", "hcpsim-calibration/3"},
                        {"gpu", "NVIDIA H200"},
                        {"parameters",
                         {{"gemm", {{"points", {{1e9, 0.4}}}}},
                          {"attention_fwd_causal", {{"points", {{1e9, 0.3}}}}},
                          {"memory_efficiency", {{"value", 0.5}}},
                          {"interference_compute_gemm", {{"value", 1.5}}},
                          {"interference_comm_attention_k8", {{"value", 2.5}}},
                          {"intra_node_efficiency", {{"value", 0.6}}},
                          {"nic_efficiency", {{"value", 0.8}}},
                          {"kernel_floor_s", {{"value", 5e-6}}}}}};
  return parse_calibration_text(cal.dump(), "h200.json");
}

GpuSpec gpu(const char* name) {
  GpuSpec g;
  g.name = name;
  return g;
}

}  // namespace

TEST_CASE("bug 3: a calibration applies whole to its own GPU model", "[cost]") {
  const CostParams p = apply_calibration(h200_calibration(), default_cost_params(), "h200.json", gpu("H200-SXM-141GB"));
  CHECK(p.gemm.at(1e12) == 0.4);
  CHECK(p.memory_efficiency == 0.5);
  CHECK(p.interference.compute_slowdown[0] == 1.5);
  CHECK(p.interference.comm_slowdown[1][3] == 2.5);  // attention, k = 8 (the fourth knot)
  CHECK(p.intra_node_efficiency == 0.6);
  CHECK(p.nic_efficiency == 0.8);
  CHECK(p.kernel_floor_s == 5e-6);
  CHECK(p.warnings.empty());
}

TEST_CASE("bug 3: on another GPU model only GPU-independent parameters carry over, with a warning", "[cost]") {
  const CostParams defaults = default_cost_params();
  const CostParams p = apply_calibration(h200_calibration(), defaults, "h200.json", gpu("B200-in-GB200-186GB"));
  // GPU-specific: kernel efficiencies, HBM efficiency, NCCL's slowdown of kernels, NVLink: defaults kept.
  CHECK(p.gemm.at(1e12) == defaults.gemm.at(1e12));
  CHECK(p.attention_fwd_causal.at(1e12) == defaults.attention_fwd_causal.at(1e12));
  CHECK(p.memory_efficiency == defaults.memory_efficiency);
  CHECK(p.interference.compute_slowdown == defaults.interference.compute_slowdown);
  CHECK(p.interference.comm_slowdown == defaults.interference.comm_slowdown);
  CHECK(p.intra_node_efficiency == defaults.intra_node_efficiency);
  // Not GPU-specific: the NIC and fabric efficiency, the host's kernel launch floor.
  CHECK(p.nic_efficiency == 0.8);
  CHECK(p.kernel_floor_s == 5e-6);
  REQUIRE(p.warnings.size() == 1);
  CHECK_THAT(p.warnings[0], Catch::Contains("calibrated on NVIDIA H200") && Catch::Contains("B200-in-GB200-186GB") &&
                                Catch::Contains("nic_efficiency") && Catch::Contains("kernel_floor_s"));
  CHECK(p.calibrated == std::vector<std::string>{"kernel_floor_s", "nic_efficiency"});
}

TEST_CASE("bug 3: GPU model names match by model, not by board", "[cost]") {
  CHECK(gpu_model_matches("NVIDIA H200", gpu("H200-SXM-141GB")));
  CHECK(gpu_model_matches("NVIDIA H100 80GB HBM3", gpu("H100-SXM-80GB")));
  CHECK_FALSE(gpu_model_matches("NVIDIA H200", gpu("H100-SXM-80GB")));
  CHECK_FALSE(gpu_model_matches("NVIDIA H200", gpu("B200-in-GB200-186GB")));
  CHECK_FALSE(gpu_model_matches("", gpu("H200-SXM-141GB")));
}

TEST_CASE("a calibration with the old one-factor comm_interference is read, the factor left out with a warning",
          "[cost]") {
  nlohmann::json cal = {{"format", "hcpsim-calibration/3"},
                        {"gpu", "NVIDIA H200"},
                        {"parameters", {{"comm_interference", {{"value", 1.2}}}, {"memory_efficiency", {{"value", 0.5}}}}}};
  const CostParams defaults = default_cost_params();
  const CostParams p = apply_calibration(parse_calibration_text(cal.dump(), "old.json"), defaults, "old.json",
                                         gpu("H200-SXM-141GB"));
  CHECK(p.memory_efficiency == 0.5);
  CHECK(p.interference.compute_slowdown == defaults.interference.compute_slowdown);
  REQUIRE(p.warnings.size() == 1);
  CHECK_THAT(p.warnings[0], Catch::Contains("comm_interference") && Catch::Contains("no longer used"));
}
