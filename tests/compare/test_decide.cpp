// The per-option decision on rows whose numbers are chosen here: whole cluster against its
// power-of-two subset (total tokens/s, a tie keeps the whole), and the words' cost direction.
#include <catch2/catch.hpp>

#include <algorithm>

#include "compare/compare.hpp"
#include "cost/cost_model.hpp"
#include "scenario/presets.hpp"

using namespace hcpsim;
using nlohmann::json;

namespace {

// A fitting simulated row of `gpus` GPUs at `tokens_per_s` in all, step 10 s, band +-1 %.
SweepRow row(const std::string& key, int64_t gpus, double tokens_per_s, double peak_flops) {
  SimulationResult r;
  r.scenario.cluster.gpu.peak_bf16_flops_per_s = peak_flops;
  StepMetrics s;
  s.time_s = 10;
  s.inputs.stages = {StageInputs{}};  // PP = 1: one stage (of no layers here)
  s.inputs.stages[0].chunk_layers = {0};
  s.tokens_per_s = tokens_per_s;
  s.tokens_per_s_per_gpu = tokens_per_s / static_cast<double>(gpus);
  s.mfu = 0.5;
  r.step = s;
  r.uncertainty.relative = 0.01;
  r.uncertainty.time_s = {9.9, 10.1};
  r.uncertainty.components = {{"attention kernels", 1.0, 0.01, "test"}};
  r.memory.capacity_bytes = 80e9;
  r.memory.peak_bytes = 40e9;
  r.memory.headroom_bytes = 40e9;
  r.memory.fits = true;
  SweepRow w;
  w.key = key;
  w.label = key;
  w.status = RowStatus::Ok;
  w.result = r;
  return w;
}

Study nvl72_study(double price) {
  const json d = {{"job", {{"model", {{"preset", "llama3.1-8b"}}},
                           {"training", {{"seq_length", 32768}, {"global_batch_size", 16}}},
                           {"token_budget", 1e9}}},
                  {"prices_source", "test"},
                  {"options", {{{"name", "NVL72 x2"}, {"cluster", {{"preset", "gb200-nvl72"}, {"num_nodes", 2}}},
                                {"price_per_gpu_hour", price}}}},
                  {"sweep", {{"tensor_model_parallel_size", {8}}, {"context_parallel_size", {1}},
                             {"recompute_granularity", {"full"}}, {"micro_batch_size", {1}}}}};
  return parse_study_text(d.dump(), ParseOptions{});
}

// Options of two DGX H100 nodes each at the given prices (name, price per GPU-hour), one layout
// swept, and one fitting row per option at 10 s a step, in option order.
Study priced_h100_study(const std::vector<std::pair<std::string, double>>& priced) {
  json options = json::array();
  for (const auto& [name, price] : priced)
    options.push_back({{"name", name}, {"cluster", {{"preset", "dgx-h100"}, {"num_nodes", 2}}}, {"price_per_gpu_hour", price}});
  const json d = {{"job", {{"model", {{"preset", "llama3.1-8b"}}},
                           {"training", {{"seq_length", 32768}, {"global_batch_size", 16}}},
                           {"token_budget", 1e9}}},
                  {"prices_source", "test"},
                  {"options", options},
                  {"sweep", {{"tensor_model_parallel_size", {8}}, {"context_parallel_size", {1}},
                             {"recompute_granularity", {"full"}}, {"micro_batch_size", {1}}}}};
  return parse_study_text(d.dump(), ParseOptions{});
}
SweepOutcome one_row_per_group(const ComparePlan& plan) {
  SweepOutcome o;
  for (const CompareGroup& g : plan.groups) o.rows.push_back(row(g.key_prefix + "a", 16, 50000, 989e12));
  return o;
}

}  // namespace

