// The sweep's recommendation: sweep/choose's rule (best tokens/s that fits; a
// tie, bands overlapping or within kThroughputTie, goes to the most headroom) applied to the best
// option of each CP transport plus every option in the tie band, then words
// on HCP, on pipeline parallelism (its bubble against the memory it frees) and on what did not
// fit, all read off the numbers.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "common/strprintf.hpp"
#include "memory/relief_words.hpp"
#include "sweep/choose.hpp"
#include "sweep/outcome.hpp"

namespace hcpsim {

namespace {

std::string comm_of(const SweepRow& row) {
  const ParallelSpec& p = row.result->scenario.parallel;
  return p.context_parallel_size == 1 ? "none" : to_string(p.cp_comm_type);
}

// Best fitting row per CP transport, by throughput; -1 where none fits.
std::map<std::string, int> best_by_comm(const SweepOutcome& o) {
  std::map<std::string, int> best;
  for (int i : ranked_rows(o))
    if (o.rows[i].fits() && !best.count(comm_of(o.rows[i]))) best[comm_of(o.rows[i])] = i;
  return best;
}

std::string hcp_words(const SweepOutcome& o, int pick, const std::map<std::string, int>& best) {
  const auto h = best.find("a2a+p2p");
  if (h == best.end()) return "";
  const SweepRow& p = o.rows[pick];
  const bool pick_is_hcp = p.result->scenario.parallel.cp_comm_type == CpCommType::A2AP2P;
  const SweepRow& hr = pick_is_hcp ? p : o.rows[h->second];  // the pick itself where it is an HCP layout
  const Scenario& sc = hr.result->scenario;
  const int64_t kv = sc.model.num_query_groups;
  const int64_t tp = sc.parallel.tensor_model_parallel_size, cp = sc.parallel.context_parallel_size;
  const int64_t kv_per_tp = std::max<int64_t>(1, kv / tp);
  char buf[768];
  if (pick_is_hcp) {  // whether CP needed the two levels, or the numbers chose them
    std::snprintf(buf, sizeof buf,
                  cp > kv_per_tp ? "\n  HCP pays off here: it runs CP%lld although a2a alone can split at most KV heads / "
                                   "TP = %lld / %lld = %lld ways."
                                 : "\n  This layout runs HCP although a2a alone could split its CP%lld (KV heads / TP = "
                                   "%lld / %lld = %lld): the two-level split is what the numbers above chose, not a necessity.",
                  static_cast<long long>(cp), static_cast<long long>(kv), static_cast<long long>(tp),
                  static_cast<long long>(kv_per_tp));
    return buf;
  }
  const double ratio = hr.tokens_per_s_per_gpu() / p.tokens_per_s_per_gpu();
  std::snprintf(buf, sizeof buf,
                "\n  The best HCP option, %s, reaches %.1f%% of this throughput with %.1f GB %s headroom; HCP only pays "
                "off when CP must exceed KV heads / TP (%lld / %lld = %lld for it), and here a layout without HCP %s.",
                hr.label.c_str(), 100 * ratio, std::abs(p.headroom_gb() - hr.headroom_gb()),
                hr.headroom_gb() < p.headroom_gb() ? "less" : "more", static_cast<long long>(kv),
                static_cast<long long>(tp), static_cast<long long>(kv_per_tp),
                ratio > 1 ? "comes within the tie band at more headroom" : "is at least as fast");
  return buf;
}

int64_t pp_of(const SweepRow& row) { return row.result->scenario.parallel.pipeline_model_parallel_size; }

// A row's PP from its scenario document, for rows without a result (rejected, unfit, failed).
int64_t input_pp_of(const SweepRow& row) {
  if (row.result) return pp_of(row);
  const auto parallel = row.input.find("parallel");
  if (parallel == row.input.end() || !parallel->is_object()) return 1;
  const auto pp = parallel->find("pipeline_model_parallel_size");
  return pp != parallel->end() && pp->is_number_integer() ? pp->get<int64_t>() : 1;
}

// Why no layout without PP stands beside a pipelined pick: none fit in memory, validation
// rejected every one (with the first rule), or the sweep tried none.
std::string no_unpiped_words(const SweepOutcome& o) {
  int unfit = 0, rejected = 0, failed = 0;
  const SweepRow* first_rejected = nullptr;
  for (const SweepRow& r : o.rows) {
    if (input_pp_of(r) > 1) continue;
    if (r.status == RowStatus::Unfit || (r.ok() && !r.fits())) {
      ++unfit;
    } else if (r.status == RowStatus::Rejected) {
      if (!first_rejected && !r.rejected_by.empty()) first_rejected = &r;
      ++rejected;
    } else if (r.status == RowStatus::Failed) {
      ++failed;
    }
  }
  if (unfit > 0) return "no layout without PP fits in memory";
  if (rejected > 0) {
    std::string words = "validation rejected every layout without PP";
    if (first_rejected)
      words += " (first: " + first_rejected->label + ", " + first_rejected->rejected_by.front().path + ": " +
               first_rejected->rejected_by.front().rule + ")";
    return words;
  }
  if (failed > 0) return "every layout without PP failed to simulate";
  return "the sweep tried no layout without PP";
}

// PP's trade, read off the numbers: the bubble it idles against the memory it frees, for the pick
// and the best option on the other side of the PP = 1 line.
std::string pipeline_words(const SweepOutcome& o, int pick) {
  int other = -1;
  const bool piped = pp_of(o.rows[pick]) > 1;
  for (int i : ranked_rows(o))
    if (o.rows[i].fits() && (pp_of(o.rows[i]) > 1) != piped) {
      other = i;
      break;
    }
  const auto bubble = [&](const SweepRow& r) { return 100 * r.result->step->composed.bubble_fraction; };
  const auto micro = [&](const SweepRow& r) { return static_cast<long long>(r.result->step->inputs.microbatches); };
  char buf[768];
  if (piped) {
    const SweepRow& p = o.rows[pick];
    if (other < 0) {
      std::snprintf(buf, sizeof buf,
                    "\n  Pipeline: PP%lld idles %.1f%% of its schedule in the bubble (%lld micro batches per DP rank), and ",
                    static_cast<long long>(pp_of(p)), bubble(p), micro(p));
      return buf + no_unpiped_words(o) + ".";
    }
    const SweepRow& q = o.rows[other];
    std::snprintf(buf, sizeof buf,
                  "\n  Pipeline: PP%lld idles %.1f%% of its schedule in the bubble (%lld micro batches per DP rank) and still "
                  "beats the best layout without PP, %s, by %.1f%% (its peak %.1f GB vs %.1f GB here).",
                  static_cast<long long>(pp_of(p)), bubble(p), micro(p), q.label.c_str(),
                  100 * (p.tokens_per_s_per_gpu() / q.tokens_per_s_per_gpu() - 1), q.result->memory.peak_bytes / 1e9,
                  p.result->memory.peak_bytes / 1e9);
    return buf;
  }
  if (other < 0) return "";
  const SweepRow& q = o.rows[other];
  std::snprintf(buf, sizeof buf,
                "\n  Pipeline: the best pipelined option, %s, reaches %.1f%% of this throughput: its bubble idles %.1f%% "
                "of the step (%lld micro batches over %lld stages) for a peak of %.1f GB instead of %.1f GB.",
                q.label.c_str(), 100 * q.tokens_per_s_per_gpu() / o.rows[pick].tokens_per_s_per_gpu(), bubble(q), micro(q),
                static_cast<long long>(pp_of(q)), q.result->memory.peak_bytes / 1e9,
                o.rows[pick].result->memory.peak_bytes / 1e9);
  return buf;
}

std::string shortfall_words(const SweepOutcome& o) {
  int simulated = 0, nofit = 0, closest = -1;
  double worst = 0;
  for (int i = 0; i < static_cast<int>(o.rows.size()); ++i) {
    if (!o.rows[i].ok() && o.rows[i].status != RowStatus::Unfit) continue;
    ++simulated;
    if (o.rows[i].fits()) continue;
    ++nofit;
    const double short_gb = -o.rows[i].headroom_gb();
    worst = std::max(worst, short_gb);
    if (closest < 0 || short_gb < -o.rows[closest].headroom_gb()) closest = i;
  }
  if (nofit == 0) return "";
  const double least = -o.rows[closest].headroom_gb();
  const std::string by = nofit == 1 ? strprintf("%.1f GB", least) : strprintf("%.1f to %.1f GB", least, worst);
  return strprintf("\n  %d of %d valid options do not fit, short by %s per GPU (%s: %s); to fit: %s.", nofit, simulated,
                   by.c_str(), nofit == 1 ? "it is" : "closest", o.rows[closest].label.c_str(),
                   memory_relief_words(nullptr).c_str());
}

// Where no candidate was simulated, why: how many validation rejected (with the first rule), how
// many failed; those the memory estimate left out get shortfall_words' advice. Empty when some
// were simulated, or when every candidate was left out by the estimate (shortfall_words says it).
std::string nothing_simulated_words(const SweepOutcome& o) {
  int rejected = 0, unfit = 0, failed = 0, missing = 0;
  const SweepRow* first_rejected = nullptr;
  for (const SweepRow& r : o.rows) {
    if (r.ok()) return "";
    if (r.status == RowStatus::Rejected) {
      if (!first_rejected && !r.rejected_by.empty()) first_rejected = &r;
      ++rejected;
    } else if (r.status == RowStatus::Unfit) {
      ++unfit;
    } else if (r.status == RowStatus::Failed) {
      ++failed;
    } else {
      ++missing;
    }
  }
  if (o.rows.empty()) return "This run has no candidate (an empty shard of the sweep).";
  if (rejected + failed + missing == 0) return "";
  const auto count = [](int n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); };
  std::string words = "No candidate ran to a result:";
  std::string sep = " ";
  if (rejected > 0) {
    words += sep + count(rejected, "was", "were") + " rejected by validation";
    if (first_rejected)
      words += " (first: " + first_rejected->label + ", " + first_rejected->rejected_by.front().path + ": " +
               first_rejected->rejected_by.front().rule + ")";
    sep = "; ";
  }
  if (failed > 0) words += sep + count(failed, "simulation", "simulations") + " failed (their errors are listed above)", sep = "; ";
  if (missing > 0) words += sep + count(missing, "is", "are") + " missing", sep = "; ";
  if (unfit > 0) words += sep + count(unfit, "exceeds", "exceed") + " GPU memory by the estimate, not simulated";
  return words + "." + shortfall_words(o);
}

}  // namespace

