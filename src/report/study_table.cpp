#include "report/study_table.hpp"

#include <algorithm>
#include <cstdio>

namespace hcpsim {

namespace {

std::string row_line(const char* fmt, const StudyRow& r) {
  const StepMetrics& s = *r.result.step;
  const AttentionMetrics& a = r.result.attention;
  const MemoryEstimate& m = r.result.memory;
  char buf[512];
  std::snprintf(buf, sizeof buf, fmt, r.label.c_str(), s.time_s, 100 * r.result.uncertainty.relative,
                s.tokens_per_s_per_gpu, 100 * s.mfu, 1e3 * a.forward_s,
                1e3 * a.backward_s, 1e3 * a.exposed_comm_s, 100 * a.overlap_ratio, m.peak_bytes / 1e9,
                m.headroom_bytes / 1e9, m.fits ? "yes" : "NO");
  return buf;
}

}  // namespace

std::string format_study_table(const std::vector<StudyRow>& rows) {
  std::string o;
  char head[512];
  std::snprintf(head, sizeof head, "%-28s %8s %6s %10s %6s %9s %9s %9s %8s %8s %9s %5s\n", "option", "step s", "band",
                "tok/s/GPU", "MFU%", "attn fwd", "attn bwd", "exposed", "overlap", "peak GB", "headroom", "fits");
  o += head;
  std::snprintf(head, sizeof head, "%-28s %8s %6s %10s %6s %9s %9s %9s %8s %8s %9s %5s\n", "", "", "+-%", "", "", "ms/layer",
                "ms/layer", "comm ms", "%", "", "GB", "");
  o += head;
  for (const auto& r : rows) o += row_line("%-28s %8.3f %6.1f %10.1f %6.1f %9.2f %9.2f %9.2f %8.0f %8.1f %9.1f %5s\n", r);
  return o;
}

}  // namespace hcpsim
