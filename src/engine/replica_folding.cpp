// Replica folding: the three checks of replica_folding.hpp.
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

enum class ReplicaKind { Data, DataAndStage, Stage };

// What a replica is: its index of a rank, and the rank at the same place in another replica.
struct Replicas {
  const RankLayout& layout;
  ReplicaKind kind;

  int64_t count() const {
    return kind == ReplicaKind::Data ? layout.dp : kind == ReplicaKind::Stage ? layout.pp : layout.dp * layout.pp;
  }
  int64_t of(int32_t rank) const {
    const RankCoord c = layout.coord_of(rank);
    return kind == ReplicaKind::Data ? c.dp : kind == ReplicaKind::Stage ? c.pp : c.dp + layout.dp * c.pp;
  }
  int32_t twin(int32_t rank, int64_t replica) const {
    RankCoord c = layout.coord_of(rank);
    if (kind == ReplicaKind::Data) c.dp = replica;
    if (kind == ReplicaKind::Stage) c.pp = replica;
    if (kind == ReplicaKind::DataAndStage) {
      c.dp = replica % layout.dp;
      c.pp = replica / layout.dp;
    }
    return static_cast<int32_t>(layout.rank_of(c));
  }
  const char* name() const {
    if (kind == ReplicaKind::Stage || (kind == ReplicaKind::DataAndStage && layout.dp == 1)) return "pipeline stages";
    return kind == ReplicaKind::Data ? "DP replicas" : "(DP replica, pipeline stage) pairs";
  }
};

// Whether program `a` is program `b` (of replica `qb`) translated: same ops, streams, dependencies,
// compute times and message sizes, comm groups and peers at the same places. `same_groups` caches
// group pairs already compared (a group lies in one replica, check 1, so a pair has one answer).
bool same_program(const RankProgram& a, std::span<const double> a_s, const RankProgram& b, std::span<const double> b_s,
                  int64_t qb, const Replicas& replicas, std::span<const ProcessGroup> groups,
                  std::map<std::pair<int32_t, int32_t>, bool>& same_groups) {
  if (a.ops.size() != b.ops.size() || !std::equal(a_s.begin(), a_s.end(), b_s.begin(), b_s.end())) return false;
  const auto translated = [&](int32_t peer, int32_t twin_peer) {
    return peer < 0 ? twin_peer < 0 : twin_peer == replicas.twin(peer, qb);
  };
  for (size_t i = 0; i < a.ops.size(); ++i) {
    const Op& x = a.ops[i];
    const Op& y = b.ops[i];
    if (x.kind != y.kind || x.stream != y.stream || x.phase != y.phase || x.area != y.area || x.deps != y.deps)
      return false;
    if (x.kind != OpKind::Comm) continue;
    if (x.pattern != y.pattern || x.message_bytes != y.message_bytes || x.recv_bytes != y.recv_bytes ||
        !translated(x.send_peer, y.send_peer) || !translated(x.recv_peer, y.recv_peer))
      return false;
    if ((x.group < 0) != (y.group < 0)) return false;
    if (x.group < 0) continue;
    const auto [it, fresh] = same_groups.try_emplace({x.group, y.group}, false);
    if (fresh) {
      const std::vector<int32_t>& gx = groups[static_cast<size_t>(x.group)].ranks;
      const std::vector<int32_t>& gy = groups[static_cast<size_t>(y.group)].ranks;
      it->second = gx.size() == gy.size();
      for (size_t m = 0; it->second && m < gx.size(); ++m) it->second = gy[m] == replicas.twin(gx[m], qb);
    }
    if (!it->second) return false;
  }
  return true;
}

