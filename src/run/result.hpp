// What one simulated scenario produced, as plain typed data: the step (composed), the
// attention and layer on the slowest rank, memory, the busiest links and what was simulated.
// Reports, the sweep and its recommendation read this struct; it crosses from the process
// that simulated it to the one that reports it as JSON (run/result_json.hpp), read once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "memory/estimate.hpp"
#include "run/metrics.hpp"
#include "run/step_composition.hpp"
#include "run/uncertainty.hpp"
#include "scenario/scenario.hpp"

namespace hcpsim {

struct StepMetrics {
  double time_s = 0;
  double tokens_per_s = 0;
  double tokens_per_s_per_gpu = 0;
  double mfu = 0;                // model FLOPs (no recompute) / (time x GPUs x peak)
  double model_flops = 0;        // per step, all GPUs
  StepInputs inputs;             // what was taken from the simulation
  StepTime composed;
  friend bool operator==(const StepMetrics&, const StepMetrics&) = default;
};

struct SimulationResult {
  Scenario scenario;                // what was simulated (resolved, validated)
  std::optional<StepMetrics> step;  // empty for the layer and attention workloads
  AttentionMetrics attention;       // one layer, slowest rank
  PassSpans layer;                  // one layer on the slowest rank, all ops
  double layer_makespan_s = 0;      // the layer phase, all ranks
  MemoryEstimate memory;
  std::vector<LinkUse> links;       // busiest links during the layer phase
  int64_t simulated_gpus = 0;
  int64_t activities = 0;
  std::optional<double> wall_s;     // host time; empty in reproducible output
  std::string simulated;            // what was simulated (words)
  std::string composed;             // what was composed from it (words)
  std::string cost_source;          // where kernel efficiencies and link factors came from
  // The band of the step time (or of the layer's, for the layer and attention workloads) and
  // what it comes from (run/uncertainty.hpp).
  Uncertainty uncertainty;
  friend bool operator==(const SimulationResult&, const SimulationResult&) = default;
};

}  // namespace hcpsim
