#include "run/comm_routes.hpp"

#include <algorithm>

#include "scenario/rank_layout.hpp"

namespace hcpsim {

CommPlanContext CommFabric::context(int64_t max_macro_steps) const {
  CommPlanContext c;
  c.graph = &graph;
  c.placement = &placement;
  c.node = node;
  c.settings = settings;
  c.max_macro_steps = max_macro_steps;
  c.calibrated = calibrated();
  return c;
}

std::function<std::optional<std::pair<double, double>>(CommPattern, CollectiveLayout, double)> CommFabric::calibrated()
    const {
  if (collectives.empty()) return {};
  return [lines = collectives](CommPattern op, CollectiveLayout layout, double bus_bytes)
             -> std::optional<std::pair<double, double>> {
    for (const CalibratedCollective& c : lines)
      if (c.op == op && c.layout == layout) return collective_latency_and_bandwidth_s(c, bus_bytes);
    return std::nullopt;
  };
}

CommFabric comm_fabric_for(const Scenario& sc, const CostParams& params) {
  TopologyOptions topology;
  topology.pxn = sc.software.nccl.pxn;  // NCCL relays cross-rail sends over NVLink (PXN) unless disabled
  CommFabric f{build_cluster_graph(effective_cluster(sc.cluster, params), topology), {}, rank_layout_of(sc.parallel),
               nccl_node(sc.cluster), sc.software.nccl, params.collectives};
  f.placement = megatron_placement(f.graph, f.layout);
  return f;
}

CommFabric comm_fabric_for(const ClusterSpec& cluster, const NcclSettings& settings, const CostParams& params) {
  TopologyOptions topology;
  topology.pxn = settings.pxn;
  CommFabric f{build_cluster_graph(effective_cluster(cluster, params), topology), {},
               RankLayout{.dp = cluster.world_size()}, nccl_node(cluster), settings, params.collectives};
  f.placement = megatron_placement(f.graph, f.layout);
  return f;
}

namespace {

CommRoute route_of(const CollectivePlan& p) {
  CommRoute r;
  r.algorithm = to_string(p.choice.algorithm);
  r.protocol = to_string(p.choice.protocol);
  r.channels = p.choice.channels;
  r.stages = static_cast<int64_t>(p.stages.size());
  for (const PlanStage& s : p.stages) r.flows += static_cast<int64_t>(s.flows.size());
  r.rails = p.rails;
  r.nccl_time_s = p.choice.bandwidth_Bps > 0 ? p.choice.time_s() : 0;
  r.idle_time_s = p.choice.bandwidth_Bps > 0
                      ? p.choice.latency_s + p.bandwidth_stretch * p.choice.bytes / p.choice.bandwidth_Bps
                      : 0;
  r.summary = describe(p);
  return r;
}

CommRoute route_of_send(const NcclChoice& c) {
  CommRoute r;
  r.algorithm = to_string(c.algorithm);
  r.protocol = to_string(c.protocol);
  r.channels = c.channels;
  r.stages = 1;
  r.flows = 1;
  r.send_rate_Bps = c.bandwidth_Bps;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s/%s, %lld ch, %.1f GB/s", r.algorithm.c_str(), r.protocol.c_str(),
                static_cast<long long>(c.channels), c.bandwidth_Bps / 1e9);
  r.summary = buf;
  return r;
}

}  // namespace

nlohmann::json comm_route_json(const CommRoute& r) {
  nlohmann::json j = {{"algorithm", r.algorithm}, {"protocol", r.protocol}, {"channels", r.channels},
                      {"stages", r.stages},       {"flows", r.flows},       {"rails", r.rails}};
  if (r.send_rate_Bps > 0) j["send_rate_Bps"] = r.send_rate_Bps;
  else if (r.algorithm == "p2p") {  // all-to-all: NCCL's tuner has no model of p2p, nor one rate
    j["nccl_time_s"] = nullptr;
    j["idle_time_s"] = nullptr;
  } else {
    j["nccl_time_s"] = r.nccl_time_s;
    j["idle_time_s"] = r.idle_time_s;
  }
  j["summary"] = r.summary;
  return j;
}

CommRouteTable comm_routes(const Workload& w, const CommFabric& fabric, std::span<const int32_t> ranks) {
  const CommPlanContext ctx = fabric.context();
  CommRouteTable out;
  std::map<std::tuple<int32_t, CommPattern, double>, CommRoute> collectives;
  std::map<std::tuple<int32_t, double, int32_t, int32_t>, CommRoute> sends;
  const std::vector<RankProgram>* phases[] = {&w.layer, &w.step, &w.pipeline};
  for (int phase = 0; phase < 3; ++phase) {
    const std::vector<RankProgram>& programs = *phases[phase];
    for (const RankProgram& p : programs) {
      if (!ranks.empty() && std::find(ranks.begin(), ranks.end(), p.rank) == ranks.end()) continue;
      for (const Op& op : p.ops) {
        if (op.kind != OpKind::Comm) continue;
        const auto key = std::tuple{phase, p.rank, op.id};
        if (op.pattern == CommPattern::SendRecv && op.userbuffers) {  // the copy engines, not NCCL
          if (op.send_peer < 0) continue;
          CommRoute r;
          r.algorithm = "copy_engine";
          r.protocol = "userbuffers";
          r.stages = r.flows = 1;
          r.summary = "userbuffers copy engine, at the links' rate";
          out.emplace(key, r);
          continue;
        }
        if (op.pattern == CommPattern::SendRecv) {
          if (op.send_peer < 0) continue;
          const bool known = op.group >= 0 && static_cast<size_t>(op.group) < w.groups.size();
          const auto skey = std::tuple{op.group, op.message_bytes, p.rank, op.send_peer};
          auto it = sends.find(skey);
          if (it == sends.end()) {
            std::span<const int32_t> communicator;
            if (known) communicator = w.groups[static_cast<size_t>(op.group)].ranks;
            it = sends.emplace(skey, route_of_send(plan_send(op.message_bytes, p.rank, op.send_peer, communicator, ctx)))
                     .first;
          }
          out.emplace(key, it->second);
          continue;
        }
        const auto ckey = std::tuple{op.group, op.pattern, op.message_bytes};
        auto it = collectives.find(ckey);
        if (it == collectives.end())
          it = collectives.emplace(ckey, route_of(plan_comm_op(op, w.groups.at(static_cast<size_t>(op.group)), ctx)))
                   .first;
        CommRoute r = it->second;
        if (op.userbuffers)  // timed as NCCL's plan, run by userbuffers' kernels on SMs of their own
          r.summary = "userbuffers, timed as " + r.summary;
        out.emplace(key, std::move(r));
      }
    }
  }
  return out;
}

}  // namespace hcpsim