SweepRecommendation recommend_sweep(const SweepOutcome& o) {
  const auto best = best_by_comm(o);
  SweepRecommendation rec;
  if (best.empty()) {
    rec.reasons = nothing_simulated_words(o);
    if (rec.reasons.empty()) rec.reasons = "No simulated option fits in GPU memory." + shortfall_words(o);
    return rec;
  }
  int top = -1;
  for (const auto& [comm, i] : best)
    if (top < 0 || o.rows[i].tokens_per_s_per_gpu() > o.rows[top].tokens_per_s_per_gpu()) top = i;
  // The rows recommend() weighs: those that tie with the best, the best of each transport, and the
  // fastest that leaves the caching allocator's margin (which it names beside a pick within it), in
  // the ranking's order (its reasons list them so).
  const std::vector<int> ranked = ranked_rows(o);
  const auto leaves_margin = [&](int i) { return o.rows[i].fits() && !o.rows[i].result->memory.within_allocator_margin; };
  const auto first_roomy = std::find_if(ranked.begin(), ranked.end(), leaves_margin);  // fitting rows lead, fastest first
  const int roomy = first_roomy == ranked.end() ? -1 : *first_roomy;
  std::vector<int> considered;
  for (int i : ranked) {
    const bool best_of_its_transport =
        std::any_of(best.begin(), best.end(), [i](const auto& comm_row) { return comm_row.second == i; });
    if (best_of_its_transport || i == roomy ||
        (o.rows[i].fits() && throughput_tie(*o.rows[i].result, *o.rows[top].result)))
      considered.push_back(i);
  }
  std::vector<StudyRow> study;
  for (int i : considered) study.push_back({o.rows[i].label, *o.rows[i].result});
  std::string words;
  const int pick = recommend(study, words);
  rec.row = considered[pick];
  rec.reasons = words + hcp_words(o, rec.row, best) + pipeline_words(o, rec.row) + shortfall_words(o);
  return rec;
}

}  // namespace hcpsim
