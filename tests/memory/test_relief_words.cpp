// memory_relief_words names only levers a scenario may pull. Checked against the validator, not
// against the function's own conditions: for each base scenario, every lever it names is pulled in
// the scenario's JSON (recompute full, Megatron-FSDP on, one layer offloaded; PP set to 1 where it
// says "with PP 1 instead") and the result must validate; every lever it leaves out that the
// scenario has not pulled yet must be one the validator rejects (or one already at its limit).
#include <catch2/catch.hpp>
#include <functional>
#include <nlohmann/json.hpp>

#include "memory/relief_words.hpp"
#include "tests/scenario/parse_outcome.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

// Llama-3.1-8B at 16K on 2 x DGX-B200 (Blackwell, so MXFP8 and NVFP4 are valid), TP2, CP2.
json base() {
  return json::parse(R"({
    "name": "relief",
    "model": {"preset": "llama3.1-8b"},
    "training": {"seq_length": 16384, "micro_batch_size": 1, "global_batch_size": 8},
    "parallel": {"tensor_model_parallel_size": 2, "context_parallel_size": 2, "cp_comm_type": "p2p"},
    "cluster": {"preset": "dgx-b200", "num_nodes": 2},
    "software": {"transformer_engine_version": "2.18.0"}
  })");
}

// The advice for the scenario `j` describes (valid).
std::string advice(const json& j) {
  const test::Outcome o = test::parse(j);
  REQUIRE(o.valid);
  return memory_relief_words(&o.scenario);
}

bool names(const std::string& words, const std::string& part) { return words.find(part) != std::string::npos; }

struct Lever {
  const char* key;                    // the field the advice names
  std::function<void(json&)> pull;    // the lever, pulled once
};

const std::vector<Lever>& levers() {
  static const std::vector<Lever> all = {
      // "add recompute": selective, which Megatron takes wherever it takes full (not under per-layer graphs)
      {"training.recompute_granularity", [](json& j) { j["training"]["recompute_granularity"] = "selective"; }},
      {"parallel.use_megatron_fsdp", [](json& j) { j["parallel"]["use_megatron_fsdp"] = true; }},
      {"training.cpu_offloading_num_layers", [](json& j) { j["training"]["cpu_offloading_num_layers"] = 1; }},
      // "recompute more": full, every layer on its own
      {"recompute more", [](json& j) {
         j["training"]["recompute_granularity"] = "full";
         j["training"]["recompute_method"] = "uniform";
         j["training"]["recompute_num_layers"] = 1;
       }},
      // "raise TP, CP or PP": PP 2 (the lever's PP part; TP and CP are limited by the heads and GPUs alike)
      {"CP or PP", [](json& j) { j["parallel"]["pipeline_model_parallel_size"] = 2; }},
  };
  return all;
}

void check_levers(const json& scenario_json) {
  const test::Outcome o = test::parse(scenario_json);
  REQUIRE(o.valid);
  const std::string words = memory_relief_words(&o.scenario);
  INFO(scenario_json.dump() << "\n  advice: " << words);
  CHECK((names(words, "raise TP, CP or PP") || names(words, "raise TP or CP,")));
  CHECK(names(words, "use GPUs with more memory"));
  for (const Lever& l : levers()) {
    json pulled = scenario_json;
    l.pull(pulled);
    if (names(words, std::string(l.key) + ", with PP 1 instead"))
      pulled["parallel"]["pipeline_model_parallel_size"] = 1;
    const test::Outcome after = test::parse(pulled);
    INFO(l.key << " pulled: " << test::describe(after));
    if (names(words, l.key)) {
      CHECK(after.valid);
    } else {
      // e.g. full recompute already on; any recompute on is "add recompute" pulled
      const bool already = pulled == scenario_json ||
                           (l.key == std::string("training.recompute_granularity") &&
                            scenario_json["training"].value("recompute_granularity", "none") != "none");
      // Recompute is named by "recompute more" where some is on; offloading by "offload more" where on.
      const std::string key = l.key;
      const TrainingSpec& t = o.scenario.training;
      const bool recompute_at_most = t.full_recompute() && t.recompute_method == RecomputeMethod::Uniform &&
                                     t.recompute_num_layers == 1;
      const bool deeper = (key == "training.recompute_granularity" && names(words, "recompute more")) ||
                          (key == "recompute more" && (names(words, "add recompute") || recompute_at_most)) ||
                          (key == "training.cpu_offloading_num_layers" && names(words, "offload more"));
      CHECK((already || deeper || !after.valid));
    }
  }
}

}  // namespace

