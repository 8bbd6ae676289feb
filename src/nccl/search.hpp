// What NCCL's topology search (src/graph/search.cc, connect.cc, paths.cc) gives a communicator:
// channels and per-channel bandwidth of its ring, tree and NVLS graphs, the runtime channel
// (CTA) counts, and the point-to-point channel budget. NCCL searches a detected topology;
// hcpsim applies the same rules to the node's figures (comm_shape.hpp), in closed form:
//
//  ring/tree, one node:  the speed s from NCCL's per-architecture ladder and the channel count
//                        c <= 32 that maximise c x s with c x s <= the GPU's NVLink (or PCIe)
//                        bandwidth; highest speed first on a tie.
//  ring/tree, nodes > 1: one channel per NIC the node's ranks reach (a 48 GB/s channel fills a
//                        50 GB/s NIC), at the highest inter-node ladder speed <= min(NIC, the
//                        GPU's PCIe path); rails used = channels.
//  duplication:          c doubles and s halves unless s < 25, or sm > 80 and s < 50 and c > 4
//                        (ncclTopoDupChannels); runtime channels = min(64, 2c) (connect.cc),
//                        doubled once more on Hopper+ multi-node when s > 45 and 2c < 16; then
//                        NCCL_MIN_CTAS / NCCL_MAX_CTAS clamp them.
//  NVLS:                 NVLink SHARP nodes (Hopper+ NVSwitch): one head per local rank, per-head
//                        bandwidth the ladder speed <= NVLink / (heads + 1), inter speed up to
//                        2x that (one node) or the NIC speed; 16 CTAs on Hopper, 24 on Blackwell.
//
// These rules reproduce the channel counts NCCL logs on DGX H100 (24 ring channels on one
// node, 16 across nodes), H800 (16) and DGX A100 (24); docs/nccl.md cites the logs.
#pragma once

#include <cstdint>
#include <span>

#include "nccl/comm_shape.hpp"
#include "scenario/scenario.hpp"

namespace hcpsim {

struct NcclGraph {
  int64_t channels = 0;      // search channels (0: the graph does not exist here)
  double bw_intra_GBps = 0;  // per channel, NCCL units
  double bw_inter_GBps = 0;  // per channel
};

struct NcclTopology {
  NcclGraph ring, tree, nvls;   // nvls.channels = NVLS heads
  int64_t coll_channels = 0;    // runtime ring/tree channels (CTAs): comm->nChannels
  int64_t nvls_ctas = 0;        // CTAs an NVLS collective runs
  int64_t p2p_channels = 0;     // comm->p2pnChannels
  int64_t p2p_channels_per_peer = 0;
  int64_t rails = 0;            // NICs the ring's channels leave a node through (0 on one node)
  int64_t nvls_rails = 0;       // NICs an NVLS-tree leaves a node through: one per NVLS head (0 on one node)
  double p2p_nvlink_channel_GBps = 0;  // what one p2p channel moves over NVLink (or PCIe)
  double p2p_net_channel_GBps = 0;     // ... over the network
};

NcclTopology nccl_topology(const CommShape& shape, const NcclSettings& settings);

// NCCL's search speed ladders (GB/s per channel), search.cc: intra-node and inter-node, by architecture.
std::span<const double> nccl_intra_speeds(NcclArch arch);
std::span<const double> nccl_inter_speeds(NcclArch arch);

}  // namespace hcpsim
