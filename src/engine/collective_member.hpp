// The helper actor of one rank in one collective call (AllGather,
// ReduceScatter, AllReduce, AllToAll), spawned by the GPU actor on its host:
//
//   arrive; wait until every member has arrived (the common start)
//   ring:       for each (macro-)step: send to the successor, receive from the
//               predecessor, wait for both; then wait out the latency of the
//               steps folded into macro-steps (largest neighbour latency each)
//   all-to-all: send 1/N to every peer and receive from every peer at once
//   start the bell (a 0-FLOP exec in the GPU actor's wait set): the op is done
#pragma once

#include <simgrid/s4u/Exec.hpp>

#include <cstdint>
#include <vector>

#include "engine/sim_state.hpp"

namespace hcpsim::detail {

// Ring steps per macro-step when `steps` ring steps run as at most
// `max_macro_steps` (>= 1) transfers: as even as possible, larger ones first.
std::vector<int64_t> ring_macro_steps(int64_t steps, int64_t max_macro_steps);

class CollectiveMember {
 public:
  CollectiveMember(SimContext* ctx, PhaseState* phase, RankState* rank, int32_t op, int32_t member,
                   simgrid::s4u::ExecPtr bell)
      : ctx_(ctx), phase_(phase), rank_(rank), op_(op), member_(member), bell_(std::move(bell)) {}
  void operator()();

 private:
  void arrive();
  void ring(int64_t steps, double step_bytes);
  void all_to_all(double bytes_per_peer);
  simgrid::s4u::Mailbox* inbox_of(size_t member) const;
  double ring_latency_s() const;

  SimContext* ctx_;
  PhaseState* phase_;
  RankState* rank_;
  int32_t op_;
  int32_t member_;
  simgrid::s4u::ExecPtr bell_;
};

}  // namespace hcpsim::detail
