// hcpsim's main job for one scenario: build the workload, time its kernels with
// the cost model, execute one layer (forward + backward) and the step-level ops
// on the SimGrid platform, and compose the step. One simulation per process
// (SimGrid): callers that simulate several scenarios fork (simulate_in_child).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cost/cost_model.hpp"
#include "memory/estimate.hpp"
#include "scenario/scenario.hpp"
#include "workload/workload.hpp"
#include "run/metrics.hpp"
#include "engine/platform.hpp"
#include "run/step_composition.hpp"
#include "engine/timeline.hpp"

namespace hcpsim {

struct SimulateOptions {
  ZoneKind zone = ZoneKind::Fast;
  bool fold_dp_replicas = true;
  int ring_max_macro_steps = 16;
};

struct StepMetrics {
  double time_s = 0;
  double tokens_per_s = 0;
  double tokens_per_s_per_gpu = 0;
  double mfu = 0;                // model FLOPs (no recompute) / (time x GPUs x peak)
  double model_flops = 0;        // per step, all GPUs
  StepInputs inputs;             // what was taken from the simulation
  StepTime composed;
};

struct SimulationResult {
  std::optional<StepMetrics> step;  // empty for the layer and attention workloads
  AttentionMetrics attention;       // one layer, slowest rank
  PassSpans layer;                  // one layer on the slowest rank, all ops
  double layer_makespan_s = 0;      // the layer phase, all ranks
  MemoryEstimate memory;
  std::vector<LinkUse> links;       // busiest links during the layer phase
  int64_t simulated_gpus = 0;
  int64_t activities = 0;
  double wall_s = 0;
  std::string simulated;            // what was simulated (words)
  std::string composed;             // what was composed from it (words)
  std::string cost_source;          // where kernel efficiencies and link factors came from
};

// Simulates in this process (only once per process).
SimulationResult simulate_scenario(const Scenario& sc, const SimulateOptions& opt = {});

// Everything a trace needs, kept alongside the result when asked.
struct SimulationArtifacts {
  Workload workload;
  Timeline timeline;
};
SimulationResult simulate_scenario(const Scenario& sc, const SimulateOptions& opt, SimulationArtifacts* keep);

}  // namespace hcpsim
