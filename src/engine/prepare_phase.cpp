// Phase preparation: checks, dependency counts, pairing of comm ops.
#include "engine/prepare_phase.hpp"

#include "engine/group_positions.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>
#include <tuple>

namespace hcpsim::detail {

namespace sg4 = simgrid::s4u;

sg4::Mailbox* MailboxTable::inbox(int32_t rank, size_t slot) {
  if (inboxes_.size() <= static_cast<size_t>(rank)) inboxes_.resize(static_cast<size_t>(rank) + 1);
  std::vector<sg4::Mailbox*>& mine = inboxes_[static_cast<size_t>(rank)];
  while (mine.size() <= slot)
    mine.push_back(sg4::Mailbox::by_name("r" + std::to_string(rank) + "." + std::to_string(mine.size())));
  return mine[slot];
}

namespace {

[[noreturn]] void bad(const ExecutePhase& phase, int32_t rank, const Op* op, const std::string& what) {
  std::string where = "phase '" + phase.name + "': rank " + std::to_string(rank);
  if (op != nullptr) where += " op " + std::to_string(op->id) + " '" + op->label + "'";
  throw std::invalid_argument(where + ": " + what);
}

// Dependency counts and successor lists: explicit deps plus stream order.
void link_ops(const ExecutePhase& phase, RankState& r) {
  const std::vector<Op>& ops = r.program->ops;
  std::vector<int32_t> last_on_stream(kNumStreams, -1);
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (op.id != static_cast<int32_t>(i)) bad(phase, r.rank, &op, "Op::id must equal its index");
    std::vector<int32_t> deps = op.deps;
    int32_t& prev = last_on_stream[static_cast<size_t>(op.stream)];
    if (prev >= 0) deps.push_back(prev);
    prev = op.id;
    std::sort(deps.begin(), deps.end());
    deps.erase(std::unique(deps.begin(), deps.end()), deps.end());
    for (int32_t d : deps) {
      if (d < 0 || d >= static_cast<int32_t>(ops.size()) || d == op.id)
        bad(phase, r.rank, &op, "dependency " + std::to_string(d) + " is not another op of this program");
      r.ops[static_cast<size_t>(d)].successors.push_back(op.id);
    }
    r.ops[i].deps_left = static_cast<int32_t>(deps.size());
  }
}

std::shared_ptr<const IndexedPlan> index_plan(CollectivePlan plan, size_t members) {
  auto ix = std::make_shared<IndexedPlan>();
  ix->sends.assign(plan.stages.size(), std::vector<std::vector<int32_t>>(members));
  ix->receives.assign(plan.stages.size(), std::vector<int32_t>(members, 0));
  for (size_t s = 0; s < plan.stages.size(); ++s)
    for (size_t f = 0; f < plan.stages[s].flows.size(); ++f) {
      const PlannedFlow& flow = plan.stages[s].flows[f];
      if (flow.bytes <= 0) continue;
      ix->sends[s][static_cast<size_t>(flow.from)].push_back(static_cast<int32_t>(f));
      ++ix->receives[s][static_cast<size_t>(flow.to)];
    }
  ix->plan = std::move(plan);
  return ix;
}

void check_durations(const ExecutePhase& phase, const RankState& r) {
  if (r.compute_s->size() != r.program->ops.size())
    bad(phase, r.rank, nullptr, "compute_s has " + std::to_string(r.compute_s->size()) + " entries for " +
                                    std::to_string(r.program->ops.size()) + " ops");
  for (const Op& op : r.program->ops) {
    const double t = (*r.compute_s)[static_cast<size_t>(op.id)];
    if (op.kind == OpKind::Compute && !(t >= 0 && std::isfinite(t)))
      bad(phase, r.rank, &op, "compute duration must be finite and >= 0");
  }
}

}  // namespace

