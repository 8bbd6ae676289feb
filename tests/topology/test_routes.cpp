// Routes: hop structure per case, latency sums, and that every route is a
// shortest connected path of the graph from source GPU to destination GPU.
#include <catch2/catch.hpp>

#include <boost/graph/breadth_first_search.hpp>

#include "tests/topology/cluster_specs.hpp"
#include "topology/routes.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

namespace {

std::vector<LinkClass> classes(const ClusterGraph& g, const std::vector<LinkId>& r) {
  std::vector<LinkClass> c;
  for (const LinkId& l : r) c.push_back(g.links[l.edge].cls);
  return c;
}

// Walks the route through the graph; returns the vertex it ends on (or -1 if a
// hop does not start where the previous one ended).
int64_t walk(const ClusterGraph& g, int64_t gpu, const std::vector<LinkId>& r) {
  VertexId at = g.gpus[gpu];
  for (const LinkId& l : r) {
    const Link& link = g.links[l.edge];
    const VertexId from = l.dir == LinkDir::Up ? link.lower : link.upper;
    if (from != at) return -1;
    at = l.dir == LinkDir::Up ? link.upper : link.lower;
  }
  return static_cast<int64_t>(at);
}

// Every ordered GPU pair: the route is connected, ends at the destination and
// is as short as a breadth-first search of the graph finds.
void require_shortest_connected_routes(const ClusterGraph& g) {
  for (int64_t a = 0; a < g.num_gpus(); ++a) {
    std::vector<int64_t> hops(g.num_vertices(), -1);
    hops[g.gpus[a]] = 0;
    boost::breadth_first_search(
        g.graph, g.gpus[a],
        boost::visitor(boost::make_bfs_visitor(boost::record_distances(hops.data(), boost::on_tree_edge()))));
    for (int64_t b = 0; b < g.num_gpus(); ++b) {
      const auto r = route(g, a, b);
      REQUIRE(walk(g, a, r) == static_cast<int64_t>(g.gpus[b]));
      REQUIRE(static_cast<int64_t>(r.size()) == hops[g.gpus[b]]);
    }
  }
}

}  // namespace

TEST_CASE("topology: same-node route is two NVLink hops at the NVLink latency", "[topology]") {
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 4}));
  const auto r = route(g, 0, 5);
  REQUIRE(classes(g, r) == std::vector<LinkClass>{LinkClass::NvLink, LinkClass::NvLink});
  REQUIRE(r[0].dir == LinkDir::Up);
  REQUIRE(r[1].dir == LinkDir::Down);
  // L_intra / 2 + L_intra / 2
  REQUIRE(route_latency_s(g, r) == Approx(kNvlinkLatencyS));
  REQUIRE(route_bottleneck_bytes_per_s(g, r) == kNvlinkBytesPerS);
  REQUIRE(describe_route(g, r) == "gpu0-n0.nvswitch:up gpu5-n0.nvswitch:down");
  REQUIRE(route(g, 3, 3).empty());
}

TEST_CASE("topology: same rail across nodes stays on the rail leaf", "[topology]") {
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 4}));
  const auto r = route(g, 1, 9);  // node 0 GPU 1 -> node 1 GPU 1: rail 1 both
  REQUIRE(classes(g, r) ==
          std::vector<LinkClass>{LinkClass::GpuNic, LinkClass::Nic, LinkClass::Nic, LinkClass::GpuNic});
  // 0 + L_inter / 2 + L_inter / 2 + 0
  REQUIRE(route_latency_s(g, r) == Approx(kNicLatencyS));
  REQUIRE(route_bottleneck_bytes_per_s(g, r) == kNicBytesPerS);
}

TEST_CASE("topology: different rails go through a spine chosen by destination port", "[topology]") {
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 4}));
  const auto r = route(g, 0, 9);  // rail 0 -> rail 1, no PXN
  REQUIRE(classes(g, r) == std::vector<LinkClass>{LinkClass::GpuNic, LinkClass::Nic, LinkClass::LeafSpine,
                                                  LinkClass::LeafSpine, LinkClass::Nic, LinkClass::GpuNic});
  // Spine hops carry no latency: still L_inter end to end.
  REQUIRE(route_latency_s(g, r) == Approx(kNicLatencyS));
  // D-mod-k: destination NIC is on port 1 (node 1) of 4 spines -> spine 1.
  REQUIRE(describe_route(g, r).find("leaf.su0.rail0-spine1:up leaf.su0.rail1-spine1:down") != std::string::npos);
  // The way back is chosen by its own destination (node 0, port 0) -> spine 0.
  REQUIRE(describe_route(g, route(g, 9, 0)).find("spine0") != std::string::npos);
}

