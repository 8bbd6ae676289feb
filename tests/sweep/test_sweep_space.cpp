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
#include "../common/json_file.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

const std::string kSeedA = std::string(HCPSIM_SOURCE_DIR) + "/scenarios/seed-a-hcp.json";


ParseOptions options_for(const std::string& path) {
  ParseOptions o;
  o.base_dir = std::string(HCPSIM_SOURCE_DIR) + "/scenarios";
  o.source_name = path;
  return o;
}

SweepSpace seed_space(const SweepSpec& spec = {}) {
  return enumerate_sweep(test::read_json_file(kSeedA), load_scenario_file(kSeedA), spec, options_for(kSeedA));
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

// The counts N (1 to all but one layer of its largest model chunk) under which `s` fits with N
// layers of each chunk recomputed by block, each tried on its own; `spare`: those of them that
// leave the caching allocator's margin.
std::vector<int64_t> block_counts_that_fit(Scenario s, std::vector<int64_t>* spare = nullptr) {
  const int64_t most = pipeline_split(s.parallel.pipeline(), s.model.num_layers).largest_chunk_layers();
  s.training.recompute_granularity = RecomputeGranularity::Full;
  s.training.recompute_method = RecomputeMethod::Block;
  std::vector<int64_t> fit;
  for (int64_t n = 1; n < most; ++n) {
    s.training.recompute_num_layers = n;
    const MemoryEstimate m = estimate_memory(s);
    if (m.fits) fit.push_back(n);
    if (spare && m.fits && !m.within_allocator_margin) spare->push_back(n);
  }
  return fit;
}

}  // namespace

TEST_CASE("sweep defaults: TP divides the node and the heads, PP the GPUs left and the layers, CP powers of two, HCP splits", "[sweep]") {
  const Scenario base = load_scenario_file(kSeedA);
  CHECK(default_tp_sizes(base) == std::vector<int64_t>{1, 2, 4, 8});       // 8 GPUs per node, 32 heads
  CHECK(default_cp_sizes(base, 1, 1) == std::vector<int64_t>{1, 2, 4, 8, 16, 32});  // 32 GPUs
  CHECK(default_cp_sizes(base, 8, 1) == std::vector<int64_t>{1, 2, 4});
  CHECK(default_cp_sizes(base, 8, 2) == std::vector<int64_t>{1, 2});
  // PP: depths up to 16 that divide the 32 layers and the GPUs TP leaves (here powers of two).
  CHECK(default_pp_sizes(base, 1) == std::vector<int64_t>{1, 2, 4, 8, 16});
  CHECK(default_pp_sizes(base, 8) == std::vector<int64_t>{1, 2, 4});
  Scenario odd_layers = base;
  odd_layers.model.num_layers = 30;  // 30 = 2 x 15
  CHECK(default_pp_sizes(odd_layers, 1) == std::vector<int64_t>{1, 2});
  odd_layers.parallel.account_for_embedding_in_pipeline_split = true;  // 31 slots
  odd_layers.parallel.account_for_loss_in_pipeline_split = true;       // 32 slots (PP 1 has no split: dropped)
  CHECK(default_pp_sizes(odd_layers, 1) == std::vector<int64_t>{1, 2, 4, 8, 16});
  // A cluster of 144 GPUs (two GB200 NVL72 racks' worth) and 126 layers (Llama 3.1 405B's): every
  // depth up to 16 that divides both, 144 / TP GPUs and 126 layers: 126 = 2 x 3^2 x 7, 144 / 8 = 18
  // = 2 x 3^2, so 1, 2, 3, 6 and 9 (PP 9 is what runs on all 144 at TP 8 x CP 2).
  Scenario rack = base;
  rack.cluster.num_nodes = 18;
  rack.model.num_layers = 126;
  CHECK(default_pp_sizes(rack, 8) == std::vector<int64_t>{1, 2, 3, 6, 9});
  CHECK(default_pp_sizes(rack, 1) == std::vector<int64_t>{1, 2, 3, 6, 9});
  // Virtual stages: 2 where PP > 2 and the stage's layers split in two.
  CHECK(default_vpp_sizes(base, 1) == std::vector<int64_t>{1});
  // PP 2 interleaves too: Megatron's default overlap_p2p_comm (on with virtual stages) lifts its
  // PP > 2 rule; a scenario that turns the overlap off keeps it.
  CHECK(default_vpp_sizes(base, 2) == std::vector<int64_t>{1, 2});
  Scenario blocking = base;
  blocking.parallel.overlap_p2p_comm = false;
  CHECK(default_vpp_sizes(blocking, 2) == std::vector<int64_t>{1});
  CHECK(default_vpp_sizes(blocking, 4) == std::vector<int64_t>{1, 2});
  CHECK(default_vpp_sizes(base, 4) == std::vector<int64_t>{1, 2});
  CHECK(default_vpp_sizes(base, 16) == std::vector<int64_t>{1, 2});  // 2 layers per stage
  CHECK(default_hcp_splits(16) == std::vector<std::vector<int64_t>>{{2, 8}, {4, 4}, {8, 2}});
  CHECK(default_hcp_splits(2).empty());
  Scenario odd = base;
  odd.model.num_attention_heads = 12;
  CHECK(default_tp_sizes(odd) == std::vector<int64_t>{1, 2, 4});
}

