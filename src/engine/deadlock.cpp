// Deadlock descriptions for execute_programs' error.
#include "engine/deadlock.hpp"

#include <algorithm>
#include <sstream>

namespace hcpsim::detail {

const OpState* first_unfinished(const PhaseState& phase) {
  for (const RankState& r : phase.ranks)
    for (const OpState& s : r.ops)
      if (s.status != OpStatus::Done) return &s;
  return nullptr;
}

namespace {

std::string name_op(const RankState& r, int32_t id) {
  return "rank " + std::to_string(r.rank) + " op " + std::to_string(id) + " '" +
         r.program->ops[static_cast<size_t>(id)].label + "'";
}

// What a running comm op waits for.
std::string running_wait(const PhaseState& phase, const RankState& r, const OpState& s) {
  const Op& op = r.program->ops[static_cast<size_t>(s.id)];
  std::ostringstream out;
  if (op.pattern == CommPattern::SendRecv) {
    out << "(sendrecv, tag " << op.tag << ") waits for its peers to post the matching op:";
    if (op.send_peer >= 0) out << " rank " << op.send_peer << " receiving from " << r.rank << ";";
    if (op.recv_peer >= 0) out << " rank " << op.recv_peer << " sending to " << r.rank << ";";
    return out.str();
  }
  const CollectiveInstance& c = phase.instances[static_cast<size_t>(s.instance)];
  out << "(" << to_string(op.pattern) << " on group " << phase.groups[static_cast<size_t>(c.group)].name << ", tag "
      << c.tag << ") waits for ranks";
  const char* sep = " ";
  for (size_t m = 0; m < c.members.size(); ++m)
    if (!c.arrived[m]) {
      out << sep << c.members[m] << (c.member_ops[m] < 0 ? " (no such op)" : "");
      sep = ", ";
    }
  out << " to arrive (" << c.arrivals << " of " << c.members.size() << " arrived)";
  return out.str();
}

}  // namespace

std::string describe_deadlock(const SimContext& ctx, double now_s) {
  const PhaseState& phase = ctx.phases.at(static_cast<size_t>(ctx.current_phase));
  std::ostringstream out;
  out << "deadlock in phase '" << phase.name << "' at t = " << now_s << " s: ";
  // A running comm op is the cause; a waiting op only follows from it (or from a dependency cycle).
  for (const RankState& r : phase.ranks)
    for (const OpState& s : r.ops)
      if (s.status == OpStatus::Running) return out.str() + name_op(r, s.id) + " " + running_wait(phase, r, s);
  for (const RankState& r : phase.ranks)
    for (const OpState& s : r.ops) {
      if (s.status == OpStatus::Done) continue;
      out << name_op(r, s.id) << " waits for unfinished ops:";
      for (const OpState& d : r.ops)
        if (d.status != OpStatus::Done && std::count(d.successors.begin(), d.successors.end(), s.id) > 0)
          out << " " << d.id << " '" << r.program->ops[static_cast<size_t>(d.id)].label << "'";
      out << " (a dependency cycle)";
      return out.str();
    }
  return out.str() + "no unfinished op found";
}

}  // namespace hcpsim::detail
