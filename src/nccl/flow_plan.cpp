#include "nccl/flow_plan.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "common/diagnostics.hpp"
#include "nccl/nvls_pipeline.hpp"

namespace hcpsim {

std::vector<int64_t> ring_macro_steps(int64_t steps, int64_t max_macro_steps) {
  if (steps <= 0) return {};
  const int64_t k = std::min(steps, std::max<int64_t>(1, max_macro_steps));
  std::vector<int64_t> plan(static_cast<size_t>(k), steps / k);
  for (int64_t i = 0; i < steps % k; ++i) ++plan[static_cast<size_t>(i)];
  return plan;
}

namespace {

// The ranks of one node, in group order, and its rail ranks (first rank on each NIC, by NIC).
struct NodeBlock {
  std::vector<int32_t> ranks;
  std::vector<int32_t> rail_ranks;
};

std::vector<NodeBlock> node_blocks(std::span<const RankLocation> members) {
  std::vector<NodeBlock> blocks;
  std::map<int64_t, size_t> block_of_node;
  std::vector<std::map<int64_t, int32_t>> rails;
  for (size_t i = 0; i < members.size(); ++i) {
    const auto [it, fresh] = block_of_node.emplace(members[i].node, blocks.size());
    if (fresh) {
      blocks.emplace_back();
      rails.emplace_back();
    }
    blocks[it->second].ranks.push_back(static_cast<int32_t>(i));
    rails[it->second].emplace(members[i].rail, static_cast<int32_t>(i));
  }
  for (size_t b = 0; b < blocks.size(); ++b)
    for (const auto& [rail, rank] : rails[b]) blocks[b].rail_ranks.push_back(rank);
  return blocks;
}

// Flows between two nodes over the rails they share: `bytes` split evenly, rail j to rail j.
void rail_flows(const NodeBlock& from, const NodeBlock& to, double bytes, int64_t max_rails, PlanStage& stage) {
  const auto r = static_cast<size_t>(
      std::max<int64_t>(1, std::min<int64_t>(max_rails, std::min(from.rail_ranks.size(), to.rail_ranks.size()))));
  for (size_t j = 0; j < r; ++j)
    stage.flows.push_back({from.rail_ranks[j], to.rail_ranks[j], bytes / static_cast<double>(r), 0});
}

// Sets every flow's cap so that the stage, which carries `share` of the call's bandwidth-bound
// time `bandwidth_s`, takes that long when nothing else slows it.
void cap(PlanStage& stage, double bandwidth_s, double share) {
  if (!(bandwidth_s > 0) || !(share > 0)) return;
  for (PlannedFlow& f : stage.flows) f.rate_cap_Bps = f.bytes / (bandwidth_s * share);
}

// NCCL's double binary tree over nodes 0..k-1: tree 1 a heap order, tree 2 its mirror image.
std::vector<std::pair<int64_t, int64_t>> tree_edges(int64_t k) {  // (child, parent)
  std::vector<std::pair<int64_t, int64_t>> edges;
  for (int64_t i = 1; i < k; ++i) edges.emplace_back(i, (i - 1) / 2);
  for (int64_t i = 1; i < k; ++i) edges.emplace_back(k - 1 - i, k - 1 - (i - 1) / 2);
  return edges;
}

void tree_inter_node(const std::vector<NodeBlock>& blocks, double buffer_bytes, int64_t max_rails, PlanStage& stage) {
  for (const auto& [child, parent] : tree_edges(static_cast<int64_t>(blocks.size()))) {
    rail_flows(blocks[static_cast<size_t>(child)], blocks[static_cast<size_t>(parent)], buffer_bytes / 2, max_rails,
               stage);  // reduce: half the buffer per tree
    rail_flows(blocks[static_cast<size_t>(parent)], blocks[static_cast<size_t>(child)], buffer_bytes / 2, max_rails,
               stage);  // broadcast
  }
}

// Each rank of a node to the next (cyclically): the load NVLS puts on every GPU's NVLink.
void shift_in_node(const NodeBlock& b, double bytes, PlanStage& stage) {
  const size_t n = b.ranks.size();
  if (n < 2) return;
  for (size_t i = 0; i < n; ++i) stage.flows.push_back({b.ranks[i], b.ranks[(i + 1) % n], bytes, 0});
}

}  // namespace

CollectivePlan plan_collective(CommPattern pattern, double message_bytes, std::span<const RankLocation> members,
                               const NcclChoice& choice, const NcclTopology& topology, const CommShape& shape,
                               int64_t max_macro_steps) {
  CollectivePlan plan;
  plan.choice = choice;
  const auto n = static_cast<int64_t>(members.size());
  if (n <= 1 || pattern == CommPattern::SendRecv) return plan;
  const std::vector<NodeBlock> blocks = node_blocks(members);
  // The NICs a node's boundary traffic spreads over: the ring's (and tree's) rails, or NVLS-tree's
  // (one per NVLS head), at most the call's channels.
  const int64_t rails = choice.algorithm == NcclAlgorithm::NvlsTree ? topology.nvls_rails : topology.rails;
  const int64_t max_rails = std::max<int64_t>(1, std::min(rails, choice.channels));
  if (blocks.size() > 1) plan.rails = max_rails;
  const double bandwidth_s = choice.bandwidth_Bps > 0 ? choice.bytes / choice.bandwidth_Bps : 0;

  if (pattern == CommPattern::AllToAll) {
    PlanStage s;
    const double per_peer = message_bytes / static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t k = 1; k < n; ++k) {  // peers in NCCL's order: me+1, me+2, ...
        const int64_t j = (i + k) % n;
        const bool remote = members[static_cast<size_t>(i)].node != members[static_cast<size_t>(j)].node;
        s.flows.push_back({static_cast<int32_t>(i), static_cast<int32_t>(j), per_peer,
                           p2p_choice(topology, shape, per_peer, remote).bandwidth_Bps});
      }
    plan.stages.push_back(std::move(s));
    return plan;
  }

