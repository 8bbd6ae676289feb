// `hcpsim check`: every measured configuration replayed through the cost model (same
// op, same FLOP and byte counts as the simulator's workload), predicted vs measured.
//
// Out-of-sample by default: within each parameter (attention pass x mask, GEMM, copy) the
// measured shapes are sorted by work and alternately put in the fit half and the check
// half, the smallest and the largest always in the fit half (so every checked shape lies
// inside the fitted range). Forward and backward of one shape, and its KV-head variants,
// stay in the same half. The fit half is fitted with fit_calibration and the check half
// predicted from it. In-sample mode predicts every measurement from a given calibration.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "calibrate/fit.hpp"

namespace hcpsim {

struct CheckRow {
  const Measurement* m = nullptr;
  std::string parameter;
  double measured_s = 0, predicted_s = 0;
  double error = 0;          // predicted / measured - 1
  bool extrapolated = false;  // work outside the FLOP (byte) range the parameter was fitted on
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
CheckReport check_against(const MeasurementSet& set, const CalibrationFile& calibration, const GpuSpec& gpu,
                          const std::function<bool(const Measurement&)>& include);

// Fits on fit_half(set) and checks the rest (of the kinds `include` accepts).
CheckReport check_out_of_sample(const MeasurementSet& set, const GpuSpec& gpu, const FitOptions& fit_opt,
                                const std::function<bool(const Measurement&)>& include);

// The nccl-tests-style table: header, units row, one row per case, summary lines.
std::string format_check(const CheckReport& r, const std::string& title);

}  // namespace hcpsim