TEST_CASE("compare decision: the subset wins only beyond a tie in total tokens/s") {
  const Study st = nvl72_study(5.0);
  const ComparePlan plan = plan_compare(st, ParseOptions{});
  REQUIRE(plan.groups.size() == 2);  // the whole (144) and the subset (128)
  SweepOutcome o;
  // The whole at 100,000 tokens/s (694 per GPU), the subset at 101,000 (789 per GPU): 1 % more in
  // all, 13.6 % more per GPU. Same GPUs paid: a tie on total throughput keeps the whole.
  o.rows = {row("o1.a", 144, 100000, 2.5e15), row("o1s.b", 128, 101000, 2.5e15)};
  CompareResult r = decide_compare(st, plan, o, CompareRank::Time);
  REQUIRE(r.verdicts.size() == 1);
  CHECK(r.verdicts[0].row == 0);
  CHECK(r.verdicts[0].whole_row == 0);
  // 10 % more in all: beyond 2 % and the ratio's band (shared evidence: ~0): the subset.
  o.rows[1] = row("o1s.b", 128, 110000, 2.5e15);
  r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK(r.verdicts[0].row == 1);
  CHECK(plan.groups[r.verdicts[0].group].subset);
  // Time to train: 1e9 / (16 x 32768) -> 1908 steps x 10 s; GPU-hours count all 144 GPUs.
  CHECK(r.verdicts[0].econ.steps == 1908);
  CHECK(r.verdicts[0].econ.gpu_hours == Approx(144 * 19080.0 / 3600));
  CHECK_THAT(r.recommendation, Catch::Contains("It uses 128 of its 144 GPUs (16 idle but paid for)"));
  CHECK_THAT(r.recommendation, Catch::Contains("trains slower"));

  // What validation said of the picked layout is a caveat of the pick; the cost model's warnings
  // of the whole option (an unmeasured GPU's roofline) are the option's notes, each once, and not
  // repeated as the pick's caveats.
  Scenario& picked = o.rows[1].result->scenario;
  picked.cluster.gpu = find_cluster_preset("gb200-nvl72")->spec.gpu;
  const std::vector<std::string> option_wide = cost_params_for(picked).warnings;
  REQUIRE_FALSE(option_wide.empty());  // the GB200's roofline
  picked.warnings = option_wide;
  picked.warnings.push_back("a warning of this layout alone");
  r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK_THAT(r.recommendation, Catch::Contains("\n  Caveat of this layout: a warning of this layout alone."));
  for (const std::string& wide : option_wide) {
    CHECK_THAT(r.recommendation, !Catch::Contains("Caveat of this layout: " + wide));
    CHECK(std::count(r.notes.begin(), r.notes.end(), "NVL72 x2: " + wide) == 1);
  }
  CHECK(r.notes.size() == option_wide.size());
}

TEST_CASE("compare decision: a fabric variant whose every layout simulates as its option's says so") {
  // Two DGX H100 nodes, rail-optimized, with a 2:1 oversubscribed variant: the rows' step times are
  // chosen here. Equal in every layout -> one note naming both; one layout 1 % slower -> none.
  const json d = {{"job", {{"model", {{"preset", "llama3.1-8b"}}},
                           {"training", {{"seq_length", 32768}, {"global_batch_size", 16}}},
                           {"token_budget", 1e9}}},
                  {"options", {{{"name", "2 x H100"}, {"cluster", {{"preset", "dgx-h100"}, {"num_nodes", 2}}},
                                {"fabric_variants", {{{"name", "2:1"},
                                                      {"cluster", {{"inter_node", {{"oversubscription", 2}}}}}}}}}}},
                  {"sweep", {{"tensor_model_parallel_size", {8}}, {"context_parallel_size", {1, 2}},
                             {"recompute_granularity", {"full"}}, {"micro_batch_size", {1}}}}};
  const Study st = parse_study_text(d.dump(), ParseOptions{});
  REQUIRE(st.options.size() == 2);
  const ComparePlan plan = plan_compare(st, ParseOptions{});
  std::string base, variant;  // the groups' key prefixes (whole clusters: 16 GPUs, a power of two)
  for (const CompareGroup& g : plan.groups) (g.option == 0 ? base : variant) = g.key_prefix;
  SweepOutcome o;
  o.rows = {row(base + "cp1", 16, 50000, 989e12), row(base + "cp2", 16, 52000, 989e12),
            row(variant + "cp1", 16, 50000, 989e12), row(variant + "cp2", 16, 52000, 989e12)};
  CompareResult r = decide_compare(st, plan, o, CompareRank::Time);
  REQUIRE(r.notes.size() == 1);  // the variant's note, not the tie's again
  CHECK_THAT(r.notes[0], Catch::StartsWith("2 x H100 / 2:1 (options[0].fabric_variants[0]) simulates as 2 x H100 in every one "
                                           "of its 2 layouts"));
  // The picked layout (cp2, the faster) 2.5 ppm slower on the variant and the other 3e-4: not every
  // layout the same, but the same pick in the same time: the variant buys nothing measurable.
  for (SweepRow& w : o.rows) w.label = w.key.substr(w.key.find('.') + 1);  // as a sweep labels them: the layout alone
  o.rows[3].result->step->time_s = 10 * (1 + 2.5e-6);
  o.rows[2].result->step->time_s = 10 * (1 + 3e-4);
  r = decide_compare(st, plan, o, CompareRank::Time);
  REQUIRE(r.notes.size() == 1);
  CHECK_THAT(r.notes[0], Catch::StartsWith("2 x H100 / 2:1 (options[0].fabric_variants[0]) trains in the time of 2 x H100 "
                                           "within 0.1% (1.0000x), with the same layout, cp2: what the variant changes buys "
                                           "nothing measurable for this job"));
  o.rows[3].result->step->time_s = 10.1;  // 1 % slower: a difference, no note
  r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK(r.notes.empty());
}

