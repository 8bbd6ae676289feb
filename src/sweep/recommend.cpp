// The sweep's recommendation: report_study's rule (best tokens/s that fits; a
// tie within kThroughputTie goes to the most headroom) applied to the best
// option of each CP transport plus every option in the tie band, then words
// on HCP and on what did not fit, all read off the numbers.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "sweep/choose.hpp"
#include "sweep/outcome.hpp"

namespace hcpsim {

namespace {

std::string comm_of(const nlohmann::json& row) {
  const auto& p = row["result"]["parallel"];
  return p["cp"].get<int>() == 1 ? "none" : p["cp_comm_type"].get<std::string>();
}

// Best fitting row per CP transport, by throughput; -1 where none fits.
std::map<std::string, int> best_by_comm(const SweepOutcome& o) {
  std::map<std::string, int> best;
  for (int i : ranked_rows(o))
    if (row_fits(o.rows[i]) && !best.count(comm_of(o.rows[i]))) best[comm_of(o.rows[i])] = i;
  return best;
}

std::string hcp_words(const SweepOutcome& o, int pick, const std::map<std::string, int>& best) {
  const auto h = best.find("a2a+p2p");
  if (h == best.end()) return "";
  const nlohmann::json& p = o.rows[pick];
  const nlohmann::json& hr = o.rows[h->second];
  const auto& par = hr["result"]["parallel"];
  const int64_t kv = hr["result"]["scenario"]["model"]["num_query_groups"].get<int64_t>();
  const int64_t tp = par["tp"].get<int64_t>(), cp = par["cp"].get<int64_t>();
  const int64_t kv_per_tp = std::max<int64_t>(1, kv / tp);
  char buf[768];
  if (h->second == pick) {
    std::snprintf(buf, sizeof buf,
                  "\n  HCP pays off here: it runs CP%lld although a2a alone can split at most KV heads / TP = %lld / %lld = "
                  "%lld ways.",
                  static_cast<long long>(cp), static_cast<long long>(kv), static_cast<long long>(tp),
                  static_cast<long long>(kv_per_tp));
    return buf;
  }
  const double ratio = row_tokens_per_s_per_gpu(hr) / row_tokens_per_s_per_gpu(p);
  std::snprintf(buf, sizeof buf,
                "\n  The best HCP option, %s, reaches %.1f%% of this throughput with %.1f GB %s headroom; HCP only pays "
                "off when CP must exceed KV heads / TP (%lld / %lld = %lld for it), and here a layout without HCP %s.",
                hr["label"].get<std::string>().c_str(), 100 * ratio, std::abs(row_headroom_gb(p) - row_headroom_gb(hr)),
                row_headroom_gb(hr) < row_headroom_gb(p) ? "less" : "more", static_cast<long long>(kv),
                static_cast<long long>(tp), static_cast<long long>(kv_per_tp),
                ratio > 1 ? "comes within the tie band at more headroom" : "is at least as fast");
  return buf;
}

std::string shortfall_words(const SweepOutcome& o) {
  int simulated = 0, nofit = 0, closest = -1;
  double worst = 0;
  for (int i = 0; i < static_cast<int>(o.rows.size()); ++i) {
    if (!row_ok(o.rows[i])) continue;
    ++simulated;
    if (row_fits(o.rows[i])) continue;
    ++nofit;
    const double short_gb = -row_headroom_gb(o.rows[i]);
    worst = std::max(worst, short_gb);
    if (closest < 0 || short_gb < -row_headroom_gb(o.rows[closest])) closest = i;
  }
  if (nofit == 0) return "";
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "\n  %d of %d simulated options do not fit, short by %.1f to %.1f GB per GPU (closest: %s); add recompute, "
                "raise TP or CP, or use GPUs with more memory.",
                nofit, simulated, -row_headroom_gb(o.rows[closest]), worst,
                o.rows[closest]["label"].get<std::string>().c_str());
  return buf;
}

}  // namespace

SweepRecommendation recommend_sweep(const SweepOutcome& o) {
  const auto best = best_by_comm(o);
  SweepRecommendation rec;
  if (best.empty()) {
    rec.reasons = "No simulated option fits in GPU memory." + shortfall_words(o);
    return rec;
  }
  double top = 0;
  for (const auto& [comm, i] : best) top = std::max(top, row_tokens_per_s_per_gpu(o.rows[i]));
  // The rows recommend() weighs: the tie band around the best, and the best of each transport.
  std::vector<int> considered;
  for (int i : ranked_rows(o))
    if (row_fits(o.rows[i]) && row_tokens_per_s_per_gpu(o.rows[i]) >= (1 - kThroughputTie) * top) considered.push_back(i);
  for (const auto& [comm, i] : best)
    if (std::find(considered.begin(), considered.end(), i) == considered.end()) considered.push_back(i);
  std::vector<StudyRow> study;
  for (int i : considered) study.push_back({o.rows[i]["label"].get<std::string>(), o.rows[i]["result"]});
  std::string words;
  const int pick = recommend(study, words);
  rec.row = considered[pick];
  rec.reasons = words + hcp_words(o, rec.row, best) + shortfall_words(o);
  return rec;
}

}  // namespace hcpsim
