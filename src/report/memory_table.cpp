#include <cstdio>
#include <string>

#include "report/memory_table.hpp"

namespace hcpsim {

namespace {
std::string row(const std::string& name, double bytes, const std::string& note) {
  char buf[256];
  std::snprintf(buf, sizeof buf, "  %-26s %9.2f", name.c_str(), bytes / 1e9);
  return std::string(buf) + (note.empty() ? "" : "  " + note) + "\n";
}
}  // namespace

std::string format_memory(const MemoryEstimate& m) {
  std::string out = "memory per GPU (GB = 1e9 B), peak phase " + m.peak_phase + ":\n";
  char header[128];
  std::snprintf(header, sizeof header, "  %-26s %9s  %s\n", "component", "GB", "note");
  out += header;
  for (const auto& c : m.breakdown) out += row(c.name, c.bytes, c.note);
  out += row("peak", m.peak_bytes, "");
  out += row("capacity", m.capacity_bytes, "");
  out += row("headroom", m.headroom_bytes, m.fits ? "fits" : "DOES NOT FIT");
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
  out += "  not included: allocator fragmentation\n";
  return out;
}

}  // namespace hcpsim