TEST_CASE("compare ranking: three options in the same time are ordered by cost, said to tie once") {
  // A at 10 s costing 3.8 per GPU-hour, B 5e-4 slower at 3.6, C 9e-4 slower at 3.5: all within
  // 0.1 % of A, so by cost C, B, A, one note (a pairwise swap would leave B, C, A).
  const Study st = priced_h100_study({{"A", 3.8}, {"B", 3.6}, {"C", 3.5}});
  const ComparePlan plan = plan_compare(st, ParseOptions{});
  REQUIRE(plan.groups.size() == 3);
  SweepOutcome o = one_row_per_group(plan);
  o.rows[1].result->step->time_s = 10 * (1 + 5e-4);
  o.rows[2].result->step->time_s = 10 * (1 + 9e-4);
  const CompareResult r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK(r.ranking == std::vector<int>{2, 1, 0});
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0] == "C, B, and A train in the same time (within 0.1%): the cheaper ranked first");
}

TEST_CASE("compare ranking: options in the same time are ordered by cost, and said to tie") {
  // Two priced options whose picks train in times 2.5 ppm apart, the dearer a hair faster: by time
  // the cheaper comes first (the difference is noise, kSameTrainingTime); 1 % apart, the faster.
  const Study st = priced_h100_study({{"dear", 3.8}, {"cheap", 3.5}});
  const ComparePlan plan = plan_compare(st, ParseOptions{});
  REQUIRE(plan.groups.size() == 2);
  SweepOutcome o = one_row_per_group(plan);
  o.rows[1].result->step->time_s = 10 * (1 + 2.5e-6);
  CompareResult r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK(r.ranking == std::vector<int>{1, 0});
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0] == "cheap and dear train in the same time (within 0.1%): the cheaper ranked first");
  o.rows[1].result->step->time_s = 10.1;
  r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK(r.ranking == std::vector<int>{0, 1});
  CHECK(r.notes.empty());
  // 1 % apart is a difference of time but no difference within the predictions: with evidence of
  // their own (+-1 % each) the ratio's band is sqrt(2) x 1 % = 1.4 %, under the 2 % floor of a tie.
  // The dearer stays first by time, and the words say the cheaper is as fast within the tie: dear
  // costs 3.8 x 10 / (3.5 x 10.1) - 1 = 7 % more.
  o.rows[1].result->uncertainty.components = {{"attention kernels", 1.0, 0.01, "another fit"}};
  r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK(r.ranking == std::vector<int>{0, 1});
  CHECK_THAT(r.recommendation, Catch::Contains("cheap takes 1.01x the time"));
  CHECK_THAT(r.recommendation,
             Catch::Contains("within 2% (the band of the two predictions' ratio is \u00b11.4%): a tie on time"));
  CHECK_THAT(r.recommendation, Catch::Contains("dear costs 7% more: as fast within the tie and the cheapest of those that "
                                               "are, cheap is the better buy unless the days matter more"));
  // Beyond the band (5 % slower) the faster is the faster: no such words.
  o.rows[1].result->step->time_s = 10.5;
  r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK(r.recommendation.find("better buy") == std::string::npos);
}