  switch (choice.algorithm) {
    case NcclAlgorithm::Tree:
    case NcclAlgorithm::NvlsTree: {
      PlanStage s;
      for (const NodeBlock& b : blocks) {
        if (choice.algorithm == NcclAlgorithm::NvlsTree) {
          shift_in_node(b, message_bytes, s);
        } else {
          for (size_t i = 0; i + 1 < b.ranks.size(); ++i) {
            s.flows.push_back({b.ranks[i], b.ranks[i + 1], message_bytes, 0});  // reduce up the chain
            s.flows.push_back({b.ranks[i + 1], b.ranks[i], message_bytes, 0});  // broadcast down
          }
        }
      }
      tree_inter_node(blocks, message_bytes, max_rails, s);
      cap(s, bandwidth_s, 1);
      plan.stages.push_back(std::move(s));
      return plan;
    }
    case NcclAlgorithm::Nvls: {
      PlanStage s;
      const double bytes = pattern == CommPattern::AllReduce ? message_bytes : static_cast<double>(n - 1) * message_bytes;
      for (const NodeBlock& b : blocks) shift_in_node(b, bytes, s);
      // The all-reduce kernel's three-stage chunk pipeline (nvls_pipeline.hpp), which NCCL's
      // cost model leaves out; all-gather and reduce-scatter run other kernels: NCCL's model.
      if (pattern == CommPattern::AllReduce && !choice.calibrated)  // a measurement includes it
        plan.bandwidth_stretch = nvls_pipeline_stretch(choice.bytes, choice.channels, topology.nvls.channels);
      cap(s, bandwidth_s * plan.bandwidth_stretch, 1);
      plan.stages.push_back(std::move(s));
      return plan;
    }
    case NcclAlgorithm::Pat: {
      const double total = static_cast<double>(n - 1) * message_bytes;
      for (int64_t d = 1; d < n; d *= 2) {
        PlanStage s;
        const double bytes = static_cast<double>(std::min(d, n - d)) * message_bytes;
        for (int64_t i = 0; i < n; ++i)
          s.flows.push_back({static_cast<int32_t>(i), static_cast<int32_t>((i + d) % n), bytes, 0});
        cap(s, bandwidth_s, bytes / total);
        plan.stages.push_back(std::move(s));
      }
      return plan;
    }
    default: break;  // Ring
  }

  const int64_t steps = collective::transfer_steps(pattern, n);
  const double step_bytes = collective::step_bytes(pattern, message_bytes, n);
  for (int64_t folded : ring_macro_steps(steps, max_macro_steps)) {
    PlanStage s;
    const double bytes = static_cast<double>(folded) * step_bytes;
    if (blocks.size() == 1) {
      const NodeBlock& b = blocks.front();
      for (size_t i = 0; i < b.ranks.size(); ++i) s.flows.push_back({b.ranks[i], b.ranks[(i + 1) % b.ranks.size()], bytes, 0});
    } else {
      for (size_t k = 0; k < blocks.size(); ++k) {
        const NodeBlock& b = blocks[k];
        for (size_t i = 0; i + 1 < b.ranks.size(); ++i) s.flows.push_back({b.ranks[i], b.ranks[i + 1], bytes, 0});
        rail_flows(b, blocks[(k + 1) % blocks.size()], bytes, max_rails, s);
      }
    }
    cap(s, bandwidth_s, static_cast<double>(folded) / static_cast<double>(steps));
    plan.stages.push_back(std::move(s));
  }
  return plan;
}

namespace {

std::vector<RankLocation> locations(std::span<const int32_t> ranks, const CommPlanContext& ctx) {
  std::vector<RankLocation> out;
  out.reserve(ranks.size());
  for (int32_t r : ranks) out.push_back(locate(*ctx.graph, *ctx.placement, r));
  return out;
}

}  // namespace

