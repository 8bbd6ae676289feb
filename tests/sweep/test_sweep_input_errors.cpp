// Issue 12, bug 1: when every candidate a sweep simulates fails on the same input error
// (here a calibration file that cannot be read), the sweep reports that error instead of
// "no option fits"; the error crosses from the simulating child with its path.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "scenario/parse.hpp"
#include "sweep/run_sweep.hpp"

using namespace hcpsim;
using nlohmann::json;

TEST_CASE("sweep: one input error in every simulation is the sweep's answer", "[sweep]") {
  const std::string seed = std::string(HCPSIM_SOURCE_DIR) + "/scenarios/seed-c-p2p.json";
  std::ifstream in(seed);
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str());
  doc["calibration"] = "no-such-calibration.json";
  ParseOptions opt;
  opt.base_dir = std::string(HCPSIM_SOURCE_DIR) + "/scenarios";
  const Scenario base = parse_scenario_text(doc.dump(), opt);  // the parser reads no calibration
  SweepSpec spec;
  spec.tp = std::vector<int64_t>{1};
  spec.cp = std::vector<int64_t>{8, 16};
  spec.pp = std::vector<int64_t>{1};
  spec.comm_types = std::vector<CpCommType>{CpCommType::P2P};
  spec.recompute = {RecomputeGranularity::None};
  spec.recompute_lightest_fitting = false;
  spec.recompute_block = false;
  const SweepSpace space = enumerate_sweep(doc, base, spec, opt);
  REQUIRE(space.candidates.size() == 2);

  SweepRunOptions ro;
  ro.jobs = 2;
  ro.simulate_unfit = true;  // recompute none does not fit the seed: simulated all the same, to reach the error
  ro.state_dir = (std::filesystem::temp_directory_path() / ("hcpsim-sweep-errors-" + std::to_string(::getpid()))).string();
  const SweepRun run = run_sweep(space, ro, SweepMeta{});
  std::filesystem::remove_all(ro.state_dir);
  REQUIRE(run.simulated == 2);
  for (const SweepRow& r : run.outcome.rows) CHECK(r.status == RowStatus::Failed);
  REQUIRE(run.common_input_error);
  REQUIRE(run.common_input_error->size() == 1);
  CHECK(run.common_input_error->front().path == "calibration");
  CHECK_THAT(run.common_input_error->front().what, Catch::Contains("no-such-calibration.json"));
}
