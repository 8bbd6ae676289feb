// CollectiveMember: a collective's plan as point-to-point flows.
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

namespace {

uint64_t wire_bytes(double bytes) { return static_cast<uint64_t>(std::llround(bytes)); }

}  // namespace

CollectiveInstance& CollectiveMember::instance() const {
  return phase_->instances[static_cast<size_t>(rank_->ops[static_cast<size_t>(op_)].instance)];
}

void CollectiveMember::operator()() {
  arrive();
  if (const IndexedPlan* ix = instance().plan.get()) {
    for (size_t s = 0; s < ix->plan.stages.size(); ++s) run_stage(*ix, s);
    const double wait_s = extra_latency_s();
    if (wait_s > 0) sg4::this_actor::sleep_for(wait_s);
  }
  bell_->start();
}

// Rendezvous: transfers begin once the last member has arrived.
void CollectiveMember::arrive() {
  CollectiveInstance& c = instance();
  c.arrived[static_cast<size_t>(member_)] = 1;
  ++c.arrivals;
  if (!c.barrier) c.barrier = sg4::Barrier::create(static_cast<unsigned>(c.members.size()));
  c.barrier->wait();
  c.start_s = sg4::Engine::get_clock();
  rank_->ops[static_cast<size_t>(op_)].start_s = c.start_s;
}

sg4::Mailbox* CollectiveMember::inbox_of(size_t member) const { return instance().inboxes[member]; }

void CollectiveMember::run_stage(const IndexedPlan& ix, size_t stage) {
  const CollectiveInstance& c = instance();
  const auto me = static_cast<size_t>(member_);
  OpState* self = &rank_->ops[static_cast<size_t>(op_)];
  std::vector<sg4::CommPtr> sends, receives;
  const std::vector<int32_t>& mine = ix.sends[stage][me];
  // NCCL's CTAs beside the kernels running when it was launched move slower, at every stage
  // (GpuActor::start_collective; rules/interference.hpp); a kernel started since then shares the
  // GPU with CTAs resident first: at least the shared slowdown. Userbuffers' comm kernels run on
  // SMs of their own (rules/tp_comm_overlap.hpp): neither.
  const bool userbuffers = rank_->program->ops[static_cast<size_t>(op_)].userbuffers;
  const double slowdown =
      userbuffers ? 1.0
                  : std::max(self->comm_slowdown,
                             rank_->comm_shared_slowdown_beside_running(ctx_->options->interference,
                                                                        std::max<int64_t>(1, ix.plan.choice.channels)));
  for (int32_t f : mine) {
    const PlannedFlow& flow = ix.plan.stages[stage].flows[static_cast<size_t>(f)];
    sg4::CommPtr put = inbox_of(static_cast<size_t>(flow.to))->put_init(self, wire_bytes(flow.bytes));
    if (flow.rate_cap_Bps > 0) put->set_rate(flow.rate_cap_Bps / slowdown);
    put->start();
    sends.push_back(put);
  }
  const int32_t incoming = ix.receives[stage][me];
  std::vector<void*> got(static_cast<size_t>(incoming), nullptr);
  for (int32_t k = 0; k < incoming; ++k) receives.push_back(inbox_of(me)->get_async(&got[static_cast<size_t>(k)]));
  ctx_->activities += static_cast<int64_t>(sends.size());
  sg4::Comm::wait_all(receives);
  sg4::Comm::wait_all(sends);
  for (size_t k = 0; k < mine.size(); ++k) {
    const PlannedFlow& flow = ix.plan.stages[stage].flows[static_cast<size_t>(mine[k])];
    ctx_->flows.push_back({rank_->rank, c.members[static_cast<size_t>(flow.to)], flow.bytes, sends[k]->get_start_time(),
                           sends[k]->get_finish_time(), ctx_->current_phase});
  }
}

// NCCL's latency for the call, less what its stages already took on their routes (the longest
// route of each stage), worked out once per call.
double CollectiveMember::extra_latency_s() const {
  CollectiveInstance& c = instance();
  if (c.extra_latency_s < 0) {
    const CollectivePlan& plan = c.plan->plan;
    double routes_s = 0, longest_stage_s = 0;
    RoutePath path;
    for (const PlanStage& stage : plan.stages) {
      double longest = 0;
      for (const PlannedFlow& f : stage.flows) {
        route_into(*ctx_->graph, ctx_->placement->gpu_of_rank.at(c.members[static_cast<size_t>(f.from)]),
                   ctx_->placement->gpu_of_rank.at(c.members[static_cast<size_t>(f.to)]), path);
        longest = std::max(longest, route_latency_s(*ctx_->graph, path.view()));
      }
      routes_s += longest;
      longest_stage_s = std::max(longest_stage_s, longest);
    }
    const auto folded = std::max<int64_t>(0, plan.route_latency_steps - static_cast<int64_t>(plan.stages.size()));
    c.extra_latency_s = std::max(0.0, plan.choice.latency_s - routes_s) + static_cast<double>(folded) * longest_stage_s;
  }
  return c.extra_latency_s;
}

}  // namespace hcpsim::detail
