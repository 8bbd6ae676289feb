// Internal to engine/platform*.cpp: the two zone implementations. Both
// create the hosts in GPU order and the split-duplex links in graph edge order.
#pragma once

#include <memory>
#include <vector>

#include <simgrid/s4u/Host.hpp>
#include <simgrid/s4u/Link.hpp>

#include "topology/cluster_graph.hpp"

namespace hcpsim::detail {

struct ZoneContents {
  std::vector<simgrid::s4u::Host*> hosts;                // by GPU
  std::vector<simgrid::s4u::SplitDuplexLink*> links;     // by graph edge id
};

ZoneContents build_fast_zone(const std::shared_ptr<const ClusterGraph>& graph, double host_speed_flops_per_s);
ZoneContents build_stock_zone(const ClusterGraph& graph, double host_speed_flops_per_s);

}  // namespace hcpsim::detail
