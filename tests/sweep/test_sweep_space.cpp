// The sweep's candidates for the seed cluster (Llama-3.1-8B, 128K, 4 x DGX-H100):
// the default space counted in closed form, the seed options A, B and C among
// them as the very scenarios of scenarios/seed-*.json, and every rejected
// candidate carrying the validator's rule.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "memory/estimate.hpp"
#include "scenario/parse.hpp"
#include "scenario/scenario_json.hpp"
#include "sweep/space.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

const std::string kSeedA = std::string(HCPSIM_SOURCE_DIR) + "/scenarios/seed-a-hcp.json";

json read_json(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

ParseOptions options_for(const std::string& path) {
  ParseOptions o;
  o.base_dir = std::string(HCPSIM_SOURCE_DIR) + "/scenarios";
  o.source_name = path;
  return o;
}

SweepSpace seed_space(const SweepSpec& spec = {}) {
  return enumerate_sweep(read_json(kSeedA), load_scenario_file(kSeedA), spec, options_for(kSeedA));
}

const SweepCandidate* find(const SweepSpace& s, const std::string& key) {
  for (const auto& c : s.candidates)
    if (c.key == key) return &c;
  return nullptr;
}

// The configuration a scenario resolves to, without its name.
json config_of(const Scenario& sc) {
  json j = scenario_to_json(sc);
  j.erase("name");
  return j;
}

}  // namespace

TEST_CASE("sweep defaults: TP divides the node and the heads, CP powers of two, HCP splits", "[sweep]") {
  const Scenario base = load_scenario_file(kSeedA);
  CHECK(default_tp_sizes(base) == std::vector<int64_t>{1, 2, 4, 8});       // 8 GPUs per node, 32 heads
  CHECK(default_cp_sizes(base, 1) == std::vector<int64_t>{1, 2, 4, 8, 16, 32});  // 32 GPUs
  CHECK(default_cp_sizes(base, 8) == std::vector<int64_t>{1, 2, 4});
  CHECK(default_hcp_splits(16) == std::vector<std::vector<int64_t>>{{2, 8}, {4, 4}, {8, 2}});
  CHECK(default_hcp_splits(2).empty());
  Scenario odd = base;
  odd.model.num_attention_heads = 12;
  CHECK(default_tp_sizes(odd) == std::vector<int64_t>{1, 2, 4});
}

TEST_CASE("sweep of the seed cluster: the whole default space, nothing dropped", "[sweep]") {
  const SweepSpace s = seed_space();
  // Layouts in closed form: per TP, CP = 1 is one candidate; each CP >= 2 gives
  // p2p, all_gather, a2a and one a2a+p2p per split [A, CP/A], 1 < A < CP.
  int64_t layouts = 0;
  for (int64_t tp : {1, 2, 4, 8})
    for (int64_t cp = 1; tp * cp <= 32; cp *= 2) layouts += cp == 1 ? 1 : 3 + static_cast<int64_t>(default_hcp_splits(cp).size());
  CHECK(layouts == 66);
  // Default recompute: none, selective and full, three candidates per layout and micro batch.
  // Default micro batch (the seed gives a global batch of 8): 1, and each larger power of two m
  // that splits it over DP (8 % (m x DP) == 0, DP = 32 / (TP x CP)) while some recompute setting
  // fits, checked here on the micro-batch-1 scenario with estimate_memory directly.
  int64_t at_mbs1 = 0, expected_more = 0, rejected = 0;
  std::set<std::string> keys;
  for (const auto& c : s.candidates) {
    keys.insert(c.key);
    if (c.key.find("-mbs1-") != std::string::npos) ++at_mbs1;
    if (c.key.ends_with("-mbs1-none") && c.scenario) {
      const int64_t dp = 32 / (c.scenario->parallel.tensor_model_parallel_size * c.scenario->parallel.context_parallel_size);
      for (int64_t m = 2; m * dp <= 8; m *= 2) {
        if (8 % (m * dp) != 0) continue;
        bool fits = false;
        for (RecomputeGranularity r : kRecomputeGranularities) {
          Scenario sc = *c.scenario;
          sc.training.micro_batch_size = m;
          sc.training.recompute_granularity = r;
          fits = fits || estimate_memory(sc).fits;
        }
        if (!fits) break;
        expected_more += 3;
      }
    }
    if (!c.scenario) {
      ++rejected;
      CHECK_FALSE(c.rejected.empty());
      for (const auto& d : c.rejected) CHECK_FALSE(d.rule.empty());
    }
  }
  CHECK(keys.size() == s.candidates.size());  // keys are unique
  CHECK(at_mbs1 == 3 * layouts);
  CHECK(static_cast<int64_t>(s.candidates.size()) == 3 * layouts + expected_more);
  CHECK(rejected > 0);
  for (size_t i = 0; i < s.candidates.size(); ++i) CHECK(s.candidates[i].index == static_cast<int>(i));
}

