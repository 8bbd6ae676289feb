// A collective as a calibration measured it (hcpsim fit, fit/fit_collective.hpp), and its time
// at any size: the one definition the fit, the check and the simulator use.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "rules/collective.hpp"

namespace hcpsim {

// Evidence behind one fitted parameter (relative time errors, |predicted/measured - 1|).
struct FitSummary {
  int samples = 0;
  double range_lo = 0, range_hi = 0;  // table work (FLOPs; cuDNN attention: FLOPs x balance), bytes or seconds (scalars)
  double rms_error = 0, max_error = 0;
  std::string backend;
};

// What NCCL achieves for one collective on one layout:
// t(bytes) = latency_s + bytes x bus_bandwidth_factor(op, ranks) / busbw_bytes_per_s, or, where
// that line misses a measurement by more than 10%, the measured (bus bytes, seconds)
// points interpolated log-log inside their range.
struct CalibratedCollective {
  CommPattern op = CommPattern::AllReduce;
  CollectiveLayout layout = CollectiveLayout::IntraNode;
  double latency_s = 0;
  double busbw_bytes_per_s = 0;
  std::vector<std::pair<double, double>> table;  // empty when the line fits within 10%
  FitSummary fit;                                // range: nccl-tests bytes
};

// Seconds for `bus_bytes` (nccl-tests bytes x bus factor): the table inside its range, the line
// outside it.
double collective_time_s(const CalibratedCollective& c, double bus_bytes);

// The same split into NCCL's two terms: (latency_s, the rest).
std::pair<double, double> collective_latency_and_bandwidth_s(const CalibratedCollective& c, double bus_bytes);

}  // namespace hcpsim
