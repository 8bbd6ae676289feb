// Folding identical data-parallel replicas (issue 3, "Scale"): simulate only
// DP replica 0 of a phase when that cannot change its times. Pure: no SimGrid.
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
  std::string note;                     // why (not); empty when folding was not asked for
};

// Folds only when asked and (over DP replicas, or with PP > 1 first over DP replicas and pipeline
// stages together, a replica being one (dp, pp) pair)
//  - every comm op of every rank stays inside the rank's DP replica,
//  - each rank's compute times equal those of its replica-0 counterpart,
//  - the routes of all replicas' flows use pairwise disjoint link directions
//    (a shared link, e.g. an oversubscribed leaf uplink, means contention
//    between replicas that folding would lose).
FoldDecision decide_folding(const ExecutePhase& phase, const RankLayout& layout, const ClusterGraph& graph,
                            const Placement& placement, bool asked);

// Every (source rank, destination rank) pair `op` of `rank` sends on, under the
// executor's algorithms: ring successor, all-to-all peers, send_peer.
std::vector<int32_t> flow_destinations(const Op& op, int32_t rank, std::span<const ProcessGroup> groups,
                                       const GroupPositions& positions);

}  // namespace hcpsim
