// `hcpsim [FILE]`: the main job. Until the step simulation lands this prints the
// validated scenario, its per-GPU memory and its workload summary.
#include <nlohmann/json.hpp>

#include "model/memory.hpp"
#include "simulator/cli.hpp"
#include "simulator/cli_commands.hpp"
#include "simulator/report_memory.hpp"
#include "simulator/report_scenario.hpp"

namespace hcpsim {

int run_command(const std::vector<NamedScenario>& inputs, const CliOptions& opt) {
  if (opt.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& in : inputs) {
      const MemoryEstimate mem = estimate_memory(in.scenario);
      out.push_back({{"source", in.source},
                     {"valid", true},
                     {"warnings", in.scenario.warnings},
                     {"parallel", parallel_to_json(in.scenario)},
                     {"memory", memory_to_json(mem)},
                     {"scenario", scenario_to_json(in.scenario)}});
    }
    emit(opt, (inputs.size() == 1 ? out[0] : out).dump(2) + "\n");
    return kExitOk;
  }
  std::string text;
  for (const auto& in : inputs) {
    text += format_scenario_summary(in.scenario);
    text += format_memory(estimate_memory(in.scenario)) + "\n";
  }
  emit(opt, text);
  return kExitOk;
}

}  // namespace hcpsim