PhaseState prepare_phase(const ExecutePhase& phase, const std::vector<int32_t>& program_indices,
                         MailboxTable& mailboxes, const CommPlanContext& comm) {
  if (phase.compute_s.size() != phase.programs.size())
    throw std::invalid_argument("phase '" + phase.name + "': compute_s needs one entry per program");
  PhaseState ps;
  ps.name = phase.name;
  ps.groups = phase.groups;
  std::map<int32_t, size_t> state_of_rank;
  for (int32_t i : program_indices) {
    RankState r;
    r.program = &phase.programs[static_cast<size_t>(i)];
    r.rank = r.program->rank;
    r.compute_s = &phase.compute_s[static_cast<size_t>(i)];
    r.ops.resize(r.program->ops.size());
    if (!state_of_rank.emplace(r.rank, ps.ranks.size()).second) bad(phase, r.rank, nullptr, "two programs for one rank");
    ps.ranks.push_back(std::move(r));
  }
  const auto simulated = [&](int32_t rank) { return state_of_rank.count(rank) > 0; };

  // Per op: its inbox; index the receiving side of SendRecvs and the collective instances.
  std::map<std::tuple<int32_t, int32_t, int64_t>, OpState*> receivers;  // (rank, recv_peer, tag)
  std::map<std::pair<int32_t, int64_t>, int32_t> instance_of;           // (group, tag)
  const GroupPositions positions(phase.groups);
  // Equal calls on one group share a plan; sends share p2p rates by (communicator, bytes, remote).
  std::map<std::tuple<int32_t, CommPattern, double>, std::shared_ptr<const IndexedPlan>> plans;
  std::map<std::tuple<int32_t, double, int64_t, int32_t>, NcclChoice> send_rates;
  for (RankState& r : ps.ranks) {
    link_ops(phase, r);
    check_durations(phase, r);
    size_t slot = 0;
    for (const Op& op : r.program->ops) {
      OpState& s = r.ops[static_cast<size_t>(op.id)];
      s.id = op.id;
      if (op.kind != OpKind::Comm) continue;
      s.inbox = mailboxes.inbox(r.rank, slot++);
      if (op.pattern == CommPattern::SendRecv) {
        for (int32_t peer : {op.send_peer, op.recv_peer})
          if (peer >= 0 && !simulated(peer)) bad(phase, r.rank, &op, "peer rank " + std::to_string(peer) + " is not simulated");
        if (op.send_peer >= 0 && comm.graph != nullptr && !op.userbuffers) {
          // The send's rate depends on its communicator, its bytes and whether the peer is on
          // another node: one p2p choice per such key (a communicator unknown to the workload is
          // the pair itself, keyed by the pair).
          std::span<const int32_t> communicator;
          if (op.group >= 0 && static_cast<size_t>(op.group) < phase.groups.size())
            communicator = phase.groups[static_cast<size_t>(op.group)].ranks;
          const bool remote = comm.graph->node_of_gpu(comm.placement->gpu_of_rank.at(r.rank)) !=
                              comm.graph->node_of_gpu(comm.placement->gpu_of_rank.at(op.send_peer));
          const int64_t pair = communicator.empty() ? (int64_t{r.rank} << 32) + op.send_peer : -1;
          const auto key = std::tuple{op.group, op.message_bytes, pair, static_cast<int32_t>(remote)};
          auto it = send_rates.find(key);
          if (it == send_rates.end())
            it = send_rates.emplace(key, plan_send(op.message_bytes, r.rank, op.send_peer, communicator, comm)).first;
          s.send_rate_cap_Bps = it->second.bandwidth_Bps;
          s.send_channels = std::max<int64_t>(1, it->second.channels);
        }
        if (op.recv_peer >= 0 && !receivers.emplace(std::tuple{r.rank, op.recv_peer, op.tag}, &s).second)
          bad(phase, r.rank, &op, "two receives from rank " + std::to_string(op.recv_peer) + " with one tag");
        continue;
      }
      if (op.group < 0 || static_cast<size_t>(op.group) >= phase.groups.size())
        bad(phase, r.rank, &op, "group " + std::to_string(op.group) + " is not in the group table");
      const std::vector<int32_t>& members = phase.groups[static_cast<size_t>(op.group)].ranks;
      const int32_t me = positions.position(op.group, r.rank);
      if (me < 0) bad(phase, r.rank, &op, "rank is not a member of group " + phase.groups[op.group].name);
      const auto [it, fresh] = instance_of.emplace(std::pair{op.group, op.tag}, static_cast<int32_t>(ps.instances.size()));
      if (fresh) {
        for (int32_t m : members)
          if (!simulated(m)) bad(phase, r.rank, &op, "group member rank " + std::to_string(m) + " is not simulated");
        CollectiveInstance c;
        c.group = op.group;
        c.tag = op.tag;
        c.members = members;
        c.inboxes.assign(members.size(), nullptr);
        c.member_ops.assign(members.size(), -1);
        c.arrived.assign(members.size(), 0);
        ps.instances.push_back(std::move(c));
      }
      CollectiveInstance& c = ps.instances[static_cast<size_t>(it->second)];
      if (!c.plan && comm.graph != nullptr) {
        const auto key = std::tuple{op.group, op.pattern, op.message_bytes};
        auto p = plans.find(key);
        if (p == plans.end())
          p = plans.emplace(key, index_plan(plan_comm_op(op, phase.groups[static_cast<size_t>(op.group)], comm),
                                            members.size()))
                  .first;
        c.plan = p->second;
      }
      const auto m = static_cast<size_t>(me);
      if (c.member_ops[m] >= 0) bad(phase, r.rank, &op, "two ops with one (group, tag)");
      c.member_ops[m] = op.id;
      c.inboxes[m] = s.inbox;
      s.instance = it->second;
      s.member = me;
    }
  }

  // SendRecv pairing: rank r's send to s matches s's op receiving from r with the same tag.
  for (RankState& r : ps.ranks)
    for (const Op& op : r.program->ops) {
      if (op.kind != OpKind::Comm || op.pattern != CommPattern::SendRecv || op.send_peer < 0) continue;
      const auto match = receivers.find({op.send_peer, r.rank, op.tag});
      if (match == receivers.end())
        bad(phase, r.rank, &op, "no op on rank " + std::to_string(op.send_peer) + " receives from rank " +
                                    std::to_string(r.rank) + " with tag " + std::to_string(op.tag));
      r.ops[static_cast<size_t>(op.id)].send_inbox = match->second->inbox;
      receivers.erase(match);
    }
  if (!receivers.empty()) {
    const auto& [key, s] = *receivers.begin();
    const RankState& r = ps.ranks[state_of_rank.at(std::get<0>(key))];
    bad(phase, r.rank, &r.program->ops[static_cast<size_t>(s->id)],
        "rank " + std::to_string(std::get<1>(key)) + " sends nothing to it with tag " + std::to_string(std::get<2>(key)));
  }
  return ps;
}

}  // namespace hcpsim::detail
