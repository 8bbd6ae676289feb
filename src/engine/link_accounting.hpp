// Link accounting from the flows a simulation ran. Pure: no SimGrid.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/timeline.hpp"
#include "topology/cluster_graph.hpp"
#include "topology/placement.hpp"

namespace hcpsim {

// One point-to-point transfer as SimGrid ran it.
struct FlowRecord {
  int32_t src_rank = 0, dst_rank = 0;
  double bytes = 0;
  double start_s = 0, end_s = 0;  // the comm's start (both ends posted) and finish
  int32_t phase = 0;              // the phase whose op sent it
};

// Per link direction on the flows' routes: the bytes that crossed it, and its
// busy time = the length of the union of [start + route latency, end] over its
// flows (CM02 moves no bytes during a flow's latency). Only links with
// traffic, in link order (graph edge, Up before Down).
std::vector<LinkRecord> account_links(const ClusterGraph& graph, const Placement& placement,
                                      const std::vector<FlowRecord>& flows);

}  // namespace hcpsim