TEST_CASE("topology: without rails, only cross-leaf routes use the spine", "[topology]") {
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 8, .rail_optimized = false}));
  // Nodes 0..3 on leaf0, 4..7 on leaf1.
  REQUIRE(route(g, 0, 3 * 8 + 5).size() == 4);
  const auto r = route(g, 0, 4 * 8);
  REQUIRE(r.size() == 6);
  REQUIRE(route_latency_s(g, r) == Approx(kNicLatencyS));
}

TEST_CASE("topology: PCIe routes climb to the common switch or socket", "[topology]") {
  const ClusterGraph g =
      build_cluster_graph(make_cluster({.nodes = 1, .nics_per_node = 0, .kind = IntraNodeKind::PCIe}));
  REQUIRE(route(g, 1, 0).size() == 2);  // same PCIe switch
  REQUIRE(route(g, 1, 2).size() == 4);  // switch 0 -> socket 0 -> switch 1
  const auto cross = route(g, 1, 6);    // socket 0 -> socket 1
  REQUIRE(classes(g, cross) == std::vector<LinkClass>{LinkClass::Pcie, LinkClass::Pcie, LinkClass::InterSocket,
                                                      LinkClass::Pcie, LinkClass::Pcie});
  REQUIRE(cross[2].dir == LinkDir::Up);
  REQUIRE(route(g, 6, 1)[2].dir == LinkDir::Down);
  // Only the GPU ports carry latency: every pair sees L_intra.
  for (int64_t b = 1; b < 8; ++b) REQUIRE(route_latency_s(g, route(g, 0, b)) == Approx(kNvlinkLatencyS));
}

TEST_CASE("topology: PXN crosses NVLink to the destination's rail first", "[topology]") {
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 4}), {.pxn = true});
  const auto r = route(g, 0, 9);  // rail 0 -> rail 1: relay through node 0's GPU 1
  REQUIRE(classes(g, r) == std::vector<LinkClass>{LinkClass::NvLink, LinkClass::NvLink, LinkClass::GpuNic,
                                                  LinkClass::Nic, LinkClass::Nic, LinkClass::GpuNic});
  REQUIRE(describe_route(g, r).find("gpu1-nic1:up") != std::string::npos);
  // L_intra (to the relay) + L_inter (rail-aligned fabric path)
  REQUIRE(route_latency_s(g, r) == Approx(kNvlinkLatencyS + kNicLatencyS));
  REQUIRE(route(g, 1, 9).size() == 4);  // same rail: unchanged
  // Shared NICs (4 for 8 GPUs): rail 3 is first reached by local GPU 6.
  const ClusterGraph shared = build_cluster_graph(make_cluster({.nodes = 2, .nics_per_node = 4}), {.pxn = true});
  REQUIRE(describe_route(shared, route(shared, 0, 15)).find("gpu6-nic3:up") != std::string::npos);
}

TEST_CASE("topology: every route is a shortest connected path of the graph", "[topology]") {
  require_shortest_connected_routes(build_cluster_graph(make_cluster({.nodes = 4})));
  require_shortest_connected_routes(build_cluster_graph(make_cluster({.nodes = 8, .rail_optimized = false})));
  require_shortest_connected_routes(build_cluster_graph(make_cluster({.nodes = 2, .nics_per_node = 4})));
  require_shortest_connected_routes(
      build_cluster_graph(make_cluster({.nodes = 2, .kind = IntraNodeKind::PCIe})));
  require_shortest_connected_routes(build_cluster_graph(make_cluster({.nodes = 4}), {.pxn = true}));
  REQUIRE_THROWS_AS(route(build_cluster_graph(make_cluster({.nodes = 1})), 0, 8), std::out_of_range);
}