TEST_CASE("sweep of the seed cluster holds options A, B and C as their scenario files", "[sweep]") {
  const SweepSpace s = seed_space();
  const struct {
    const char* key;
    const char* file;
    const char* label;
  } seeds[] = {{"tp1-cp16-a2a+p2p-8x2-mbs1-none", "seed-a-hcp.json", "TP1 + a2a+p2p CP16 [8,2]"},
               {"tp2-cp4-a2a-mbs1-none", "seed-b-tp2-a2a.json", "TP2 + a2a CP4"},
               {"tp1-cp16-p2p-mbs1-none", "seed-c-p2p.json", "TP1 + p2p CP16"}};
  for (const auto& seed : seeds) {
    INFO(seed.key);
    const SweepCandidate* c = find(s, seed.key);
    REQUIRE(c);
    REQUIRE(c->scenario);
    CHECK(c->label == seed.label);
    const Scenario file = load_scenario_file(std::string(HCPSIM_SOURCE_DIR) + "/scenarios/" + seed.file);
    CHECK(config_of(*c->scenario) == config_of(file));
  }
  // Full recompute variants exist for the seed options (none of them fits at 128K without).
  CHECK(find(s, "tp2-cp4-a2a-mbs1-full"));
  CHECK(find(s, "tp1-cp16-a2a+p2p-8x2-mbs1-full"));
}

TEST_CASE("sweep: rejected candidates keep the validator's rule", "[sweep]") {
  const SweepSpace s = seed_space();
  // a2a over CP16 with TP1: 8 KV heads cannot be split 16 ways.
  const SweepCandidate* a2a16 = find(s, "tp1-cp16-a2a-mbs1-none");
  REQUIRE(a2a16);
  CHECK_FALSE(a2a16->scenario);
  bool kv_rule = false;
  for (const auto& d : a2a16->rejected) kv_rule |= d.rule == "a2a needs (num_query_groups/TP) % CP == 0";
  CHECK(kv_rule);
  // TP1 CP2: DP 16 does not divide the global batch of 8.
  const SweepCandidate* cp2 = find(s, "tp1-cp2-p2p-mbs1-none");
  REQUIRE(cp2);
  REQUIRE_FALSE(cp2->scenario);
  CHECK(cp2->rejected[0].rule == "global_batch_size % (micro_batch_size * DP) == 0");
}

TEST_CASE("sweep bounds narrow the space, and the digest tells sweeps apart", "[sweep]") {
  SweepSpec spec;
  spec.tp = std::vector<int64_t>{2};
  spec.cp = std::vector<int64_t>{4};
  spec.comm_types = std::vector<CpCommType>{CpCommType::A2A, CpCommType::P2P};
  spec.recompute = {RecomputeGranularity::None, RecomputeGranularity::Full};
  spec.recompute_lightest_fitting = false;
  spec.micro_batch_sizes = std::vector<int64_t>{1};
  const SweepSpace s = seed_space(spec);
  REQUIRE(s.candidates.size() == 4);
  CHECK(s.candidates[0].key == "tp2-cp4-a2a-mbs1-none");
  CHECK(s.candidates[1].key == "tp2-cp4-a2a-mbs1-full");
  CHECK(s.candidates[2].key == "tp2-cp4-p2p-mbs1-none");
  CHECK(s.candidates[1].label == "TP2 + a2a CP4 + full recompute");
  CHECK(s.candidates[0].input["parallel"]["sequence_parallel"] == true);
  CHECK_FALSE(s.candidates[0].input.contains("sweep"));
  CHECK(s.digest == seed_space(spec).digest);
  CHECK(s.digest != seed_space().digest);
}
