// Folding identical replicas (issue 3, "Scale"; pipeline stages, issue 16): simulate one
// replica of each kind in a phase when that cannot change its times. Pure: no SimGrid.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenario/rank_layout.hpp"
#include "engine/execute.hpp"
#include "engine/group_positions.hpp"
#include "topology/cluster_graph.hpp"
#include "topology/placement.hpp"

namespace hcpsim {

struct FoldDecision {
  bool folded = false;
  int64_t replicas = 1;                 // replicas the simulated programs stand for
  std::vector<int32_t> program_indices; // programs of the phase to simulate, in order
  // Per global rank (RankLayout::world_size() entries): the simulated rank whose records stand for
  // it (itself when simulated), -1 where the rank has no program in the phase.
  std::vector<int32_t> stand_in;
  std::string note;                     // why (not); empty when folding was not asked for
};

// A replica is a DP replica, or with PP > 1 one (dp, pp) pair, or one pipeline stage. Folds only
// when asked and, for the first of those kinds (with PP > 1: (dp, pp) pairs, DP replicas, stages;
// else DP replicas) where
//  - every comm op of every rank stays inside the rank's replica,
//  - the routes of all replicas' flows use pairwise disjoint link directions
//    (a shared link, e.g. an oversubscribed leaf uplink, means contention
//    between replicas that folding would lose),
//  - and some replicas are copies of others: a replica's programs equal, rank by rank, those of
//    an earlier replica (same ops, streams, dependencies, compute times, message sizes, and comm
//    groups and peers that are the earlier replica's translated), and its flows take routes of the
//    same links (bandwidth, latency, class, and shared where the earlier replica's share: a replica
//    whose ring crosses an oversubscribed spine is no copy of one inside a leaf). The first replica of each kind
//    is simulated and stands for its copies (DP replicas are all alike; of 16 stages with the
//    embedding on the first and the head on the last, three kinds: first, middle, last).
FoldDecision decide_folding(const ExecutePhase& phase, const RankLayout& layout, const ClusterGraph& graph,
                            const Placement& placement, bool asked);

// Every (source rank, destination rank) pair `op` of `rank` sends on, under the
// executor's algorithms: ring successor, all-to-all peers, send_peer.
std::vector<int32_t> flow_destinations(const Op& op, int32_t rank, std::span<const ProcessGroup> groups,
                                       const GroupPositions& positions);

}  // namespace hcpsim
