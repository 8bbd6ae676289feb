#include "sweep/choose.hpp"

#include <algorithm>
#include <cstdio>

#include "common/strprintf.hpp"
#include <utility>

namespace hcpsim {

namespace {

double tps_gpu(const StudyRow& r) { return r.result.step->tokens_per_s_per_gpu; }
double headroom_gb(const StudyRow& r) { return r.result.memory.headroom_bytes / 1e9; }
bool fits(const StudyRow& r) { return r.result.memory.fits; }

// Per-GPU throughput band: the step time's band, inverted.
std::pair<double, double> tps_band(const SimulationResult& r) {
  const double t = r.step->tokens_per_s_per_gpu, u = r.uncertainty.relative;
  return {t / (1 + u), u < 1 ? t / (1 - u) : 1e300};
}

}  // namespace

bool throughput_tie(const SimulationResult& a, const SimulationResult& b) {
  const double ta = a.step->tokens_per_s_per_gpu, tb = b.step->tokens_per_s_per_gpu;
  if (std::min(ta, tb) >= (1 - kThroughputTie) * std::max(ta, tb)) return true;
  const auto ba = tps_band(a), bb = tps_band(b);
  return ba.first <= bb.second && bb.first <= ba.second;
}

int recommend(const std::vector<StudyRow>& rows, std::string& reasons) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(rows.size()); ++i)
    if (fits(rows[i]) && (best < 0 || tps_gpu(rows[i]) > tps_gpu(rows[best]))) best = i;
  if (best < 0) {
    reasons = "No option fits in GPU memory; add recompute, raise TP or CP, or use GPUs with more memory.";
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
    const auto bp = tps_band(rows[pick].result), bb = tps_band(rows[best].result);
    const double below = 1 - tps_gpu(rows[pick]) / tps_gpu(rows[best]);
    const std::string why =
        below <= kThroughputTie
            ? strprintf("within %.0f%%", 100 * kThroughputTie)
            : strprintf("and the bands of the two predictions overlap (%.0f-%.0f vs %.0f-%.0f tokens/s per GPU)", bp.first,
                        bp.second, bb.first, bb.second);
    std::snprintf(buf, sizeof buf,
                  "%s ties with %s: %.1f%% below it (%.1f vs %.1f tokens/s per GPU), %s; it leaves %.1f GB more "
                  "headroom (%.1f vs %.1f GB).",
                  rows[pick].label.c_str(), rows[best].label.c_str(), 100 * below, tps_gpu(rows[pick]), tps_gpu(rows[best]),
                  why.c_str(), headroom_gb(rows[pick]) - headroom_gb(rows[best]), headroom_gb(rows[pick]),
                  headroom_gb(rows[best]));
  }
  reasons = buf;
  for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
    if (i == pick) continue;
    const double ratio = tps_gpu(rows[i]) / tps_gpu(rows[pick]);
    std::snprintf(buf, sizeof buf, "\n  %s: %.1f%% of its throughput, %+.1f GB headroom%s.", rows[i].label.c_str(),
                  100 * ratio, headroom_gb(rows[i]) - headroom_gb(rows[pick]), fits(rows[i]) ? "" : ", does not fit");
    reasons += buf;
  }
  return pick;
}

}  // namespace hcpsim