std::optional<CollectiveLayout> layout_class(std::span<const RankLocation> members) {
  std::map<int64_t, int64_t> per_node;
  std::set<int64_t> rails;
  for (const RankLocation& m : members) {
    ++per_node[m.node];
    rails.insert(m.rail);
  }
  if (per_node.size() <= 1) return CollectiveLayout::IntraNode;
  for (const auto& [node, n] : per_node)
    if (n > 1) return std::nullopt;
  return rails.size() == 1 ? CollectiveLayout::CrossNodeSameRail : CollectiveLayout::CrossNodeCrossRail;
}

CollectivePlan plan_comm_op(const Op& op, const ProcessGroup& group, const CommPlanContext& ctx) {
  const std::vector<RankLocation> members = locations(group.ranks, ctx);
  const CommShape shape = comm_shape(ctx.node, members);
  const auto n = static_cast<int64_t>(members.size());
  const double bytes = collective::nccl_tests_bytes(op.pattern, op.message_bytes, n);
  if (!ctx.nccl) {  // links only
    NcclTopology links;
    links.rails = 1;
    const NcclAlgorithm a = op.pattern == CommPattern::AllToAll ? NcclAlgorithm::Direct : NcclAlgorithm::Ring;
    CollectivePlan plan = plan_collective(op.pattern, op.message_bytes, members,
                                          {a, NcclProtocol::Simple, 0, 0, bytes, 1}, links, shape, ctx.max_macro_steps);
    if (a == NcclAlgorithm::Ring) plan.route_latency_steps = collective::transfer_steps(op.pattern, n);
    return plan;
  }
  const NcclTopology topology = nccl_topology(shape, ctx.settings);
  NcclChoice choice;
  if (op.pattern == CommPattern::AllToAll) {
    choice = p2p_choice(topology, shape, op.message_bytes / static_cast<double>(std::max<int64_t>(1, n)),
                        shape.nodes > 1);
    choice.bytes = bytes;
    choice.bandwidth_Bps = 0;  // per-flow p2p rates, not one bandwidth
  } else {
    const std::optional<NcclChoice> c = nccl_choose(topology, shape, op.pattern, bytes, ctx.settings);
    if (!c)
      throw InputError({{"software.nccl.algo",
                         std::string("leaves NCCL no algorithm for ") + to_string(op.pattern) + " on group " +
                             group.name + " (" + std::to_string(n) + " ranks on " + std::to_string(shape.nodes) +
                             " nodes)",
                         "NCCL fails a collective none of the allowed algorithms supports",
                         "allow ring (every collective has it)"}});
    choice = *c;
    // A calibration's measurement of this call's op and layout class replaces NCCL's model.
    if (ctx.calibrated) {
      if (const std::optional<CollectiveLayout> cls = layout_class(members)) {
        const double bus_bytes = bytes * collective::bus_bandwidth_factor(op.pattern, n);
        if (const auto t = ctx.calibrated(op.pattern, *cls, bus_bytes); t && t->second > 0) {
          choice.latency_s = t->first;
          choice.bandwidth_Bps = bytes / t->second;
          choice.calibrated = true;
        }
      }
    }
  }
  // A ring over many nodes (the DP groups of large jobs) runs as at most 2 macro-steps: its
  // thousands of steps are folded either way, and the flows per call set the simulation's cost.
  const int64_t macro_steps =
      shape.nodes > kManyNodes ? std::min<int64_t>(2, ctx.max_macro_steps) : ctx.max_macro_steps;
  return plan_collective(op.pattern, op.message_bytes, members, choice, topology, shape, macro_steps);
}

NcclChoice plan_send(double bytes, int64_t from_rank, int64_t to_rank, std::span<const int32_t> communicator,
                     const CommPlanContext& ctx) {
  if (!ctx.nccl) return {NcclAlgorithm::Direct, NcclProtocol::Simple, 0, 0, bytes, 1};
  const std::vector<int32_t> pair = {static_cast<int32_t>(from_rank), static_cast<int32_t>(to_rank)};
  const std::vector<RankLocation> members = locations(communicator.empty() ? std::span<const int32_t>(pair) : communicator, ctx);
  const CommShape shape = comm_shape(ctx.node, members);
  const NcclTopology topology = nccl_topology(shape, ctx.settings);
  const bool remote = locate(*ctx.graph, *ctx.placement, from_rank).node != locate(*ctx.graph, *ctx.placement, to_rank).node;
  return p2p_choice(topology, shape, bytes, remote);
}

std::string describe(const CollectivePlan& p) {
  char buf[160];
  size_t flows = 0;
  for (const PlanStage& s : p.stages) flows += s.flows.size();
  std::snprintf(buf, sizeof buf, "%s/%s, %lld ch, %zu stage%s, %zu flows", to_string(p.choice.algorithm),
                to_string(p.choice.protocol), static_cast<long long>(p.choice.channels), p.stages.size(),
                p.stages.size() == 1 ? "" : "s", flows);
  std::string s = buf;
  if (p.rails > 0) s += ", " + std::to_string(p.rails) + " rails";
  if (p.choice.calibrated) s += ", calibrated time";
  return s;
}

}  // namespace hcpsim
