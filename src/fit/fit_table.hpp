// Least-squares fit of one efficiency table (cost/cost_model.hpp: piecewise linear in
// log10(work), clamped at the ends) to measured (work, efficiency) samples.
//
// Method: knots at up to `max_knots` of the distinct measured log10(work) values, spread
// evenly over them (so every knot has data beside it and the ends are the data's ends);
// the table's values at the knots are the least-squares solution (Eigen, column-pivoting
// QR) minimising sum_i (eff(x_i) / e_i - 1)^2, the relative error of the predicted rate,
// which is to first order the relative error of the predicted time.
#pragma once

#include <vector>

#include "cost/calibration_file.hpp"

namespace hcpsim {

struct EfficiencySample {
  double work = 0;        // FLOPs or bytes, > 0
  double efficiency = 0;  // measured work / (time x peak), > 0
};

struct TableFit {
  EfficiencyTable table;
  FitSummary summary;  // errors are of time: measured_eff / fitted_eff - 1
};

// Throws std::invalid_argument when `samples` is empty or holds a non-positive value.
TableFit fit_efficiency_table(const std::vector<EfficiencySample>& samples, int max_knots);

// A saturating curve instead of free knots: eff(w) = a - b * (w / 1e10)^-k, the rate
// approaching its large-size limit a as a power of the work (k by a grid search over
// 0.02 .. 2, a and b by the same weighted least squares for each k), then tabulated every
// 1/8 decade over the measured range. Three parameters per table, so it interpolates
// between sparse sizes where free knots would follow each measurement's noise.
// Needs 3 distinct work values; with fewer it falls back to fit_efficiency_table.
TableFit fit_efficiency_curve(const std::vector<EfficiencySample>& samples);

// The constant c minimising sum_i (c / e_i - 1)^2, with the same summary.
CalibratedScalar fit_constant_efficiency(const std::vector<EfficiencySample>& samples, const char* name);

}  // namespace hcpsim
