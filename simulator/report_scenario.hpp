// What a validated scenario says, in words and as JSON (the "parallel",
// "warnings" and configuration parts of hcpsim's output).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/scenario.hpp"

namespace hcpsim {

std::string format_scenario_summary(const Scenario& sc);
nlohmann::json parallel_to_json(const Scenario& sc);  // {tp, cp, dp, pp, cp_comm_type, hcp_sizes}
nlohmann::json scenario_to_json(const Scenario& sc);  // the resolved configuration, SI units

}  // namespace hcpsim
