// The result of one simulated scenario in words: step, layer, attention, memory, links,
// what was simulated and composed, and where the costs came from.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace hcpsim {

std::string format_result(const nlohmann::json& result);

}  // namespace hcpsim
