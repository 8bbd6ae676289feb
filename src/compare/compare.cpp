#include "compare/compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "cost/cost_model.hpp"
#include "sweep/choose.hpp"

#include "common/join_words.hpp"
#include "common/strprintf.hpp"
#include "compare/figures.hpp"

namespace hcpsim {

namespace {

// Two figures shown to the percent read as different from half a percent apart.
constexpr double kShownApart = 0.005;

int64_t pow2_floor(int64_t n) {
  int64_t p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

bool is_pow2(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// Peak of the GPUs at the job's precision (what MFU divides by).
double peak_of(const Scenario& sc) {
  return precision_peak_flops_per_s(sc.cluster.gpu, sc.training.precision);
}

void add_group(ComparePlan& plan, int option, bool subset, const nlohmann::json& doc, const Scenario& base,
               int64_t gpus_paid, const Study& st, const ParseOptions& opt) {
  CompareGroup g;
  g.option = option;
  g.subset = subset;
  g.nodes = base.cluster.num_nodes;
  g.gpus_used = base.cluster.world_size();
  g.gpus_paid = gpus_paid;
  g.key_prefix = "o" + std::to_string(option + 1) + (subset ? "s." : ".");
  g.base = base;
  const SweepSpace space = enumerate_sweep(doc, base, st.sweep, opt);
  for (SweepCandidate c : space.candidates) {
    c.index = static_cast<int>(plan.space.candidates.size());
    c.key = g.key_prefix + c.key;
    plan.space.candidates.push_back(std::move(c));
  }
  plan.groups.push_back(std::move(g));
}

}  // namespace

ComparePlan plan_compare(const Study& st, const ParseOptions& opt) {
  ComparePlan plan;
  for (int i = 0; i < static_cast<int>(st.options.size()); ++i) {
    const StudyOption& o = st.options[i];
    const ClusterSpec& c = o.base.cluster;
    const int64_t paid = c.world_size();
    add_group(plan, i, false, o.base_doc, o.base, paid, st, opt);
    if (is_pow2(paid)) continue;
    nlohmann::json doc = o.base_doc;
    const int64_t gpn = pow2_floor(c.gpus_per_node), nodes = pow2_floor(c.num_nodes);
    doc["cluster"]["num_nodes"] = nodes;
    if (gpn != c.gpus_per_node) {
      doc["cluster"]["gpus_per_node"] = gpn;
      // An explicit NIC count keeps its NICs per GPU where that is whole (a preset's is scaled by the parser).
      nlohmann::json& cl = doc["cluster"];
      if (cl.contains("inter_node") && cl["inter_node"].is_object() && cl["inter_node"].contains("nics_per_node")) {
        const int64_t nics = c.inter_node.nics_per_node;
        if ((nics * gpn) % c.gpus_per_node == 0) cl["inter_node"]["nics_per_node"] = nics * gpn / c.gpus_per_node;
      }
    }
    doc["name"] = o.name + " (" + std::to_string(nodes * gpn) + " of " + std::to_string(paid) + " GPUs)";
    ParseOptions po = opt;
    po.scope = ValidationScope::LayoutFree;
    po.source_name = "<" + o.name + ", subset>";
    try {
      const Scenario sub = parse_scenario_text(doc.dump(), po);
      add_group(plan, i, true, doc, sub, paid, st, opt);
    } catch (const InputError& e) {
      plan.notes.push_back(o.name + ": no power-of-two subset of its " + std::to_string(paid) +
                           " GPUs could be described (" + e.diagnostics().front().what + ")");
    }
  }
  std::string all;
  for (const auto& c : plan.space.candidates) all += c.key + ":" + c.digest + "\n";
  plan.space.digest = fnv1a_hex(all);
  return plan;
}

bool same_time(double a_s, double b_s) { return std::abs(a_s - b_s) <= kSameTrainingTime * std::max(a_s, b_s); }

int group_of_row(const ComparePlan& plan, const SweepRow& row) {
  for (int g = 0; g < static_cast<int>(plan.groups.size()); ++g)
    if (row.key.rfind(plan.groups[g].key_prefix, 0) == 0) return g;
  return -1;
}

CompareResult decide_compare(const Study& st, const ComparePlan& plan, const SweepOutcome& outcome, CompareRank rank) {
  CompareResult res;
  res.rank = rank;
  // Each group's rows as a sweep of its own: the sweep's rule picks its layout.
  struct GroupPick {
    int row = -1;
    std::vector<int> ranked;  // fitting rows, best first (outcome indices)
    std::string reasons;
    int64_t valid = 0, fitting = 0, candidates = 0, failed = 0;
  };
  std::vector<GroupPick> picks(plan.groups.size());
  std::vector<std::vector<int>> members(plan.groups.size());
  for (int i = 0; i < static_cast<int>(outcome.rows.size()); ++i)
    if (const int g = group_of_row(plan, outcome.rows[i]); g >= 0) members[g].push_back(i);
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    SweepOutcome sub;
    sub.meta = outcome.meta;
    for (int i : members[g]) sub.rows.push_back(outcome.rows[i]);
    GroupPick& p = picks[g];
    p.candidates = static_cast<int64_t>(sub.rows.size());
    for (const SweepRow& r : sub.rows) {
      p.valid += r.status == RowStatus::Ok || r.status == RowStatus::Unfit;
      p.failed += r.status == RowStatus::Failed;
      p.fitting += r.fits();
    }
    const SweepRecommendation rec = recommend_sweep(sub);
    p.reasons = rec.reasons;
    if (rec.row >= 0) p.row = members[g][rec.row];
    for (int k : ranked_rows(sub))
      if (sub.rows[k].fits()) p.ranked.push_back(members[g][k]);
  }
  for (int o = 0; o < static_cast<int>(st.options.size()); ++o) {
    OptionVerdict v;
    v.option = o;
    int64_t failed = 0;
    for (size_t g = 0; g < plan.groups.size(); ++g) {
      if (plan.groups[g].option != o) continue;
      const GroupPick& p = picks[g];
      v.valid += p.valid;
      v.fitting += p.fitting;
      v.candidates += p.candidates;
      failed += p.failed;
      if (p.row < 0) continue;
      if (!plan.groups[g].subset) v.whole_row = p.row;
      // The whole keeps the option unless the subset trains faster (total tokens/s: the GPUs paid
      // for are the same) beyond a tie: 2 %, or the band of the two predictions' ratio.
      const bool better = v.row < 0 || [&] {
        const SimulationResult& a = *outcome.rows[p.row].result;
        const SimulationResult& b = *outcome.rows[v.row].result;
        const double ratio = a.step->tokens_per_s / b.step->tokens_per_s;
        return ratio - 1 > tie_margin(a.uncertainty, b.uncertainty);
      }();
      if (!better) continue;
      v.group = static_cast<int>(g);
      v.row = p.row;
      v.layout_reasons = p.reasons;
      v.runner_ups.clear();
      for (int r : p.ranked)
        if (r != p.row && v.runner_ups.size() < 3) v.runner_ups.push_back(r);
    }
    if (v.row < 0) {
      // Nothing valid: the rule the first layout tried broke (a row's first rejection), not a guess.
      std::string first_rule;
      int rejected = 0;
      for (size_t g = 0; g < plan.groups.size(); ++g)
        for (int i : members[g])
          if (plan.groups[g].option == o && outcome.rows[i].status == RowStatus::Rejected) {
            ++rejected;
            if (!first_rule.empty() || outcome.rows[i].rejected_by.empty()) continue;
            const Diagnostic& d = outcome.rows[i].rejected_by.front();  // the field, the rule and the fix
            first_rule = outcome.rows[i].label + ": " + d.path + ": " + d.what + " (" + d.rule + ") - " + d.fix;
          }
      int closest = -1;  // the valid layout nearest to fitting
      for (size_t g = 0; g < plan.groups.size(); ++g)
        for (int i : members[g])
          if (plan.groups[g].option == o && (outcome.rows[i].ok() || outcome.rows[i].status == RowStatus::Unfit) &&
              (closest < 0 || outcome.rows[i].headroom_gb() > outcome.rows[closest].headroom_gb()))
            closest = i;
      // Where layouts are valid but none fits, the nearest one says what is missing; the rules
      // others broke matter only where nothing is valid.
      std::vector<std::string> why;
      if (closest >= 0)
        why.push_back("closest: " + outcome.rows[closest].label + ", short " +
                      strprintf("%.1f", -outcome.rows[closest].headroom_gb()) + " GB per GPU");
      if (rejected > 0) why.push_back(std::to_string(rejected) + " more rejected by validation");
      if (failed > 0) why.push_back(std::to_string(failed) + " failed to simulate (see the JSON rows' errors)");
      std::string detail;
      for (size_t k = 0; k < why.size(); ++k) detail += (k ? "; " : " (") + why[k] + (k + 1 == why.size() ? ")" : "");
      v.none_why = v.valid == 0 ? (failed > 0 ? "every valid layout's simulation failed (see the JSON rows' errors)"
                                              : "no layout of the job is valid on these GPUs" +
                                                    (first_rule.empty() ? std::string() : " (first: " + first_rule + ")"))
                                : "no valid layout fits in GPU memory" + detail;
    } else {
      const CompareGroup& g = plan.groups[v.group];
      const StepMetrics& s = *outcome.rows[v.row].result->step;
      const Uncertainty& u = outcome.rows[v.row].result->uncertainty;
      const StudyOption& so = st.options[o];
      v.econ = economics_of(st.token_budget, st.tokens_per_step(), s.time_s, u.time_s, g.gpus_paid,
                            so.base.cluster.num_nodes, so.price_per_gpu_hour, so.power);
    }
    res.verdicts.push_back(std::move(v));
  }
  // What the cost model says of an option as a whole (an unmeasured GPU's kernel times from the
  // roofline), in the results, not only in the run's warnings: whoever reads the saved file needs it.
  std::vector<std::pair<std::string, std::string>> option_notes;  // warning -> the options it is of
  for (int o = 0; o < static_cast<int>(st.options.size()); ++o) {
    if (res.verdicts[o].row < 0) continue;
    try {
      for (const std::string& w : cost_params_for(outcome.rows[res.verdicts[o].row].result->scenario).warnings) {
        const auto at = std::find_if(option_notes.begin(), option_notes.end(), [&w](const auto& n) { return n.first == w; });
        if (at == option_notes.end()) option_notes.emplace_back(w, st.options[o].name);
        else at->second += ", " + st.options[o].name;  // a fabric variant: its option's GPU
      }
    } catch (const std::exception&) {  // it was simulated, so its cost parameters load
    }
  }
  for (const auto& [w, names] : option_notes) res.notes.push_back(names + ": " + w);
  // A fabric variant whose every layout simulates as its option's: nothing it changes carries traffic.
  const auto step_times = [&](int o) {
    std::map<std::string, double> t;  // the layout's key (its group's kind, then the layout) -> step time
    for (size_t g = 0; g < plan.groups.size(); ++g)
      if (plan.groups[g].option == o)
        for (int i : members[g])
          if (outcome.rows[i].ok())
            t[std::string(plan.groups[g].subset ? "s" : "w") + outcome.rows[i].key.substr(plan.groups[g].key_prefix.size())] =
                outcome.rows[i].result->step->time_s;
    return t;
  };
  for (int o = 0; o < static_cast<int>(st.options.size()); ++o) {
    const std::string& path = st.options[o].path;
    const size_t at = path.find(".fabric_variants[");
    if (at == std::string::npos) continue;
    for (int p = 0; p < static_cast<int>(st.options.size()); ++p) {
      if (st.options[p].path != path.substr(0, at)) continue;
      const std::map<std::string, double> a = step_times(o), b = step_times(p);
      const bool same = !a.empty() && a.size() == b.size() &&
                        std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
                          return x.first == y.first && std::abs(x.second - y.second) <= 1e-9 * y.second;
                        });
      const OptionVerdict &vo = res.verdicts[o], &vp = res.verdicts[p];
      const std::string cost_words = vo.econ.cost && vp.econ.cost && *vp.econ.cost > 0
                                         ? strprintf(", at %+.1f%% the cost", 100 * (*vo.econ.cost / *vp.econ.cost - 1))
                                         : "";
      if (same) {
        res.notes.push_back(st.options[o].name + " (" + path + ") simulates as " + st.options[p].name + " in every one of its " +
                            std::to_string(a.size()) + " layouts: what the variant changes carries none of their traffic" +
                            cost_words);
        continue;
      }
      // Else, where both pick the same layout and train in the same time, the variant buys nothing
      // measurable for this job (its other layouts may differ).
      if (vo.row < 0 || vp.row < 0 || !same_time(vo.econ.time_s, vp.econ.time_s)) continue;
      const std::string& lo = outcome.rows[vo.row].label;
      if (lo != outcome.rows[vp.row].label) continue;
      std::string n = st.options[o].name + " (" + path + ") trains in the time of " + st.options[p].name + " within " +
                      strprintf("%.1f", 100 * kSameTrainingTime) + "% (" + strprintf("%.4f", vo.econ.time_s / vp.econ.time_s) +
                      "x), with the same layout, " + lo + ": what the variant changes buys nothing measurable for this job";
      res.notes.push_back(n + cost_words);
    }
  }

