// How the comm ops of a workload run on a scenario's cluster: NCCL's algorithm, protocol and
// channels for each call and the flows it becomes (nccl/flow_plan.hpp), for --dump-workload and
// the trace. The simulation plans its calls through the same CommFabric, so what these print is
// what ran.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <tuple>

#include <nlohmann/json.hpp>

#include "cost/cost_model.hpp"
#include "nccl/flow_plan.hpp"
#include "scenario/scenario.hpp"
#include "topology/cluster_graph.hpp"
#include "topology/placement.hpp"
#include "workload/workload.hpp"

namespace hcpsim {

// The cluster as the communication sees it: the graph at the cost model's achieved link rates,
// Megatron's placement, the node at line rates as NCCL's search sees it, software.nccl.
// Ring macro-steps at most (nccl/flow_plan.hpp): NCCL's ring is a pipeline whose latency the
// plan adds explicitly and whose stages carry NCCL's bandwidth caps, so 4 stages give the same
// layer and step spans as 16 at a quarter of the flows (bench/RESULTS.md).
constexpr int kRingMaxMacroSteps = 4;

struct CommFabric {
  ClusterGraph graph;
  Placement placement;
  RankLayout layout;
  NcclNode node;
  NcclSettings settings;
  std::vector<CalibratedCollective> collectives;  // a calibration's (CostParams::collectives)
  // (latency, bandwidth term) of a call the calibration measured (CommPlanContext::calibrated);
  // empty when it has no collectives. Copies `collectives`.
  std::function<std::optional<std::pair<double, double>>(CommPattern, CollectiveLayout, double)> calibrated() const;
  // Points into this object: keep it alive (and unmoved) while the context is used.
  CommPlanContext context(int64_t max_macro_steps = kRingMaxMacroSteps) const;
};
CommFabric comm_fabric_for(const Scenario& sc, const CostParams& params);
// The same for a cluster alone: ranks placed data-parallel (rank r on GPU r), as nccl-tests runs.
CommFabric comm_fabric_for(const ClusterSpec& cluster, const NcclSettings& settings, const CostParams& params);

struct CommRoute {
  std::string algorithm;      // ring, tree, nvls, nvls_tree, pat, p2p (send/recv, all-to-all)
  std::string protocol;       // LL, LL128, Simple
  int64_t channels = 0;       // CTAs of the call (per peer for send/recv and all-to-all)
  int64_t stages = 0, flows = 0, rails = 0;
  double nccl_time_s = 0;     // NCCL's own cost model of the call (what its tuner compares; 0 for p2p, null in JSON)
  double idle_time_s = 0;     // the call alone on an idle fabric, as hcpsim runs it (0 for p2p)
  double send_rate_Bps = 0;   // send/recv: the channels' rate cap
  std::string summary;        // "ring/Simple, 16 ch, 2 stages, 30 flows, 8 rails"
};

// {"algorithm", "protocol", "channels", "stages", "flows", "rails", "nccl_time_s", "idle_time_s" |
//  "send_rate_Bps", "summary"}
nlohmann::json comm_route_json(const CommRoute& r);

// (phase: 0 layer, 1 step; rank; op id) -> route.
using CommRouteTable = std::map<std::tuple<int, int32_t, int32_t>, CommRoute>;

// Routes of every comm op of `ranks` (empty: every rank), equal calls planned once.
CommRouteTable comm_routes(const Workload& w, const CommFabric& fabric, std::span<const int32_t> ranks = {});

}  // namespace hcpsim
