// A validated scenario as JSON: the "parallel" and "scenario" objects of hcpsim's output
// (the resolved configuration, SI units).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "scenario/scenario.hpp"

namespace hcpsim {

nlohmann::json parallel_to_json(const Scenario& sc);  // {tp, cp, dp, pp, cp_comm_type, hcp_sizes, ...}
nlohmann::json scenario_to_json(const Scenario& sc);  // the resolved configuration, SI units

// The inverse of scenario_to_json, for results read back from another process or a file
// (`hcpsim merge`): every problem is an InputError at its path under `json_path`.
// hierarchical_context_parallel_sizes come back for a2a+p2p only (the echo holds them there).
Scenario scenario_from_json(const nlohmann::json& j, const std::string& json_path);

}  // namespace hcpsim
