// A simulated result survives its trip through JSON (the form in which it leaves the child
// process that simulated it, and the file `hcpsim merge` reads) unchanged, field for field.
#include <catch2/catch.hpp>

#include "common/diagnostics.hpp"
#include "run/result_json.hpp"
#include "run/simulate.hpp"
#include "scenario/parse.hpp"

using namespace hcpsim;

namespace {

// Whether reading `j` at `where` fails with an error at `path`.
bool error_at(const nlohmann::json& j, const std::string& where, const std::string& path) {
  try {
    (void)result_from_json(j, where);
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics())
      if (d.path == path) return true;
  }
  return false;
}

}  // namespace

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
  CHECK(error_at(j, "candidates[7].result", "candidates[7].result.attention.exposed_comm_s"));
}

namespace {

// A hand-made result on the 16-stage scenario (parsed, not simulated): each stage's buckets, the
// first stage's several in chunk 0, the others one.
SimulationResult pipelined_result() {
  SimulationResult r;
  r.scenario = load_scenario_file(std::string(HCPSIM_SOURCE_DIR) + "/scenarios/llama405b-128k-tp8-cp16-pp16.json");
  REQUIRE(r.scenario.parallel.pipeline_model_parallel_size == 16);
  StepMetrics m;
  m.time_s = 24;
  m.tokens_per_s_per_gpu = 1000;  // any positive figures: a step's are read back only when > 0
  m.tokens_per_s = 2048 * m.tokens_per_s_per_gpu;
  m.inputs.layers = 126;
  m.inputs.microbatches = 16;
  m.inputs.pipeline = r.scenario.parallel.pipeline();
  for (int s = 0; s < 16; ++s) {
    StageInputs st;
    st.chunk_layers = {8};
    st.forward_launches = {100};
    st.backward_launches = {150};
    if (s == 0) st.dp_buckets = {{0, 0.25, 0.75, 0.01, 0.02}, {0, 1, 0, 0.03, 0.04}};
    else st.dp_buckets = {{0, 1, 0, 0.05 + s, 0.06 + s}};
    m.inputs.stages.push_back(st);
  }
  r.step = m;
  return r;
}

}  // namespace

TEST_CASE("result JSON: a pipelined step's stages and their DP buckets read back", "[run]") {
  // Each stage's buckets come back field for field; a bucket naming a chunk the stage does not
  // have is an error at its path.
  const SimulationResult r = pipelined_result();
  const StepMetrics& m = *r.step;
  const nlohmann::json j = result_to_json(r);
  CHECK(j["step"]["pipeline"]["per_stage"][0]["grad_buckets"] == 2);
  CHECK(j["step"]["grad_reduce_s"] == Approx(0.05 + 15));  // the longest stage's, stage 15's one bucket
  const SimulationResult back = result_from_json(nlohmann::json::parse(j.dump()), "result");
  REQUIRE(back.step);
  for (int s = 0; s < 16; ++s) CHECK(back.step->inputs.stages.at(size_t(s)).dp_buckets == m.inputs.stages[size_t(s)].dp_buckets);
  nlohmann::json bad = j;
  bad["step"]["pipeline"]["per_stage"][3]["dp_buckets"][0]["chunk"] = 1;
  CHECK(error_at(bad, "result", "result.step.pipeline.per_stage[3].dp_buckets[0].chunk"));
}

TEST_CASE("result JSON: the step says what MFU is of, the peak of its GEMMs' precision", "[run]") {
  // A hand-made step on the GB200 scenario (parsed, not simulated): MFU = model FLOPs / (time x GPUs
  // x peak), the peak being the GEMMs' precision's per GPU: bf16 2.5, fp8 5, fp4 10 PFLOP/s dense.
  SimulationResult r;
  r.scenario = load_scenario_file(std::string(HCPSIM_SOURCE_DIR) + "/scenarios/gb200-nvl72-a2a72.json");
  StepMetrics m;
  m.time_s = 2;
  m.tokens_per_s_per_gpu = 1000;  // any positive figures: a step's are read back only when > 0
  m.tokens_per_s = 72 * m.tokens_per_s_per_gpu;
  m.model_flops = 1e18;
  r.step = m;
  for (const auto& [precision, peak] :
       {std::pair{Precision::BF16, 2.5e15}, std::pair{Precision::FP8, 5e15}, std::pair{Precision::NVFP4, 10e15}}) {
    r.scenario.training.precision = precision;
    const nlohmann::json j = result_to_json(r);
    CHECK(j.at("step").at("mfu_peak_flops_per_s").get<double>() == Approx(peak));
  }
}

TEST_CASE("result JSON: a step that is missing is the one error, not its band's key", "[run]") {
  // "step" is null where only a layer was simulated, so an absent one is a damaged file: the error
  // is at the step alone, and the band's step_time_s is not called unknown beside it.
  nlohmann::json j = result_to_json(pipelined_result());
  REQUIRE(j["uncertainty"].contains("step_time_s"));
  j.erase("step");
  std::vector<std::string> paths;
  try {
    (void)result_from_json(j, "f.json: candidates[2].result");
  } catch (const InputError& e) {
    for (const auto& d : e.diagnostics()) paths.push_back(d.path);
  }
  CHECK(paths == std::vector<std::string>{"f.json: candidates[2].result.step"});
}
