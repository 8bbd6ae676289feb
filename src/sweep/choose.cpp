#include "sweep/choose.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/strprintf.hpp"
#include "memory/allocator_margin_words.hpp"
#include "memory/relief_words.hpp"
#include <utility>

namespace hcpsim {

namespace {

double tps_gpu(const StudyRow& r) { return r.result.step->tokens_per_s_per_gpu; }
double headroom_gb(const StudyRow& r) { return r.result.memory.headroom_bytes / 1e9; }
bool fits(const StudyRow& r) { return r.result.memory.fits; }

}  // namespace

double tie_margin(const Uncertainty& a, const Uncertainty& b) { return std::max(kThroughputTie, ratio_band(a, b)); }

bool throughput_tie(const SimulationResult& a, const SimulationResult& b) {
  const double ta = a.step->tokens_per_s_per_gpu, tb = b.step->tokens_per_s_per_gpu;
  const double apart = std::max(ta, tb) / std::min(ta, tb) - 1;
  return apart <= tie_margin(a.uncertainty, b.uncertainty);
}

int recommend(const std::vector<StudyRow>& rows, std::string& reasons) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(rows.size()); ++i)
    if (fits(rows[i]) && (best < 0 || tps_gpu(rows[i]) > tps_gpu(rows[best]))) best = i;
  if (best < 0) {
    reasons = "No option fits in GPU memory; to fit: " + memory_relief_words(nullptr) + ".";
    return -1;
  }
  // Among fitting options that tie with the best, take the most headroom.
  int pick = best;
  for (int i = 0; i < static_cast<int>(rows.size()); ++i)
    if (fits(rows[i]) && throughput_tie(rows[i].result, rows[best].result) && headroom_gb(rows[i]) > headroom_gb(rows[pick]))
      pick = i;
  char buf[512];
  if (pick == best) {
    std::snprintf(buf, sizeof buf, "%s has the highest throughput that fits: %.1f tokens/s per GPU with %.1f GB headroom.",
                  rows[pick].label.c_str(), tps_gpu(rows[pick]), headroom_gb(rows[pick]));
  } else {
    const double below = 1 - tps_gpu(rows[pick]) / tps_gpu(rows[best]);
    const double band = ratio_band(rows[pick].result.uncertainty, rows[best].result.uncertainty);
    const std::string why = band > kThroughputTie
                                ? strprintf("within the band of the comparison (+-%.1f%%: the evidence the two "
                                            "predictions do not share)", 100 * band)
                                : strprintf("within %.0f%%", 100 * kThroughputTie);
    std::snprintf(buf, sizeof buf,
                  "%s ties with %s: %.1f%% below it (%.1f vs %.1f tokens/s per GPU), %s; it leaves %.1f GB more "
                  "headroom (%.1f vs %.1f GB).",
                  rows[pick].label.c_str(), rows[best].label.c_str(), 100 * below, tps_gpu(rows[pick]), tps_gpu(rows[best]),
                  why.c_str(), headroom_gb(rows[pick]) - headroom_gb(rows[best]), headroom_gb(rows[pick]),
                  headroom_gb(rows[best]));
  }
  reasons = buf;
  // A pick whose headroom is below the caching allocator's margin may run out (rules/allocator.hpp):
  // say so, and name the fastest option that leaves the margin.
  if (rows[pick].result.memory.within_allocator_margin) {
    int safe = -1;
    for (int i = 0; i < static_cast<int>(rows.size()); ++i)
      if (fits(rows[i]) && !rows[i].result.memory.within_allocator_margin && (safe < 0 || tps_gpu(rows[i]) > tps_gpu(rows[safe])))
        safe = i;
    reasons += " Its " + allocator_margin_words(rows[pick].result.memory, rows[pick].result.scenario) + ".";
    if (safe >= 0)
      reasons += strprintf(" %s leaves the margin at %.1f%% of its throughput (%.1f GB headroom).", rows[safe].label.c_str(),
                           100 * tps_gpu(rows[safe]) / tps_gpu(rows[pick]), headroom_gb(rows[safe]));
  }
  for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
    if (i == pick) continue;
    const double ratio = tps_gpu(rows[i]) / tps_gpu(rows[pick]);
    const double more_gb = headroom_gb(rows[i]) - headroom_gb(rows[pick]);
    std::snprintf(buf, sizeof buf, "\n  %s: %.1f%% of its throughput, %.1f GB %s headroom%s.", rows[i].label.c_str(),
                  100 * ratio, std::abs(more_gb), more_gb < 0 ? "less" : "more", !fits(rows[i])                                 ? ", does not fit"
                  : rows[i].result.memory.within_allocator_margin ? ", less than the allocator's margin"
                                                                  : "");
    reasons += buf;
  }
  return pick;
}

}  // namespace hcpsim