TEST_CASE("sweep of the seed cluster: the whole space with every PP listed, nothing dropped", "[sweep]") {
  SweepSpec every_pp;
  every_pp.pp = std::vector<int64_t>{1, 2, 4, 8, 16};  // listed: no twin rule (next test)
  const SweepSpace s = seed_space(every_pp);
  // Layouts in closed form: per TP and PP (PP | 32 layers, PP <= 16), CP = 1 is one candidate;
  // each CP >= 2 gives p2p, all_gather, a2a and one a2a+p2p per split [A, CP/A], 1 < A < CP;
  // each of those once per virtual-stage count (1, and 2 for every PP > 1: the 32 layers split
  // into 2 per stage; PP 2 interleaves with Megatron's default overlap_p2p_comm).
  int64_t layouts = 0;
  for (int64_t tp : {1, 2, 4, 8})
    for (int64_t pp = 1; pp <= 16 && tp * pp <= 32; pp *= 2)
      for (int64_t cp = 1; tp * cp * pp <= 32; cp *= 2)
        layouts += (cp == 1 ? 1 : 3 + static_cast<int64_t>(default_hcp_splits(cp).size())) * (pp > 1 ? 2 : 1);
  CHECK(layouts == 242);  // TP1 114, TP2 71, TP4 39, TP8 18
  // Default recompute: none, selective and full, three candidates per layout and micro batch.
  // Default micro batch (the seed gives a global batch of 8): 1, and each larger power of two m
  // that splits it over DP (8 % (m x DP) == 0, DP = 32 / (TP x CP)) while some recompute setting
  // fits, checked here on the micro-batch-1 scenario with estimate_memory directly.
  int64_t at_mbs1 = 0, expected_more = 0, rejected = 0;
  std::set<std::string> keys;
  for (const auto& c : s.candidates) {
    keys.insert(c.key);
    if (c.key.find("-mbs1-") != std::string::npos) ++at_mbs1;
    // (with PP > 1 the default micro batch is 1 alone: a larger one only raises the bubble)
    if (c.key.ends_with("-mbs1-none") && c.scenario && c.scenario->parallel.pipeline_model_parallel_size == 1) {
      const int64_t dp = 32 / (c.scenario->parallel.tensor_model_parallel_size * c.scenario->parallel.context_parallel_size *
                               c.scenario->parallel.pipeline_model_parallel_size);
      for (int64_t m = 2; m * dp <= 8; m *= 2) {
        if (8 % (m * dp) != 0) continue;
        // the interleaved schedule's micro-batch rule stops the micro batch growing too
        if (!pipeline_microbatch_problem(c.scenario->parallel.pipeline(), 8 / (m * dp)).empty()) break;
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
  // And one block candidate (the fewest layers recomputed by block that fit) per layout and micro
  // batch that does not fit without recompute but fits with some count short of every layer of a
  // chunk recomputed by block (the next test checks each one's count).
  int64_t blocks = 0, blocks_at_mbs1 = 0;
  for (const auto& c : s.candidates) {
    if (!c.key.ends_with("-none") || !c.scenario || estimate_memory(*c.scenario).fits) continue;
    if (!block_counts_that_fit(*c.scenario).empty()) {
      ++blocks;
      blocks_at_mbs1 += c.key.ends_with("-mbs1-none") ? 1 : 0;
    }
  }
  CHECK(blocks > 0);
  CHECK(keys.size() == s.candidates.size());  // keys are unique
  CHECK(at_mbs1 == 3 * layouts + blocks_at_mbs1);
  CHECK(static_cast<int64_t>(s.candidates.size()) == 3 * layouts + expected_more + blocks);
  CHECK(rejected > 0);
  for (size_t i = 0; i < s.candidates.size(); ++i) CHECK(s.candidates[i].index == static_cast<int>(i));
}

// The seed's space, from its document less the keys `drop` of "training".
static SweepSpace seed_space_without(const std::vector<std::string>& drop, const SweepSpec& spec = {}) {
  json doc = test::read_json_file(kSeedA);
  for (const std::string& k : drop) doc["training"].erase(k);
  return enumerate_sweep(doc, parse_scenario_text(doc.dump(), options_for(kSeedA)), spec, options_for(kSeedA));
}

// Fits with the caching allocator's margin to spare.
static bool roomy(const SweepCandidate* c) {
  if (c == nullptr || !c->scenario) return false;
  const MemoryEstimate m = estimate_memory(*c->scenario);
  return m.fits && !m.within_allocator_margin;
}

// The number after `tag` in a candidate's key ("-pp2v2-" gives 2 for "-pp" and for "v"; "-block3" 3
// for "-block"), or `none` where the key has no such part.
static int64_t key_number(const std::string& key, const std::string& tag, int64_t none) {
  const size_t at = key.find(tag);
  return at == std::string::npos ? none : std::stoll(key.substr(at + tag.size()));
}

// Every PP > 1 candidate of `all` (every PP listed) is in `s` (the default space) exactly where its
// PP = 1 twin does not fit with the allocator's margin to spare, or is not valid, or (recomputing by
// block) fits only recomputing a larger share of the layers: N' of L against N of each of a stage's
// vpp chunks of L / PP, so N x vpp x PP < N'. Returns how many are.
static int64_t check_pipeline_twins(const SweepSpace& all, const SweepSpace& s) {
  // The twin of "tp1-cp8-p2p-pp2v2-mbs1-none" is "tp1-cp8-p2p-mbs1-none".
  const auto twin_key = [](const std::string& key) {
    const size_t at = key.find("-pp");
    if (at == std::string::npos) return key;
    return key.substr(0, at) + key.substr(key.find("-mbs", at));
  };
  int64_t pipelined = 0, expected = 0;
  for (const SweepCandidate& c : all.candidates) {
    if (c.key.find("-pp") == std::string::npos) {
      CHECK(find(s, c.key) != nullptr);  // every PP = 1 layout stays
      continue;
    }
    bool twin_fits = roomy(find(all, twin_key(c.key)));
    // A block candidate's twin is the PP = 1 layout without recompute where it fits, else with its
    // own fewest layers by block ("-blockN" there, N counted over all its layers) where that
    // recomputes no larger a share.
    if (const size_t b = c.key.rfind("-block"); b != std::string::npos) {
      const std::string stem = twin_key(c.key.substr(0, b)) + "-";
      const std::string piped = c.key.substr(c.key.find("-pp") + 3);  // "2v2-mbs1-block3"
      const int64_t pp = std::stoll(piped), vpp = key_number(piped.substr(0, piped.find("-mbs")), "v", 1);
      const int64_t share = key_number(c.key, "-block", 0) * vpp * pp;
      twin_fits = roomy(find(all, stem + "none"));
      for (const SweepCandidate& t : all.candidates)
        twin_fits = twin_fits || (t.key.starts_with(stem + "block") && t.key.find("-pp") == std::string::npos &&
                                  roomy(&t) && key_number(t.key, "-block", 0) <= share);
    }
    INFO(c.key << " twin " << twin_key(c.key));
    CHECK((find(s, c.key) != nullptr) == !twin_fits);
    expected += twin_fits ? 0 : 1;
  }
  for (const SweepCandidate& c : s.candidates) pipelined += c.key.find("-pp") != std::string::npos ? 1 : 0;
  CHECK(pipelined == expected);
  return pipelined;
}

TEST_CASE("default space: a pipeline only where its PP = 1 twin does not fit or is not valid", "[sweep]") {
  SweepSpec every_pp;
  every_pp.pp = std::vector<int64_t>{1, 2, 4, 8, 16};
  CHECK(check_pipeline_twins(seed_space(every_pp), seed_space()) > 0);
}

TEST_CASE("default space: a pipeline recomputing fewer layers than its fitting twin is a candidate", "[sweep]") {
  // Llama-3.1-70B (80 layers) at 64K on 8 x DGX-H100, global batch 32, full recompute: TP8 CP4
  // fits without a pipeline only recomputing many layers by block; with PP2 each stage holds 40
  // layers and a few a chunk suffice. The PP2 block layout is a candidate beside the twin, and it
  // recomputes the smaller share (N x PP < N'), as the rule asks.
  const json doc = json::parse(R"({
    "name": "70b-64k", "model": {"preset": "llama3.1-70b"},
    "training": {"seq_length": 65536, "micro_batch_size": 1, "global_batch_size": 32, "recompute_granularity": "full"},
    "parallel": {"tensor_model_parallel_size": 8, "context_parallel_size": 4, "cp_comm_type": "p2p",
                 "sequence_parallel": true},
    "cluster": {"preset": "dgx-h100", "num_nodes": 8}})");
  const ParseOptions opt = options_for(kSeedA);
  const Scenario base = parse_scenario_text(doc.dump(), opt);
  const SweepSpace s = enumerate_sweep(doc, base, {}, opt);
  const SweepCandidate *twin = nullptr, *piped = nullptr;
  for (const SweepCandidate& c : s.candidates) {
    if (c.key.starts_with("tp8-cp4-p2p-mbs1-block")) twin = &c;
    if (c.key.starts_with("tp8-cp4-p2p-pp2-mbs1-block")) piped = &c;
  }
  REQUIRE(twin);
  REQUIRE(piped);
  CHECK(roomy(twin));
  CHECK(roomy(piped));
  INFO(twin->key << " against " << piped->key);
  CHECK(key_number(piped->key, "-block", 0) * 2 < key_number(twin->key, "-block", 0));
  SweepSpec every_pp;
  every_pp.pp = std::vector<int64_t>{1, 2, 4, 8, 16};
  check_pipeline_twins(enumerate_sweep(doc, base, every_pp, opt), s);
}

TEST_CASE("default space without a global batch: the same pipeline rule, and no interleaving", "[sweep]") {
  // Each layout then runs one micro batch a DP rank (micro batch x DP sequences a step): a
  // pipeline of it never fills, and no interleaved schedule takes fewer micro batches than stages.
  SweepSpec every_pp;
  every_pp.pp = std::vector<int64_t>{1, 2, 4, 8, 16};
  const SweepSpace all = seed_space_without({"global_batch_size"}, every_pp), s = seed_space_without({"global_batch_size"});
  check_pipeline_twins(all, s);
  for (const SweepCandidate& c : s.candidates) {
    INFO(c.key);
    CHECK(c.key.find("v2-") == std::string::npos);
  }
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
  spec.recompute_block = false;
  spec.recompute_lightest_fitting = false;
  spec.micro_batch_sizes = std::vector<int64_t>{1};
  spec.pp = std::vector<int64_t>{1};
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

TEST_CASE("sweep.tp_comm_overlap tries TE's TP overlap on and off where TP > 1", "[sweep]") {
  // TP 1 and 2, CP 4, a2a, no recompute, mbs 1: TP 1 has no TP collectives, so one candidate
  // (its document without the switch); TP 2 two, the overlap's with key suffix "-ub", label
  // "+ TP overlap" and the switch in its document, which validates (SP is on at TP > 1).
  SweepSpec spec;
  spec.tp = std::vector<int64_t>{1, 2};
  spec.cp = std::vector<int64_t>{4};
  spec.comm_types = std::vector<CpCommType>{CpCommType::A2A};
  spec.recompute = {RecomputeGranularity::None};
  spec.recompute_block = false;
  spec.micro_batch_sizes = std::vector<int64_t>{1};
  spec.pp = std::vector<int64_t>{1};
  spec.tp_comm_overlap = std::vector<bool>{false, true};
  const SweepSpace s = seed_space(spec);
  REQUIRE(s.candidates.size() == 3);
  CHECK(s.candidates[0].key == "tp1-cp4-a2a-mbs1-none");
  CHECK_FALSE(s.candidates[0].input["parallel"].contains("tp_comm_overlap"));
  CHECK(s.candidates[1].key == "tp2-cp4-a2a-mbs1-none");
  CHECK_FALSE(s.candidates[1].input["parallel"].contains("tp_comm_overlap"));  // as the scenario: same digest
  CHECK(s.candidates[2].key == "tp2-cp4-a2a-mbs1-none-ub");
  CHECK(s.candidates[2].label == "TP2 + a2a CP4 + TP overlap");
  REQUIRE(s.candidates[2].scenario);
  CHECK(s.candidates[2].scenario->parallel.tp_comm_overlap);
  CHECK_FALSE(s.candidates[1].scenario->parallel.tp_comm_overlap);
  CHECK(s.candidates[1].digest == seed_space([&] {
                                    SweepSpec without = spec;
                                    without.tp_comm_overlap.reset();
                                    return without;
                                  }()).candidates[1].digest);
  // Listing only the overlap keeps the TP 1 layout (nothing to overlap there), once.
  spec.tp_comm_overlap = std::vector<bool>{true};
  const SweepSpace on = seed_space(spec);
  REQUIRE(on.candidates.size() == 2);
  CHECK(on.candidates[0].key == "tp1-cp4-a2a-mbs1-none");
  CHECK(on.candidates[1].key == "tp2-cp4-a2a-mbs1-none-ub");
}

namespace {

// TP 2, CP 4 a2a, no recompute, micro batch 1: one layout a switch is tried on.
SweepSpec tp2_cp4_a2a_spec() {
  SweepSpec spec;
  spec.tp = std::vector<int64_t>{2};
  spec.cp = std::vector<int64_t>{4};
  spec.comm_types = std::vector<CpCommType>{CpCommType::A2A};
  spec.recompute = {RecomputeGranularity::None};
  spec.recompute_block = false;
  spec.micro_batch_sizes = std::vector<int64_t>{1};
  return spec;
}

}  // namespace

TEST_CASE("sweep.use_megatron_fsdp tries Megatron-FSDP on and off where there is no pipeline", "[sweep]") {
  // TP 2, CP 4 a2a, PP 1 and 2, no recompute, mbs 1: PP 1 twice (FSDP off as the scenario, its
  // document without the switch; on with key suffix "-fsdp", label "+ Megatron-FSDP" and the switch
  // in its valid document); PP 2 once, FSDP off (hcpsim models it without a pipeline).
  SweepSpec spec = tp2_cp4_a2a_spec();
  spec.pp = std::vector<int64_t>{1, 2};
  spec.vpp = std::vector<int64_t>{1};
  spec.use_megatron_fsdp = std::vector<bool>{false, true};
  const SweepSpace s = seed_space(spec);
  REQUIRE(s.candidates.size() == 3);
  CHECK(s.candidates[0].key == "tp2-cp4-a2a-mbs1-none");
  CHECK_FALSE(s.candidates[0].input["parallel"].contains("use_megatron_fsdp"));
  CHECK(s.candidates[1].key == "tp2-cp4-a2a-mbs1-none-fsdp");
  CHECK(s.candidates[1].label == "TP2 + a2a CP4 + Megatron-FSDP");
  REQUIRE(s.candidates[1].scenario);
  CHECK(s.candidates[1].scenario->parallel.use_megatron_fsdp);
  CHECK(s.candidates[2].key == "tp2-cp4-a2a-pp2-mbs1-none");
  REQUIRE(s.candidates[2].scenario);
  CHECK_FALSE(s.candidates[2].scenario->parallel.use_megatron_fsdp);
}

TEST_CASE("sweep: the scenario's own Megatron-FSDP and offloading are named in every label", "[sweep]") {
  // Not swept, but part of every candidate: a label that left them out would name another job.
  json doc = test::read_json_file(kSeedA);
  doc["parallel"]["use_megatron_fsdp"] = true;
  doc["training"]["cpu_offloading_num_layers"] = 4;
  doc["training"]["recompute_granularity"] = "none";
  SweepSpec spec = tp2_cp4_a2a_spec();
  spec.pp = std::vector<int64_t>{1};
  const SweepSpace s = enumerate_sweep(doc, parse_scenario_text(doc.dump(), options_for(kSeedA)), spec, options_for(kSeedA));
  REQUIRE(s.candidates.size() == 1);
  CHECK(s.candidates[0].key == "tp2-cp4-a2a-mbs1-none-fsdp");
  CHECK(s.candidates[0].label == "TP2 + a2a CP4 + Megatron-FSDP + 4 layers offloaded");
  REQUIRE(s.candidates[0].scenario);
  CHECK(s.candidates[0].scenario->parallel.use_megatron_fsdp);
  CHECK(s.candidates[0].scenario->training.cpu_offloading_num_layers == 4);
}

TEST_CASE("sweep: where a layout needs recompute, block recompute of the fewest layers that fit", "[sweep]") {
  const SweepSpace s = seed_space();
  // Every layout (at each micro batch) that does not fit without recompute with the caching
  // allocator's margin to spare, but would with some count short of every layer recomputed by
  // block, has a block candidate; its count N is the least that leaves the margin, or where none
  // does and the layout does not fit at all, the least that fits; every count tried on its own (the
  // sweep assumes nothing of how memory falls with N).
  int64_t blocks = 0, needing = 0, for_the_margin = 0;
  for (const SweepCandidate& c : s.candidates) {
    // (a pipelined layout's block candidate stands only where its PP = 1 twin does not fit: the
    // default space's rule for pipelines, tested above)
    if (!c.key.ends_with("-none") || c.key.find("-pp") != std::string::npos || !c.scenario || roomy(&c)) continue;
    const bool plain_fits = estimate_memory(*c.scenario).fits;
    const std::string stem = c.key.substr(0, c.key.size() - 4);  // "...-mbs1-"
    const SweepCandidate* block = nullptr;
    for (const SweepCandidate& b : s.candidates)
      if (b.key.starts_with(stem + "block")) block = &b;
    INFO(c.key);
    std::vector<int64_t> spare;
    const std::vector<int64_t> fit = block_counts_that_fit(*c.scenario, &spare);
    if (fit.empty() || (plain_fits && spare.empty())) {
      CHECK(block == nullptr);
      continue;
    }
    ++needing;
    REQUIRE(block != nullptr);
    REQUIRE(block->scenario);
    const TrainingSpec& t = block->scenario->training;
    CHECK(t.recompute_granularity == RecomputeGranularity::Full);
    CHECK(t.recompute_method == RecomputeMethod::Block);
    CHECK(block->key == stem + "block" + std::to_string(t.recompute_num_layers));
    CHECK(block->label.find("recompute of " + std::to_string(t.recompute_num_layers) +
                            (t.recompute_num_layers == 1 ? " layer " : " layers ")) != std::string::npos);
    CHECK(estimate_memory(*block->scenario).fits);
    // The fewest that leave the allocator's margin, or the fewest that fit where none does.
    CHECK(t.recompute_num_layers == (spare.empty() ? fit.front() : spare.front()));
    for_the_margin += !spare.empty() && spare.front() != fit.front();
    ++blocks;
  }
  CHECK(needing > 0);
  CHECK(blocks == needing);
  CHECK(for_the_margin > 0);  // the seed's space has layouts whose fewest fitting count leaves less than the margin
  // A list without "block" asks for none.
  SweepSpec listed;
  listed.recompute = {RecomputeGranularity::None, RecomputeGranularity::Full};
  listed.recompute_block = false;
  for (const SweepCandidate& c : seed_space(listed).candidates) CHECK(c.key.find("-block") == std::string::npos);
}

TEST_CASE("sweep.recompute_granularity takes \"block\" beside the granularities, not alone", "[sweep]") {
  const auto parse = [](const json& v, DiagnosticSink& sink) { return parse_sweep_spec({{"recompute_granularity", v}}, sink); };
  DiagnosticSink ok;
  const SweepSpec s = parse(json{"none", "block"}, ok);
  CHECK(ok.empty());
  CHECK(s.recompute == std::vector<RecomputeGranularity>{RecomputeGranularity::None});
  CHECK(s.recompute_block);
  DiagnosticSink without;
  CHECK_FALSE(parse(json{"none", "full"}, without).recompute_block);
  CHECK(SweepSpec{}.recompute_block);  // the default tries it
  DiagnosticSink alone;
  parse(json{"block"}, alone);
  REQUIRE_FALSE(alone.empty());
  CHECK(alone.list().front().path == "sweep.recompute_granularity");
  DiagnosticSink typo;
  parse(json{"none", "blok"}, typo);
  REQUIRE_FALSE(typo.empty());
  CHECK(typo.list().front().path == "sweep.recompute_granularity[1]");
  CHECK(typo.list().front().fix.find("block") != std::string::npos);
}

TEST_CASE("sweep: the scenario's own full recompute by block is tried beside every layer on its own", "[sweep]") {
  // The seed at full recompute by block of 3 layers, TP 2, CP 4 a2a, micro batch 1, recompute
  // none and full: "full" is every layer on its own (key "-full"), and the scenario's own block 3
  // is tried too (key "-block3", its document carrying both keys).
  json doc = test::read_json_file(kSeedA);
  doc["training"]["recompute_granularity"] = "full";
  doc["training"]["recompute_method"] = "block";
  doc["training"]["recompute_num_layers"] = 3;
  SweepSpec spec = tp2_cp4_a2a_spec();
  spec.pp = std::vector<int64_t>{1};
  spec.recompute = {RecomputeGranularity::None, RecomputeGranularity::Full};
  const SweepSpace s = enumerate_sweep(doc, parse_scenario_text(doc.dump(), options_for(kSeedA)), spec, options_for(kSeedA));
  REQUIRE(s.candidates.size() == 3);
  CHECK(s.candidates[0].key == "tp2-cp4-a2a-mbs1-none");
  CHECK(s.candidates[1].key == "tp2-cp4-a2a-mbs1-full");
  CHECK_FALSE(s.candidates[1].input["training"].contains("recompute_method"));
  CHECK(s.candidates[2].key == "tp2-cp4-a2a-mbs1-block3");
  REQUIRE(s.candidates[2].scenario);
  CHECK(s.candidates[2].scenario->training.recompute_method == RecomputeMethod::Block);
  CHECK(s.candidates[2].scenario->training.recompute_num_layers == 3);
  CHECK(s.candidates[2].input["training"]["recompute_num_layers"] == 3);
}

