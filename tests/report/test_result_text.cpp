// The result's text lines a user reads beside the JSON: what MFU is of, and whose memory it is.
#include <catch2/catch.hpp>

#include "report/result_text.hpp"
#include "run/simulate.hpp"

using namespace hcpsim;

namespace {

// A result as a run fills it, by hand: no simulation, only what the lines print.
SimulationResult result_of(Precision precision, WorkloadKind workload) {
  SimulationResult r;
  r.scenario.training.precision = precision;
  r.scenario.workload = workload;
  r.scenario.cluster.gpu.peak_bf16_flops_per_s = 2500e12;  // GB200: 2.5 / 5 PFLOP/s dense
  r.scenario.cluster.gpu.peak_fp8_flops_per_s = 5000e12;
  if (workload == WorkloadKind::Step) {
    StepMetrics s;
    s.time_s = 1;
    s.mfu = 0.363;
    r.step = s;
  }
  r.memory.peak_phase = "fwd.loss";
  r.memory.fits = true;
  return r;
}

std::string line_of(const std::string& text, const std::string& head) {
  const size_t at = text.find(head);
  REQUIRE(at != std::string::npos);
  return text.substr(at, text.find('\n', at) - at);
}

}  // namespace

TEST_CASE("fp8 MFU is of the fp8 peak and says so, with the bf16 peak's figure beside it", "[report]") {
  // 36.3 % of 5000 TFLOP/s is 1815 TFLOP/s of model FLOPs: 72.6 % of the 2500 bf16 peak.
  const std::string fp8 = line_of(format_result(result_of(Precision::FP8, WorkloadKind::Step)), "step:");
  CHECK_THAT(fp8, Catch::EndsWith("MFU 36.3% of the fp8 peak (72.6% of the bf16 peak)"));
  const std::string bf16 = line_of(format_result(result_of(Precision::BF16, WorkloadKind::Step)), "step:");
  CHECK_THAT(bf16, Catch::EndsWith("MFU 36.3%"));
}

TEST_CASE("NVFP4 MFU is of the fp4 peak and says so", "[report]") {
  // 20.0 % of a GB200's 10000 TFLOP/s dense fp4 is 2000 TFLOP/s of model FLOPs: 80.0 % of its 2500 bf16 peak.
  SimulationResult r = result_of(Precision::NVFP4, WorkloadKind::Step);
  r.scenario.cluster.gpu.peak_fp4_flops_per_s = 10000e12;
  r.step->mfu = 0.2;
  CHECK_THAT(line_of(format_result(r), "step:"), Catch::EndsWith("MFU 20.0% of the fp4 peak (80.0% of the bf16 peak)"));
}

TEST_CASE("a step that does not fit in memory says so on its step line", "[report]") {
  SimulationResult r = result_of(Precision::BF16, WorkloadKind::Step);
  CHECK(line_of(format_result(r), "step:").find("DOES NOT FIT") == std::string::npos);
  r.memory.fits = false;
  CHECK_THAT(line_of(format_result(r), "step:"), Catch::EndsWith("(DOES NOT FIT in GPU memory: see memory)"));
}

TEST_CASE("the memory line of a layer or attention workload says the estimate is the whole step's", "[report]") {
  const std::string step = line_of(format_result(result_of(Precision::BF16, WorkloadKind::Step)), "memory:");
  CHECK(step.find("whole training step") == std::string::npos);
  for (const WorkloadKind w : {WorkloadKind::Layer, WorkloadKind::Attention}) {
    const std::string m = line_of(format_result(result_of(Precision::BF16, w)), "memory:");
    CHECK_THAT(m, Catch::Contains("(the whole training step's"));
  }
}
