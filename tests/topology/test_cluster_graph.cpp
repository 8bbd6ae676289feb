// Vertex and link counts of the cluster graph, derived by hand per shape.
#include <catch2/catch.hpp>

#include <map>

#include "tests/topology/cluster_specs.hpp"
#include "topology/cluster_graph.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

namespace {
std::map<LinkClass, int64_t> count_by_class(const ClusterGraph& g) {
  std::map<LinkClass, int64_t> n;
  for (const Link& l : g.links) ++n[l.cls];
  return n;
}
}  // namespace

TEST_CASE("topology: 4 DGX-like nodes, 8 rails", "[topology]") {
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 4}));
  // One SU (4 <= 32 nodes) -> 8 rail leaves with 4 used ports each;
  // spines S = ceil(4 / 1) = 4.
  // Vertices: 32 GPUs + 4 NVSwitches + 32 NICs + 8 leaves + 4 spines = 80.
  REQUIRE(g.num_vertices() == 80);
  REQUIRE(g.spines.size() == 4);
  REQUIRE(g.leaves.size() == 8);
  // Links: 32 nvlink + 32 gpu_nic + 32 nic + 8 leaves x 4 spines = 128.
  REQUIRE(g.num_links() == 128);
  REQUIRE(boost::num_edges(g.graph) == 128);
  const auto n = count_by_class(g);
  REQUIRE(n.at(LinkClass::NvLink) == 32);
  REQUIRE(n.at(LinkClass::GpuNic) == 32);
  REQUIRE(n.at(LinkClass::Nic) == 32);
  REQUIRE(n.at(LinkClass::LeafSpine) == 32);
  // Uplink per leaf = 4 ports x 50 GB/s / 1, over 4 spines = 50 GB/s each.
  for (const Link& l : g.links)
    if (l.cls == LinkClass::LeafSpine) REQUIRE(l.bandwidth_bytes_per_s == Approx(kNicBytesPerS));
  // Rail = local GPU index; NIC k of node n sits on leaf "rail k", port n.
  REQUIRE(g.rail_of_gpu(13) == 5);
  REQUIRE(g.graph[g.leaves[g.tables.leaf_of_nic[g.tables.nic_of_gpu[13]]]].name == "leaf.su0.rail5");
  REQUIRE(g.tables.port_of_nic[g.tables.nic_of_gpu[13]] == 1);
}

TEST_CASE("topology: leaves grouped by node with 2:1 oversubscription", "[topology]") {
  const ClusterGraph g =
      build_cluster_graph(make_cluster({.nodes = 8, .rail_optimized = false, .oversubscription = 2.0}));
  // 32 ports per leaf / 8 NICs = 4 nodes per leaf -> 2 leaves, 32 used ports each;
  // spines S = ceil(32 / 2) = 16, each uplink 32 x 50 GB/s / 2 / 16 = 50 GB/s.
  REQUIRE(g.leaves.size() == 2);
  REQUIRE(g.spines.size() == 16);
  // Vertices: 64 GPUs + 8 NVSwitches + 64 NICs + 2 leaves + 16 spines = 154.
  REQUIRE(g.num_vertices() == 154);
  // Links: 64 nvlink + 64 gpu_nic + 64 nic + 2 x 16 leaf_spine = 224.
  REQUIRE(g.num_links() == 224);
  double uplink_bytes_per_s = 0, downlink_bytes_per_s = 0;
  for (const Link& l : g.links) {
    if (l.cls == LinkClass::LeafSpine && l.lower == g.leaves[0]) uplink_bytes_per_s += l.bandwidth_bytes_per_s;
    if (l.cls == LinkClass::Nic && l.upper == g.leaves[0]) downlink_bytes_per_s += l.bandwidth_bytes_per_s;
  }
  REQUIRE(downlink_bytes_per_s == Approx(32 * kNicBytesPerS));
  REQUIRE(uplink_bytes_per_s == Approx(downlink_bytes_per_s / 2.0));
  REQUIRE(g.graph[g.leaves[g.tables.leaf_of_nic[g.tables.nic_of_gpu[5 * 8 + 3]]]].name == "leaf1");
}

TEST_CASE("topology: rail-optimized scalable units of 32 nodes", "[topology]") {
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 64}));
  // 2 SUs x 8 rails = 16 leaves, 32 ports each -> 32 spines.
  REQUIRE(g.leaves.size() == 16);
  REQUIRE(g.spines.size() == 32);
  // Node 33, GPU 2: SU 1, rail 2, port 33 mod 32 = 1.
  const int32_t nic = g.tables.nic_of_gpu[33 * 8 + 2];
  REQUIRE(g.graph[g.leaves[g.tables.leaf_of_nic[nic]]].name == "leaf.su1.rail2");
  REQUIRE(g.tables.port_of_nic[nic] == 1);
}

