// `hcpsim collective`: one NCCL collective over every GPU of a cluster, at a ladder of sizes, as
// nccl-tests runs it (each size timed from a barrier, sizes in nccl-tests' convention: all_reduce the
// buffer, all_gather the output, reduce_scatter the input, all_to_all one rank's send buffer),
// simulated through the same path as a training step: the workload's comm op, NCCL's plan
// (run/comm_routes.hpp) and the SimGrid engine. Bus bandwidth = bytes / time x nccl-tests' factor
// (rules/collective.hpp).
#pragma once

#include <vector>

#include "run/comm_routes.hpp"
#include "scenario/scenario.hpp"

namespace hcpsim {

struct CollectivePoint {
  double size_bytes = 0;  // nccl-tests size
  double time_s = 0;      // simulated, from the last member's arrival to the last member's end
  double algbw_Bps = 0, busbw_Bps = 0;
  CommRoute route;        // NCCL's choice and the flows it became
};

// Simulates `pattern` over the first `ranks` GPUs of `sc.cluster` (0: all; one communicator in
// rank order, pure data parallel placement: rank r on GPU r) with sc.software.nccl and sc's cost
// parameters. SendRecv is nccl-tests' sendrecv_perf: every rank sends `size` to the next rank
// and receives from the previous one. Runs SimGrid: call it in a child process.
std::vector<CollectivePoint> simulate_collective_sweep(const Scenario& sc, CommPattern pattern,
                                                       const std::vector<double>& sizes_bytes, int64_t ranks = 0);

// The same on `cluster` with explicit cost parameters (a calibration's collectives included) and
// an explicit communicator: `members` are global ranks (rank r on GPU r; AG/RS/AR/all-to-all in
// that order, sendrecv to the next member).
std::vector<CollectivePoint> simulate_collective_sweep(const ClusterSpec& cluster, const NcclSettings& nccl,
                                                       const CostParams& params, CommPattern pattern,
                                                       const std::vector<double>& sizes_bytes,
                                                       const std::vector<int32_t>& members);

}  // namespace hcpsim
