// `hcpsim fit`: the cost-model parameters a set of measurements supports.
//   attention_{fwd,bwd}_{causal,nomask}  table per pass and mask (fit_table.hpp)
//   gemm                                 one table over 2mnk FLOPs
//   memory_efficiency                    constant, from copies of at least 4x the L2
// Measurements whose check found wrong elements are left out (with a warning).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "fit/measurements.hpp"
#include "cost/calibration_file.hpp"

namespace hcpsim {

enum class TableMethod { Curve, Knots };  // fit_efficiency_curve / fit_efficiency_table

struct FitOptions {
  TableMethod method = TableMethod::Curve;
  int max_knots = 8;  // Knots only
  std::string measurements_name;  // recorded as provenance
  // Which measurements to fit on (all when empty); `check` fits on half of them.
  std::function<bool(const Measurement&)> use;
  // The attention backend whose records the attention parameters are fitted on (`--backend`);
  // empty: the one backend the measurements hold (an error when they hold several).
  std::optional<AttentionBackend> backend;
};

// The attention backends `set`'s attention, CP and layer records timed, in kAttentionBackends order.
std::vector<AttentionBackend> attention_backends_in(const MeasurementSet& set);

// opt.backend, or the one backend of `set`; throws InputError at "--backend" when the set holds
// several and none was chosen, or the chosen one has no records.
std::optional<AttentionBackend> fitted_backend(const MeasurementSet& set, const FitOptions& opt);

// Whether `m` belongs to a fit or check of `backend`'s attention: records of that backend, and
// records of no attention backend (GEMM, copies, collectives, kernels of the layer).
bool of_backend(const Measurement& m, std::optional<AttentionBackend> backend);

struct FitResult {
  CalibrationFile calibration;
  std::vector<std::string> warnings;
};

// `node`: the node the measurements ran on (node_for_measurements).
FitResult fit_calibration(const MeasurementSet& set, const ClusterSpec& node, const FitOptions& opt);

// A copy small enough to stay in the L2 (it moves less than 4x twice the L2): the fit leaves
// it out, since memory_efficiency describes HBM, and check lists it without predicting it.
bool cache_resident_copy(const Measurement& m, const MeasurementSet& set);

// The table a measurement's time comes from ("attention_bwd_causal", "gemm", "memory_efficiency");
// an attention record's is that of the kernel its rules backend runs on `gpu` (rules_backend,
// attention_table_parameter_for; calibration_backend is that of a record without its own), or,
// without a gpu (labels of warnings), that of its scores' mask.
std::string parameter_of(const Measurement& m, const GpuSpec* gpu = nullptr,
                         std::optional<AttentionBackend> calibration_backend = std::nullopt);

// One line per parameter: name, samples, range, rms and max error; then the points.
std::string format_fit(const CalibrationFile& c);

}  // namespace hcpsim