TEST_CASE("compare ranking: two clusters of one GPU tie within 2 %, and the cheapest of the tied is the better buy") {
  // Options on one GPU share their kernel evidence (the rows' one component, "test"), so their
  // ratio's band is 0: still a tie within kThroughputTie (2 %), the rule that picks layouts. A at
  // 10 s and 3.8 per GPU-hour first; B 0.3 % slower at 3.6, C 1.5 % slower at 3.5, D 3 % slower at
  // 3.0: B and C tie with A, D does not. Only C, the cheapest of the tied, is the better buy:
  // A costs 3.8 x 10 / (3.5 x 10.15) - 1 = 7 % more than C, 3.8 / (3.6 x 1.003) - 1 = 5 % more than B.
  const Study st = priced_h100_study({{"A", 3.8}, {"B", 3.6}, {"C", 3.5}, {"D", 3.0}});
  const ComparePlan plan = plan_compare(st, ParseOptions{});
  REQUIRE(plan.groups.size() == 4);
  SweepOutcome o = one_row_per_group(plan);
  o.rows[1].result->step->time_s = 10 * 1.003;
  o.rows[2].result->step->time_s = 10 * 1.015;
  o.rows[3].result->step->time_s = 10 * 1.03;
  const CompareResult r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK(r.ranking == std::vector<int>{0, 1, 2, 3});
  INFO(r.recommendation);
  CHECK_THAT(r.recommendation, Catch::Contains("A is the fastest way"));
  CHECK_THAT(r.recommendation, Catch::Contains("B takes 1.00x the time (5.3 hours), within 2% (the band of the two "
                                               "predictions' ratio is <0.1%): a tie on time"));
  CHECK_THAT(r.recommendation, Catch::Contains("A costs 5% more: as fast within the tie and cheaper, though C costs less still"));
  CHECK_THAT(r.recommendation, Catch::Contains("A costs 7% more: as fast within the tie and the cheapest of those that are, "
                                               "C is the better buy"));
  CHECK_THAT(r.recommendation, Catch::Contains("D takes 1.03x the time (5.5 hours), beyond 2%"));
  CHECK(std::count(r.recommendation.begin(), r.recommendation.end(), '\n') == 3);
  const size_t buys = r.recommendation.find("better buy"), again = r.recommendation.find("better buy", buys + 1);
  CHECK(buys != std::string::npos);
  CHECK(again == std::string::npos);
}

