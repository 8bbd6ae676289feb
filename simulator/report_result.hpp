// The result of one simulated scenario, as hcpsim prints it: JSON (the
// documented fields, also the interchange format between forked simulations)
// and a readable summary built from that JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "model/scenario.hpp"
#include "simulator/simulate.hpp"

namespace hcpsim {

// valid, warnings, parallel, step (null unless the step workload), attention,
// layer, memory, links, simulated {gpus, activities, wall_s (omitted when
// reproducible)}, composed, cost_model, scenario.
nlohmann::json result_to_json(const Scenario& sc, const SimulationResult& r, bool reproducible);

std::string format_result(const nlohmann::json& result);

}  // namespace hcpsim
