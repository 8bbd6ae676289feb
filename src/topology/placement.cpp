#include "topology/placement.hpp"

#include <cstdio>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>

namespace hcpsim {

Placement megatron_placement(const ClusterGraph& g, const RankLayout& layout) {
  if (layout.world_size() > g.num_gpus())
    throw std::invalid_argument("placement: " + std::to_string(layout.world_size()) + " ranks need more than the " +
                                std::to_string(g.num_gpus()) + " GPUs of the cluster");
  Placement p;
  for (int64_t r = 0; r < layout.world_size(); ++r) p.gpu_of_rank.push_back(r);
  return p;
}

RankLocation locate(const ClusterGraph& g, const Placement& p, int64_t rank) {
  const int64_t gpu = p.gpu_of_rank.at(rank);
  return {rank, gpu, g.node_of_gpu(gpu), g.local_gpu(gpu), g.rail_of_gpu(gpu)};
}

std::string format_group(const std::vector<int64_t>& ranks) {
  bool consecutive = ranks.size() > 2;
  for (size_t i = 1; consecutive && i < ranks.size(); ++i) consecutive = ranks[i] == ranks[i - 1] + 1;
  // (appends rather than "literal" + string: GCC 12 warns -Wrestrict on the latter)
  std::string s = "{";
  if (consecutive) {
    s.append(std::to_string(ranks.front())).append("..").append(std::to_string(ranks.back()));
  } else {
    for (size_t i = 0; i < ranks.size(); ++i) s.append(i ? "," : "").append(std::to_string(ranks[i]));
  }
  return s.append("}");
}

namespace {

using GroupOf = std::function<std::vector<int64_t>(int64_t rank)>;

// "HCP a2a groups (8 ranks): {0..7} {8..15}: inside a node" (or "across nodes",
// or "2 of 4 inside a node"); at most kShown groups are listed.
std::string group_summary(const ClusterGraph& g, const Placement& p, const std::string& label, int64_t world,
                          const GroupOf& group_of) {
  constexpr size_t kShown = 8;
  std::set<std::vector<int64_t>> groups;
  for (int64_t r = 0; r < world; ++r) groups.insert(group_of(r));
  size_t inside = 0, shown = 0;
  std::string list;
  for (const auto& grp : groups) {
    std::set<int64_t> nodes;
    for (int64_t r : grp) nodes.insert(locate(g, p, r).node);
    inside += nodes.size() == 1;
    if (shown++ < kShown) list.append(" ").append(format_group(grp));
  }
  if (groups.size() > kShown) list += " ...";
  const std::string where = inside == groups.size() ? "inside a node"
                            : inside == 0           ? "across nodes"
                                                    : std::to_string(inside) + " of " + std::to_string(groups.size()) +
                                                          " inside a node";
  return label + " (" + std::to_string(groups.begin()->size()) + " ranks):" + list + ": " + where + "\n";
}

}  // namespace

std::string format_placement(const ClusterGraph& g, const Placement& p, const RankLayout& layout, int64_t a2a_size) {
  if (a2a_size < 1 || layout.cp % a2a_size != 0)
    throw std::invalid_argument("placement: HCP a2a size " + std::to_string(a2a_size) + " does not divide CP " +
                                std::to_string(layout.cp));
  const int64_t world = layout.world_size();
  std::ostringstream out;
  out << "placement: " << world << " ranks on " << g.spec.num_nodes << " nodes x " << g.spec.gpus_per_node
      << " GPUs (Megatron order tp-cp-dp-pp, TP fastest; HCP a2a size " << a2a_size << ")\n";
  char line[160];
  std::snprintf(line, sizeof line, "%6s %5s %5s %5s %4s %4s %4s %4s  %-12s %s\n", "rank", "node", "gpu", "rail", "tp",
                "cp", "dp", "pp", "a2a group", "ring group");
  out << line;
  for (int64_t r = 0; r < world; ++r) {
    const RankLocation loc = locate(g, p, r);
    const RankCoord c = layout.coord_of(r);
    std::snprintf(line, sizeof line, "%6lld %5lld %5lld %5lld %4lld %4lld %4lld %4lld  %-12s %s\n", (long long)r,
                  (long long)loc.node, (long long)loc.local_gpu, (long long)loc.rail, (long long)c.tp,
                  (long long)c.cp, (long long)c.dp, (long long)c.pp,
                  format_group(layout.hcp_a2a_group(r, a2a_size)).c_str(),
                  format_group(layout.hcp_p2p_group(r, a2a_size)).c_str());
    out << line;
  }
  out << group_summary(g, p, "TP groups", world, [&](int64_t r) { return layout.tp_group(r); });
  out << group_summary(g, p, "CP groups", world, [&](int64_t r) { return layout.cp_group(r); });
  out << group_summary(g, p, "HCP a2a groups", world, [&](int64_t r) { return layout.hcp_a2a_group(r, a2a_size); });
  out << group_summary(g, p, "HCP ring groups", world, [&](int64_t r) { return layout.hcp_p2p_group(r, a2a_size); });
  out << group_summary(g, p, "DP groups", world, [&](int64_t r) { return layout.dp_group(r); });
  out << group_summary(g, p, "DP x CP groups (the gradients' reduction)", world,
                       [&](int64_t r) { return layout.dp_cp_group(r); });
  out << group_summary(g, p, "PP groups (stage 0 first; stage-to-stage transfers)", world,
                       [&](int64_t r) { return layout.pp_group(r); });
  return out.str();
}

}  // namespace hcpsim
