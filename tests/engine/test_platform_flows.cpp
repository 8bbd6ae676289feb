// Flows on the SimGrid platform against closed forms. Every flow starts at
// t = 0 and is a single Comm::sendto; with CM02, no crosstraffic and no
// TCP-gamma, a flow finishes at  route latency + bytes / (its max-min share).
#include <catch2/catch.hpp>

#include "tests/engine/platform_harness.hpp"
#include "tests/topology/cluster_specs.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

namespace {

constexpr double kFlowBytes = 64e6;

void require_all(const std::vector<double>& finish_s, double expected_s) {
  for (double t : finish_s) REQUIRE(t == Approx(expected_s).epsilon(1e-9));
}

// Every GPU of `group` sends kFlowBytes to every other one.
std::vector<Flow> all_to_all(const std::vector<int64_t>& group) {
  std::vector<Flow> flows;
  for (int64_t a : group)
    for (int64_t b : group)
      if (a != b) flows.push_back({a, b, kFlowBytes});
  return flows;
}

}  // namespace

TEST_CASE("platform: a comm-bound ring step takes latency + bytes / bandwidth", "[topology][simgrid]") {
  // Inside a node: GPU i -> i+1 (mod 8); each NVLink half carries one flow.
  std::vector<Flow> intra;
  for (int64_t i = 0; i < 8; ++i) intra.push_back({i, (i + 1) % 8, kFlowBytes});
  require_all(simulate_flows(make_cluster({.nodes = 1, .nics_per_node = 0}), ZoneKind::Fast, intra),
              kNvlinkLatencyS + kFlowBytes / kNvlinkBytesPerS);
  // Across nodes: the HCP ring of 2, GPU i <-> i+8, rail-aligned; one flow per NIC direction.
  std::vector<Flow> inter;
  for (int64_t i = 0; i < 16; ++i) inter.push_back({i, (i + 8) % 16, kFlowBytes});
  require_all(simulate_flows(make_cluster({.nodes = 2}), ZoneKind::Fast, inter),
              kNicLatencyS + kFlowBytes / kNicBytesPerS);
}

TEST_CASE("platform: all-to-all inside a node vs across nodes scales with the bandwidth ratio",
          "[topology][simgrid]") {
  // 8 GPUs, 7 outgoing flows each: the GPU's own up-link carries 7 x kFlowBytes.
  const ClusterSpec spec = make_cluster({.nodes = 8});
  const auto intra = simulate_flows(spec, ZoneKind::Fast, all_to_all({0, 1, 2, 3, 4, 5, 6, 7}));
  const auto inter = simulate_flows(spec, ZoneKind::Fast, all_to_all({0, 8, 16, 24, 32, 40, 48, 56}));  // rail 0
  const double t_intra = kNvlinkLatencyS + 7 * kFlowBytes / kNvlinkBytesPerS;
  const double t_inter = kNicLatencyS + 7 * kFlowBytes / kNicBytesPerS;
  require_all(intra, t_intra);
  require_all(inter, t_inter);
  // Transfer parts differ exactly by 450 / 50 = 9.
  REQUIRE((inter[0] - kNicLatencyS) / (intra[0] - kNvlinkLatencyS) ==
          Approx(kNvlinkBytesPerS / kNicBytesPerS).epsilon(1e-9));
}

TEST_CASE("platform: two flows sharing one NIC each get half", "[topology][simgrid]") {
  // 4 NICs for 8 GPUs: GPUs 0 and 1 share NIC 0 (and 8, 9 share NIC 4).
  const ClusterSpec spec = make_cluster({.nodes = 2, .nics_per_node = 4});
  require_all(simulate_flows(spec, ZoneKind::Fast, {{0, 8, kFlowBytes}}), kNicLatencyS + kFlowBytes / kNicBytesPerS);
  require_all(simulate_flows(spec, ZoneKind::Fast, {{0, 8, kFlowBytes}, {1, 9, kFlowBytes}}),
              kNicLatencyS + kFlowBytes / (kNicBytesPerS / 2));
  // GPUs 0 and 2 use different NICs: full rate each.
  require_all(simulate_flows(spec, ZoneKind::Fast, {{0, 8, kFlowBytes}, {2, 10, kFlowBytes}}),
              kNicLatencyS + kFlowBytes / kNicBytesPerS);
}

TEST_CASE("platform: oversubscription slows cross-leaf traffic by its ratio", "[topology][simgrid]") {
  // 8 nodes without rails: leaf0 = nodes 0-3 (GPUs 0-31), leaf1 = nodes 4-7.
  // GPU i -> i + 32 sends 32 flows over leaf0's uplinks, whose capacity is
  // 32 x 50 GB/s / ratio spread evenly over the spines by D-mod-k: each flow gets 50 GB/s / ratio.
  std::vector<Flow> cross, same_leaf;
  for (int64_t i = 0; i < 32; ++i) {
    cross.push_back({i, i + 32, kFlowBytes});
    same_leaf.push_back({i, (i + 8) % 32, kFlowBytes});  // to the next node on leaf0
  }
  for (double ratio : {1.0, 2.0, 4.0}) {
    INFO("oversubscription " << ratio);
    const ClusterSpec spec = make_cluster({.nodes = 8, .rail_optimized = false, .oversubscription = ratio});
    require_all(simulate_flows(spec, ZoneKind::Fast, cross), kNicLatencyS + ratio * kFlowBytes / kNicBytesPerS);
    require_all(simulate_flows(spec, ZoneKind::Fast, same_leaf), kNicLatencyS + kFlowBytes / kNicBytesPerS);
  }
}

TEST_CASE("platform: fast and stock zones give identical times", "[topology][simgrid]") {
  std::vector<int64_t> all(32);
  for (int64_t i = 0; i < 32; ++i) all[i] = i;
  std::vector<Flow> ring;
  for (int64_t i = 0; i < 32; ++i) ring.push_back({i, (i + 1) % 32, kFlowBytes});  // 7 -> 8 changes node and rail
  const std::vector<std::pair<ClusterSpec, TopologyOptions>> clusters{
      {make_cluster({.nodes = 4}), {}},
      {make_cluster({.nodes = 4, .rail_optimized = false, .oversubscription = 2.0}), {.leaf_down_ports = 16}},
  };
  for (const auto& [spec, topo] : clusters)
    for (const auto& flows : {ring, all_to_all(all)}) {
      const auto fast = simulate_flows(spec, ZoneKind::Fast, flows, topo);
      const auto stock = simulate_flows(spec, ZoneKind::Stock, flows, topo);
      REQUIRE(fast.size() == flows.size());
      REQUIRE(stock.size() == flows.size());
      for (size_t i = 0; i < flows.size(); ++i) REQUIRE(fast[i] == Approx(stock[i]).epsilon(1e-12));
    }
}

TEST_CASE("platform: a capped flow on a route with latency moves at its cap", "[topology][simgrid]") {
  // NVLink route (latency kNvlinkLatencyS > 0), one flow capped at a quarter of the link: it
  // finishes at latency + bytes / cap. Under TCP-gamma = 0 SimGrid's CM02 drops the cap (its
  // bound min(cap, gamma / 2L) is 0 = unbounded) and the flow takes the whole link.
  const double cap_Bps = kNvlinkBytesPerS / 4;
  const auto t = simulate_flows(make_cluster({.nodes = 1, .nics_per_node = 0}), ZoneKind::Fast,
                                {Flow{0, 1, kFlowBytes, cap_Bps}});
  require_all(t, kNvlinkLatencyS + kFlowBytes / cap_Bps);
}
