// A communicator as NCCL's topology detection sees it: the node's links in NCCL's own bandwidth
// figures, and how the communicator's ranks sit on nodes and NICs. Everything NCCL's search,
// tuner and channel rules read (search.hpp, tuner.hpp, p2p.hpp) comes from here, so the model
// never looks at SimGrid or at the cluster graph itself. docs/nccl.md gives the sources.
#pragma once

#include <cstdint>
#include <span>

#include "scenario/scenario.hpp"
#include "topology/placement.hpp"

namespace hcpsim {

// NCCL's compCapIndex: the row of its per-architecture tables (tuning.cc).
enum class NcclArch : uint8_t { Volta, Ampere, Hopper, Blackwell };
NcclArch nccl_arch(int64_t compute_capability);  // < 80 Volta, 80-89 Ampere, 90-99 Hopper, >= 100 Blackwell
const char* to_string(NcclArch a);

// One node in NCCL's units (GB/s = 1e9 B/s, per direction), from the cluster's line rates.
struct NcclNode {
  int64_t compute_capability = 90;
  IntraNodeKind intra = IntraNodeKind::NVSwitch;
  // NVLink bandwidth of one GPU as NCCL counts it: links x its per-link figure (topo.h:
  // SM80 20, SM90 20.6, SM100 40.1 GB/s per link of 25, 25 and 50 GB/s line rate); 0 without NVLink.
  double nvlink_GBps = 0;
  double pcie_GBps = 0;   // GPU <-> PCIe switch / NIC path: Gen4 x16 24, Gen5 x16 48 (NCCL's figures)
  double nic_GBps = 0;    // one NIC's port speed (400 Gb/s = 50); 0 without NICs
  int64_t nics_per_node = 0;
  bool nvlink_sharp = false;  // NVSwitch (or NVLink domain) multicast: NVLS on Hopper and later
};
NcclNode nccl_node(const ClusterSpec& line_rates);

// A communicator: its ranks' nodes and NICs on top of the node.
struct CommShape {
  NcclNode node;
  int64_t ranks = 0;
  int64_t nodes = 0;           // distinct nodes
  int64_t ranks_per_node = 0;  // the most ranks on one node (NCCL's ppn; localRanks)
  int64_t nics_per_node = 0;   // distinct NICs of its ranks on a node, the fewest over its nodes
  bool single_node() const { return nodes <= 1; }
};
// `members`: where each rank of the communicator runs (placement.hpp: locate).
CommShape comm_shape(const NcclNode& node, std::span<const RankLocation> members);

}  // namespace hcpsim
