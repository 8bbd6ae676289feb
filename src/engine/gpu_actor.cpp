// GpuActor: the event loop of one GPU (gpu_actor.hpp).
#include "engine/gpu_actor.hpp"

#include <simgrid/s4u/Actor.hpp>
#include <simgrid/s4u/Comm.hpp>
#include <simgrid/s4u/Engine.hpp>
#include <simgrid/s4u/Exec.hpp>
#include <simgrid/s4u/Mailbox.hpp>

#include <algorithm>
#include <cassert>
#include <cmath>

#include "engine/collective_member.hpp"

namespace hcpsim::detail {

namespace sg4 = simgrid::s4u;

void GpuActor::operator()() {
  const size_t n = rank_->ops.size();
  parts_left_.assign(n, 0);
  received_.assign(n, nullptr);
  for (const OpState& s : rank_->ops)
    if (s.deps_left == 0) ready_.push_back(s.id);
  while (true) {
    start_ready_ops();
    if (done_ == n || wait_set_.empty()) return;  // all done, or stuck (execute.cpp reports the deadlock)
    const ssize_t i = sg4::Activity::wait_any(wait_set_);
    assert(i >= 0);
    const Pending p = pending_[static_cast<size_t>(i)];
    pending_.erase(pending_.begin() + i);
    wait_set_.erase(wait_set_.begin() + i);
    on_complete(p);
  }
}

void GpuActor::start_ready_ops() {
  // Ops ready at the same instant start in the order they were issued. A kernel starting now
  // sees the comm ops in flight and those about to start (comm_starting_): both run beside it.
  // A comm op sees the kernels already running (rank_->computing: it waits for and shares the
  // SMs they hold) and the kernels issued right after it (rank_->starting_after: its CTAs are
  // resident first) (rules/interference.hpp; docs/nccl.md §5).
  while (!ready_.empty()) {
    comm_starting_ = false;
    rank_->starting_after = {0, 0, 0};
    for (int32_t id : ready_) {
      const Op& op = rank_->program->ops[static_cast<size_t>(id)];
      if (op.kind == OpKind::Comm) comm_starting_ = true;
      else if (comm_starting_) ++rank_->starting_after[static_cast<size_t>(op.compute_class)];
    }
    const int32_t op = ready_.front();
    ready_.pop_front();
    start(op);
  }
  rank_->starting_after = {0, 0, 0};
}

void GpuActor::start(int32_t id) {
  const Op& op = rank_->program->ops[static_cast<size_t>(id)];
  OpState& s = rank_->ops[static_cast<size_t>(id)];
  s.status = OpStatus::Running;
  s.ready_s = sg4::Engine::get_clock();
  if (op.kind == OpKind::Compute) return start_compute(op, s);
  ++comms_in_flight_;
  if (op.pattern == CommPattern::SendRecv) return start_sendrecv(op, s);
  start_collective(op, s);
}

void GpuActor::start_compute(const Op& op, OpState& s) {
  s.start_s = s.ready_s;
  double duration_s = (*rank_->compute_s)[static_cast<size_t>(op.id)];
  const int cls = static_cast<int>(op.compute_class);
  if (comms_in_flight_ > 0 || comm_starting_) duration_s *= compute_slowdown(ctx_->options->interference, cls);
  if (duration_s <= 0) return finish(op.id);
  ++rank_->computing[static_cast<size_t>(cls)];
  ++ctx_->activities;
  sg4::ExecPtr exec = sg4::this_actor::exec_async(duration_s * ctx_->host_speed_flops_per_s);
  pending_.push_back({exec, Waiting::Exec, op.id});
  wait_set_.push_back(exec);
}

void GpuActor::start_sendrecv(const Op& op, OpState& s) {
  if (op.send_peer >= 0) {
    ++ctx_->activities;
    ++parts_left_[static_cast<size_t>(op.id)];
    sg4::CommPtr put = s.send_inbox->put_init(&s, static_cast<uint64_t>(std::llround(op.message_bytes)));
    if (s.send_rate_cap_Bps > 0)  // NCCL's p2p channels for this send, slowed by a kernel running beside it
      put->set_rate(s.send_rate_cap_Bps / rank_->comm_slowdown_now(ctx_->options->interference, s.send_channels));
    put->start();
    pending_.push_back({put, Waiting::Send, op.id});
    wait_set_.push_back(put);
  }
  if (op.recv_peer >= 0) {
    ++parts_left_[static_cast<size_t>(op.id)];
    sg4::CommPtr get = s.inbox->get_async(&received_[static_cast<size_t>(op.id)]);
    pending_.push_back({get, Waiting::Recv, op.id});
    wait_set_.push_back(get);
  }
  if (parts_left_[static_cast<size_t>(op.id)] == 0) {  // neither peer: nothing to move
    s.start_s = s.ready_s;
    --comms_in_flight_;
    finish(op.id);
  }
}

void GpuActor::start_collective(const Op& op, OpState& s) {
  // NCCL's kernel is launched now and keeps its CTAs for every stage: how much the kernels beside
  // it slow it is decided here, as for a send (rules/interference.hpp; CollectiveMember::run_stage
  // applies it).
  const CollectiveInstance& c = phase_->instances[static_cast<size_t>(s.instance)];
  const int64_t channels = c.plan ? std::max<int64_t>(1, c.plan->plan.choice.channels) : 1;
  s.comm_slowdown = rank_->comm_slowdown_now(ctx_->options->interference, channels);
  sg4::ExecPtr bell = sg4::this_actor::exec_init(0);
  sg4::Actor::create("coll", sg4::this_actor::get_host(), CollectiveMember(ctx_, phase_, rank_, op.id, s.member, bell));
  pending_.push_back({bell, Waiting::Bell, op.id});
  wait_set_.push_back(bell);
}

void GpuActor::on_complete(const Pending& p) {
  switch (p.what) {
    case Waiting::Exec: {
      const Op& op = rank_->program->ops[static_cast<size_t>(p.op)];
      --rank_->computing[static_cast<size_t>(op.compute_class)];
      return finish(p.op);
    }
    case Waiting::Send:
    case Waiting::Recv: {
      OpState& s = rank_->ops[static_cast<size_t>(p.op)];
      const double flow_start_s = p.activity->get_start_time();
      s.start_s = s.start_s < 0 ? flow_start_s : std::min(s.start_s, flow_start_s);
      if (p.what == Waiting::Send) {
        const Op& op = rank_->program->ops[static_cast<size_t>(p.op)];
        ctx_->flows.push_back({rank_->rank, op.send_peer, op.message_bytes, flow_start_s, p.activity->get_finish_time(),
                               ctx_->current_phase});
      }
      if (--parts_left_[static_cast<size_t>(p.op)] == 0) {
        --comms_in_flight_;
        finish(p.op);
      }
      return;
    }
    case Waiting::Bell:
      --comms_in_flight_;
      return finish(p.op);
  }
}

void GpuActor::finish(int32_t id) {
  OpState& s = rank_->ops[static_cast<size_t>(id)];
  s.status = OpStatus::Done;
  s.end_s = sg4::Engine::get_clock();
  ++done_;
  for (int32_t next : s.successors)
    if (--rank_->ops[static_cast<size_t>(next)].deps_left == 0) ready_.push_back(next);
}

}  // namespace hcpsim::detail