  // Ranked by cost with no option priced, the ranking is by time, and says so.
  if (rank == CompareRank::Cost &&
      std::none_of(res.verdicts.begin(), res.verdicts.end(), [](const OptionVerdict& v) { return v.econ.cost.has_value(); })) {
    rank = res.rank = CompareRank::Time;
    const bool any_price = std::any_of(st.options.begin(), st.options.end(),
                                       [](const StudyOption& so) { return so.price_per_gpu_hour.has_value(); });
    res.notes.push_back(std::string("--rank cost: ") +
                        (any_price ? "no option that can run the job has a price" : "no option has a price") +
                        " (price_per_gpu_hour), so the options are ranked by time");
  }
  // Ranking: by time, or by cost (options without a price after those with one); no layout last.
  for (int o = 0; o < static_cast<int>(res.verdicts.size()); ++o) res.ranking.push_back(o);
  const auto key = [&](int o) {
    const OptionVerdict& v = res.verdicts[o];
    if (v.row < 0) return std::make_pair(2, 0.0);
    if (rank == CompareRank::Cost) return v.econ.cost ? std::make_pair(0, *v.econ.cost) : std::make_pair(1, v.econ.time_s);
    return std::make_pair(0, v.econ.time_s);
  };
  std::stable_sort(res.ranking.begin(), res.ranking.end(), [&](int a, int b) { return key(a) < key(b); });
  // By time, options that train in the same time (within kSameTrainingTime of the fastest of their
  // run: the simulation's own noise, far inside any band) are ordered by cost, the priced and
  // cheaper first, and said to tie, once a run; a fabric variant's note above already says it of
  // its option.
  if (rank == CompareRank::Time)
    for (size_t k = 0; k < res.ranking.size();) {
      size_t end = k + 1;
      const OptionVerdict& first = res.verdicts[res.ranking[k]];
      while (first.row >= 0 && end < res.ranking.size() && res.verdicts[res.ranking[end]].row >= 0 &&
             same_time(first.econ.time_s, res.verdicts[res.ranking[end]].econ.time_s))
        ++end;
      if (end - k < 2) {
        k = end;
        continue;
      }
      // The priced ones by cost, in the places the priced ones hold: an unpriced one keeps its place
      // by time (it is not the dearer).
      std::vector<size_t> slots;
      std::vector<int> priced;
      for (size_t m = k; m < end; ++m)
        if (res.verdicts[res.ranking[m]].econ.cost) {
          slots.push_back(m);
          priced.push_back(res.ranking[m]);
        }
      std::stable_sort(priced.begin(), priced.end(),
                       [&](int a, int b) { return *res.verdicts[a].econ.cost < *res.verdicts[b].econ.cost; });
      for (size_t i = 0; i < slots.size(); ++i) res.ranking[slots[i]] = priced[i];
      std::vector<std::string> names;
      bool variant_pair_only = end - k == 2;
      for (size_t m = k; m < end; ++m) names.push_back(st.options[res.ranking[m]].name);
      if (variant_pair_only) {  // an option and its own variant: the variant's note says it
        const std::string &pa = st.options[res.ranking[k]].path, &pb = st.options[res.ranking[k + 1]].path;
        variant_pair_only = pa.rfind(pb + ".fabric_variants[", 0) == 0 || pb.rfind(pa + ".fabric_variants[", 0) == 0;
      }
      if (!variant_pair_only)
        res.notes.push_back(join_words(names, "and") + " train in the same time (within " + strprintf("%.1f", 100 * kSameTrainingTime) + "%)" +
                            (priced.size() < 2            ? ""
                             : priced.size() == names.size() ? ": the cheaper ranked first"
                                                             : ": the cheaper of the priced ranked first"));
      k = end;
    }

