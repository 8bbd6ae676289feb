// The result of one simulated scenario as JSON: the documented output of `hcpsim --format
// json`, and the form in which a result crosses from the process that simulated it to the
// one that reports it. result_from_json is the one place that reads it back.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "run/result.hpp"

namespace hcpsim {

// name, valid, warnings, parallel, step (null unless the step workload), attention, layer,
// memory, links, simulated {gpus, activities, what, wall_s (when the result has it)},
// composed, cost_model, scenario (the resolved configuration).
nlohmann::json result_to_json(const SimulationResult& r);

// The inverse; every problem is an InputError at its path under `json_path` (a result read
// from a file: `hcpsim merge`).
SimulationResult result_from_json(const nlohmann::json& j, const std::string& json_path);

// {peak_bytes, capacity_bytes, headroom_bytes, fits, peak_phase, breakdown: [{name, bytes, note}],
//  phases: [{name, bytes}]}
nlohmann::json memory_to_json(const MemoryEstimate& m);

}  // namespace hcpsim
