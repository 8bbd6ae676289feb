// Ranking, recommendation words, table, JSON and CSV of a sweep, on rows whose
// numbers are chosen here so that each rule's outcome is known in advance.
#include <catch2/catch.hpp>

#include "report/sweep_outputs.hpp"
#include "sweep/outcome.hpp"
#include "sweep/outcome_json.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

// A simulated row: tokens/s per GPU and headroom (GB) as given; 8 KV heads.
SweepRow sweep_row(int index, const std::string& label, CpCommType comm, int tp, int cp, double tps, double headroom_gb) {
  const double capacity = 80e9;
  SimulationResult r;
  r.scenario.name = label;
  r.scenario.model.num_query_groups = 8;
  r.scenario.parallel.tensor_model_parallel_size = tp;
  r.scenario.parallel.context_parallel_size = cp;
  r.scenario.parallel.data_parallel_size = 32 / (tp * cp);
  r.scenario.parallel.cp_comm_type = comm;
  StepMetrics step;
  step.time_s = step.composed.step_s = 1.0;  // a composed step: its time is the composition's
  step.inputs.stages = {StageInputs{}};  // PP = 1: one stage (of no layers here)
  step.inputs.stages[0].chunk_layers = {0};
  step.tokens_per_s_per_gpu = tps;
  step.tokens_per_s = 32 * tps;  // 32 GPUs
  step.mfu = 0.5;
  r.step = step;
  r.attention = {.rank = 0, .forward_s = 0.01, .backward_s = 0.03, .comm_s = 0.002, .exposed_comm_s = 0.001,
                 .overlap_ratio = 0.9};
  r.memory.peak_bytes = capacity - headroom_gb * 1e9;
  r.memory.capacity_bytes = capacity;
  r.memory.headroom_bytes = headroom_gb * 1e9;
  r.memory.fits = headroom_gb >= 0;
  r.memory.breakdown = {{"weights", 16e9, "bf16"}};
  r.links = {{"nvl_0", LinkClass::NvLink, 1e9, 0.01, 0.5}};
  SweepRow w;
  w.index = index;
  w.key = "k" + std::to_string(index);
  w.label = label;
  w.status = RowStatus::Ok;
  w.result = r;
  return w;
}

SweepRow rejected(int index, const std::string& label) {
  SweepRow w;
  w.index = index;
  w.key = "k" + std::to_string(index);
  w.label = label;
  w.status = RowStatus::Rejected;
  w.rejected_by = {{"parallel.context_parallel_size", "8 KV heads over CP16", "a2a needs (num_query_groups/TP) % CP == 0",
                    "use a2a+p2p"}};
  return w;
}

SweepOutcome seed_like() {
  SweepOutcome o;
  o.meta.scenario = "test";
  o.meta.source = "test.json";
  o.rows = {sweep_row(0, "TP1 + a2a+p2p CP16 [8,2]", CpCommType::A2AP2P, 1, 16, 3000, 5),
            sweep_row(1, "TP2 + a2a CP4", CpCommType::A2A, 2, 4, 2985, 35),  // 0.5% slower, 30 GB more headroom
            sweep_row(2, "TP1 + p2p CP16", CpCommType::P2P, 1, 16, 2900, 5),
            sweep_row(3, "TP1 + all_gather CP16", CpCommType::AllGather, 1, 16, 3500, -12.5),  // fastest, but does not fit
            rejected(4, "TP1 + a2a CP16")};
  return o;
}

}  // namespace

