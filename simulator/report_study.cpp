#include "simulator/report_study.hpp"

#include <algorithm>
#include <cstdio>

namespace hcpsim {

namespace {

double tps_gpu(const StudyRow& r) { return r.result["step"]["tokens_per_s_per_gpu"].get<double>(); }
double headroom_gb(const StudyRow& r) { return r.result["memory"]["headroom_bytes"].get<double>() / 1e9; }
bool fits(const StudyRow& r) { return r.result["memory"]["fits"].get<bool>(); }

std::string row_line(const char* fmt, const StudyRow& r) {
  const auto& s = r.result["step"];
  const auto& a = r.result["attention"];
  const auto& m = r.result["memory"];
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, r.label.c_str(), s["time_s"].get<double>(), tps_gpu(r), 100 * s["mfu"].get<double>(),
                1e3 * a["forward_s"].get<double>(), 1e3 * a["backward_s"].get<double>(),
                1e3 * a["exposed_comm_s"].get<double>(), 100 * a["overlap_ratio"].get<double>(),
                m["peak_bytes"].get<double>() / 1e9, headroom_gb(r), fits(r) ? "yes" : "NO");
  return buf;
}

}  // namespace

std::string format_study_table(const std::vector<StudyRow>& rows) {
  std::string o;
  char head[512];
  std::snprintf(head, sizeof head, "%-28s %8s %10s %6s %9s %9s %9s %8s %8s %9s %5s\n", "option", "step s", "tok/s/GPU",
                "MFU%", "attn fwd", "attn bwd", "exposed", "overlap", "peak GB", "headroom", "fits");
  o += head;
  std::snprintf(head, sizeof head, "%-28s %8s %10s %6s %9s %9s %9s %8s %8s %9s %5s\n", "", "", "", "", "ms/layer",
                "ms/layer", "comm ms", "%", "", "GB", "");
  o += head;
  for (const auto& r : rows) o += row_line("%-28s %8.3f %10.1f %6.1f %9.2f %9.2f %9.2f %8.0f %8.1f %9.1f %5s\n", r);
  return o;
}

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
