// `hcpsim --show-placement FILE`: where every rank runs and which groups it is in.
#include "scenario/rank_layout.hpp"
#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "report/scenario_summary.hpp"
#include "topology/cluster_graph.hpp"
#include "topology/placement.hpp"

namespace hcpsim {

int placement_command(const std::vector<NamedScenario>& inputs, const CliOptions& opt) {
  std::string text;
  for (const auto& in : inputs) {
    const Scenario& sc = in.scenario;
    const ClusterGraph graph = build_cluster_graph(sc.cluster);
    const RankLayout layout = rank_layout_of(sc.parallel);
    const Placement placement = megatron_placement(graph, layout);
    text += format_scenario_summary(sc);
    text += format_placement(graph, placement, layout, sc.parallel.a2a_size()) + "\n";
  }
  emit(opt, text);
  return kExitOk;
}

}  // namespace hcpsim
