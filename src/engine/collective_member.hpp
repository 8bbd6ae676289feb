// The helper actor of one rank in one collective call (AllGather, ReduceScatter, AllReduce,
// AllToAll), spawned by the GPU actor on its host; it runs the rank's part of the call's plan
// (nccl/flow_plan.hpp):
//
//   arrive; wait until every member has arrived (the common start)
//   for each stage of the plan: post this rank's flows of the stage (each at most at its rate
//     cap) and receive the flows sent to it; wait for all of them
//   wait out NCCL's latency beyond what the stages' routes took
//   start the bell (a 0-FLOP exec in the GPU actor's wait set): the op is done
#pragma once

#include <simgrid/s4u/Exec.hpp>

#include <cstdint>

#include "engine/sim_state.hpp"

namespace hcpsim::detail {

class CollectiveMember {
 public:
  CollectiveMember(SimContext* ctx, PhaseState* phase, RankState* rank, int32_t op, int32_t member,
                   simgrid::s4u::ExecPtr bell)
      : ctx_(ctx), phase_(phase), rank_(rank), op_(op), member_(member), bell_(std::move(bell)) {}
  void operator()();

 private:
  CollectiveInstance& instance() const;
  void arrive();
  void run_stage(const IndexedPlan& ix, size_t stage);
  simgrid::s4u::Mailbox* inbox_of(size_t member) const;
  double extra_latency_s() const;

  SimContext* ctx_;
  PhaseState* phase_;
  RankState* rank_;
  int32_t op_;
  int32_t member_;
  simgrid::s4u::ExecPtr bell_;
};

}  // namespace hcpsim::detail
