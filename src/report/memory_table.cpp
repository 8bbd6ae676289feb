#include <cstdio>
#include <string>

#include "report/memory_table.hpp"
#include "common/strprintf.hpp"
#include "memory/allocator_margin_words.hpp"
#include "rules/allocator.hpp"

namespace hcpsim {

namespace {
std::string row(const std::string& name, double bytes, const std::string& note) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-26s %9.2f", name.c_str(), bytes / 1e9);
  return std::string(buf) + (note.empty() ? "" : "  " + note) + "\n";
}
}  // namespace

// The margin's basis (memory/allocator_margin_words), and with the default allocator what
// expandable segments would leave instead.
std::string allocator_margin_note(const MemoryEstimate& m) {
  const std::string where = m.stage_peak_bytes.empty() ? "" : " of stage " + std::to_string(m.allocator_margin_stage);
  std::string note = "beyond the peak" + where + ": " + allocator_margin_basis(m, 2);
  if (!m.expandable_segments)
    note += strprintf("; expandable_segments: %.2f GB", rules::kExpandableSegmentsMarginBytes / 1e9);
  return note;
}

std::string format_memory(const MemoryEstimate& m) {
  std::string out = "memory per GPU (GB = 1e9 B), peak phase " + m.peak_phase + ":\n";
  char header[128];
  std::snprintf(header, sizeof header, "  %-26s %9s  %s\n", "component", "GB", "note");
  out += header;
  for (const auto& c : m.breakdown) out += row(c.name, c.bytes, c.note);
  out += row("peak", m.peak_bytes, "");
  out += row("capacity", m.capacity_bytes, "");
  out += row("headroom", m.headroom_bytes,
             !m.fits ? "DOES NOT FIT"
                     : !m.within_allocator_margin ? "fits"
                     : m.stage_peak_bytes.empty()
                         ? "fits, but less than the allocator's margin: it may run out"
                         : "fits, but stage " + std::to_string(m.allocator_margin_stage) + " has " +
                               strprintf("%.2f GB", m.allocator_stage_headroom_bytes / 1e9) +
                               ", less than the allocator's margin: it may run out");
  out += row("allocator margin", m.allocator_margin_bytes, allocator_margin_note(m));
  out += "  phases:";
  for (const auto& p : m.phases) {
    char buf[96];
    std::snprintf(buf, sizeof buf, " %s %.2f", p.name.c_str(), p.bytes / 1e9);
    out += buf;
  }
  out += "\n";
  if (!m.stage_peak_bytes.empty()) {
    out += "  peak per pipeline stage:";
    for (size_t i = 0; i < m.stage_peak_bytes.size(); ++i) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " %zu: %.2f", i, m.stage_peak_bytes[i] / 1e9);
      out += buf;
    }
    out += "\n";
  }
  return out;
}

}  // namespace hcpsim
