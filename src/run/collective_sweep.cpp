#include "run/collective_sweep.hpp"

#include <algorithm>
#include <cassert>

#include "engine/execute.hpp"
#include "rules/collective.hpp"

namespace hcpsim {

std::vector<CollectivePoint> simulate_collective_sweep(const Scenario& sc, CommPattern pattern,
                                                       const std::vector<double>& sizes_bytes, int64_t ranks) {
  const int64_t world = sc.cluster.world_size();
  const int64_t n = ranks > 0 ? std::min(ranks, world) : world;
  std::vector<int32_t> members;
  for (int64_t r = 0; r < n; ++r) members.push_back(static_cast<int32_t>(r));
  return simulate_collective_sweep(sc.cluster, sc.software.nccl, cost_params_for(sc), pattern, sizes_bytes, members);
}

std::vector<CollectivePoint> simulate_collective_sweep(const ClusterSpec& cluster, const NcclSettings& nccl,
                                                       const CostParams& params, CommPattern pattern,
                                                       const std::vector<double>& sizes_bytes,
                                                       const std::vector<int32_t>& members) {
  const int64_t world = cluster.world_size();
  const auto n = static_cast<int64_t>(members.size());
  assert(n >= 2 || pattern != CommPattern::SendRecv);
  // The calls as one rank program each, for NCCL's plan of every size (the route table's key is
  // (phase 0, rank, size index)).
  Workload w;
  ProcessGroup comm;  // the communicator
  comm.name = "world";
  comm.ranks = members;
  w.groups.push_back(comm);
  // message_bytes (the workload's convention) of an nccl-tests size: a shard for AG/RS.
  const bool sharded = pattern == CommPattern::AllGather || pattern == CommPattern::ReduceScatter;
  std::vector<int64_t> position(static_cast<size_t>(world), -1);
  for (int64_t i = 0; i < n; ++i) position.at(static_cast<size_t>(members[static_cast<size_t>(i)])) = i;
  const auto call = [&](int64_t me, size_t i, int32_t id) {
    Op op;
    op.id = id;
    op.kind = OpKind::Comm;
    op.stream = Stream::NcclDp;
    op.label = std::string(to_string(pattern)) + "." + std::to_string(i);
    op.pattern = pattern;
    op.group = 0;
    op.tag = static_cast<int64_t>(i) + 1;
    op.message_bytes = sharded ? sizes_bytes[i] / static_cast<double>(n) : sizes_bytes[i];
    if (pattern == CommPattern::SendRecv) {
      op.send_peer = members[static_cast<size_t>((me + 1) % n)];
      op.recv_peer = members[static_cast<size_t>((me + n - 1) % n)];
      op.recv_bytes = sizes_bytes[i];
    }
    return op;
  };
  // nccl-tests times each size after a barrier (common.cu's BenchTime: Barrier, then the timed
  // calls), so each size is its own phase of the simulation, and phases are separated by a
  // barrier. Without it a sendrecv ring's fast pairs run ahead into the next size, and the next
  // call's span takes in their wait for the slowest pair (two nodes, 64 MiB: 1.42 ms alone, 1.69 ms
  // after a ladder from 1 MiB).
  std::vector<std::vector<RankProgram>> calls(sizes_bytes.size());
  std::vector<std::vector<std::vector<double>>> no_compute(sizes_bytes.size());  // one zero per op
  for (int64_t r = 0; r < world; ++r) {
    RankProgram p;
    p.rank = static_cast<int32_t>(r);
    const int64_t me = position[static_cast<size_t>(r)];
    for (size_t i = 0; i < sizes_bytes.size(); ++i) {
      RankProgram alone;
      alone.rank = p.rank;
      if (me >= 0) {
        Op op = call(me, i, static_cast<int32_t>(i));
        if (i > 0) op.deps = {static_cast<int32_t>(i) - 1};
        p.ops.push_back(op);
        op.id = 0;
        op.deps.clear();
        alone.ops.push_back(std::move(op));
      }
      no_compute[i].emplace_back(alone.ops.size(), 0.0);
      calls[i].push_back(std::move(alone));
    }
    w.layer.push_back(std::move(p));
  }
  CommFabric fabric = comm_fabric_for(cluster, nccl, params);
  const CommRouteTable routes = comm_routes(w, fabric, std::vector<int32_t>{members.front()});
  ExecuteInput in;
  in.calibrated_collectives = fabric.calibrated();
  in.graph = std::move(fabric.graph);
  in.placement = std::move(fabric.placement);
  in.layout = fabric.layout;
  in.nccl_node = fabric.node;
  in.nccl = fabric.settings;
  in.options.ring_max_macro_steps = kRingMaxMacroSteps;
  in.options.interference = params.interference;
  for (size_t i = 0; i < sizes_bytes.size(); ++i)
    in.phases.push_back({"collective." + std::to_string(i), calls[i], w.groups, no_compute[i]});
  const Timeline t = execute_programs(in);

  // Per call: from the first start to the last end over the members (the call's span).
  std::vector<double> begin(sizes_bytes.size(), 1e300), end(sizes_bytes.size(), 0);
  for (const OpRecord& r : t.ops) {
    const auto i = static_cast<size_t>(r.phase);
    begin[i] = std::min(begin[i], r.start_s);
    end[i] = std::max(end[i], r.end_s);
  }
  std::vector<CollectivePoint> out;
  for (size_t i = 0; i < sizes_bytes.size(); ++i) {
    CollectivePoint p;
    p.size_bytes = sizes_bytes[i];
    p.time_s = end[i] - begin[i];
    p.algbw_Bps = p.time_s > 0 ? p.size_bytes / p.time_s : 0;
    p.busbw_Bps = p.algbw_Bps * collective::bus_bandwidth_factor(pattern, n);
    p.route = routes.at({0, members.front(), static_cast<int32_t>(i)});
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace hcpsim
