// Routes between GPUs, computed arithmetically from the graph's RouteTables
// (a few array look-ups, no search), so that the SimGrid fast zone can call
// route_into for every communication.
//
//   same node, NVSwitch / NVL domain:  GPU -> switch -> GPU                    (2 nvlink hops)
//   same node, PCIe:                   GPU -> PCIe sw [-> socket [-> socket] -> PCIe sw] -> GPU
//   other node, same leaf:             GPU -> NIC -> leaf -> NIC -> GPU         (rail-aligned, no spine)
//   other node, other leaf:            GPU -> NIC -> leaf -> spine -> leaf -> NIC -> GPU
//
// By default a GPU always leaves through its own NIC, so with rail optimisation
// a pair on different rails goes through a spine. With TopologyOptions::pxn,
// such a pair first takes the intra-node route to the source node's GPU on the
// destination's rail and leaves through that GPU's NIC (NCCL PXN); latency is
// then L_intra + L_inter. The spine is D-mod-k: destination NIC's leaf port mod
// number of spines.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "topology/cluster_graph.hpp"

namespace hcpsim {

inline constexpr int kMaxRouteHops = 11;  // PXN over PCIe: 5 intra-node + 6 fabric hops

// A route without heap allocation.
struct RoutePath {
  std::array<LinkId, kMaxRouteHops> hops{};
  int size = 0;
  void push(int32_t edge, LinkDir dir) { hops[size++] = LinkId{edge, dir}; }
  std::span<const LinkId> view() const { return {hops.data(), static_cast<size_t>(size)}; }
};

// The route gpu_a -> gpu_b into `out` (cleared first); empty when a == b.
// Preconditions (asserted): both GPUs exist; different nodes have NICs.
void route_into(const ClusterGraph& g, int64_t gpu_a, int64_t gpu_b, RoutePath& out);

// The same as a vector; throws std::out_of_range for a GPU that does not exist.
std::vector<LinkId> route(const ClusterGraph& g, int64_t gpu_a, int64_t gpu_b);

// Sum of the link latencies (seconds).
double route_latency_s(const ClusterGraph& g, std::span<const LinkId> r);
// Smallest link bandwidth on the route (bytes/s per direction); +inf when empty.
double route_bottleneck_bytes_per_s(const ClusterGraph& g, std::span<const LinkId> r);
// "gpu0-n0.nvswitch:up n0.nvswitch-gpu5:down" style, for messages and tests.
std::string describe_route(const ClusterGraph& g, std::span<const LinkId> r);

}  // namespace hcpsim
