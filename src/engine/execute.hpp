// The executor: runs every rank's operation graph on the SimGrid platform,
// one actor per GPU, and returns the Timeline. No SimGrid type in this header.
//
// Semantics (workload/workload.hpp's header comment, made concrete):
//  - An op is *ready* when its explicit deps and the previous op on its stream
//    are done. Compute ops start when ready: an exec of compute_s x host speed
//    FLOPs on the GPU host, so kernels on two streams of one GPU share it
//    (two at once run at half speed each).
//  - Interference (rules/interference.hpp): a compute op that starts while a
//    comm op of the same rank is in flight (issued and not finished) takes
//    compute_slowdown(its class) x its duration; a comm op that starts while a
//    compute op of its rank runs moves at its rate caps / comm_slowdown(the
//    running classes' largest, its channels) (NCCL's CTAs share the SMs the
//    kernel holds). Decided once, when each starts: ops that become ready at the
//    same instant start in issue order, a kernel seeing the comm ops starting
//    with it, a comm op only the kernels issued before it; what starts or ends
//    later does not change it. Flows without a rate cap (links-only plans) are
//    not slowed.
//  - SendRecv: one flow to send_peer (message_bytes) and one from recv_peer,
//    paired by tag (and the peers' ranks); each flow starts when both of its
//    ends have posted (NCCL p2p); the op ends when both flows are done.
//  - Collectives (AllGather, ReduceScatter, AllReduce, AllToAll) on
//    `groups[op.group]`, paired by (group, tag): transfers start only when all
//    members have arrived (ready_s = this rank's arrival, start_s = the common
//    start). Ring AG/RS: N-1 steps of message_bytes to the ring successor
//    (group order); ring AR: 2(N-1) steps of message_bytes/N; a step starts
//    when the rank's previous send and receive are done. AllToAll: direct,
//    message_bytes/N to each of the N-1 peers at once. Rings longer than
//    ring_max_macro_steps = K run as K macro-steps carrying the combined
//    bytes, followed by a wait of (steps - K) x the largest route latency
//    between ring neighbours (the pace of a synchronised ring), so that the latency and bandwidth terms are kept (exact for a
//    comm-bound ring; the intermediate step boundaries are what is lost, so
//    cost stays linear in ranks: K flows per rank per collective).
//  - Phases run one after another with a barrier between them.
//  - Timeline: an OpRecord per op of every simulated rank; link bytes and busy
//    time of the simulated ranks' flows; per phase, whether replicas were
//    folded and why (not). Folded phases carry only the simulated replicas'
//    records (PhaseRecord::stand_in names each rank's): the others are
//    identical copies on disjoint links (engine/replica_folding.hpp).
//
// One simulation per process (SimGrid): execute_programs builds the engine
// and the platform itself, and throws std::logic_error on a second call in the
// same process. Sweeps fork.
#pragma once

#include <functional>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "scenario/rank_layout.hpp"
#include "workload/workload.hpp"
#include "engine/platform.hpp"
#include "engine/timeline.hpp"
#include "rules/interference.hpp"
#include "nccl/comm_shape.hpp"
#include "topology/cluster_graph.hpp"
#include "topology/placement.hpp"

namespace hcpsim {

// One phase: every rank's program and the group table its comm ops index.
// Views: the caller keeps the data alive during execute_programs.
struct ExecutePhase {
  std::string name;                           // "layer", "step", ...
  std::span<const RankProgram> programs;      // programs[i].rank is the global rank
  std::span<const ProcessGroup> groups;       // Op::group indexes this
  std::span<const std::vector<double>> compute_s;  // [i][op]: seconds of compute op `op` of programs[i]
};

struct ExecuteOptions {
  InterferenceModel interference;    // see the header comment (all 1: none)
  int ring_max_macro_steps = 16;     // K: rings of more steps are aggregated (>= 1)
  // Simulate one replica of each kind (DP replicas, pipeline stages) of a phase
  // when it is exact (engine/replica_folding.hpp: no comm op crosses replicas,
  // replicas' flows use pairwise disjoint links, copies have identical
  // programs); needs `layout`. Timeline::phases says what happened and why.
  bool fold_dp_replicas = false;
};

struct ExecuteInput {
  ClusterGraph graph;
  Placement placement;
  RankLayout layout;  // DP replicas for folding (rank order tp-cp-dp-pp)
  PlatformOptions platform;
  EngineOptions engine;
  // The node at line rates, as NCCL sees it (nccl/comm_shape.hpp); without it collectives and
  // sends run on the links alone (rings in group order on one rail, no NCCL caps or latency).
  std::optional<NcclNode> nccl_node;
  NcclSettings nccl;       // software.nccl
  // A calibration's measured collectives (nccl/flow_plan.hpp CommPlanContext::calibrated); unset: NCCL's model.
  std::function<std::optional<std::pair<double, double>>(CommPattern, CollectiveLayout, double)> calibrated_collectives;
  std::vector<ExecutePhase> phases;
  ExecuteOptions options;
};

// Throws std::invalid_argument for malformed input (a comm op naming a group
// it is not in, a SendRecv without its matching op on the peer, a duration
// missing or negative), std::runtime_error when the run deadlocks (naming the
// rank, op id, label and what it waits for), std::logic_error on a second
// simulation in one process.
Timeline execute_programs(const ExecuteInput& input);

}  // namespace hcpsim