TEST_CASE("topology: a partly filled leaf keeps a full leaf's uplinks", "[topology]") {
  // 34 nodes, rail-optimized: SU 0's 8 rail leaves hold 32 ports each, SU 1's hold 2 (nodes 32,
  // 33). Spines S = ceil(32 / 1) = 32. Every leaf is the same switch cabled alike, so each of its
  // 32 uplinks runs at 32 x 50 GB/s / 1 / 32 = 50 GB/s, SU 1's too: a flow leaving node 33 is not
  // held to 2 x 50 / 32 = 3.1 GB/s (its share of a full leaf's uplinks).
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 34}));
  REQUIRE(g.leaves.size() == 16);
  REQUIRE(g.spines.size() == 32);
  int64_t uplinks = 0;
  for (const Link& l : g.links)
    if (l.cls == LinkClass::LeafSpine) {
      ++uplinks;
      REQUIRE(l.bandwidth_bytes_per_s == Approx(kNicBytesPerS));
    }
  REQUIRE(uplinks == 16 * 32);
  // Grouped by node, 2:1: 6 nodes, 4 a leaf -> leaves of 32 and 16 ports; S = ceil(32 / 2) = 16,
  // each uplink 32 x 50 / 2 / 16 = 50 GB/s on both leaves (the half-filled one is not oversubscribed).
  const ClusterGraph h =
      build_cluster_graph(make_cluster({.nodes = 6, .rail_optimized = false, .oversubscription = 2.0}));
  REQUIRE(h.leaves.size() == 2);
  REQUIRE(h.spines.size() == 16);
  for (const Link& l : h.links)
    if (l.cls == LinkClass::LeafSpine) REQUIRE(l.bandwidth_bytes_per_s == Approx(kNicBytesPerS));
}

TEST_CASE("topology: one PCIe node has switches and two sockets", "[topology]") {
  const ClusterGraph g =
      build_cluster_graph(make_cluster({.nodes = 1, .nics_per_node = 0, .kind = IntraNodeKind::PCIe}));
  // 8 GPUs, 2 per PCIe switch -> 4 switches; switches 0,1 on socket 0, 2,3 on socket 1.
  // Vertices 8 + 4 + 2 = 14; links 8 GPU ports + 4 uplinks + 1 inter-socket = 13.
  REQUIRE(g.num_vertices() == 14);
  REQUIRE(g.num_links() == 13);
  const auto n = count_by_class(g);
  REQUIRE(n.at(LinkClass::Pcie) == 12);
  REQUIRE(n.at(LinkClass::InterSocket) == 1);
  REQUIRE(g.tables.socket_of_pcie_switch == std::vector<int32_t>{0, 0, 1, 1});
  REQUIRE(g.rail_of_gpu(3) == -1);
  REQUIRE(g.nics.empty());
}

TEST_CASE("topology: GB200 NVL72 domains", "[topology]") {
  const ClusterGraph g = build_cluster_graph(
      make_cluster({.nodes = 2, .gpus_per_node = 72, .nics_per_node = 72, .kind = IntraNodeKind::NVLDomain}));
  // 2 domains of 72 GPUs; 72 rail leaves with 2 ports each -> S = 2 spines.
  // Vertices 144 + 2 + 144 + 72 + 2 = 364; links 144 nvlink + 144 gpu_nic + 144 nic + 72 x 2 = 576.
  REQUIRE(g.num_vertices() == 364);
  REQUIRE(g.num_links() == 576);
  REQUIRE(g.graph[g.node_switches[1]].kind == VertexKind::NvlDomain);
}

TEST_CASE("topology: shared NICs when a node has fewer NICs than GPUs", "[topology]") {
  const ClusterGraph g = build_cluster_graph(make_cluster({.nodes = 2, .nics_per_node = 4}));
  // GPU l uses NIC l * 4 / 8: GPUs 0,1 -> NIC 0, ..., 6,7 -> NIC 3; node 1 starts at NIC 4.
  REQUIRE(g.tables.nic_of_gpu[0] == 0);
  REQUIRE(g.tables.nic_of_gpu[1] == 0);
  REQUIRE(g.tables.nic_of_gpu[7] == 3);
  REQUIRE(g.tables.nic_of_gpu[8] == 4);
  REQUIRE(g.rail_of_gpu(9) == 0);
  REQUIRE(g.nics.size() == 8);
}

TEST_CASE("topology: impossible clusters are refused", "[topology]") {
  REQUIRE_THROWS_AS(build_cluster_graph(make_cluster({.nodes = 2, .nics_per_node = 0})), std::invalid_argument);
  ClusterSpec bad = make_cluster({});
  bad.intra_node.bandwidth_bytes_per_s = 0;
  REQUIRE_THROWS_AS(build_cluster_graph(bad), std::invalid_argument);
  REQUIRE(to_graphviz(build_cluster_graph(make_cluster({.nodes = 1}))).find("nvlink 450 GB/s 1 us") !=
          std::string::npos);
}
