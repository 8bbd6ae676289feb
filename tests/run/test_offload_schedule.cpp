// hcpsim's rule of Transformer Engine's activation-offload schedule (rules/activation_offload.hpp)
// against the schedule run on an H100 (calibrate/torch/probe_offload_schedule.py; calibrate/RESULTS.md,
// twenty-seventh run): a stack of 16 stand-in layers (one 8192^3 bf16 GEMM forward, two backward), the
// first N saving 64 or 256 MiB copied out and back as TE's cpu_offload.py orders the copies. The rule
// gets the layer's time from the stack's own pass without offloading (N = 0: the clock the GPU holds
// through a pass) and the copies' measured times; each pass's time is then that pass plus the rule's
// waits. Where the GPU waits long for copies its clock recovers and its GEMMs run faster than in the
// busy pass, which the rule does not know: it reads those passes up to 8 % slow.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

#include "rules/activation_offload.hpp"
#include "../common/json_file.hpp"

TEST_CASE("offload rule against the schedule run on an H100: each pass within 10 %", "[rules]") {
  const nlohmann::json d =
      hcpsim::test::read_json_file(HCPSIM_SOURCE_DIR "/calibrate/results/h100-v43-offload-schedule/offload-schedule.json");
  int compared = 0;
  for (const nlohmann::json& r : d["records"]) {
    const int64_t n = r["offloaded"].get<int64_t>();
    if (n == 0) continue;
    const nlohmann::json* base = nullptr;
    for (const nlohmann::json& b : d["records"])
      if (b["offloaded"].get<int64_t>() == 0 && b["saved_bytes"] == r["saved_bytes"]) base = &b;
    REQUIRE(base);
    CHECK(r["wrong"].get<int64_t>() == 0);  // every reload brought back what went out
    const int64_t layers = r["layers"].get<int64_t>();
    const double f = (*base)["forward_pass_s"].get<double>() / double(layers);
    const double b = (*base)["backward_pass_s"].get<double>() / double(layers);
    const double fwd = (*base)["forward_pass_s"].get<double>() +
                       hcpsim::rules::offload_stalls(layers, n, f, b, r["copy_out_s"].get<double>()).forward_s;
    const double bwd = (*base)["backward_pass_s"].get<double>() +
                       hcpsim::rules::offload_stalls(layers, n, f, b, r["copy_back_s"].get<double>()).backward_s;
    CAPTURE(n, r["saved_bytes"].get<double>(), fwd, bwd);
    CHECK(std::abs(fwd / r["forward_pass_s"].get<double>() - 1) <= 0.10);
    CHECK(std::abs(bwd / r["backward_pass_s"].get<double>() - 1) <= 0.10);
    ++compared;
  }
  CHECK(compared == 6);
}
