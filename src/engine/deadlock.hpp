// Internal: what a stuck simulation waits for, in words (the deadlock error).
#pragma once

#include <string>

#include "engine/sim_state.hpp"

namespace hcpsim::detail {

// The first op (rank order, then op id) of `phase` that is not done; nullptr when all are.
const OpState* first_unfinished(const PhaseState& phase);

// "deadlock in phase 'layer' at t = ... s: rank 3 op 12 'attn.fwd.a2a_q' (all_to_all on
// group cp_a2a, tag 1) waits for ranks 5, 6 to arrive (6 of 8 arrived)". Names the
// first running op that cannot finish, or the first waiting op and its unfinished deps.
std::string describe_deadlock(const SimContext& ctx, double now_s);

}  // namespace hcpsim::detail