TEST_CASE("memory_relief_words offers the levers the validator allows", "[memory][relief]") {
  json j = base();
  SECTION("nothing pulled: recompute, Megatron-FSDP and offloading") {
    check_levers(j);
    const std::string w = advice(j);
    CHECK(names(w, "add recompute"));
    CHECK(names(w, "parallel.use_megatron_fsdp)"));
    CHECK(names(w, "training.cpu_offloading_num_layers)"));
  }
  SECTION("selective recompute: recompute more; offloading is not allowed beside recompute") {
    j["training"]["recompute_granularity"] = "selective";
    check_levers(j);
    const std::string w = advice(j);
    CHECK(names(w, "recompute more"));
    CHECK_FALSE(names(w, "cpu_offloading_num_layers"));
  }
  SECTION("full recompute, one layer a unit: no recompute lever left") {
    j["training"]["recompute_granularity"] = "full";
    check_levers(j);
    CHECK_FALSE(names(advice(j), "recompute"));
  }
  SECTION("a pipeline: Megatron-FSDP and offloading only with PP 1") {
    j["parallel"]["pipeline_model_parallel_size"] = 2;
    check_levers(j);
    const std::string w = advice(j);
    CHECK(names(w, "parallel.use_megatron_fsdp, with PP 1 instead"));
    CHECK(names(w, "training.cpu_offloading_num_layers, with PP 1 instead"));
  }
  SECTION("per-layer CUDA graphs: no offloading, no full recompute (their rules were not the advice's own)") {
    // Megatron's offloading takes no per-layer graphs, nor full recompute (transformer_config.py):
    // offloading was offered, and the validator refused it.
    j["software"]["cuda_graph_impl"] = "local";
    check_levers(j);
    const std::string w = advice(j);
    CHECK_FALSE(names(w, "cpu_offloading_num_layers"));
    CHECK(names(w, "add recompute"));  // selective recompute is allowed
  }
  SECTION("every layer its own stage: no deeper pipeline to offer") {
    // 32 layers over PP 32 on 16 nodes (TP2 x CP2 x PP32 = 128 GPUs): no PP' > 32 splits them.
    j["parallel"]["pipeline_model_parallel_size"] = 32;
    j["cluster"]["num_nodes"] = 16;
    j["training"]["global_batch_size"] = 32;
    const std::string w = advice(j);
    CHECK(names(w, "raise TP or CP;"));
    j["parallel"]["pipeline_model_parallel_size"] = 16;  // 32 still splits them
    j["cluster"]["num_nodes"] = 8;
    CHECK(names(advice(j), "raise TP, CP or PP"));
  }
  SECTION("MXFP8: Megatron-FSDP is not offered") {
    j["training"]["precision"] = "fp8";
    j["training"]["fp8_recipe"] = "mxfp8";
    check_levers(j);
    CHECK_FALSE(names(advice(j), "megatron_fsdp"));
  }
  SECTION("overlap_grad_reduce off: Megatron-FSDP, which refuses it, is not offered") {
    j["parallel"]["overlap_grad_reduce"] = false;
    check_levers(j);
    CHECK_FALSE(names(advice(j), "megatron_fsdp"));
  }
  SECTION("NVFP4: Megatron-FSDP is not offered") {
    j["training"]["precision"] = "nvfp4";
    check_levers(j);
    CHECK_FALSE(names(advice(j), "megatron_fsdp"));
  }
  SECTION("Megatron-FSDP on and 3 of 32 layers offloaded: offload more; no recompute, no PP") {
    j["parallel"]["use_megatron_fsdp"] = true;
    j["training"]["cpu_offloading_num_layers"] = 3;
    check_levers(j);
    const std::string w = advice(j);
    CHECK(names(w, "offload more layers"));
    CHECK_FALSE(names(w, "megatron_fsdp"));
    CHECK_FALSE(names(w, "recompute"));
    CHECK(names(w, "raise TP or CP,"));
  }
  SECTION("3 layers offloaded, no Megatron-FSDP: neither recompute more nor PP") {
    j["training"]["cpu_offloading_num_layers"] = 3;
    check_levers(j);
    const std::string w = advice(j);
    CHECK_FALSE(names(w, "recompute"));
    CHECK(names(w, "raise TP or CP,"));
  }
}

TEST_CASE("memory_relief_words without a scenario names every lever with its conditions", "[memory][relief]") {
  CHECK(memory_relief_words(nullptr) ==
        "add recompute (training.recompute_granularity); raise TP, CP or PP; shard with Megatron-FSDP "
        "(parallel.use_megatron_fsdp, with PP 1, not under MXFP8 or NVFP4); offload activations to the host (training.cpu_offloading_num_layers, "
        "with PP 1 and without recompute); or use GPUs with more memory");
}
