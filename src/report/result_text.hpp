// The result of one simulated scenario in words: step, layer, attention, memory, links,
// what was simulated and composed, and where the costs came from.
#pragma once

#include <string>

#include "run/result.hpp"

namespace hcpsim {

std::string format_result(const SimulationResult& r);

}  // namespace hcpsim
