// Internal to topology/: one small builder per topology shape. Each adds its
// vertices and links to a ClusterGraph whose GPU vertices already exist, and
// fills the RouteTables entries that routes.cpp reads.
#pragma once

#include <string>

#include "topology/cluster_graph.hpp"

namespace hcpsim::detail {

VertexId add_vertex(ClusterGraph& g, VertexKind kind, int64_t index, int64_t node, std::string name);
// Adds a full-duplex link lower <-> upper and returns its edge id.
int32_t add_link(ClusterGraph& g, VertexId lower, VertexId upper, LinkClass cls, double bandwidth_bytes_per_s,
                 double latency_s);

// Intra-node shapes (node_builders.cpp).
void build_nvswitch_node(ClusterGraph& g, int64_t node);
void build_nvl_domain_node(ClusterGraph& g, int64_t node);
void build_pcie_node(ClusterGraph& g, int64_t node);

// Inter-node fabric (fabric_builders.cpp).
void build_nics(ClusterGraph& g);
void build_rail_optimized_leaves(ClusterGraph& g);
void build_node_grouped_leaves(ClusterGraph& g);
void build_spines(ClusterGraph& g);

}  // namespace hcpsim::detail
