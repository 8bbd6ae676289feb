// Collectives and interference in `hcpsim fit` / `hcpsim check`.
//
// Collectives, per (op, layout): t = alpha + bus_bytes / beta, with bus_bytes = nccl-tests
// bytes x bus_bandwidth_factor(op, ranks) (rules/collective.hpp: nccl-tests' busbw convention, so one beta serves every
// group size of a layout: 2(n-1)/n for all_reduce, (n-1)/n for all_gather, reduce_scatter
// and all_to_all, 1 for sendrecv). alpha and 1/beta are the least-squares solution (Eigen
// QR) of sum_i ((alpha + x_i / beta) / t_i - 1)^2, the relative time error, so small and
// large sizes weigh alike. One line is NCCL's regime change (protocol LL -> LL128 -> Simple,
// ring -> tree) in the worst case off by tens of percent at mid sizes; where the line misses
// a sample by more than 10% the measured points are kept as a table (bus bytes, seconds),
// interpolated log-log inside their range, the line outside it (a warning says which).
// Records with 1 rank move nothing: listed, never fitted (a warning).
//
// What the simulator takes from them: per layout class, the median over ops of beta / the
// preset's line rate becomes intra_node_efficiency (intra-node) or nic_efficiency
// (cross-node-same-rail), the factor effective_cluster applies to link bandwidths.
//
// Interference rows are fitted in fit/fit_interference.hpp.
#pragma once

#include <string>
#include <vector>

#include "fit/fit.hpp"

namespace hcpsim {

// Fits one (op, layout) from its samples (bus bytes, seconds); throws std::invalid_argument
// for fewer than 2 distinct sizes.
CalibratedCollective fit_collective_line(const std::vector<std::pair<double, double>>& bus_bytes_time, double max_line_error);

double predicted_collective_s(const CalibratedCollective& c, const CollectiveConfig& k);
// collective_time_s: cost/calibrated_collective.hpp

// Adds the collective fits and the link efficiencies to `out`
// (measurements accepted by opt.use only) for a GPU whose preset cluster is `node`.
void fit_comm_parameters(const MeasurementSet& set, const ClusterSpec& node, const FitOptions& opt, FitResult& out);

}  // namespace hcpsim