// Whether the flows of program `a` take routes that are those of program `b`'s
// flows translated: link for link the same bandwidth, latency and class, and a link that two of a's
// flows share shared by their twins in b (`to_b` and `to_a` map link directions one to one across
// the replica pair being compared, from flow to flow). A replica whose traffic crosses a slower
// tier (an oversubscribed spine where the first replica stays in one leaf) is no copy.
bool same_routes(const RankProgram& a, const RankProgram& b, int64_t qb, const Replicas& replicas, const ClusterGraph& graph,
                 const Placement& placement, std::span<const ProcessGroup> groups, const GroupPositions& positions,
                 std::map<std::pair<int32_t, int>, std::pair<int32_t, int>>& to_b,
                 std::map<std::pair<int32_t, int>, std::pair<int32_t, int>>& to_a) {
  RoutePath pa, pb;
  for (size_t i = 0; i < a.ops.size(); ++i) {
    const std::vector<int32_t> da = flow_destinations(a.ops[i], a.rank, groups, positions);
    const std::vector<int32_t> db = flow_destinations(b.ops[i], b.rank, groups, positions);
    if (da.size() != db.size()) return false;
    for (size_t f = 0; f < da.size(); ++f) {
      if (db[f] != replicas.twin(da[f], qb)) return false;
      route_into(graph, placement.gpu_of_rank.at(a.rank), placement.gpu_of_rank.at(da[f]), pa);
      route_into(graph, placement.gpu_of_rank.at(b.rank), placement.gpu_of_rank.at(db[f]), pb);
      const auto la = pa.view(), lb = pb.view();
      if (la.size() != lb.size()) return false;
      for (size_t h = 0; h < la.size(); ++h) {
        const Link& x = graph.links[static_cast<size_t>(la[h].edge)];
        const Link& y = graph.links[static_cast<size_t>(lb[h].edge)];
        if (x.cls != y.cls || x.bandwidth_bytes_per_s != y.bandwidth_bytes_per_s || x.latency_s != y.latency_s) return false;
        const std::pair<int32_t, int> ka{la[h].edge, int(la[h].dir)}, kb{lb[h].edge, int(lb[h].dir)};
        const auto [ia, fa] = to_b.try_emplace(ka, kb);
        const auto [ib, fb] = to_a.try_emplace(kb, ka);
        if (ia->second != kb || ib->second != ka) return false;
      }
    }
  }
  return true;
}

// Every program of the phase simulated, each rank its own stand-in.
FoldDecision every_program(const ExecutePhase& phase, const RankLayout& layout, std::string note) {
  FoldDecision d;
  d.note = std::move(note);
  d.stand_in.assign(static_cast<size_t>(layout.world_size()), -1);
  for (size_t i = 0; i < phase.programs.size(); ++i) {
    d.program_indices.push_back(static_cast<int32_t>(i));
    d.stand_in.at(static_cast<size_t>(phase.programs[i].rank)) = phase.programs[i].rank;
  }
  return d;
}

// "0, 2-5, 7"
std::string ranges(const std::vector<int64_t>& sorted) {
  std::string out;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
    out += (out.empty() ? "" : ", ") + std::to_string(sorted[i]) + (j > i ? "-" + std::to_string(sorted[j]) : "");
    i = j + 1;
  }
  return out;
}

