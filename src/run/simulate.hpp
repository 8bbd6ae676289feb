// hcpsim's main job for one scenario: build the workload, time its kernels with
// the cost model, execute one layer (forward + backward) and the step-level ops
// on the SimGrid platform, and compose the step. One simulation per process
// (SimGrid): callers that simulate several scenarios fork (simulate_in_child).
#pragma once

#include "run/pipeline_timing.hpp"

#include <optional>
#include <string>
#include <vector>

#include "cost/cost_model.hpp"
#include "run/comm_routes.hpp"
#include "scenario/scenario.hpp"
#include "workload/workload.hpp"
#include "run/result.hpp"
#include "engine/platform.hpp"
#include "engine/timeline.hpp"

namespace hcpsim {

struct SimulateOptions {
  ZoneKind zone = ZoneKind::Fast;
  bool fold_dp_replicas = true;
  int ring_max_macro_steps = kRingMaxMacroSteps;
  // Time kernels with these instead of the scenario's (defaults and calibration): `check`
  // simulating a measured layer under the calibration it is checking.
  std::optional<CostParams> cost_params;
};

// Simulates in this process (only once per process).
SimulationResult simulate_scenario(const Scenario& sc, const SimulateOptions& opt = {});

// Everything a trace needs, kept alongside the result when asked.
struct SimulationArtifacts {
  Workload workload;
  Timeline timeline;
  CommRouteTable routes;  // how each traced comm op ran (algorithm, protocol, channels, flows)
  PipelineTiming pipeline;  // the composed step's schedule: every stage's forwards and backwards
};
SimulationResult simulate_scenario(const Scenario& sc, const SimulateOptions& opt, SimulationArtifacts* keep);

// Whether `a` and `b` run the same simulation: equal but for full recompute's method and layer
// count (and their names and validation warnings), which only the step's composition and the
// memory estimate read (the simulated layer re-runs its forward under any full recompute).
bool same_simulation(const Scenario& a, const Scenario& b);

// Several scenarios of one simulation (same_simulation with the first; std::logic_error
// otherwise), executed once and each composed on its own: the sweep's full recompute and its
// block variants. Only once per process, like simulate_scenario.
std::vector<SimulationResult> simulate_scenarios(const std::vector<Scenario>& scenarios, const SimulateOptions& opt = {});

// A warning when the layer (`layer`: one rank's program, `layer_s`: its forward plus backward
// time) launches its kernels and NCCL calls faster, on average, than the host can issue one on a
// machine with `gpu_name`'s CPU (rules/host_launch.hpp); nothing otherwise.
std::optional<std::string> host_bound_warning(const RankProgram& layer, double layer_s, const std::string& gpu_name);

// The warning of a step that waited for the CPU's launches (StepTime::host_bound): how many
// launches a micro batch, at what cost each, and how much later the step ends for them.
std::string host_bound_step_warning(const StepMetrics& m, const std::string& gpu_name);

}  // namespace hcpsim
