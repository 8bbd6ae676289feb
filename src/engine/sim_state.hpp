// Internal to engine/execute*.cpp, gpu_actor.cpp, collective.cpp: the state
// the actors of one simulation share. Actors run one at a time (SimGrid
// contexts/nthreads = 1), so plain fields need no locking; nothing here is
// global: execute_programs owns one SimContext and hands actors a pointer.
#pragma once

#include <simgrid/forward.h>
#include <simgrid/s4u/Barrier.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/execute.hpp"
#include "engine/link_accounting.hpp"
#include "nccl/flow_plan.hpp"

namespace hcpsim::detail {

enum class OpStatus : uint8_t { Waiting, Running, Done };

// One op of one simulated rank in the current phase.
struct OpState {
  int32_t id = 0;
  int32_t deps_left = 0;              // explicit deps + previous op on the stream, not yet done
  std::vector<int32_t> successors;    // ops that count this one in deps_left
  OpStatus status = OpStatus::Waiting;
  double ready_s = -1, start_s = -1, end_s = -1;
  // Comm ops.
  simgrid::s4u::Mailbox* inbox = nullptr;       // where this op's incoming flows arrive
  simgrid::s4u::Mailbox* send_inbox = nullptr;  // SendRecv: the matching op's inbox on send_peer
  int32_t instance = -1;                         // collectives: index into PhaseState::instances
  int32_t member = -1;                           // collectives: this rank's position in the group
  double send_rate_cap_Bps = 0;                  // SendRecv: NCCL's p2p rate for the send (0: none)
  int64_t send_channels = 1;                     // SendRecv: NCCL's p2p channels for the send
  double comm_slowdown = 1;                      // collectives: decided when the op starts, kept for every stage
};

// A collective plan with, per stage and member, the flows it sends and how many it receives.
struct IndexedPlan {
  CollectivePlan plan;
  std::vector<std::vector<std::vector<int32_t>>> sends;  // [stage][member] -> flow indices
  std::vector<std::vector<int32_t>> receives;            // [stage][member] -> flows to it
};

// One collective call: the ops of all members with the same (group, tag).
struct CollectiveInstance {
  int32_t group = -1;
  int64_t tag = 0;
  std::vector<int32_t> members;                  // global ranks, group order
  std::vector<simgrid::s4u::Mailbox*> inboxes;   // per member: its op's inbox (nullptr: no such op)
  std::vector<int32_t> member_ops;               // per member: its op id, -1 when it has none
  std::vector<uint8_t> arrived;                  // per member
  int32_t arrivals = 0;
  simgrid::s4u::BarrierPtr barrier;              // created at the first arrival
  double start_s = -1;                           // when the last member arrived
  std::shared_ptr<const IndexedPlan> plan;       // what NCCL runs (flow_plan.hpp), shared by equal calls
  double extra_latency_s = -1;                   // NCCL's latency beyond the routes' (-1: not yet known)
};

// One simulated rank in the current phase.
struct RankState {
  int32_t rank = 0;
  const RankProgram* program = nullptr;
  const std::vector<double>* compute_s = nullptr;
  std::vector<OpState> ops;
  // Compute kernels running on this GPU now, by interference class (rules/interference.hpp):
  // what a comm op starting now is slowed by.
  std::array<int32_t, kInterferenceClasses> computing{0, 0, 0};
  // Compute kernels issued after a comm op that start at the same instant, by class (set by
  // the GPU actor while it starts the ops ready now).
  std::array<int32_t, kInterferenceClasses> starting_after{0, 0, 0};
  // The slowdown of a transfer of `channels` starting now: beside the kernels already running,
  // or sharing the GPU with those starting right after it (1 when there are none).
  double comm_slowdown_now(const InterferenceModel& m, int64_t channels) const {
    double s = 1;
    for (int c = 0; c < kInterferenceClasses; ++c) {
      if (computing[static_cast<size_t>(c)] > 0) s = std::max(s, comm_slowdown(m, c, channels));
      if (starting_after[static_cast<size_t>(c)] > 0) s = std::max(s, comm_shared_slowdown(m, c, channels));
    }
    return s;
  }
  // The slowdown of a transfer of `channels` whose CTAs were resident before the kernels running
  // now started (they share the GPU with it): comm_shared_slowdown of their classes, 1 for none.
  double comm_shared_slowdown_beside_running(const InterferenceModel& m, int64_t channels) const {
    double s = 1;
    for (int c = 0; c < kInterferenceClasses; ++c)
      if (computing[static_cast<size_t>(c)] > 0) s = std::max(s, comm_shared_slowdown(m, c, channels));
    return s;
  }
};

struct PhaseState {
  std::string name;
  std::span<const ProcessGroup> groups;
  std::vector<RankState> ranks;                  // simulated ranks, in program order
  std::vector<CollectiveInstance> instances;
};

struct SimContext {
  const ExecuteOptions* options = nullptr;
  CommPlanContext comm;                          // what plans collectives and sends
  const ClusterGraph* graph = nullptr;
  const Placement* placement = nullptr;
  std::vector<simgrid::s4u::Host*> host_of_rank;
  double host_speed_flops_per_s = 0;
  std::vector<PhaseState> phases;
  int32_t current_phase = -1;                    // the one running (deadlock reports)
  std::vector<double> phase_start_s, phase_end_s;
  std::vector<FlowRecord> flows;
  int64_t activities = 0;
};

}  // namespace hcpsim::detail
