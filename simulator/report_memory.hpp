// The "memory" object of hcpsim's JSON output.
#pragma once

#include <nlohmann/json.hpp>

#include "model/memory.hpp"

namespace hcpsim {

// {peak_bytes, capacity_bytes, headroom_bytes, fits, peak_phase, breakdown: [{name, bytes, note}]}
nlohmann::json memory_to_json(const MemoryEstimate& m);

}  // namespace hcpsim
