// `hcpsim check`: every measured configuration replayed through the cost model (same
// op, same FLOP and byte counts as the simulator's workload), predicted vs measured.
//
// Out-of-sample by default: within each parameter (attention pass x mask, GEMM, copy) the
// measured shapes are sorted by work and alternately put in the fit half and the check
// half, the smallest and the largest always in the fit half (so every checked shape lies
// inside the fitted range). Forward and backward of one shape, and its KV-head variants,
// stay in the same half. The fit half is fitted with fit_calibration and the check half
// predicted from it. In-sample mode predicts every measurement from a given calibration.
//
// CP runs (fit/replay_cp.hpp) are never fitted on: one row per measured kernel (kind
// "cp kernels <transport>"), one per rank for the sum of its attention kernels ("cp compute
// <transport>", the compute-side time) and one per rank for peak memory ("cp memory
// <transport>"). Collectives are split like kernels (per op and layout, by size) and
// predicted by the fitted alpha-beta (uncalibrated: bus bytes over the preset link rate
// times its efficiency, plus its latency); interference records are split by alone time and
// predicted by the engine's interference model (fit/fit_interference.hpp). 1-rank collectives
// and pairs the model has no channel count for are listed, outside the summaries.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "fit/fit.hpp"

namespace hcpsim {

struct CheckRow {
  const Measurement* m = nullptr;
  std::string parameter;
  std::string name, shape;  // empty: from m (kernel measurements); CP rows name rank and label
  std::string kind;         // summary label; empty: from m ("cp kernels p2p", "cp compute a2a", ...)
  bool bytes = false;       // measured_s/predicted_s hold bytes (peak memory rows)
  bool listed_only = false; // nothing to predict (1-rank collective, pair without a factor): not in summaries
  double measured_s = 0, predicted_s = 0;
  double error = 0;          // predicted / measured - 1
  bool extrapolated = false;  // work (FLOPs, cuDNN's balanced FLOPs, bytes) outside the range the parameter was fitted on
  double placement_spread = 0;  // the predicted time's dependence on block placement (CostModel::placement_spread)
};

struct ErrorSummary {
  std::string label;  // "all", "attention fwd", "attention bwd", "gemm", "copy", "cp steps"
  size_t cases = 0;
  double median_abs_error = 0, max_abs_error = 0;
};

struct CheckReport {
  std::vector<CheckRow> rows;
  double median_abs_error = 0, max_abs_error = 0;  // over all rows
  std::vector<ErrorSummary> by_kind;
  std::vector<std::string> warnings;
};

// Shape groups of the fit half (shape_group_key values).
std::set<std::string> fit_half(const MeasurementSet& set);

// Predicts `set`'s measurements accepted by `include` with `calibration` over the defaults.
CheckReport check_against(const MeasurementSet& set, const CalibrationFile& calibration, const ClusterSpec& node,
                          const std::function<bool(const Measurement&)>& include);

// Fits on fit_half(set) and checks the rest (of the kinds `include` accepts).
CheckReport check_out_of_sample(const MeasurementSet& set, const ClusterSpec& node, const FitOptions& fit_opt,
                                const std::function<bool(const Measurement&)>& include);

// Rows that enter the summaries (listed-only rows do not).
size_t summarized_cases(const CheckReport& r);

// The nccl-tests-style table: header, units row, one row per case, summary lines.
std::string format_check(const CheckReport& r, const std::string& title);

}  // namespace hcpsim
