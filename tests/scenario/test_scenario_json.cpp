// The resolved-scenario echo of hcpsim's JSON reads back to the same Scenario, so a result
// that crossed a process or a file still knows exactly what it simulated.
#include <catch2/catch.hpp>
#include <filesystem>

#include "common/diagnostics.hpp"
#include "scenario/parse.hpp"
#include "scenario/scenario_json.hpp"

using namespace hcpsim;

TEST_CASE("scenario echo: every shipped scenario reads back equal", "[scenario]") {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::string(HCPSIM_SOURCE_DIR) + "/scenarios")) {
    if (e.path().extension() != ".json") continue;
    const Scenario s = load_scenario_file(e.path().string());
    INFO(e.path().string());
    CHECK(scenario_from_json(scenario_to_json(s), "scenario") == s);
    ++n;
  }
  CHECK(n >= 7);
}

TEST_CASE("scenario echo: Megatron's DP overlap switches, read from a scenario and echoed where off", "[scenario]") {
  Scenario s = load_scenario_file(std::string(HCPSIM_SOURCE_DIR) + "/scenarios/seed-a-hcp.json");
  CHECK(s.parallel.overlap_grad_reduce);  // on, as NeMo's and Megatron-Bridge's recipes set them
  CHECK(s.parallel.overlap_param_gather);
  CHECK_FALSE(scenario_to_json(s)["parallel"].contains("overlap_grad_reduce"));
  nlohmann::json doc = nlohmann::json::parse(R"({"model": {"preset": "llama3.1-8b"},
    "training": {"seq_length": 8192, "global_batch_size": 8},
    "parallel": {"overlap_grad_reduce": false, "overlap_param_gather": false},
    "cluster": {"preset": "dgx-h100", "num_nodes": 1}})");
  const Scenario off = parse_scenario_text(doc.dump(), ParseOptions{});
  CHECK_FALSE(off.parallel.overlap_grad_reduce);
  CHECK_FALSE(off.parallel.overlap_param_gather);
  CHECK(scenario_from_json(scenario_to_json(off), "scenario") == off);
  // Unset, the gather's overlap follows the reduce's (Megatron asserts the gather's only beside it),
  // and the echo says it is off.
  doc["parallel"].erase("overlap_param_gather");
  const Scenario follows = parse_scenario_text(doc.dump(), ParseOptions{});
  CHECK_FALSE(follows.parallel.overlap_param_gather);
  CHECK(scenario_to_json(follows)["parallel"]["overlap_param_gather"] == false);
  // and the distributed optimizer's: without it there is no gather to overlap.
  doc["parallel"] = {{"use_distributed_optimizer", false}};
  CHECK_FALSE(parse_scenario_text(doc.dump(), ParseOptions{}).parallel.overlap_param_gather);
}

TEST_CASE("scenario echo: a broken echo names the field", "[scenario]") {
  const Scenario s = load_scenario_file(std::string(HCPSIM_SOURCE_DIR) + "/scenarios/seed-a-hcp.json");
  nlohmann::json j = scenario_to_json(s);
  j["training"]["precision"] = "fp7";
  j["cluster"]["gpu"].erase("memory_bytes");
  try {
    (void)scenario_from_json(j, "rows[2].result.scenario");
    FAIL("no error");
  } catch (const InputError& e) {
    std::vector<std::string> paths;
    for (const auto& d : e.diagnostics()) paths.push_back(d.path);
    CHECK(std::count(paths.begin(), paths.end(), "rows[2].result.scenario.training.precision") == 1);
  }
}

TEST_CASE("packed documents: one group per length in order of first appearance, every sequence of the micro batch counted, and the echo reads back",
          "[scenario]") {
  // [4096, 2048, 4096, 1024] in each of 2 sequences: 4096 four times, 2048 twice, 1024 twice.
  TrainingSpec t;
  t.seq_length = 11264;
  t.micro_batch_size = 2;
  t.document_lengths = {4096, 2048, 4096, 1024};
  using G = TrainingSpec::SequenceGroup;
  CHECK(t.attention_sequences() == std::vector<G>{{4, 4096}, {2, 2048}, {2, 1024}});
  CHECK(t.documents_text() == "4 documents of 1024 to 4096 tokens");
  CHECK(t.unequal_documents());
  // One length: the batch of documents; none: the micro batch's sequences.
  TrainingSpec one = t;
  one.document_lengths.clear();
  one.document_length = 5632;
  CHECK(one.attention_sequences() == std::vector<G>{{4, 5632}});
  CHECK(one.documents_text() == "2 documents of 5632 tokens");
  one.document_length = 0;
  CHECK(one.attention_sequences() == std::vector<G>{{2, 11264}});
  CHECK_FALSE(one.packed_documents());
  Scenario s = load_scenario_file(std::string(HCPSIM_SOURCE_DIR) + "/scenarios/seed-c-p2p.json");
  s.training.document_lengths = {65536, 32768, 32768};
  CHECK(scenario_from_json(scenario_to_json(s), "scenario") == s);
}