FoldDecision fold_over(const ExecutePhase& phase, const RankLayout& layout, const ClusterGraph& graph,
                       const Placement& placement, ReplicaKind kind) {
  const Replicas replicas{layout, kind};
  const auto unfolded = [&](std::string note) { return every_program(phase, layout, std::move(note)); };
  const int64_t count = replicas.count();
  if (count <= 1) return unfolded(kind == ReplicaKind::Stage ? "not folded: one pipeline stage" : "not folded: one DP replica");

  std::vector<int32_t> index_of_rank(static_cast<size_t>(layout.world_size()), -1);
  for (size_t i = 0; i < phase.programs.size(); ++i)
    index_of_rank.at(static_cast<size_t>(phase.programs[i].rank)) = static_cast<int32_t>(i);

  // 1. No comm op crosses replicas. A group's replica (-1: several) is worked out once.
  std::vector<int64_t> group_replica(phase.groups.size(), -2);
  const auto replica_of_group = [&](int32_t g) {
    if (g < 0 || static_cast<size_t>(g) >= phase.groups.size()) return int64_t{-1};
    int64_t& r = group_replica[static_cast<size_t>(g)];
    if (r == -2) {
      r = phase.groups[g].ranks.empty() ? -1 : replicas.of(phase.groups[g].ranks.front());
      for (int32_t m : phase.groups[g].ranks)
        if (replicas.of(m) != r) r = -1;
    }
    return r;
  };
  for (const RankProgram& p : phase.programs)
    for (const Op& op : p.ops) {
      if (op.kind != OpKind::Comm) continue;
      const int64_t mine = replicas.of(p.rank);
      const bool crosses = op.pattern == CommPattern::SendRecv
                               ? (op.send_peer >= 0 && replicas.of(op.send_peer) != mine) ||
                                     (op.recv_peer >= 0 && replicas.of(op.recv_peer) != mine)
                               : replica_of_group(op.group) != mine;
      if (crosses) {
        const std::string g = op.group >= 0 && static_cast<size_t>(op.group) < phase.groups.size()
                                  ? " on group " + phase.groups[op.group].name : "";
        return unfolded("not folded: " + describe(op, p.rank) + g + " crosses " + replicas.name());
      }
    }

  // 2. Which replicas copy an earlier one: each replica is compared with the earlier replicas
  //    that are simulated (the first of their kind), rank by rank.
  std::vector<std::vector<int32_t>> members(static_cast<size_t>(count));
  for (size_t i = 0; i < phase.programs.size(); ++i)
    members[static_cast<size_t>(replicas.of(phase.programs[i].rank))].push_back(static_cast<int32_t>(i));
  std::vector<int64_t> copies(static_cast<size_t>(count), -1);  // the simulated replica it copies
  std::map<std::pair<int32_t, int32_t>, bool> same_groups;
  const GroupPositions positions(phase.groups);
  std::string first_difference;
  int64_t kinds = 0;
  for (int64_t q = 0; q < count; ++q) {
    for (int64_t k = 0; k < q && copies[static_cast<size_t>(q)] < 0; ++k) {
      if (copies[static_cast<size_t>(k)] != k) continue;
      bool alike = members[static_cast<size_t>(q)].size() == members[static_cast<size_t>(k)].size();
      std::map<std::pair<int32_t, int>, std::pair<int32_t, int>> links_to_k, links_to_q;  // this pair's link mapping
      for (size_t m = 0; alike && m < members[static_cast<size_t>(q)].size(); ++m) {
        const int32_t i = members[static_cast<size_t>(q)][m];
        const int32_t rank = phase.programs[static_cast<size_t>(i)].rank;
        const int32_t twin = index_of_rank[static_cast<size_t>(replicas.twin(rank, k))];
        alike = twin >= 0 && same_program(phase.programs[static_cast<size_t>(i)], phase.compute_s[static_cast<size_t>(i)],
                                          phase.programs[static_cast<size_t>(twin)], phase.compute_s[static_cast<size_t>(twin)],
                                          k, replicas, phase.groups, same_groups);
        if (!alike && first_difference.empty())
          first_difference = "rank " + std::to_string(rank) + " differs from rank " +
                             std::to_string(replicas.twin(rank, k)) + " of replica " + std::to_string(k);
        if (alike) {
          alike = same_routes(phase.programs[static_cast<size_t>(i)], phase.programs[static_cast<size_t>(twin)], k, replicas,
                              graph, placement, phase.groups, positions, links_to_k, links_to_q);
          if (!alike && first_difference.empty())
            first_difference = "rank " + std::to_string(rank) + "'s flows take other links than rank " +
                               std::to_string(replicas.twin(rank, k)) + "'s of replica " + std::to_string(k);
        }
      }
      if (alike) copies[static_cast<size_t>(q)] = k;
    }
    if (copies[static_cast<size_t>(q)] < 0) {
      copies[static_cast<size_t>(q)] = q;
      ++kinds;
    }
  }
  if (kinds == count) return unfolded("not folded: no two " + std::string(replicas.name()) + " alike (" + first_difference + ")");

  // 3. Replicas' flows use pairwise disjoint link directions.
  std::vector<int64_t> owner(2 * graph.links.size(), -1);
  RoutePath path;
  for (const RankProgram& p : phase.programs)
    for (const Op& op : p.ops)
      for (int32_t dst : flow_destinations(op, p.rank, phase.groups, positions)) {
        route_into(graph, placement.gpu_of_rank.at(p.rank), placement.gpu_of_rank.at(dst), path);
        for (const LinkId& l : path.view()) {
          int64_t& o = owner[2 * static_cast<size_t>(l.edge) + (l.dir == LinkDir::Up ? 0 : 1)];
          if (o >= 0 && o != replicas.of(p.rank))
            return unfolded(std::string("not folded: ") + replicas.name() + " " + std::to_string(o) + " and " +
                            std::to_string(replicas.of(p.rank)) + " share link " + graph.links[l.edge].name +
                            (l.dir == LinkDir::Up ? "_UP" : "_DOWN"));
          o = replicas.of(p.rank);
        }
      }

  FoldDecision d;
  d.folded = true;
  d.replicas = count;
  d.stand_in.assign(static_cast<size_t>(layout.world_size()), -1);
  for (size_t i = 0; i < phase.programs.size(); ++i) {
    const int32_t rank = phase.programs[i].rank;
    const int64_t q = replicas.of(rank);
    if (copies[static_cast<size_t>(q)] == q) d.program_indices.push_back(static_cast<int32_t>(i));
    d.stand_in.at(static_cast<size_t>(rank)) = replicas.twin(rank, copies[static_cast<size_t>(q)]);
  }
  const std::string why = " (no comm op crosses " + std::string(replicas.name()) +
                          ", their flows use disjoint links, identical programs, compute times and routes)";
  if (kinds == 1) {
    d.note = kind == ReplicaKind::DataAndStage
                 ? "folded: simulated stage 0 of DP replica 0, one of " + std::to_string(count) + " (DP " +
                       std::to_string(layout.dp) + " x pipeline stages " + std::to_string(layout.pp) + ")"
                 : std::string("folded: simulated ") + (kind == ReplicaKind::Stage ? "stage" : "DP replica") + " 0 of " +
                       std::to_string(count);
    d.note += why;
    return d;
  }
  std::vector<int64_t> simulated;
  std::string copied;
  for (int64_t q = 0; q < count; ++q) {
    if (copies[static_cast<size_t>(q)] != q) continue;
    simulated.push_back(q);
    std::vector<int64_t> of_q;
    for (int64_t c = q + 1; c < count; ++c)
      if (copies[static_cast<size_t>(c)] == q) of_q.push_back(c);
    if (!of_q.empty()) copied += (copied.empty() ? "" : "; ") + ranges(of_q) + " copy " + std::to_string(q);
  }
  d.note = "folded: simulated " + std::string(replicas.name()) + " " + ranges(simulated) + " of " + std::to_string(count) +
           " (" + copied + ")" + why;
  return d;
}

}  // namespace

FoldDecision decide_folding(const ExecutePhase& phase, const RankLayout& layout, const ClusterGraph& graph,
                            const Placement& placement, bool asked) {
  if (!asked) return every_program(phase, layout, "");
  if (layout.pp > 1) {  // the layer runs alike on every stage: fold the stages too where that is exact
    FoldDecision d = fold_over(phase, layout, graph, placement, ReplicaKind::DataAndStage);
    if (d.folded) return d;
  }
  FoldDecision by_dp = fold_over(phase, layout, graph, placement, ReplicaKind::Data);
  if (by_dp.folded || layout.pp == 1) return by_dp;
  // The step's DP gradient sync crosses DP replicas but stays in its stage; the middle stages
  // (no embedding, no head) are alike.
  FoldDecision by_stage = fold_over(phase, layout, graph, placement, ReplicaKind::Stage);
  return by_stage.folded ? by_stage : by_dp;
}

}  // namespace hcpsim
