// Internal: turns one ExecutePhase into the actors' PhaseState (dependency
// counts, SendRecv pairing, collective instances, inboxes), checking the input.
// Runs in maestro, before Engine::run(), which is where mailboxes are created.
#pragma once

#include <simgrid/s4u/Mailbox.hpp>

#include <string>
#include <vector>

#include "engine/sim_state.hpp"

namespace hcpsim::detail {

// Mailboxes reused by every phase: per rank, one inbox per comm op slot (the
// k-th comm op of the rank's program).
class MailboxTable {
 public:
  simgrid::s4u::Mailbox* inbox(int32_t rank, size_t slot);

 private:
  std::vector<std::vector<simgrid::s4u::Mailbox*>> inboxes_;
};

// Throws std::invalid_argument naming the phase, rank and op for bad input.
// Plans every collective and send with `comm` (nccl/flow_plan.hpp); throws InputError when the
// NCCL settings leave a collective no algorithm.
PhaseState prepare_phase(const ExecutePhase& phase, const std::vector<int32_t>& program_indices,
                         MailboxTable& mailboxes, const CommPlanContext& comm);

}  // namespace hcpsim::detail
