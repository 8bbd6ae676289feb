// CollectiveMember: NCCL's ring and direct all-to-all as point-to-point flows.
#include "engine/collective_member.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Mailbox.hpp>

#include <algorithm>
#include <cmath>

#include "topology/routes.hpp"

namespace hcpsim::detail {

namespace sg4 = simgrid::s4u;

std::vector<int64_t> ring_macro_steps(int64_t steps, int64_t max_macro_steps) {
  if (steps <= 0) return {};
  const int64_t k = std::min(steps, std::max<int64_t>(1, max_macro_steps));
  std::vector<int64_t> plan(static_cast<size_t>(k), steps / k);
  for (int64_t i = 0; i < steps % k; ++i) ++plan[static_cast<size_t>(i)];
  return plan;
}

namespace {

uint64_t wire_bytes(double bytes) { return static_cast<uint64_t>(std::llround(bytes)); }

}  // namespace

void CollectiveMember::operator()() {
  const Op& op = rank_->program->ops[static_cast<size_t>(op_)];
  const auto n = static_cast<int64_t>(phase_->instances[static_cast<size_t>(rank_->ops[op_].instance)].members.size());
  arrive();
  // NCCL's ring or direct all-to-all, in the steps and step bytes of rules/collective.hpp.
  const double bytes = collective::step_bytes(op.pattern, op.message_bytes, n);
  if (n > 1) {
    switch (op.pattern) {
      case CommPattern::AllGather:
      case CommPattern::ReduceScatter:
      case CommPattern::AllReduce: ring(collective::transfer_steps(op.pattern, n), bytes); break;
      case CommPattern::AllToAll: all_to_all(bytes); break;
      case CommPattern::SendRecv: break;  // run by the GPU actor itself
    }
  }
  bell_->start();
}

// Rendezvous: transfers begin once the last member has arrived.
void CollectiveMember::arrive() {
  CollectiveInstance& c = phase_->instances[static_cast<size_t>(rank_->ops[op_].instance)];
  c.arrived[static_cast<size_t>(member_)] = 1;
  ++c.arrivals;
  if (!c.barrier) c.barrier = sg4::Barrier::create(static_cast<unsigned>(c.members.size()));
  c.barrier->wait();
  c.start_s = sg4::Engine::get_clock();
  rank_->ops[static_cast<size_t>(op_)].start_s = c.start_s;
}

sg4::Mailbox* CollectiveMember::inbox_of(size_t member) const {
  return phase_->instances[static_cast<size_t>(rank_->ops[op_].instance)].inboxes[member];
}

// The ring advances at the pace of its slowest neighbour pair, so a folded
// step costs the largest neighbour latency; worked out once per call.
double CollectiveMember::ring_latency_s() const {
  CollectiveInstance& c = phase_->instances[static_cast<size_t>(rank_->ops[op_].instance)];
  if (c.ring_latency_s < 0) {
    RoutePath path;
    c.ring_latency_s = 0;
    for (size_t i = 0; i < c.members.size(); ++i) {
      route_into(*ctx_->graph, ctx_->placement->gpu_of_rank.at(c.members[i]),
                 ctx_->placement->gpu_of_rank.at(c.members[(i + 1) % c.members.size()]), path);
      c.ring_latency_s = std::max(c.ring_latency_s, route_latency_s(*ctx_->graph, path.view()));
    }
  }
  return c.ring_latency_s;
}

void CollectiveMember::ring(int64_t steps, double step_bytes) {
  const CollectiveInstance& c = phase_->instances[static_cast<size_t>(rank_->ops[op_].instance)];
  const size_t n = c.members.size();
  const size_t succ = (static_cast<size_t>(member_) + 1) % n;
  OpState* self = &rank_->ops[static_cast<size_t>(op_)];
  const std::vector<int64_t> plan = ring_macro_steps(steps, ctx_->options->ring_max_macro_steps);
  for (int64_t folded : plan) {
    const double bytes = static_cast<double>(folded) * step_bytes;
    void* got = nullptr;
    sg4::CommPtr out = inbox_of(succ)->put_async(self, wire_bytes(bytes));
    sg4::CommPtr in = inbox_of(static_cast<size_t>(member_))->get_async(&got);
    ++ctx_->activities;
    in->wait();
    out->wait();
    ctx_->flows.push_back({rank_->rank, c.members[succ], bytes, out->get_start_time(), out->get_finish_time()});
  }
  // The latency of the steps folded into macro-steps, once at the end (one timer instead of one per macro-step).
  const auto skipped = steps - static_cast<int64_t>(plan.size());
  if (skipped > 0) sg4::this_actor::sleep_for(static_cast<double>(skipped) * ring_latency_s());
}

void CollectiveMember::all_to_all(double bytes_per_peer) {
  const CollectiveInstance& c = phase_->instances[static_cast<size_t>(rank_->ops[op_].instance)];
  const size_t n = c.members.size();
  OpState* self = &rank_->ops[static_cast<size_t>(op_)];
  std::vector<sg4::CommPtr> sends, receives;
  std::vector<void*> got(n - 1, nullptr);
  for (size_t k = 1; k < n; ++k) {  // peers in NCCL's order: me+1, me+2, ...
    sends.push_back(inbox_of((static_cast<size_t>(member_) + k) % n)->put_async(self, wire_bytes(bytes_per_peer)));
    receives.push_back(inbox_of(static_cast<size_t>(member_))->get_async(&got[k - 1]));
  }
  ctx_->activities += static_cast<int64_t>(n - 1);
  sg4::Comm::wait_all(receives);
  sg4::Comm::wait_all(sends);
  for (size_t k = 1; k < n; ++k)
    ctx_->flows.push_back({rank_->rank, c.members[(static_cast<size_t>(member_) + k) % n], bytes_per_peer,
                           sends[k - 1]->get_start_time(), sends[k - 1]->get_finish_time()});
}

}  // namespace hcpsim::detail
