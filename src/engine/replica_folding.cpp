// DP replica folding: the three checks of execute_fold.hpp, in order.
#include "engine/replica_folding.hpp"

#include <algorithm>
#include <map>

#include "topology/routes.hpp"

namespace hcpsim {

std::vector<int32_t> flow_destinations(const Op& op, int32_t rank, std::span<const ProcessGroup> groups,
                                       const GroupPositions& positions) {
  if (op.kind != OpKind::Comm) return {};
  if (op.pattern == CommPattern::SendRecv) return op.send_peer >= 0 ? std::vector<int32_t>{op.send_peer} : std::vector<int32_t>{};
  const int32_t me = positions.position(op.group, rank);
  if (me < 0 || groups[static_cast<size_t>(op.group)].ranks.size() < 2) return {};
  const std::vector<int32_t>& members = groups[static_cast<size_t>(op.group)].ranks;
  const auto i = static_cast<size_t>(me);
  const size_t n = members.size();
  if (op.pattern != CommPattern::AllToAll) return {members[(i + 1) % n]};  // ring successor
  std::vector<int32_t> peers;
  for (size_t k = 1; k < n; ++k) peers.push_back(members[(i + k) % n]);
  return peers;
}

namespace {

std::string describe(const Op& op, int32_t rank) {
  return "rank " + std::to_string(rank) + " op " + std::to_string(op.id) + " '" + op.label + "'";
}

}  // namespace

namespace {

// Folding over the DP replicas, or (`with_stages`) over DP replicas and pipeline stages together:
// a replica is then one (dp, pp) pair, and replica 0 is stage 0 of DP replica 0.
FoldDecision fold_over(const ExecutePhase& phase, const RankLayout& layout, const ClusterGraph& graph,
                       const Placement& placement, bool with_stages) {
  FoldDecision d;
  const auto unfolded = [&](std::string note) {
    d.note = std::move(note);
    d.program_indices.resize(phase.programs.size());
    for (size_t i = 0; i < phase.programs.size(); ++i) d.program_indices[i] = static_cast<int32_t>(i);
    return d;
  };
  const int64_t count = layout.dp * (with_stages ? layout.pp : 1);
  if (count <= 1) return unfolded("not folded: one DP replica");
  const auto replica = [&](int32_t r) {
    const RankCoord c = layout.coord_of(r);
    return c.dp + (with_stages ? layout.dp * c.pp : 0);
  };

  std::map<int32_t, size_t> index_of_rank;
  for (size_t i = 0; i < phase.programs.size(); ++i) index_of_rank[phase.programs[i].rank] = i;

  // 1. No comm op crosses replicas. A group's replica (-1: several) is worked out once.
  std::vector<int64_t> group_replica(phase.groups.size(), -2);
  const auto replica_of_group = [&](int32_t g) {
    if (g < 0 || static_cast<size_t>(g) >= phase.groups.size()) return int64_t{-1};
    int64_t& r = group_replica[static_cast<size_t>(g)];
    if (r == -2) {
      r = phase.groups[g].ranks.empty() ? -1 : replica(phase.groups[g].ranks.front());
      for (int32_t m : phase.groups[g].ranks)
        if (replica(m) != r) r = -1;
    }
    return r;
  };
  for (const RankProgram& p : phase.programs)
    for (const Op& op : p.ops) {
      if (op.kind != OpKind::Comm) continue;
      const bool crosses = op.pattern == CommPattern::SendRecv
                               ? (op.send_peer >= 0 && replica(op.send_peer) != replica(p.rank)) ||
                                     (op.recv_peer >= 0 && replica(op.recv_peer) != replica(p.rank))
                               : replica_of_group(op.group) != replica(p.rank);
      if (crosses) {
        const std::string g = op.group >= 0 && static_cast<size_t>(op.group) < phase.groups.size()
                                  ? " on group " + phase.groups[op.group].name : "";
        return unfolded("not folded: " + describe(op, p.rank) + g + " crosses DP replicas");
      }
    }

  // 2. Every replica is a copy of replica 0 (same ops, same compute times).
  for (size_t i = 0; i < phase.programs.size(); ++i) {
    const RankProgram& p = phase.programs[i];
    RankCoord c = layout.coord_of(p.rank);
    c.dp = 0;
    if (with_stages) c.pp = 0;
    const auto twin = index_of_rank.find(static_cast<int32_t>(layout.rank_of(c)));
    if (twin == index_of_rank.end())
      return unfolded("not folded: rank " + std::to_string(layout.rank_of(c)) + " of replica 0 has no program");
    if (phase.programs[twin->second].ops.size() != p.ops.size() || phase.compute_s[twin->second] != phase.compute_s[i])
      return unfolded("not folded: rank " + std::to_string(p.rank) + " differs from its replica-0 twin rank " +
                             std::to_string(twin->first));
  }

  // 3. Replicas' flows use pairwise disjoint link directions.
  std::vector<int64_t> owner(2 * graph.links.size(), -1);
  RoutePath path;
  const GroupPositions positions(phase.groups);
  for (const RankProgram& p : phase.programs)
    for (const Op& op : p.ops)
      for (int32_t dst : flow_destinations(op, p.rank, phase.groups, positions)) {
        route_into(graph, placement.gpu_of_rank.at(p.rank), placement.gpu_of_rank.at(dst), path);
        for (const LinkId& l : path.view()) {
          int64_t& o = owner[2 * static_cast<size_t>(l.edge) + (l.dir == LinkDir::Up ? 0 : 1)];
          if (o >= 0 && o != replica(p.rank))
            return unfolded("not folded: DP replicas " + std::to_string(o) + " and " +
                                   std::to_string(replica(p.rank)) + " share link " + graph.links[l.edge].name +
                                   (l.dir == LinkDir::Up ? "_UP" : "_DOWN"));
          o = replica(p.rank);
        }
      }

  d.folded = true;
  d.replicas = count;
  for (size_t i = 0; i < phase.programs.size(); ++i)
    if (replica(phase.programs[i].rank) == 0) d.program_indices.push_back(static_cast<int32_t>(i));
  d.note = with_stages ? "folded: simulated stage 0 of DP replica 0, one of " + std::to_string(count) + " (DP " +
                             std::to_string(layout.dp) + " x pipeline stages " + std::to_string(layout.pp) + ")"
                       : "folded: simulated DP replica 0 of " + std::to_string(layout.dp);
  d.note += " (no comm op crosses replicas, their flows use disjoint links, identical compute times)";
  return d;
}

}  // namespace

FoldDecision decide_folding(const ExecutePhase& phase, const RankLayout& layout, const ClusterGraph& graph,
                            const Placement& placement, bool asked) {
  if (!asked) {
    FoldDecision d;
    for (size_t i = 0; i < phase.programs.size(); ++i) d.program_indices.push_back(static_cast<int32_t>(i));
    return d;
  }
  if (layout.pp > 1) {  // the layer runs alike on every stage: fold the stages too where that is exact
    FoldDecision d = fold_over(phase, layout, graph, placement, true);
    if (d.folded) return d;
  }
  return fold_over(phase, layout, graph, placement, false);
}

}  // namespace hcpsim
