// What one collective call becomes on the fabric: NCCL's choice (tuner.hpp) turned into a few
// aggregated flows between the communicator's ranks, stage after stage. The engine runs the
// stages (every flow of a stage at once, the next stage when a rank's flows are done) and
// waits out NCCL's latency; the reports print the plan. Pure: no SimGrid.
//
// Flows per algorithm (ranks grouped by node in group order; a node's *rail ranks* are its first
// rank on each distinct NIC; R = the rails two nodes share, at most the ring's search channels):
//   ring (AG, RS: n-1 steps; AR: 2(n-1) steps of 1/n of the buffer), as at most K macro-steps:
//       inside a node each rank sends the step to the next rank of the node; between consecutive
//       nodes (cyclically) rail rank j sends 1/R of the step to the next node's rail rank j, so a
//       node's boundary traffic leaves through R NICs (NCCL's channels over rails, rail-aligned).
//   tree (AR): one pipelined stage: inside a node a chain up and down (the whole buffer each
//       way); between nodes NCCL's double binary tree, each tree half the buffer up (reduce) and
//       down (broadcast) its edges, split over R rails.
//   nvls (one node): one stage, each rank to the next (the switch's multicast loads every GPU's
//       NVLink with the buffer: AR both ways, AG/RS (n-1) shards).
//   nvls_tree (AR, nodes > 1): nvls inside each node and the tree's inter-node flows.
//   pat (AG, RS, one rank per node): stage s sends 2^s shards to the rank 2^s away.
//   all-to-all: one stage, 1/n of the buffer from every rank to every other (NCCL's p2p).
// Rate caps: a flow may not move faster than NCCL's modelled bandwidth allows, so on an idle
// fabric the call takes NCCL's own time (latency + bytes / bandwidth); shared or thinner links
// (SimGrid's sharing) make it slower. All-to-all flows take the p2p channels' rate.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <span>
#include <string>
#include <vector>

#include "nccl/tuner.hpp"
#include "topology/placement.hpp"
#include "workload/workload.hpp"

namespace hcpsim {

struct PlannedFlow {
  int32_t from = 0, to = 0;   // positions in the group
  double bytes = 0;
  double rate_cap_Bps = 0;    // 0: no cap
};

struct PlanStage {
  std::vector<PlannedFlow> flows;
};

struct CollectivePlan {
  NcclChoice choice;
  std::vector<PlanStage> stages;
  int64_t rails = 0;          // NICs per node its inter-node flows leave through (0: one node)
  // What the kernel's own pipeline makes of NCCL's bandwidth term (NVLS all-reduce:
  // nvls_pipeline.hpp; 1 elsewhere): on an idle fabric the call takes
  // choice.latency_s + bandwidth_stretch x choice.bytes / choice.bandwidth_Bps.
  double bandwidth_stretch = 1;
  // Links only (no NCCL latency): the ring steps the stages stand for; the steps folded into
  // macro-steps each still cost the longest route latency of a stage. 0 under the NCCL model,
  // whose latency covers every step.
  int64_t route_latency_steps = 0;
};

// Ring steps per macro-step when `steps` ring steps run as at most `max_macro_steps` (>= 1)
// transfers: as even as possible, larger ones first.
std::vector<int64_t> ring_macro_steps(int64_t steps, int64_t max_macro_steps);

// The plan of a collective (AllGather, ReduceScatter, AllReduce, AllToAll) carrying
// `message_bytes` (workload.hpp's convention) among `members` (group order), for `choice`
// (nccl_choose; for AllToAll any NcclChoice, its p2p rates come from `topology`).
CollectivePlan plan_collective(CommPattern pattern, double message_bytes, std::span<const RankLocation> members,
                               const NcclChoice& choice, const NcclTopology& topology, const CommShape& shape,
                               int64_t max_macro_steps);

// Rings spanning more nodes than this run as at most 2 macro-steps (plan_comm_op).
inline constexpr int64_t kManyNodes = 16;

// Everything above for one comm op of `group`: the communicator's shape, NCCL's topology and
// choice, the plan. Throws InputError at software.nccl.algo when the settings leave NCCL no
// algorithm for it (as NCCL >= 2.24 fails the call).
struct CommPlanContext {
  const ClusterGraph* graph = nullptr;
  const Placement* placement = nullptr;
  NcclNode node;
  NcclSettings settings;
  int64_t max_macro_steps = 16;
  // false: links only, for tests of the engine itself: rings in group order over one rail, no
  // rate caps and no latency beyond the routes' (what the fabric alone gives).
  bool nccl = true;
  // A calibration's measured time for (op, layout class, bus bytes), split into (latency_s,
  // bandwidth term s); nullopt where it has none. Where it answers, an all-gather,
  // reduce-scatter or all-reduce keeps NCCL's algorithm, protocol and flows but runs at the
  // measured time instead of NCCL's cost model (docs/nccl.md §6). Unset: NCCL's model.
  std::function<std::optional<std::pair<double, double>>(CommPattern, CollectiveLayout, double)> calibrated;
};

// The layout class hcpcal measures that a communicator is: one node (intra-node), one rank per
// node on one rail (cross-node-same-rail) or on several (cross-node-cross-rail); nullopt for
// several ranks per node on several nodes.
std::optional<CollectiveLayout> layout_class(std::span<const RankLocation> members);
CollectivePlan plan_comm_op(const Op& op, const ProcessGroup& group, const CommPlanContext& ctx);

// A SendRecv's send to `to_rank` from `from_rank` in `group` (the rank pair alone when the
// group is unknown): NCCL's p2p choice for it.
NcclChoice plan_send(double bytes, int64_t from_rank, int64_t to_rank, std::span<const int32_t> communicator,
                     const CommPlanContext& ctx);

// "ring/Simple, 16 ch, 8 rails" style, for dumps and traces.
std::string describe(const CollectivePlan& p);

}  // namespace hcpsim
