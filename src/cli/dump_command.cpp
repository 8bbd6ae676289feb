// `hcpsim --dump-workload FILE [--ranks R...] [--format json]`: every op of the
// chosen ranks for one layer (and the step-level ops), with totals.
#include <nlohmann/json.hpp>

#include "common/diagnostics.hpp"
#include "workload/builder.hpp"
#include "cost/cost_model.hpp"
#include "run/comm_routes.hpp"
#include "report/workload_dump.hpp"
#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "report/scenario_summary.hpp"
#include "scenario/scenario_json.hpp"

namespace hcpsim {

namespace {

WorkloadDumpOptions dump_options(const Scenario& sc, const CliOptions& opt) {
  WorkloadDumpOptions o;
  if (opt.ranks.empty()) return o;
  o.ranks.clear();
  const int64_t world = sc.cluster.world_size();
  for (int r : opt.ranks) {
    if (r < 0 || r >= world)
      throw InputError({{"--ranks", "rank " + std::to_string(r) + " does not exist",
                            "0 <= rank < world size " + std::to_string(world),
                            "pick ranks between 0 and " + std::to_string(world - 1)}});
    o.ranks.push_back(r);
  }
  return o;
}

}  // namespace

// The cluster the scenario names, as the simulation plans its communication on it.
CommRouteTable routes_for(const Scenario& sc, const Workload& w, const WorkloadDumpOptions& o) {
  return comm_routes(w, comm_fabric_for(sc, cost_model_for(sc).params()), o.ranks);
}

int dump_workload_command(const std::vector<NamedScenario>& inputs, const CliOptions& opt) {
  if (opt.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& in : inputs) {
      const Workload w = build_workload(in.scenario);
      WorkloadDumpOptions o = dump_options(in.scenario, opt);
      const CommRouteTable routes = routes_for(in.scenario, w, o);
      o.routes = &routes;
      out.push_back({{"source", in.source},
                     {"parallel", parallel_to_json(in.scenario)},
                     {"workload", workload_to_json(w, in.scenario, o)}});
    }
    emit(opt, (inputs.size() == 1 ? out[0] : out).dump(2) + "\n");
    return kExitOk;
  }
  std::string text;
  for (const auto& in : inputs) {
    const Workload w = build_workload(in.scenario);
    WorkloadDumpOptions o = dump_options(in.scenario, opt);
    const CommRouteTable routes = routes_for(in.scenario, w, o);
    o.routes = &routes;
    text += format_scenario_summary(in.scenario);
    text += dump_workload_text(w, in.scenario, o) + "\n";
  }
  emit(opt, text);
  return kExitOk;
}

}  // namespace hcpsim
