// Intra-node shapes: how the GPUs of one node reach each other.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "topology/builders.hpp"

namespace hcpsim::detail {
namespace {

std::string node_prefix(int64_t node) { return std::string("n").append(std::to_string(node)).append("."); }

// One logical switch per node with one nvlink link per GPU (shared by the
// NVSwitch and NVL-domain shapes; they differ only in the vertex kind).
void build_star_node(ClusterGraph& g, int64_t node, VertexKind kind, const std::string& switch_name) {
  const auto& intra = g.spec.intra_node;
  const VertexId sw = add_vertex(g, kind, node, node, node_prefix(node) + switch_name);
  g.node_switches.push_back(sw);
  const int64_t gpn = g.spec.gpus_per_node;
  for (int64_t l = 0; l < gpn; ++l) {
    const int64_t gpu = node * gpn + l;
    g.tables.gpu_switch_edge[gpu] =
        add_link(g, g.gpus[gpu], sw, LinkClass::NvLink, intra.bandwidth_bytes_per_s, intra.latency_s / 2);
  }
}

}  // namespace

/// DGX/HGX node: the NVSwitch chips act as one non-blocking switch; each GPU's
/// NVLink bandwidth (all its links together) is one nvlink link.
///
///        n0.nvswitch
///      /   |   ...   \        nvlink: intra.bandwidth per direction, L_intra/2
///   gpu0 gpu1  ...  gpu7
///
/// Route gpu0 -> gpu5: gpu0-nvswitch (Up), gpu5-nvswitch (Down); latency L_intra.
void build_nvswitch_node(ClusterGraph& g, int64_t node) { build_star_node(g, node, VertexKind::NvSwitch, "nvswitch"); }

/// Multi-node NVLink domain (GB200 NVL72): one NVLink switch layer spans the
/// whole domain, so a "node" here is the domain (gpus_per_node = 72).
///
///             n0.nvl_domain
///      /     /     ...     \      nvlink: intra.bandwidth per direction, L_intra/2
///   gpu0  gpu1     ...    gpu71
///
/// Route gpu3 -> gpu70: gpu3-nvl_domain (Up), gpu70-nvl_domain (Down).
void build_nvl_domain_node(ClusterGraph& g, int64_t node) {
  build_star_node(g, node, VertexKind::NvlDomain, "nvl_domain");
}

/// PCIe node (no NVLink): GPUs sit behind PCIe switches (options.gpus_per_pcie_switch
/// each, default 2), the switches hang off CPU sockets (options.cpu_sockets, 1 or 2;
/// switch s of S goes to socket s*sockets/S), and two sockets share one link.
///
///          socket0 ===inter_socket=== socket1
///          /     \                     /     \          pcie uplinks: intra.bandwidth, 0 s
///       pcie0   pcie1              pcie2   pcie3
///       /  \    /  \               /  \    /  \         pcie: intra.bandwidth, L_intra/2
///    gpu0 gpu1 gpu2 gpu3        gpu4 gpu5 gpu6 gpu7
///
/// Assumptions: a switch uplink has the bandwidth of one GPU port (an x16 link
/// shared by the GPUs behind it); the inter-socket link has
/// inter_socket_bandwidth_ratio x intra.bandwidth; only the GPU ports carry
/// latency, so every GPU pair in the node sees L_intra end to end.
/// Route gpu1 -> gpu6: gpu1-pcie0 Up, pcie0-socket0 Up, socket0-socket1 Up,
/// pcie3-socket1 Down, gpu6-pcie3 Down.
void build_pcie_node(ClusterGraph& g, int64_t node) {
  const auto& intra = g.spec.intra_node;
  const auto& opt = g.options;
  if (opt.gpus_per_pcie_switch < 1) throw std::invalid_argument("gpus_per_pcie_switch must be >= 1");
  if (opt.cpu_sockets != 1 && opt.cpu_sockets != 2) throw std::invalid_argument("cpu_sockets must be 1 or 2");
  const int64_t gpn = g.spec.gpus_per_node;
  const int64_t switches = (gpn + opt.gpus_per_pcie_switch - 1) / opt.gpus_per_pcie_switch;
  const std::string p = node_prefix(node);

  const auto first_socket = static_cast<int64_t>(g.sockets.size());
  for (int64_t s = 0; s < opt.cpu_sockets; ++s)
    g.sockets.push_back(add_vertex(g, VertexKind::CpuSocket, first_socket + s, node, p + "socket" + std::to_string(s)));
  if (opt.cpu_sockets == 2)
    g.tables.socket_edge[node] = add_link(g, g.sockets[first_socket], g.sockets[first_socket + 1],
                                          LinkClass::InterSocket,
                                          opt.inter_socket_bandwidth_ratio * intra.bandwidth_bytes_per_s, 0.0);

  for (int64_t s = 0; s < switches; ++s) {
    const auto index = static_cast<int64_t>(g.pcie_switches.size());
    const VertexId sw = add_vertex(g, VertexKind::PcieSwitch, index, node, p + "pcie" + std::to_string(s));
    g.pcie_switches.push_back(sw);
    const int64_t socket = s * opt.cpu_sockets / switches;
    g.tables.socket_of_pcie_switch.push_back(static_cast<int32_t>(socket));
    g.tables.pcie_uplink_edge.push_back(
        add_link(g, sw, g.sockets[first_socket + socket], LinkClass::Pcie, intra.bandwidth_bytes_per_s, 0.0));
    for (int64_t l = s * opt.gpus_per_pcie_switch; l < std::min(gpn, (s + 1) * opt.gpus_per_pcie_switch); ++l) {
      const int64_t gpu = node * gpn + l;
      g.tables.pcie_switch_of_gpu[gpu] = static_cast<int32_t>(index);
      g.tables.gpu_switch_edge[gpu] =
          add_link(g, g.gpus[gpu], sw, LinkClass::Pcie, intra.bandwidth_bytes_per_s, intra.latency_s / 2);
    }
  }
}

}  // namespace hcpsim::detail
