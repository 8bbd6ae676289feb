// Inter-node fabric: NICs, leaf switches (rail-optimized or grouped by node),
// and the spine layer with its oversubscription.
#include <algorithm>
#include <cmath>
#include <string>

#include "topology/builders.hpp"

namespace hcpsim::detail {

/// NICs: node n has nics_per_node NICs; local GPU l uses NIC l*nics/gpus, so
/// with one NIC per GPU each GPU has its own, and with 4 NICs for 8 GPUs the
/// pairs (0,1), (2,3), ... share one. The GPU-to-NIC PCIe path is one gpu_nic
/// link at NIC rate with no latency (it never binds before the NIC port).
///
///   gpu0   gpu1   ...          gpu_nic: nic bandwidth, 0 s
///    |      |
///   nic0   nic1   ...          (nic links to the leaves: see below)
void build_nics(ClusterGraph& g) {
  const auto& inter = g.spec.inter_node;
  const int64_t gpn = g.spec.gpus_per_node, nics = inter.nics_per_node;
  for (int64_t node = 0; node < g.spec.num_nodes; ++node) {
    for (int64_t k = 0; k < nics; ++k) {
      const int64_t index = node * nics + k;
      g.nics.push_back(add_vertex(g, VertexKind::Nic, index, node, "nic" + std::to_string(index)));
    }
    for (int64_t l = 0; l < gpn; ++l) {
      const int64_t gpu = node * gpn + l;
      const int64_t nic = node * nics + l * nics / gpn;
      g.tables.nic_of_gpu[gpu] = static_cast<int32_t>(nic);
      g.tables.gpu_nic_edge[gpu] =
          add_link(g, g.gpus[gpu], g.nics[nic], LinkClass::GpuNic, inter.nic_bandwidth_bytes_per_s, 0.0);
    }
  }
}

namespace {
void attach_nic(ClusterGraph& g, int64_t nic, int64_t leaf, int64_t port) {
  const auto& inter = g.spec.inter_node;
  g.tables.leaf_of_nic[nic] = static_cast<int32_t>(leaf);
  g.tables.port_of_nic[nic] = static_cast<int32_t>(port);
  g.tables.nic_leaf_edge[nic] =
      add_link(g, g.nics[nic], g.leaves[leaf], LinkClass::Nic, inter.nic_bandwidth_bytes_per_s, inter.latency_s / 2);
}
}  // namespace

/// Rail-optimized leaves (DGX SuperPOD): a scalable unit (SU) is
/// options.leaf_down_ports nodes (32); NIC k of every node of an SU goes to
/// leaf "rail k" of that SU, port = node index within the SU.
///
///   leaf.su0.rail0     leaf.su0.rail1    ...       nic: nic bandwidth, L_inter/2
///    |       |          |       |
///   n0.nic0 n1.nic0    n0.nic1 n1.nic1   ...
///
/// Route n0.gpu1 -> n1.gpu1 (same rail, same SU): gpu_nic Up, nic Up, nic Down,
/// gpu_nic Down: no spine. n0.gpu0 -> n1.gpu1 changes rail: through a spine.
void build_rail_optimized_leaves(ClusterGraph& g) {
  const int64_t nics = g.spec.inter_node.nics_per_node, su_nodes = g.options.leaf_down_ports;
  const int64_t sus = (g.spec.num_nodes + su_nodes - 1) / su_nodes;
  for (int64_t su = 0; su < sus; ++su)
    for (int64_t k = 0; k < nics; ++k)
      g.leaves.push_back(add_vertex(g, VertexKind::Leaf, su * nics + k, -1,
                                    "leaf.su" + std::to_string(su) + ".rail" + std::to_string(k)));
  for (int64_t node = 0; node < g.spec.num_nodes; ++node)
    for (int64_t k = 0; k < nics; ++k) attach_nic(g, node * nics + k, (node / su_nodes) * nics + k, node % su_nodes);
}

/// Leaves grouped by node (not rail-optimized): all NICs of a node go to the
/// node's leaf; a leaf takes leaf_down_ports / nics_per_node whole nodes.
///
///          leaf0                      leaf1
///    /   / ... \    \           /   / ... \    \        nic: nic bandwidth, L_inter/2
///  n0.nic0 ... n3.nic7         n4.nic0 ... n7.nic7
///
/// Route n0.gpu0 -> n3.gpu5: same leaf, no spine; n0.gpu0 -> n4.gpu0: spine.
void build_node_grouped_leaves(ClusterGraph& g) {
  const int64_t nics = g.spec.inter_node.nics_per_node;
  const int64_t per_leaf = std::max<int64_t>(1, g.options.leaf_down_ports / nics);
  const int64_t num_leaves = (g.spec.num_nodes + per_leaf - 1) / per_leaf;
  for (int64_t l = 0; l < num_leaves; ++l)
    g.leaves.push_back(add_vertex(g, VertexKind::Leaf, l, -1, "leaf" + std::to_string(l)));
  for (int64_t node = 0; node < g.spec.num_nodes; ++node)
    for (int64_t k = 0; k < nics; ++k)
      attach_nic(g, node * nics + k, node / per_leaf, (node % per_leaf) * nics + k);
}

/// Spines: with more than one leaf, S spines each linked to every leaf, where
/// S = ceil(P / oversubscription) and P is the most NIC ports any leaf uses.
/// Every leaf gets S uplinks of P * nic_bw / oversubscription / S each (the full
/// leaf's design: a partly filled leaf keeps full-rate uplinks), so the fullest
/// leaf's uplink capacity is its downlink capacity / oversubscription.
/// The spine of a route is D-mod-k: destination NIC's leaf port mod S.
///
///     spine0   spine1  ...  spine(S-1)          leaf_spine: as above, 0 s
///      |  \   /  |  \  ...
///     leaf0    leaf1   ...
///
/// Route n0.gpu0 -> n1.gpu1 (rails 0 and 1 on 2 nodes, S = 2): gpu_nic Up, nic Up,
/// leaf.su0.rail0-spine1 Up, leaf.su0.rail1-spine1 Down, nic Down, gpu_nic Down.
void build_spines(ClusterGraph& g) {
  const auto& inter = g.spec.inter_node;
  const auto num_leaves = static_cast<int64_t>(g.leaves.size());
  if (num_leaves <= 1) return;
  std::vector<int64_t> ports(num_leaves, 0);
  for (int32_t leaf : g.tables.leaf_of_nic) ++ports[leaf];
  const int64_t max_ports = *std::max_element(ports.begin(), ports.end());
  // The epsilon keeps an exact quotient (32 / 2) from rounding up to 17.
  const auto spines =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(static_cast<double>(max_ports) / inter.oversubscription - 1e-9)));
  g.tables.num_spines = spines;
  for (int64_t s = 0; s < spines; ++s)
    g.spines.push_back(add_vertex(g, VertexKind::Spine, s, -1, "spine" + std::to_string(s)));
  g.tables.leaf_spine_edge.resize(num_leaves * spines);
  // Every leaf is the same switch, cabled alike: the full leaf's uplink capacity (its NIC ports
  // over the oversubscription) split over the spines. A leaf that holds fewer nodes (the last,
  // partly filled scalable unit) keeps the same full-rate uplinks: its flows are not slowed to its
  // share of a full leaf's.
  const double uplink_bytes_per_s = static_cast<double>(max_ports) * inter.nic_bandwidth_bytes_per_s /
                                    inter.oversubscription / static_cast<double>(spines);
  for (int64_t leaf = 0; leaf < num_leaves; ++leaf) {
    for (int64_t s = 0; s < spines; ++s)
      g.tables.leaf_spine_edge[leaf * spines + s] =
          add_link(g, g.leaves[leaf], g.spines[s], LinkClass::LeafSpine, uplink_bytes_per_s, 0.0);
  }
}

}  // namespace hcpsim::detail
