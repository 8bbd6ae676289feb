// recommend(): the fastest fitting option; a tie (within 2 % here: no band components, so the
// ratio band is 0) goes to the roomier; a pick whose headroom is below the caching allocator's
// margin is said to be one that may run out, with the fastest option that leaves the margin.
#include <catch2/catch.hpp>

#include "scenario/parse.hpp"
#include "sweep/choose.hpp"

using namespace hcpsim;

namespace {

// The scenario every row ran (seed option C), whose levers the advice asks the validator about.
const Scenario& seed_c() {
  static const Scenario sc = load_scenario_file(std::string(HCPSIM_SOURCE_DIR) + "/scenarios/seed-c-p2p.json");
  return sc;
}

// A fitting row of `tps` tokens/s per GPU, `headroom_gb` of headroom and a 4.2 GB largest allocation
// (a 1.09 x 4.2 = 4.578 GB allocator margin).
StudyRow study_row(const std::string& label, double tps, double headroom_gb) {
  StudyRow r;
  r.label = label;
  r.result.scenario = seed_c();
  StepMetrics s;
  s.tokens_per_s_per_gpu = tps;
  r.result.step = s;
  r.result.memory.headroom_bytes = r.result.memory.allocator_stage_headroom_bytes = headroom_gb * 1e9;
  r.result.memory.fits = headroom_gb >= 0;
  r.result.memory.largest_allocation = "the loss's fp32 logits";
  r.result.memory.largest_allocation_bytes = 4.2e9;
  r.result.memory.allocator_margin_bytes = 1.09 * 4.2e9;
  r.result.memory.within_allocator_margin = r.result.memory.fits && headroom_gb < 1.09 * 4.2;
  return r;
}

}  // namespace

TEST_CASE("recommend: fastest fitting, a tie to the roomier, a pick within the allocator's margin said so", "[sweep]") {
  std::string why;
  // C is fastest but does not fit; A (1000) and B (990, 1 % below: a tie) fit; B has more room.
  CHECK(recommend({study_row("A", 1000, 10), study_row("B", 990, 30), study_row("C", 2000, -1)}, why) == 1);
  CHECK_THAT(why, Catch::StartsWith("B ties with A: 1.0% below it"));
  CHECK(why.find("may run out") == std::string::npos);
  // 5 % apart is no tie: A, though within the margin (0.4 GB < 4.58), is the pick, and B is named
  // as the fastest option that leaves the margin, at 950 / 1000 = 95.0 % of its throughput.
  CHECK(recommend({study_row("A", 1000, 0.4), study_row("B", 950, 30), study_row("D", 900, 40)}, why) == 0);
  CHECK_THAT(why, Catch::Contains("Its 0.4 GB of headroom is less than the allocator's margin, 4.6 GB: 1.09x the "
                                  "step's largest allocation (the loss's fp32 logits, 4.2 GB) with PyTorch's default "
                                  "caching allocator; the need beyond a step's allocations measured 0.12-2.34x that "
                                  "allocation in 19 settings. It may run out: set "
                                  "PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True (software.expandable_segments: a "
                                  "margin of 0.27 GB); or free memory: add recompute"));
  CHECK_THAT(why, Catch::Contains(" B leaves the margin at 95.0% of its throughput (30.0 GB headroom)."));
  // The others listed in the ranking's terms; none is within the margin.
  CHECK_THAT(why, Catch::Contains("\n  B: 95.0% of its throughput, 29.6 GB more headroom."));
  recommend({study_row("A", 1000, 30), study_row("B", 1010, 1)}, why);  // B: 1 % faster, a tie, within the margin
  CHECK_THAT(why, Catch::Contains("\n  B: 101.0% of its throughput, 29.0 GB less headroom, less than the allocator's margin."));
  // None leaves the margin: the warning alone.
  CHECK(recommend({study_row("A", 1000, 0.4), study_row("B", 950, 1.0)}, why) == 0);
  CHECK_THAT(why, Catch::Contains("It may run out"));
  CHECK(why.find("leaves the margin") == std::string::npos);
}