TEST_CASE("sweep ranking: fitting by tokens/s, then the rest by shortfall", "[sweep]") {
  const SweepOutcome o = seed_like();
  CHECK(ranked_rows(o) == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("sweep recommendation: a tie within 2% goes to headroom, in words from the numbers", "[sweep]") {
  const SweepOutcome o = seed_like();
  const SweepRecommendation rec = recommend_sweep(o);
  REQUIRE(rec.row == 1);
  INFO(rec.reasons);
  CHECK_THAT(rec.reasons, Catch::Contains("TP2 + a2a CP4 ties with TP1 + a2a+p2p CP16 [8,2]: 0.5% below it"));
  CHECK_THAT(rec.reasons, Catch::Contains("within 2%"));
  CHECK_THAT(rec.reasons, Catch::Contains("leaves 30.0 GB more headroom"));
  CHECK_THAT(rec.reasons, Catch::Contains("HCP only pays off when CP must exceed KV heads / TP (8 / 1 = 8"));
  CHECK_THAT(rec.reasons, Catch::Contains("1 of 4 valid options do not fit, short by 12.5 GB per GPU (it is: "));
}

TEST_CASE("sweep recommendation: a tie beyond 2% only within the band of the comparison", "[sweep]") {
  SweepOutcome o = seed_like();
  o.rows[0].result->step->tokens_per_s_per_gpu = 3150.0;  // 5.5% ahead of row 1's 2985 (30 GB less headroom)
  const auto set_band = [&](int row, double relative, const std::string& basis) {
    o.rows[row].result->uncertainty.components = {{"attention kernels", 1.0, relative, basis}};
  };
  // Evidence not shared (two GPUs' rooflines, say) at +-4% each: the ratio's band is
  // sqrt(0.04^2 + 0.04^2) = 5.66% >= 5.5%: a tie, the roomier option is taken.
  set_band(0, 0.04, "roofline of GPU X");
  set_band(1, 0.04, "roofline of GPU Y");
  SweepRecommendation rec = recommend_sweep(o);
  REQUIRE(rec.row == 1);
  CHECK_THAT(rec.reasons, Catch::Contains("within the band of the comparison (+-5.7%"));
  // The same +-4% resting on the same evidence (one cluster's kernel fit) moves both options
  // together: the ratio's band is (1 - 1) x 0.04 = 0, and 5.5% apart is no tie.
  set_band(0, 0.04, "one fit");
  set_band(1, 0.04, "one fit");
  rec = recommend_sweep(o);
  CHECK(rec.row == 0);
}

TEST_CASE("sweep recommendation: HCP clearly ahead is recommended and said why", "[sweep]") {
  SweepOutcome o = seed_like();
  o.rows[0].result->step->tokens_per_s_per_gpu = 3300.0;  // 10% ahead: no tie
  const SweepRecommendation rec = recommend_sweep(o);
  REQUIRE(rec.row == 0);
  CHECK_THAT(rec.reasons, Catch::Contains("has the highest throughput that fits"));
  CHECK_THAT(rec.reasons, Catch::Contains("HCP pays off here: it runs CP16 although a2a alone can split at most KV heads / TP = 8 / 1 = 8 ways"));
}

TEST_CASE("sweep recommendation: nothing fits", "[sweep]") {
  SweepOutcome o;
  o.rows = {sweep_row(0, "a", CpCommType::P2P, 1, 16, 3000, -3), sweep_row(1, "b", CpCommType::A2A, 2, 4, 3100, -20)};
  const SweepRecommendation rec = recommend_sweep(o);
  CHECK(rec.row == -1);
  CHECK_THAT(rec.reasons, Catch::Contains("2 of 2 valid options do not fit, short by 3.0 to 20.0 GB per GPU (closest: a)"));
}

TEST_CASE("sweep recommendation: a pipelined pick says why no layout without PP stands beside it", "[sweep]") {
  // One PP2 option fits; the PP1 candidates are rejected, or valid but short of memory, or absent.
  SweepRow piped = sweep_row(0, "TP1 PP2 + p2p CP4", CpCommType::P2P, 1, 4, 2500, 10);
  piped.result->scenario.parallel.pipeline_model_parallel_size = 2;
  piped.result->step->composed.bubble_fraction = 0.125;  // shown as 12.5%
  piped.result->step->inputs.microbatches = 8;
  SweepRow unpiped_rejected = rejected(1, "TP1 + a2a CP16");
  unpiped_rejected.input = json{{"parallel", {{"context_parallel_size", 16}}}};  // no PP key: PP 1
  SweepRow piped_rejected = rejected(2, "TP1 PP4 + a2a CP16");
  piped_rejected.input = json{{"parallel", {{"pipeline_model_parallel_size", 4}}}};

  SweepOutcome o;
  o.rows = {piped, piped_rejected, unpiped_rejected};
  SweepRecommendation rec = recommend_sweep(o);
  REQUIRE(rec.row == 0);
  CHECK_THAT(rec.reasons, Catch::Contains("Pipeline: PP2 idles 12.5% of its schedule in the bubble (8 micro batches per "
                                          "DP rank), and validation rejected every layout without PP (first: TP1 + a2a "
                                          "CP16, parallel.context_parallel_size: a2a needs (num_query_groups/TP) % CP == 0)."));
  CHECK(rec.reasons.find("fits in memory") == std::string::npos);

  o.rows.push_back(sweep_row(3, "TP1 + p2p CP8", CpCommType::P2P, 1, 8, 2600, -4));  // PP1, valid, 4 GB short
  rec = recommend_sweep(o);
  REQUIRE(rec.row == 0);
  CHECK_THAT(rec.reasons, Catch::Contains("and no layout without PP fits in memory."));

  o.rows = {piped, piped_rejected};
  rec = recommend_sweep(o);
  CHECK_THAT(rec.reasons, Catch::Contains("and the sweep tried no layout without PP."));
}

TEST_CASE("sweep table: ranks, shortfall, rejected with their rule, the pick marked", "[sweep]") {
  const SweepOutcome o = seed_like();
  const std::string t = format_sweep_table(o, recommend_sweep(o));
  INFO(t);
  CHECK_THAT(t, Catch::Contains("5 candidates: 4 simulated, 1 rejected by validation"));
  CHECK_THAT(t, Catch::Contains("1     TP1 + a2a+p2p CP16 [8,2]"));
  CHECK_THAT(t, Catch::Contains("2   * TP2 + a2a CP4"));
  CHECK_THAT(t, Catch::Contains("Do not fit in memory"));
  CHECK_THAT(t, Catch::Contains("-12.5"));
  // label padded to the longest label (24 characters), then the first rule and its path
  CHECK_THAT(t, Catch::Contains("      TP1 + a2a CP16            rejected: a2a needs (num_query_groups/TP) % CP == 0 "
                                "[parallel.context_parallel_size]"));
  CHECK_THAT(t, Catch::Contains("Recommendation: TP2 + a2a CP4"));
  CHECK(t.find("fp8pk") == std::string::npos);  // bf16: MFU of the bf16 peak, no unit note
  // Under fp8 training the units row says MFU is of the fp8 peak, under its column.
  SweepOutcome f = seed_like();
  for (SweepRow& r : f.rows)
    if (r.result) r.result->scenario.training.precision = Precision::FP8;
  const std::string tf = format_sweep_table(f, recommend_sweep(f));
  const size_t head = tf.find("MFU%"), units = tf.find("fp8pk");
  REQUIRE(head != std::string::npos);
  REQUIRE(units != std::string::npos);
  // under "MFU%", ending in its column: "fp8pk" is 5 characters, "MFU%" 4
  CHECK(units - tf.rfind('\n', units) + 5 == head - tf.rfind('\n', head) + 4);

  // A label of 90 characters (a layout with FSDP, TP overlap and block recompute runs to 80): the
  // units row still ends in "GB" under "headroom" and the first row starts a line of its own.
  SweepOutcome l = seed_like();
  const std::string long_label = "TP1 + a2a+p2p CP16 [8,2]" + std::string(66, '+');
  l.rows[0].label = long_label;
  const std::string tl = format_sweep_table(l, recommend_sweep(l));
  INFO(tl);
  const size_t at_head = tl.find("headroom\n"), at_gb = tl.find("GB\n");
  REQUIRE(at_head != std::string::npos);
  REQUIRE(at_gb != std::string::npos);
  CHECK(at_gb - tl.rfind('\n', at_gb) + 2 == at_head - tl.rfind('\n', at_head) + 8);  // right-aligned alike
  CHECK(tl.find("\n1     " + long_label) != std::string::npos);
}

TEST_CASE("sweep JSON keeps every row and the ranking, CSV flattens every metric", "[sweep]") {
  const SweepOutcome o = seed_like();
  const json doc = json::parse(sweep_to_json(o, recommend_sweep(o)));
  CHECK(doc["format"] == "hcpsim-sweep/1");
  REQUIRE(doc["candidates"].size() == o.rows.size());
  for (size_t i = 0; i < o.rows.size(); ++i) CHECK(row_from_json(doc["candidates"][i], "c") == o.rows[i]);
  CHECK(meta_from_json(doc, "doc") == o.meta);
  CHECK(doc["ranking"] == json::array({"k0", "k1", "k2", "k3"}));
  CHECK(doc["recommendation"]["key"] == "k1");

  const std::string csv = sweep_to_csv(o);
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = csv.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(csv.substr(at, nl - at));
  REQUIRE(lines.size() == 1 + o.rows.size());
  const std::string& header = lines[0];
  for (const char* col : {"rank", "step.tokens_per_s_per_gpu", "memory.headroom_bytes", "memory.breakdown.weights.bytes",
                          "attention.exposed_comm_s", "parallel.cp_comm_type", "links.0.utilisation", "rejected_by"})
    CHECK_THAT(header, Catch::Contains(col));
  CHECK_THAT(header, !Catch::Contains("scenario"));
  CHECK_THAT(lines[2], Catch::StartsWith("1,k1,TP2 + a2a CP4,ok,2,"));
  CHECK_THAT(lines[4], Catch::StartsWith("3,k3,TP1 + all_gather CP16,ok,,"));  // no rank: does not fit
  CHECK_THAT(lines[5], Catch::Contains("rejected,,,,,,,,,,,parallel.context_parallel_size: 8 KV heads over CP16"));

  // The configuration columns come from the candidate's scenario document.
  SweepOutcome with_input = seed_like();
  with_input.rows[0].input = {{"parallel", {{"tensor_model_parallel_size", 2}, {"context_parallel_size", 4},
                                            {"cp_comm_type", "a2a+p2p"}, {"hierarchical_context_parallel_sizes", {2, 2}}}},
                              {"training", {{"micro_batch_size", 2}, {"recompute_granularity", "full"}}},
                              {"cluster", {{"preset", "dgx-h100"}, {"num_nodes", 4}}}};
  CHECK_THAT(sweep_to_csv(with_input), Catch::Contains(",2,4,1,1,a2a+p2p,2x2,2,full,4 x dgx-h100,"));
}
