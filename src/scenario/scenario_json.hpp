// A validated scenario as JSON: the "parallel" and "scenario" objects of hcpsim's output
// (the resolved configuration, SI units).
#pragma once

#include <nlohmann/json.hpp>

#include "scenario/scenario.hpp"

namespace hcpsim {

nlohmann::json parallel_to_json(const Scenario& sc);  // {tp, cp, dp, pp, cp_comm_type, hcp_sizes, ...}
nlohmann::json scenario_to_json(const Scenario& sc);  // the resolved configuration, SI units

}  // namespace hcpsim
