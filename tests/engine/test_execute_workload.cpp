// Executor on the real workload: build_workload's layer and step programs for
// every cp_comm_type run to the end without deadlock, with sane records.
#include <catch2/catch.hpp>

#include "workload/builder.hpp"
#include "tests/workload/workload_helpers.hpp"
#include "tests/engine/execute_harness.hpp"

using namespace hcpsim;
using namespace hcpsim::test;

namespace {

// Placeholder kernel times for this test only: FLOPs at 1 PFLOP/s plus bytes at 3 TB/s.
std::vector<std::vector<double>> placeholder_times(const std::vector<RankProgram>& programs) {
  std::vector<std::vector<double>> t;
  for (const RankProgram& p : programs) {
    t.emplace_back();
    for (const Op& op : p.ops) t.back().push_back(op.kind == OpKind::Compute ? op.flops / 1e15 + op.bytes / 3e12 : 0);
  }
  return t;
}

}  // namespace

TEST_CASE("execute: the workload of every cp_comm_type runs on 4 GPUs", "[simulator][simgrid]") {
  struct Case {
    CpCommType type;
    std::vector<int64_t> hcp;
  };
  for (const Case& c : {Case{CpCommType::P2P, {}}, Case{CpCommType::AllGather, {}}, Case{CpCommType::A2A, {}},
                        Case{CpCommType::A2AP2P, {2, 2}}}) {
    INFO(to_string(c.type));
    Scenario sc = make_scenario({.cp = 4, .type = c.type, .hcp = c.hcp, .seq = 8192, .kind = WorkloadKind::Step});
    sc.model.num_layers = 2;
    const Workload w = build_workload(sc);
    REQUIRE(!w.step.empty());
    const auto layer_s = placeholder_times(w.layer), step_s = placeholder_times(w.step);
    ExecuteInput in;
    in.graph = build_cluster_graph(make_cluster({.nodes = 1, .gpus_per_node = 4, .nics_per_node = 0}));
    in.layout = {.cp = 4};
    in.placement = megatron_placement(in.graph, in.layout);
    in.phases = {{"layer", w.layer, w.groups, layer_s}, {"step", w.step, w.groups, step_s}};
    const Timeline t = simulate(in);

    size_t ops = 0;
    for (const auto* programs : {&w.layer, &w.step})
      for (const RankProgram& p : *programs) ops += p.ops.size();
    REQUIRE(t.ops.size() == ops);  // every op of every rank has a record
    for (const OpRecord& o : t.ops) {
      REQUIRE(o.ready_s >= t.phase_start_s[static_cast<size_t>(o.phase)]);
      REQUIRE(o.start_s >= o.ready_s);
      REQUIRE(o.end_s >= o.start_s);
      REQUIRE(o.end_s <= t.phase_end_s[static_cast<size_t>(o.phase)]);
    }
    REQUIRE(t.phase_start_s[1] == t.phase_end_s[0]);
    REQUIRE(!t.links.empty());
    REQUIRE(t.activities > 0);
  }
}
