#include "topology/routes.hpp"

#include <algorithm>
#include <cassert>
#include <limits>
#include <stdexcept>

namespace hcpsim {
namespace {

void intra_node_route(const ClusterGraph& g, int64_t a, int64_t b, RoutePath& out) {
  const auto& t = g.tables;
  out.push(t.gpu_switch_edge[a], LinkDir::Up);
  if (g.spec.intra_node.kind == IntraNodeKind::PCIe) {
    const int32_t sw_a = t.pcie_switch_of_gpu[a], sw_b = t.pcie_switch_of_gpu[b];
    if (sw_a != sw_b) {
      out.push(t.pcie_uplink_edge[sw_a], LinkDir::Up);
      const int32_t sock_a = t.socket_of_pcie_switch[sw_a], sock_b = t.socket_of_pcie_switch[sw_b];
      // socket 0 is the lower end of the inter-socket link
      if (sock_a != sock_b) out.push(t.socket_edge[g.node_of_gpu(a)], sock_a < sock_b ? LinkDir::Up : LinkDir::Down);
      out.push(t.pcie_uplink_edge[sw_b], LinkDir::Down);
    }
  }
  out.push(t.gpu_switch_edge[b], LinkDir::Down);
}

// PXN relay: the first GPU of a's node whose NIC is on b's rail (GPU l uses
// NIC l * nics / gpus, so that is l = ceil(rail * gpus / nics)).
int64_t pxn_relay(const ClusterGraph& g, int64_t a, int64_t b) {
  const int64_t gpn = g.spec.gpus_per_node, nics = g.spec.inter_node.nics_per_node;
  const int64_t rail = g.rail_of_gpu(b);
  return g.node_of_gpu(a) * gpn + (rail * gpn + nics - 1) / nics;
}

void inter_node_route(const ClusterGraph& g, int64_t a, int64_t b, RoutePath& out) {
  const auto& t = g.tables;
  if (g.options.pxn && g.spec.inter_node.rail_optimized && g.rail_of_gpu(a) != g.rail_of_gpu(b)) {
    const int64_t relay = pxn_relay(g, a, b);
    intra_node_route(g, a, relay, out);
    a = relay;
  }
  const int32_t nic_a = t.nic_of_gpu[a], nic_b = t.nic_of_gpu[b];
  assert(nic_a >= 0 && nic_b >= 0);
  out.push(t.gpu_nic_edge[a], LinkDir::Up);
  out.push(t.nic_leaf_edge[nic_a], LinkDir::Up);
  const int32_t leaf_a = t.leaf_of_nic[nic_a], leaf_b = t.leaf_of_nic[nic_b];
  if (leaf_a != leaf_b) {
    const int64_t spine = t.port_of_nic[nic_b] % t.num_spines;  // D-mod-k by destination port
    out.push(t.leaf_spine_edge[leaf_a * t.num_spines + spine], LinkDir::Up);
    out.push(t.leaf_spine_edge[leaf_b * t.num_spines + spine], LinkDir::Down);
  }
  out.push(t.nic_leaf_edge[nic_b], LinkDir::Down);
  out.push(t.gpu_nic_edge[b], LinkDir::Down);
}

}  // namespace

void route_into(const ClusterGraph& g, int64_t gpu_a, int64_t gpu_b, RoutePath& out) {
  assert(gpu_a >= 0 && gpu_a < g.num_gpus() && gpu_b >= 0 && gpu_b < g.num_gpus());
  out.size = 0;
  if (gpu_a == gpu_b) return;
  if (g.node_of_gpu(gpu_a) == g.node_of_gpu(gpu_b))
    intra_node_route(g, gpu_a, gpu_b, out);
  else
    inter_node_route(g, gpu_a, gpu_b, out);
}

std::vector<LinkId> route(const ClusterGraph& g, int64_t gpu_a, int64_t gpu_b) {
  if (gpu_a < 0 || gpu_a >= g.num_gpus() || gpu_b < 0 || gpu_b >= g.num_gpus())
    throw std::out_of_range("route: GPU " + std::to_string(gpu_a) + " or " + std::to_string(gpu_b) +
                            " not in a cluster of " + std::to_string(g.num_gpus()));
  RoutePath p;
  route_into(g, gpu_a, gpu_b, p);
  const auto v = p.view();
  return {v.begin(), v.end()};
}

double route_latency_s(const ClusterGraph& g, std::span<const LinkId> r) {
  double s = 0;
  for (const LinkId& l : r) s += g.links[l.edge].latency_s;
  return s;
}

double route_bottleneck_bytes_per_s(const ClusterGraph& g, std::span<const LinkId> r) {
  double bw = std::numeric_limits<double>::infinity();
  for (const LinkId& l : r) bw = std::min(bw, g.links[l.edge].bandwidth_bytes_per_s);
  return bw;
}

std::string describe_route(const ClusterGraph& g, std::span<const LinkId> r) {
  std::string s;
  for (const LinkId& l : r) {
    if (!s.empty()) s += ' ';
    s += g.links[l.edge].name + (l.dir == LinkDir::Up ? ":up" : ":down");
  }
  return s;
}

}  // namespace hcpsim