  // The recommendation in words.
  const int best = res.ranking.front();
  const OptionVerdict& b = res.verdicts[best];
  if (b.row < 0) {
    res.recommendation = "No option can run the job:";
    for (int o : res.ranking) res.recommendation += "\n  " + st.options[o].name + ": " + res.verdicts[o].none_why + ".";
    return res;
  }
  const SimulationResult& br = *outcome.rows[b.row].result;
  const std::string budget = token_count_words(st.token_budget) + " tokens";
  std::vector<std::string> unpriced;
  for (int o : res.ranking)
    if (res.verdicts[o].row >= 0 && !res.verdicts[o].econ.cost) unpriced.push_back(st.options[o].name);
  const bool by_cost = rank == CompareRank::Cost && b.econ.cost;
  // By time, the first may be a cheaper option that trains in the same time as a faster one.
  const bool strictly_fastest = std::none_of(res.ranking.begin(), res.ranking.end(), [&](int o) {
    return res.verdicts[o].row >= 0 && res.verdicts[o].econ.time_s < b.econ.time_s;
  });
  std::string w = st.options[best].name +
                  (by_cost            ? " is the cheapest"
                   : strictly_fastest ? " is the fastest"
                                      : " ties for the fastest (within " + strprintf("%.1f", 100 * kSameTrainingTime) +
                                            "%, the cheaper ranked first)") +
                  " way to train " + budget +
                  (by_cost && !unpriced.empty() ? " among the priced options" : "") + ": " + duration_words(b.econ.time_s) + " (" +
                  duration_band_words(b.econ.time_s_band.first, b.econ.time_s_band.second) + ") with " + outcome.rows[b.row].label + ", " +
                  strprintf("%.0f", br.step->tokens_per_s_per_gpu) + " tokens/s per GPU at " + strprintf("%.1f", 100 * br.step->mfu) +
                  "% MFU" + (b.econ.cost ? ", costing " + amount_words(*b.econ.cost) + " at the study's prices" : "") + ".";
  if (by_cost && !unpriced.empty()) {
    w += "\n  Not priced, so not ranked by cost:";
    for (size_t k = 0; k < unpriced.size(); ++k)
      w += (k ? "," : "") + std::string(" ") + unpriced[k];
    w += " (compare their GPU-hours).";
  }
  const CompareGroup& bg = plan.groups[b.group];
  if (bg.subset) {
    w += "\n  It uses " + std::to_string(bg.gpus_used) + " of its " + std::to_string(bg.gpus_paid) + " GPUs (" +
         std::to_string(bg.gpus_paid - bg.gpus_used) + " idle but paid for): ";
    if (b.whole_row < 0)
      w += "no layout tried runs on all of them (TP x CP x PP must divide them, DP x micro batch the global batch "
           "and PP the layers, within memory).";
    else
      w += "the best layout on all of them, " + outcome.rows[b.whole_row].label + ", trains slower (" +
           strprintf("%.0f", outcome.rows[b.whole_row].result->step->tokens_per_s) + " vs " +
           strprintf("%.0f", br.step->tokens_per_s) + " tokens/s).";
  }
  // What validation said of the picked layout's scenario; the cost model's warnings of the whole
  // option (an unmeasured GPU's roofline) are the option's notes. The layout was simulated, so
  // its cost parameters load; should they not, every warning is listed.
  std::vector<std::string> option_wide;
  try {
    option_wide = cost_params_for(br.scenario).warnings;
  } catch (const std::exception&) {
  }
  for (const std::string& caveat : br.scenario.warnings)
    if (std::find(option_wide.begin(), option_wide.end(), caveat) == option_wide.end())
      w += "\n  Caveat of this layout: " + caveat + ".";
  // Whether option `o` ties with the first on a measure: apart by no more than the band of their
  // ratio or kThroughputTie (sweep/choose: one rule for layouts, subsets and options). On time, or
  // on cost: prices are exact, so the band of two options' cost ratio is that of their times'.
  const auto cost_of = [&](int o) { return res.verdicts[o].econ.cost; };
  const auto time_of = [&](int o) { return std::optional<double>(res.verdicts[o].econ.time_s); };
  const auto ties = [&](int o, const auto& measure) {
    const OptionVerdict& v = res.verdicts[o];
    const std::optional<double> x = measure(o), first = measure(best);
    return v.row >= 0 && x && first && *first > 0 &&
           std::abs(*x / *first - 1) <= tie_margin(outcome.rows[v.row].result->uncertainty, br.uncertainty);
  };
  const auto ties_on_time = [&](int o) { return ties(o, time_of); };
  const auto ties_on_cost = [&](int o) { return ties(o, cost_of); };
  // Of the options that tie with the first on the ranking's measure and beat it on the other one
  // (`other`, smaller is better) by a shown difference, the best on that other one; -1 if none.
  // Ranked by time that is the better buy (the cheapest of the options as fast); ranked by cost
  // the better pick (the fastest of the options as cheap).
  const auto best_tied = [&](const auto& tied, const auto& other, double first_other) {
    int pick = -1;
    for (size_t k = 1; k < res.ranking.size(); ++k) {
      const int o = res.ranking[k];
      const std::optional<double> x = other(o);
      if (tied(o) && x && *x > 0 && first_other / *x - 1 >= kShownApart && (pick < 0 || *x < *other(pick))) pick = o;
    }
    return pick;
  };
  const int better_buy = !by_cost && b.econ.cost ? best_tied(ties_on_time, cost_of, *b.econ.cost) : -1;
  const int better_pick = by_cost ? best_tied(ties_on_cost, time_of, b.econ.time_s) : -1;
  for (size_t k = 1; k < res.ranking.size(); ++k) {
    const int o = res.ranking[k];
    const OptionVerdict& v = res.verdicts[o];
    if (v.row < 0) {
      w += "\n  " + st.options[o].name + ": " + v.none_why + ".";
      continue;
    }
    const SimulationResult& r = *outcome.rows[v.row].result;
    const double time_ratio = v.econ.time_s / b.econ.time_s;
    const double band = ratio_band(r.uncertainty, br.uncertainty);
    const double per_gpu = br.step->tokens_per_s_per_gpu / r.step->tokens_per_s_per_gpu;
    const double peak = peak_of(br.scenario) / peak_of(r.scenario);
    const double mfu = br.step->mfu / r.step->mfu;
    w += "\n  " + st.options[o].name + " takes " + strprintf("%.2f", time_ratio) + "x the time (" + duration_words(v.econ.time_s) + ")";
    const bool tie = ties_on_time(o);
    const std::string band_words = band < 0.0005 ? "<0.1%" : "\u00b1" + strprintf("%.1f", 100 * band) + "%";
    const std::string margin = band > kThroughputTie
                                   ? "the band of the two predictions' ratio (" + band_words + ")"
                                   : strprintf("%.0f%% (the band of the two predictions' ratio is ", 100 * kThroughputTie) +
                                         band_words + ")";
    w += (tie ? ", within " : ", beyond ") + margin + (tie ? ": a tie on time" : "");
    // Per GPU used: a subset's idle GPUs are paid for but run nothing (the cost says that).
    w += "; per GPU " + std::string(bg.subset || (v.group >= 0 && plan.groups[v.group].subset) ? "used " : "") + st.options[best].name +
         " runs " + strprintf("%.2f", per_gpu) + "x the tokens/s (" + strprintf("%.2f", peak) + "x the peak at " +
         strprintf("%.2f", mfu) + "x the MFU)";
    if (b.econ.cost && v.econ.cost && *v.econ.cost > 0) {
      const double c = *b.econ.cost / *v.econ.cost - 1;
      w += "; for this job " + st.options[best].name +
           (std::abs(c) < kShownApart ? std::string(" costs the same")
                                : " costs " + strprintf("%.0f", 100 * std::abs(c)) + (c <= 0 ? "% less" : "% more"));
      // As cheap within the tie, and faster (by cost), or as fast within the tie, and cheaper (by
      // time): a choice the ranking alone would hide.
      const double faster = b.econ.time_s / v.econ.time_s - 1;  // > 0: o trains faster than the first
      if (by_cost && ties_on_cost(o)) {
        if (std::abs(c) >= kShownApart) w += ", within " + margin + ": a tie on cost";
        if (o == better_pick)
          w += "; as cheap within the tie and the fastest of those that are, " + st.options[o].name +
               " is the better pick unless the cost matters more (--rank time ranks by time)";
        else if (faster >= kShownApart) {
          const double vs_pick = res.verdicts[better_pick].econ.time_s > 0
                                     ? v.econ.time_s / res.verdicts[better_pick].econ.time_s - 1
                                     : 0;
          w += "; as cheap within the tie and faster, though " + st.options[better_pick].name +
               (vs_pick >= kShownApart ? " is faster still" : ", as fast, is named the better pick");
        }
      } else if (o == better_buy)
        w += ": as fast within the tie and the cheapest of those that are, " + st.options[o].name +
             " is the better buy unless the days matter more (--rank cost ranks by cost)";
      else if (tie && c >= kShownApart && !by_cost) {
        const double vs_buy = *v.econ.cost / *res.verdicts[better_buy].econ.cost - 1;
        w += ": as fast within the tie and cheaper, though " + st.options[better_buy].name +
             (vs_buy >= kShownApart ? " costs less still" : ", at the same cost, is named the better buy");
      }
    }
    w += ".";
  }
  res.recommendation = w;
  return res;
}

}  // namespace hcpsim
