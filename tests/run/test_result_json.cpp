// A simulated result survives its trip through JSON (the form in which it leaves the child
// process that simulated it, and the file `hcpsim merge` reads) unchanged, field for field.
#include <catch2/catch.hpp>

#include "common/diagnostics.hpp"
#include "run/result_json.hpp"
#include "run/simulate.hpp"
#include "scenario/parse.hpp"

using namespace hcpsim;

TEST_CASE("result JSON: a simulated step reads back equal", "[run][simgrid]") {
  const SimulationResult r = simulate_scenario(load_scenario_file(std::string(HCPSIM_SOURCE_DIR) + "/scenarios/seed-b-tp2-a2a.json"));
  REQUIRE(r.step);
  REQUIRE(r.wall_s);
  const SimulationResult back = result_from_json(nlohmann::json::parse(result_to_json(r).dump()), "result");
  CHECK(back == r);
  REQUIRE_FALSE(r.step->inputs.stages.at(0).dp_buckets.empty());
  CHECK(back.step->inputs.stages.at(0).dp_buckets == r.step->inputs.stages.at(0).dp_buckets);
  CHECK(back.memory.phases.size() == 4);
}

TEST_CASE("result JSON: a missing field is named", "[run]") {
  SimulationResult r;
  r.scenario.name = "x";
  nlohmann::json j = result_to_json(r);
  j["attention"].erase("exposed_comm_s");
  try {
    (void)result_from_json(j, "candidates[7].result");
    FAIL("no error");
  } catch (const InputError& e) {
    bool named = false;
    for (const auto& d : e.diagnostics()) named |= d.path == "candidates[7].result.attention.exposed_comm_s";
    CHECK(named);
  }
}
