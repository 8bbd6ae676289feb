// The result of one simulated scenario as JSON: the documented output of `hcpsim --format
// json`, and the form in which a result crosses from the process that simulated it to the
// one that reports it.
#pragma once

#include <nlohmann/json.hpp>

#include "memory/estimate.hpp"
#include "run/simulate.hpp"
#include "scenario/scenario.hpp"

namespace hcpsim {

// valid, warnings, parallel, step (null unless the step workload), attention,
// layer, memory, links, simulated {gpus, activities, wall_s (omitted when
// reproducible)}, composed, cost_model, scenario.
nlohmann::json result_to_json(const Scenario& sc, const SimulationResult& r, bool reproducible);

// {peak_bytes, capacity_bytes, headroom_bytes, fits, peak_phase, breakdown: [{name, bytes, note}]}
nlohmann::json memory_to_json(const MemoryEstimate& m);

}  // namespace hcpsim
