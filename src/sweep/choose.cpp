#include "sweep/choose.hpp"

#include <cstdio>

namespace hcpsim {

namespace {

double tps_gpu(const StudyRow& r) { return r.result.step->tokens_per_s_per_gpu; }
double headroom_gb(const StudyRow& r) { return r.result.memory.headroom_bytes / 1e9; }
bool fits(const StudyRow& r) { return r.result.memory.fits; }

}  // namespace

int recommend(const std::vector<StudyRow>& rows, std::string& reasons) {
  int best = -1;
  for (int i = 0; i < static_cast<int>(rows.size()); ++i)
    if (fits(rows[i]) && (best < 0 || tps_gpu(rows[i]) > tps_gpu(rows[best]))) best = i;
  if (best < 0) {
    reasons = "No option fits in GPU memory; add recompute, raise TP or CP, or use GPUs with more memory.";
    return -1;
  }
  // Among fitting options within kThroughputTie of the best, take the most headroom.
  int pick = best;
  for (int i = 0; i < static_cast<int>(rows.size()); ++i)
    if (fits(rows[i]) && tps_gpu(rows[i]) >= (1 - kThroughputTie) * tps_gpu(rows[best]) &&
        headroom_gb(rows[i]) > headroom_gb(rows[pick]))
      pick = i;
  char buf[512];
  if (pick == best) {
    std::snprintf(buf, sizeof buf, "%s has the highest throughput that fits: %.1f tokens/s per GPU with %.1f GB headroom.",
                  rows[pick].label.c_str(), tps_gpu(rows[pick]), headroom_gb(rows[pick]));
  } else {
    std::snprintf(buf, sizeof buf,
                  "%s is within %.1f%% of %s's throughput (%.1f vs %.1f tokens/s per GPU) and leaves %.1f GB more "
                  "headroom (%.1f vs %.1f GB).",
                  rows[pick].label.c_str(), 100 * (1 - tps_gpu(rows[pick]) / tps_gpu(rows[best])),
                  rows[best].label.c_str(), tps_gpu(rows[pick]), tps_gpu(rows[best]),
                  headroom_gb(rows[pick]) - headroom_gb(rows[best]), headroom_gb(rows[pick]), headroom_gb(rows[best]));
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
