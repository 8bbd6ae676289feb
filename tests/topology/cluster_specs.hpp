// Synthetic clusters for the topology and platform tests (presets are not used:
// the expectations below are derived from these round numbers).
#pragma once

#include "scenario/scenario.hpp"

namespace hcpsim::test {

inline constexpr double kNvlinkBytesPerS = 450e9;  // per GPU per direction
inline constexpr double kNvlinkLatencyS = 2e-6;    // GPU to GPU
inline constexpr double kNicBytesPerS = 50e9;      // per NIC per direction
inline constexpr double kNicLatencyS = 5e-6;       // end to end through the fabric

struct TestCluster {
  int64_t nodes = 4;
  int64_t gpus_per_node = 8;
  int64_t nics_per_node = 8;
  bool rail_optimized = true;
  double oversubscription = 1.0;
  IntraNodeKind kind = IntraNodeKind::NVSwitch;
};

inline ClusterSpec make_cluster(const TestCluster& t) {
  ClusterSpec c;
  c.num_nodes = t.nodes;
  c.gpus_per_node = t.gpus_per_node;
  c.gpu.name = "test-gpu";
  c.gpu.peak_bf16_flops_per_s = 1e15;
  c.intra_node = {t.kind, kNvlinkBytesPerS, kNvlinkLatencyS};
  c.inter_node = {t.nics_per_node, kNicBytesPerS, kNicLatencyS, t.rail_optimized, t.oversubscription};
  return c;
}

}  // namespace hcpsim::test
