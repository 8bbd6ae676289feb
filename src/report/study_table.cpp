#include "report/study_table.hpp"

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

}  // namespace hcpsim
