// Cluster graph: validation, the per-shape builders in order, and printing.
#include "topology/cluster_graph.hpp"

#include <sstream>
#include <stdexcept>

#include "topology/builders.hpp"

namespace hcpsim {

const char* to_string(VertexKind k) {
  switch (k) {
    case VertexKind::Gpu: return "gpu";
    case VertexKind::NvSwitch: return "nvswitch";
    case VertexKind::NvlDomain: return "nvl_domain";
    case VertexKind::PcieSwitch: return "pcie_switch";
    case VertexKind::CpuSocket: return "cpu_socket";
    case VertexKind::Nic: return "nic";
    case VertexKind::Leaf: return "leaf";
    case VertexKind::Spine: return "spine";
  }
  return "?";
}

const char* to_string(LinkClass c) {
  switch (c) {
    case LinkClass::NvLink: return "nvlink";
    case LinkClass::Pcie: return "pcie";
    case LinkClass::InterSocket: return "inter_socket";
    case LinkClass::GpuNic: return "gpu_nic";
    case LinkClass::Nic: return "nic";
    case LinkClass::LeafSpine: return "leaf_spine";
  }
  return "?";
}

int64_t ClusterGraph::rail_of_gpu(int64_t gpu) const {
  const int64_t nics = spec.inter_node.nics_per_node;
  return nics > 0 ? local_gpu(gpu) * nics / spec.gpus_per_node : -1;
}

namespace detail {

VertexId add_vertex(ClusterGraph& g, VertexKind kind, int64_t index, int64_t node, std::string name) {
  return boost::add_vertex(VertexInfo{kind, index, node, std::move(name)}, g.graph);
}

int32_t add_link(ClusterGraph& g, VertexId lower, VertexId upper, LinkClass cls, double bandwidth_bytes_per_s,
                 double latency_s) {
  const auto id = static_cast<int32_t>(g.links.size());
  boost::add_edge(lower, upper, EdgeInfo{id}, g.graph);
  g.links.push_back(Link{lower, upper, cls, bandwidth_bytes_per_s, latency_s,
                         g.graph[lower].name + "-" + g.graph[upper].name});
  return id;
}

}  // namespace detail

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("cluster topology: " + what);
}

void validate(const ClusterSpec& s) {
  require(s.num_nodes >= 1, "num_nodes must be >= 1");
  require(s.gpus_per_node >= 1, "gpus_per_node must be >= 1");
  require(s.intra_node.bandwidth_bytes_per_s > 0, "intra_node bandwidth must be > 0");
  require(s.intra_node.latency_s >= 0, "intra_node latency must be >= 0");
  const auto& inter = s.inter_node;
  require(inter.nics_per_node >= 0, "nics_per_node must be >= 0");
  require(s.num_nodes == 1 || inter.nics_per_node >= 1, "several nodes need nics_per_node >= 1");
  if (inter.nics_per_node > 0) {
    require(inter.nic_bandwidth_bytes_per_s > 0, "nic bandwidth must be > 0");
    require(inter.latency_s >= 0, "inter_node latency must be >= 0");
    require(inter.oversubscription > 0, "oversubscription must be > 0");
  }
}

}  // namespace

ClusterGraph build_cluster_graph(const ClusterSpec& spec, const TopologyOptions& options) {
  validate(spec);
  require(options.leaf_down_ports >= 1, "leaf_down_ports must be >= 1");
  ClusterGraph g;
  g.spec = spec;
  g.options = options;
  const int64_t gpus = spec.world_size(), nics = spec.num_nodes * spec.inter_node.nics_per_node;
  auto& t = g.tables;
  t.gpu_switch_edge.assign(gpus, -1);
  t.pcie_switch_of_gpu.assign(gpus, -1);
  t.socket_edge.assign(spec.num_nodes, -1);
  t.nic_of_gpu.assign(gpus, -1);
  t.gpu_nic_edge.assign(gpus, -1);
  t.nic_leaf_edge.assign(nics, -1);
  t.leaf_of_nic.assign(nics, -1);
  t.port_of_nic.assign(nics, -1);

  for (int64_t gpu = 0; gpu < gpus; ++gpu)
    g.gpus.push_back(detail::add_vertex(g, VertexKind::Gpu, gpu, gpu / spec.gpus_per_node, "gpu" + std::to_string(gpu)));
  for (int64_t node = 0; node < spec.num_nodes; ++node) {
    switch (spec.intra_node.kind) {
      case IntraNodeKind::NVSwitch: detail::build_nvswitch_node(g, node); break;
      case IntraNodeKind::NVLDomain: detail::build_nvl_domain_node(g, node); break;
      case IntraNodeKind::PCIe: detail::build_pcie_node(g, node); break;
    }
  }
  if (nics > 0) {
    detail::build_nics(g);
    if (spec.inter_node.rail_optimized)
      detail::build_rail_optimized_leaves(g);
    else
      detail::build_node_grouped_leaves(g);
    detail::build_spines(g);
  }
  return g;
}

std::string to_graphviz(const ClusterGraph& g) {
  std::ostringstream out;
  out << "graph cluster {\n";
  for (auto [v, end] = boost::vertices(g.graph); v != end; ++v)
    out << "  v" << *v << " [label=\"" << g.graph[*v].name << "\" kind=\"" << to_string(g.graph[*v].kind) << "\"];\n";
  for (const Link& l : g.links)
    out << "  v" << l.lower << " -- v" << l.upper << " [label=\"" << to_string(l.cls) << " "
        << l.bandwidth_bytes_per_s / 1e9 << " GB/s " << l.latency_s * 1e6 << " us\"];\n";
  out << "}\n";
  return out.str();
}

}  // namespace hcpsim
