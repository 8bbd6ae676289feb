// The actor of one GPU in one phase: runs its rank's operation graph.
//
//   start every ready op (compute: exec on this GPU; SendRecv: post both
//   flows; collective: spawn a CollectiveMember helper on this GPU)
//   wait for any running activity; on completion, release its successors
//   repeat until every op is done
//
// The GPU actor never blocks on one op: while a collective's helper runs its
// protocol, the actor keeps serving other streams. The helper reports by
// starting a "bell": an exec of 0 FLOPs that the GPU actor created and keeps in
// its wait set (it finishes at once when started; a message on a mailbox
// would need a network route from the host to itself, which has none).
#pragma once

#include <simgrid/s4u/Activity.hpp>

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/sim_state.hpp"

namespace hcpsim::detail {

class GpuActor {
 public:
  GpuActor(SimContext* ctx, PhaseState* phase, RankState* rank) : ctx_(ctx), phase_(phase), rank_(rank) {}
  void operator()();

 private:
  enum class Waiting : uint8_t { Exec, Send, Recv, Bell };
  struct Pending {
    simgrid::s4u::ActivityPtr activity;
    Waiting what = Waiting::Exec;
    int32_t op = -1;
  };

  void start_ready_ops();
  void start(int32_t op);
  void start_compute(const Op& op, OpState& s);
  void start_sendrecv(const Op& op, OpState& s);
  void start_collective(const Op& op, OpState& s);
  void on_complete(const Pending& p);
  void finish(int32_t op);

  SimContext* ctx_;
  PhaseState* phase_;
  RankState* rank_;
  std::deque<int32_t> ready_;
  std::vector<Pending> pending_;
  std::vector<simgrid::s4u::ActivityPtr> wait_set_;  // pending_[i].activity, for wait_any
  std::vector<int32_t> parts_left_;                   // per op: SendRecv flows not done
  std::vector<void*> received_;                       // per op: SendRecv receive buffer (unused payload)
  int32_t comms_in_flight_ = 0;
  bool comm_starting_ = false;  // a comm op is among the ops starting at this instant
  size_t done_ = 0;
};

}  // namespace hcpsim::detail
