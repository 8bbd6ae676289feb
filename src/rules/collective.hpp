// NCCL's collectives as hcpsim counts them: the one definition of their byte and step
// arithmetic, shared by the workload (bytes on the wire), the SimGrid engine (the transfers a
// ring or an all-to-all becomes), the fit and the check (nccl-tests' bus bandwidth) and
// hcpcal (buffer sizes of the nccl suite). Plain C++17: nvcc compiles it for hcpcal.
//
// Two size conventions meet here (docs/collectives.md derives every formula):
//  - message bytes, what a workload op carries (Op::message_bytes): SendRecv the bytes sent to
//    the peer; AllGather this rank's shard; ReduceScatter this rank's output shard; AllReduce
//    the whole buffer; AllToAll this rank's whole send buffer (1/n of it to each rank).
//  - nccl-tests bytes, the "size" column of nccl-tests and of hcpcal's nccl suite: the largest
//    buffer a rank holds: AllGather's output and ReduceScatter's input (n shards), the buffer
//    of the others.
// Bus bytes = nccl-tests bytes x bus_bandwidth_factor = the bytes each rank sends under NCCL's
// ring (AllGather, ReduceScatter, AllReduce) or direct all-to-all (nccl-tests
// doc/PERFORMANCE.md): one bus bandwidth then describes a link for every group size.
#pragma once

#include <cstdint>
#include <string_view>

namespace hcpsim {

enum class CommPattern : uint8_t { SendRecv, AllGather, ReduceScatter, AllReduce, AllToAll };

inline const char* to_string(CommPattern p) {
  switch (p) {
    case CommPattern::SendRecv: return "sendrecv";
    case CommPattern::AllGather: return "all_gather";
    case CommPattern::ReduceScatter: return "reduce_scatter";
    case CommPattern::AllReduce: return "all_reduce";
    case CommPattern::AllToAll: return "all_to_all";
  }
  return "?";
}

inline constexpr CommPattern kCommPatterns[] = {CommPattern::SendRecv, CommPattern::AllToAll, CommPattern::AllGather,
                                                CommPattern::ReduceScatter, CommPattern::AllReduce};

// The pattern named `name` ("all_reduce", ...); false when none is.
inline bool comm_pattern_named(std::string_view name, CommPattern& out) {
  for (CommPattern p : kCommPatterns)
    if (name == to_string(p)) {
      out = p;
      return true;
    }
  return false;
}

// Where a collective's ranks sit (hcpcal's nccl suite measures each; the fit keeps one line each).
enum class CollectiveLayout : uint8_t { IntraNode, CrossNodeSameRail, CrossNodeCrossRail };

inline const char* to_string(CollectiveLayout l) {
  switch (l) {
    case CollectiveLayout::IntraNode: return "intra-node";
    case CollectiveLayout::CrossNodeSameRail: return "cross-node-same-rail";
    case CollectiveLayout::CrossNodeCrossRail: return "cross-node-cross-rail";
  }
  return "?";
}

inline constexpr CollectiveLayout kCollectiveLayouts[] = {
    CollectiveLayout::IntraNode, CollectiveLayout::CrossNodeSameRail, CollectiveLayout::CrossNodeCrossRail};

namespace collective {

// nccl-tests' bus bandwidth factor for a group of n ranks: sendrecv 1; all-gather,
// reduce-scatter and all-to-all (n-1)/n; all-reduce 2(n-1)/n.
inline double bus_bandwidth_factor(CommPattern p, int64_t n) {
  const double r = double(n);
  switch (p) {
    case CommPattern::SendRecv: return 1;
    case CommPattern::AllGather:
    case CommPattern::ReduceScatter:
    case CommPattern::AllToAll: return n > 0 ? (r - 1) / r : 0;
    case CommPattern::AllReduce: return n > 0 ? 2 * (r - 1) / r : 0;
  }
  return 0;
}

// nccl-tests bytes of an op carrying `message_bytes` in a group of n.
inline double nccl_tests_bytes(CommPattern p, double message_bytes, int64_t n) {
  const bool sharded = p == CommPattern::AllGather || p == CommPattern::ReduceScatter;
  return sharded ? double(n) * message_bytes : message_bytes;
}

// Bytes one rank sends: nccl-tests bytes x bus bandwidth factor.
inline double bytes_sent_per_rank(CommPattern p, double message_bytes, int64_t n) {
  return nccl_tests_bytes(p, message_bytes, n) * bus_bandwidth_factor(p, n);
}

// NCCL's ring: AllGather and ReduceScatter pass n-1 shards around the ring, AllReduce is a
// ReduceScatter then an AllGather of buffer/n shards: 2(n-1) steps. A direct all-to-all is
// one round (to every peer at once), a sendrecv one transfer.
inline int64_t transfer_steps(CommPattern p, int64_t n) {
  if (n < 2) return 0;
  switch (p) {
    case CommPattern::AllGather:
    case CommPattern::ReduceScatter: return n - 1;
    case CommPattern::AllReduce: return 2 * (n - 1);
    case CommPattern::AllToAll:
    case CommPattern::SendRecv: return 1;
  }
  return 0;
}

// Bytes of one transfer of one step to one peer: a ring step moves one shard (AllReduce:
// buffer/n), an all-to-all sends buffer/n to each of its n-1 peers.
inline double step_bytes(CommPattern p, double message_bytes, int64_t n) {
  switch (p) {
    case CommPattern::AllGather:
    case CommPattern::ReduceScatter:
    case CommPattern::SendRecv: return message_bytes;
    case CommPattern::AllReduce:
    case CommPattern::AllToAll: return n > 0 ? message_bytes / double(n) : 0;
  }
  return 0;
}

// What hcpcal's buffers hold for a collective of nccl-tests size `bytes` over n ranks: each
// rank sends the whole buffer except in an all-gather (one shard) and receives it except in a
// reduce-scatter (one shard).
inline long long send_buffer_bytes(CommPattern p, long long bytes, int64_t n) {
  return p == CommPattern::AllGather ? bytes / n : bytes;
}
inline long long recv_buffer_bytes(CommPattern p, long long bytes, int64_t n) {
  return p == CommPattern::ReduceScatter ? bytes / n : bytes;
}

}  // namespace collective
}  // namespace hcpsim
