#include "nccl/comm_shape.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace hcpsim {

NcclArch nccl_arch(int64_t cc) {
  if (cc >= 100) return NcclArch::Blackwell;
  if (cc >= 90) return NcclArch::Hopper;
  if (cc >= 80) return NcclArch::Ampere;
  return NcclArch::Volta;
}

const char* to_string(NcclArch a) {
  switch (a) {
    case NcclArch::Volta: return "volta";
    case NcclArch::Ampere: return "ampere";
    case NcclArch::Hopper: return "hopper";
    case NcclArch::Blackwell: return "blackwell";
  }
  return "?";
}

namespace {

// NCCL's per-link NVLink figure over the line rate of one link (src/graph/topo.h): SM80 20 of
// 25 GB/s, SM90 20.6 of 25, SM100 40.1 of 50. NVLink line rates per link: NVLink3 and NVLink4
// 25 GB/s per direction, NVLink5 50.
double nvlink_figure_per_line_rate(int64_t cc) {
  if (cc >= 100) return 40.1 / 50;
  if (cc >= 90) return 20.6 / 25;
  return 20.0 / 25;
}

}  // namespace

NcclNode nccl_node(const ClusterSpec& c) {
  NcclNode n;
  n.compute_capability = c.gpu.compute_capability;
  n.intra = c.intra_node.kind;
  const double intra_GBps = c.intra_node.bandwidth_bytes_per_s / 1e9;
  // PCIe generation by architecture: Hopper and Blackwell nodes are Gen5, older ones Gen4
  // (NCCL reads the link from sysfs: Gen4 x16 = 24 GB/s, Gen5 x16 = 48 in its units).
  n.pcie_GBps = n.compute_capability >= 90 ? 48 : 24;
  if (n.intra == IntraNodeKind::PCIe) {
    n.nvlink_GBps = 0;
    n.pcie_GBps = std::min(n.pcie_GBps, intra_GBps * 0.75);  // NCCL counts Gen4 x16 (32 GB/s line) as 24
  } else {
    n.nvlink_GBps = intra_GBps * nvlink_figure_per_line_rate(n.compute_capability);
  }
  n.nics_per_node = c.inter_node.nics_per_node;
  n.nic_GBps = c.inter_node.nic_bandwidth_bytes_per_s / 1e9;
  n.nvlink_sharp = n.intra != IntraNodeKind::PCIe && n.compute_capability >= 90;
  return n;
}

CommShape comm_shape(const NcclNode& node, std::span<const RankLocation> members) {
  CommShape s;
  s.node = node;
  s.ranks = static_cast<int64_t>(members.size());
  std::map<int64_t, std::pair<int64_t, std::set<int64_t>>> per_node;  // node -> (ranks, rails)
  for (const RankLocation& m : members) {
    auto& [count, rails] = per_node[m.node];
    ++count;
    if (m.rail >= 0) rails.insert(m.rail);
  }
  s.nodes = static_cast<int64_t>(per_node.size());
  s.nics_per_node = per_node.empty() ? 0 : INT64_MAX;
  for (const auto& [node_id, v] : per_node) {
    s.ranks_per_node = std::max(s.ranks_per_node, v.first);
    s.nics_per_node = std::min<int64_t>(s.nics_per_node, static_cast<int64_t>(v.second.size()));
  }
  return s;
}

}  // namespace hcpsim
