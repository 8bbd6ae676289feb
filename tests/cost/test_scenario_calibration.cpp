// A scenario's "calibration" key replaces the cost model's defaults and says so.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cost/calibration_file.hpp"
#include "common/diagnostics.hpp"
#include "scenario/parse.hpp"

using namespace hcpsim;

TEST_CASE("a scenario with calibration uses its tables and names them", "[calibrate]") {
  const auto dir = std::filesystem::temp_directory_path() / "hcpsim_test_calibration";
  std::filesystem::create_directories(dir);
  // GEMM at a flat 40% of peak, memory at 50% of HBM bandwidth; attention left at defaults.
  nlohmann::json cal = {{"format", "hcpsim-calibration/1"},
                        {"gpu", "NVIDIA H200"},
                        {"parameters",
                         {{"gemm", {{"points", {{1e9, 0.4}}}}}, {"memory_efficiency", {{"value", 0.5}}}}}};
  std::ofstream(dir / "cal.json") << cal.dump();

  std::ifstream in(HCPSIM_SOURCE_DIR "/scenarios/seed-c-p2p.json");
  nlohmann::json sc = nlohmann::json::parse(in);
  sc["calibration"] = "cal.json";  // relative to the scenario's folder
  sc["cluster"]["preset"] = "dgx-h200";  // the calibration's GPU
  ParseOptions opt;
  opt.base_dir = dir.string();
  const Scenario s = parse_scenario_text(sc.dump(), opt);
  const CostModel calibrated = cost_model_for(s);
  CHECK(calibrated.params().calibrated == std::vector<std::string>{"gemm", "memory_efficiency"});
  CHECK(calibrated.params().source.find("cal.json") != std::string::npos);
  CHECK(calibrated.params().source.find("defaults") != std::string::npos);

  Op gemm;
  gemm.kind = OpKind::Compute;
  gemm.compute_class = ComputeClass::Gemm;
  gemm.flops = 2.0 * 8192 * 8192 * 8192;
  // 1.1e12 FLOPs at 40% of the GPU's peak, exactly.
  CHECK(calibrated.compute_time_s(gemm) == Approx(gemm.flops / (0.4 * s.cluster.gpu.peak_bf16_flops_per_s)));

  sc.erase("calibration");
  const CostModel plain = cost_model_for(parse_scenario_text(sc.dump(), opt));
  CHECK(plain.params().calibrated.empty());
  CHECK(plain.compute_time_s(gemm) < calibrated.compute_time_s(gemm));

  sc["calibration"] = "missing.json";
  CHECK_THROWS_AS(cost_model_for(parse_scenario_text(sc.dump(), opt)), InputError);
  std::filesystem::remove_all(dir);
}