TEST_CASE("compare ranking: a cheaper option first by the same time ties for the fastest, and cost without prices ranks by time") {
  // cheap 2.5 ppm slower than dear: ranked first as the cheaper of the same time, and not called
  // the fastest outright.
  const Study st = priced_h100_study({{"dear", 3.8}, {"cheap", 3.5}});
  const ComparePlan plan = plan_compare(st, ParseOptions{});
  SweepOutcome o = one_row_per_group(plan);
  o.rows[1].result->step->time_s = 10 * (1 + 2.5e-6);
  CompareResult r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK(r.ranking == std::vector<int>{1, 0});
  CHECK_THAT(r.recommendation, Catch::StartsWith("cheap ties for the fastest (within 0.1%, the cheaper ranked first) way"));
  // No option priced: --rank cost ranks by time and says so.
  json d = {{"job", {{"model", {{"preset", "llama3.1-8b"}}},
                     {"training", {{"seq_length", 32768}, {"global_batch_size", 16}}},
                     {"token_budget", 1e9}}},
            {"options", {{{"name", "slow"}, {"cluster", {{"preset", "dgx-h100"}, {"num_nodes", 2}}}},
                         {{"name", "fast"}, {"cluster", {{"preset", "dgx-h100"}, {"num_nodes", 2}}}}}},
            {"sweep", {{"tensor_model_parallel_size", {8}}, {"context_parallel_size", {1}},
                       {"recompute_granularity", {"full"}}, {"micro_batch_size", {1}}}}};
  const Study unpriced = parse_study_text(d.dump(), ParseOptions{});
  const ComparePlan up = plan_compare(unpriced, ParseOptions{});
  o = one_row_per_group(up);
  o.rows[0].result->step->time_s = 11;
  r = decide_compare(unpriced, up, o, CompareRank::Cost);
  CHECK(r.rank == CompareRank::Time);
  CHECK(r.ranking == std::vector<int>{1, 0});
  CHECK(std::count(r.notes.begin(), r.notes.end(),
                   "--rank cost: no option has a price (price_per_gpu_hour), so the options are ranked by time") == 1);
  CHECK_THAT(r.recommendation, Catch::StartsWith("fast is the fastest way"));
}

TEST_CASE("compare decision: where no option can run the job, each option's reason is said") {
  // Every row of both options rejected: the recommendation names both options and why (it gave the
  // first one's reason alone).
  const Study st = priced_h100_study({{"A", 3.8}, {"B", 3.6}});
  const ComparePlan plan = plan_compare(st, ParseOptions{});
  SweepOutcome o = one_row_per_group(plan);
  for (SweepRow& w : o.rows) {
    w.status = RowStatus::Rejected;
    w.result.reset();
  }
  const CompareResult r = decide_compare(st, plan, o, CompareRank::Time);
  INFO(r.recommendation);
  CHECK_THAT(r.recommendation, Catch::StartsWith("No option can run the job:\n  A: "));
  CHECK_THAT(r.recommendation, Catch::Contains("\n  B: "));
  CHECK(std::count(r.recommendation.begin(), r.recommendation.end(), '\n') == 2);
}

TEST_CASE("compare ranking: an unpriced option in the same time keeps its place, and equal costs name one better buy") {
  // dear priced, free unpriced 2.5 ppm faster: the same time, but an unpriced option is not the
  // dearer: time order stands, and the note says no "cheaper ranked first".
  const Study st = priced_h100_study({{"dear", 3.8}, {"free", 3.5}});
  Study part = st;
  part.options[1].price_per_gpu_hour.reset();
  const ComparePlan plan = plan_compare(part, ParseOptions{});
  SweepOutcome o = one_row_per_group(plan);
  o.rows[0].result->step->time_s = 10 * (1 + 2.5e-6);
  CompareResult r = decide_compare(part, plan, o, CompareRank::Time);
  CHECK(r.ranking == std::vector<int>{1, 0});
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0] == "free and dear train in the same time (within 0.1%)");
  CHECK_THAT(r.recommendation, Catch::StartsWith("free is the fastest way"));
  // A (3.8) fastest, U unpriced, B (3.5) slowest, all within 0.1 %: the priced two swap in their
  // places, U keeps its own: B, U, A.
  Study mixed = priced_h100_study({{"A", 3.8}, {"U", 1.0}, {"B", 3.5}});
  mixed.options[1].price_per_gpu_hour.reset();
  const ComparePlan pm = plan_compare(mixed, ParseOptions{});
  o = one_row_per_group(pm);
  o.rows[1].result->step->time_s = 10 * (1 + 2e-4);
  o.rows[2].result->step->time_s = 10 * (1 + 4e-4);
  r = decide_compare(mixed, pm, o, CompareRank::Time);
  CHECK(r.ranking == std::vector<int>{2, 1, 0});
  REQUIRE(r.notes.size() == 1);
  CHECK(r.notes[0] == "B, U, and A train in the same time (within 0.1%): the cheaper of the priced ranked first");
  CHECK_THAT(r.recommendation, Catch::StartsWith("B ties for the fastest (within 0.1%, the cheaper ranked first) way"));
  // A first at 3.8, B and C tied with it at 3.5 each: B (first of the two) is the better buy, and C
  // is told the same cost names B, not that B "costs less still".
  const Study three = priced_h100_study({{"A", 3.8}, {"B", 3.5}, {"C", 3.5}});
  const ComparePlan p3 = plan_compare(three, ParseOptions{});
  o = one_row_per_group(p3);
  o.rows[1].result->step->time_s = 10.05;
  o.rows[2].result->step->time_s = 10.05;
  r = decide_compare(three, p3, o, CompareRank::Time);
  INFO(r.recommendation);
  CHECK_THAT(r.recommendation, Catch::Contains("B is the better buy"));
  CHECK_THAT(r.recommendation, Catch::Contains("as fast within the tie and cheaper, though B, at the same cost, is named the "
                                               "better buy"));
  CHECK(r.recommendation.find("costs less still") == std::string::npos);
  // --rank cost where the one priced option has no layout: no option that can run has a price.
  for (SweepRow& w : o.rows) w.result->memory.fits = true;
  o.rows[0].status = RowStatus::Rejected;
  o.rows[0].result.reset();
  Study first_priced = three;
  first_priced.options[1].price_per_gpu_hour.reset();
  first_priced.options[2].price_per_gpu_hour.reset();
  r = decide_compare(first_priced, p3, o, CompareRank::Cost);
  CHECK(std::count(r.notes.begin(), r.notes.end(), "--rank cost: no option that can run the job has a price "
                                                   "(price_per_gpu_hour), so the options are ranked by time") == 1);
}

