// The cluster as a graph: GPUs, the intra-node fabric (NVSwitch, PCIe switches
// and CPU sockets, or one NVLink domain), NICs, leaf and spine switches, joined
// by full-duplex links that carry a link class, a bandwidth per direction and a
// latency. Pure data (Boost.Graph), no SimGrid: engine/platform.cpp turns it
// into a SimGrid platform, metrics read the link classes back.
//
// Latency split (so that every route's summed latency is the spec's figure):
//   NVLink / NVL-domain route  GPU -nvlink-> switch -nvlink-> GPU:  L_intra/2 + L_intra/2
//   PCIe route                 GPU -pcie-> PCIe sw (-pcie-> socket (-socket-> socket) -pcie-> PCIe sw) -pcie-> GPU:
//                              only the two GPU-side pcie links carry L_intra/2; the rest 0
//   cross-node route           GPU -gpu_nic-> NIC -nic-> leaf (-leaf_spine-> spine -leaf_spine-> leaf) -nic-> NIC -gpu_nic-> GPU:
//                              only the two nic links carry L_inter/2; gpu_nic and leaf_spine 0
// so a same-leaf and a through-spine route both take inter_node.latency_s: the
// spec gives one end-to-end fabric latency, switch hops are folded into it.
#pragma once

#include <boost/graph/adjacency_list.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "scenario/scenario.hpp"

namespace hcpsim {

enum class VertexKind : uint8_t { Gpu, NvSwitch, NvlDomain, PcieSwitch, CpuSocket, Nic, Leaf, Spine };
enum class LinkClass : uint8_t {
  NvLink,       // GPU <-> NVSwitch or NVL-domain switch
  Pcie,         // GPU <-> PCIe switch, PCIe switch <-> CPU socket
  InterSocket,  // CPU socket <-> CPU socket (UPI / xGMI)
  GpuNic,       // GPU <-> its NIC (the PCIe path to the NIC)
  Nic,          // NIC <-> leaf switch port
  LeafSpine,    // leaf uplink <-> spine
};
const char* to_string(VertexKind k);  // "gpu", "nvswitch", ...
const char* to_string(LinkClass c);   // "nvlink", "pcie", "inter_socket", "gpu_nic", "nic", "leaf_spine"
inline constexpr LinkClass kLinkClasses[] = {LinkClass::NvLink, LinkClass::Pcie,      LinkClass::InterSocket,
                                             LinkClass::GpuNic, LinkClass::Nic,       LinkClass::LeafSpine};

struct VertexInfo {
  VertexKind kind = VertexKind::Gpu;
  int64_t index = 0;  // within its kind (GPU index = global GPU id)
  int64_t node = -1;  // -1 for fabric switches
  std::string name;   // "gpu3", "n0.nvswitch", "nic12", "leaf.su0.rail3", "spine5"
};

struct EdgeInfo {
  int32_t id = 0;  // index into ClusterGraph::links
};

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, VertexInfo, EdgeInfo>;
using VertexId = Graph::vertex_descriptor;

// One full-duplex link. `lower` is the GPU-side end (GPU < switch < NIC < leaf
// < spine; socket 0 < socket 1), so LinkDir::Up means lower -> upper.
struct Link {
  VertexId lower = 0, upper = 0;
  LinkClass cls = LinkClass::NvLink;
  double bandwidth_bytes_per_s = 0;  // per direction
  double latency_s = 0;
  std::string name;  // "<lower>-<upper>"
};

enum class LinkDir : uint8_t { Up, Down };
// One direction of one full-duplex link: what a route is made of.
struct LinkId {
  int32_t edge = -1;
  LinkDir dir = LinkDir::Up;
  friend bool operator==(const LinkId&, const LinkId&) = default;
};

// Shape assumptions the ClusterSpec does not carry.
struct TopologyOptions {
  // NIC ports per leaf switch. Rail-optimized: a scalable unit (SU) is this many
  // nodes, and leaf (SU, rail k) takes NIC k of each of them (DGX SuperPOD: 32).
  // Not rail-optimized: each leaf takes all NICs of leaf_down_ports/nics nodes.
  int64_t leaf_down_ports = 32;
  int64_t gpus_per_pcie_switch = 2;           // PCIe kind: GPUs behind one PCIe switch
  int64_t cpu_sockets = 2;                    // PCIe kind: 1 or 2 sockets per node
  double inter_socket_bandwidth_ratio = 2.0;  // PCIe kind: socket link / intra_node bandwidth
  // NCCL PXN (rail-optimized fabrics only): a cross-node transfer to a GPU on another rail first crosses the
  // source node to the GPU on the destination's rail, then leaves through that
  // GPU's NIC (rail-aligned). Off by default: a GPU uses its own NIC.
  bool pxn = false;
};

// Tables that make a route a few array look-ups (see routes.hpp). Edge ids.
struct RouteTables {
  std::vector<int32_t> gpu_switch_edge;    // per GPU: its nvlink/pcie link to the node fabric
  std::vector<int32_t> pcie_switch_of_gpu; // per GPU, PCIe kind: global PCIe switch index
  std::vector<int32_t> pcie_uplink_edge;   // per PCIe switch: link to its socket
  std::vector<int32_t> socket_of_pcie_switch;  // per PCIe switch: socket 0 or 1
  std::vector<int32_t> socket_edge;        // per node, PCIe kind with 2 sockets: inter-socket link
  std::vector<int32_t> nic_of_gpu;         // per GPU: global NIC index (-1 without NICs)
  std::vector<int32_t> gpu_nic_edge;       // per GPU
  std::vector<int32_t> nic_leaf_edge;      // per NIC
  std::vector<int32_t> leaf_of_nic;        // per NIC
  std::vector<int32_t> port_of_nic;        // per NIC: its port on the leaf (D-mod-k key)
  std::vector<int32_t> leaf_spine_edge;    // leaf * num_spines + spine
  int64_t num_spines = 0;
};

struct ClusterGraph {
  ClusterSpec spec;
  TopologyOptions options;
  Graph graph;
  std::vector<Link> links;  // edge id -> link
  std::vector<VertexId> gpus, node_switches, pcie_switches, sockets, nics, leaves, spines;
  RouteTables tables;

  int64_t num_gpus() const { return static_cast<int64_t>(gpus.size()); }
  int64_t node_of_gpu(int64_t gpu) const { return gpu / spec.gpus_per_node; }
  int64_t local_gpu(int64_t gpu) const { return gpu % spec.gpus_per_node; }
  // The NIC index inside the node that GPU g uses: g_local * nics / gpus.
  // With rail optimisation this is also the rail; -1 without NICs.
  int64_t rail_of_gpu(int64_t gpu) const;
  int64_t num_vertices() const { return static_cast<int64_t>(boost::num_vertices(graph)); }
  int64_t num_links() const { return static_cast<int64_t>(links.size()); }
};

// Builds the graph for a cluster. Throws std::invalid_argument on a shape it
// cannot build (e.g. several nodes without NICs, a non-positive bandwidth).
ClusterGraph build_cluster_graph(const ClusterSpec& spec, const TopologyOptions& options = {});

// Graphviz text of the whole graph (edges labelled with class and GB/s).
std::string to_graphviz(const ClusterGraph& g);

}  // namespace hcpsim
