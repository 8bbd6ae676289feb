// A cp_attention record (MeasurementKind::CpRun) replayed through the simulator's workload:
// the Scenario the record describes (model with its heads and head dim, TP 1, CP = ranks
// with its transport and HCP split, the sequence, causal, workload "attention", passes fwd
// or fwd+bwd) built in memory and parsed like a scenario file, then build_workload with
// bshd tensors. Each rank's attention kernels of the measured pass are matched to the
// measured kernels by label and timed with the cost model; peak memory comes from
// memory/cp_buffers's formulas (cp_pass_peak_bytes) with hcpsim's flash backward workspace
// (the kernels hcpcal measures), derived, never fitted.
#pragma once

#include <string>
#include <vector>

#include "fit/measurements.hpp"
#include "cost/cost_model.hpp"

namespace hcpsim {

struct CpKernelReplay {
  int64_t rank = 0;
  std::string label;
  double measured_s = 0, predicted_s = 0;
};

struct CpRankReplay {
  int64_t rank = 0;
  double measured_compute_s = 0, predicted_compute_s = 0;  // sums of the rank's attention kernels
  double measured_peak_bytes = 0, predicted_peak_bytes = 0; // measured 0: not in the record
};

struct CpReplay {
  std::vector<CpKernelReplay> kernels;  // in the builder's op order, rank by rank
  std::vector<CpRankReplay> ranks;
};

// The scenario of a CpRun record (cluster: the fewest dgx-h200 nodes of 8 GPUs whose count R
// divides; ranks 0..R-1 = CP group 0). Throws InputError at the record's path when the
// scenario rules reject it.
Scenario cp_run_scenario(const Measurement& m);

// Labels of rank `rank`'s attention kernels in the measured pass, in op order.
std::vector<std::string> cp_kernel_labels(const Measurement& m, int64_t rank);

// Throws InputError at `<path>.results.kernels` when a rank's measured labels and the
// builder's differ (both lists in the message): a schedule mismatch is a finding.
CpReplay replay_cp_run(const Measurement& m, const CostModel& model);

}  // namespace hcpsim