TEST_CASE("compare ranking by cost: options within the band tie on cost, and the fastest of the tied is the better pick") {
  // The rule by time, on cost: prices are exact, so two options' cost ratio has their times'
  // ratio band (0 here: one shared component), and within kThroughputTie (2 %) they tie. Costs are
  // time x price (same GPUs): A 10.3 x 3.0 = 30.9, B 10.0 x 3.12 = 31.2 (A 30.9 / 31.2 - 1 = 0.96 %
  // less: a tie), C 10.1 x 3.09 = 31.209 (0.99 % less: a tie), D 9.0 x 4.0 = 36 (14.2 % less:
  // beyond). B and C are faster than A by 3.0 % and 2.0 %, so B, the faster, is the one better
  // pick, and C is told so.
  const Study st = priced_h100_study({{"A", 3.0}, {"B", 3.12}, {"C", 3.09}, {"D", 4.0}});
  const ComparePlan plan = plan_compare(st, ParseOptions{});
  SweepOutcome o = one_row_per_group(plan);
  o.rows[0].result->step->time_s = 10.3;
  o.rows[2].result->step->time_s = 10.1;
  o.rows[3].result->step->time_s = 9.0;
  CompareResult r = decide_compare(st, plan, o, CompareRank::Cost);
  INFO(r.recommendation);
  CHECK(r.ranking == std::vector<int>{0, 1, 2, 3});
  CHECK_THAT(r.recommendation, Catch::StartsWith("A is the cheapest way"));
  const std::string within = "within 2% (the band of the two predictions' ratio is <0.1%): a tie on cost";
  CHECK_THAT(r.recommendation, Catch::Contains("A costs 1% less, " + within + "; as cheap within the tie and the fastest "
                                               "of those that are, B is the better pick unless the cost matters more"));
  CHECK_THAT(r.recommendation, Catch::Contains("A costs 1% less, " + within + "; as cheap within the tie and faster, though "
                                               "B is faster still."));
  CHECK_THAT(r.recommendation, Catch::Contains("A costs 14% less."));
  const size_t picks = r.recommendation.find("better pick"), again = r.recommendation.find("better pick", picks + 1);
  CHECK(picks != std::string::npos);
  CHECK(again == std::string::npos);
  // Ranked by time the same rows say nothing of a tie on cost.
  r = decide_compare(st, plan, o, CompareRank::Time);
  CHECK(r.recommendation.find("tie on cost") == std::string::npos);
  CHECK(r.recommendation.find("better pick") == std::string::npos);
}
