#include "simulator/report_memory.hpp"

namespace hcpsim {

nlohmann::json memory_to_json(const MemoryEstimate& m) {
  nlohmann::json breakdown = nlohmann::json::array();
  for (const auto& c : m.breakdown) breakdown.push_back({{"name", c.name}, {"bytes", c.bytes}, {"note", c.note}});
  return {{"peak_bytes", m.peak_bytes},         {"capacity_bytes", m.capacity_bytes},
          {"headroom_bytes", m.headroom_bytes}, {"fits", m.fits},
          {"peak_phase", m.peak_phase},         {"breakdown", breakdown}};
}

}  // namespace hcpsim
