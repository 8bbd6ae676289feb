// `hcpsim --validate FILE`: parse and check only.
#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/cli.hpp"
#include "cost/cost_model.hpp"
#include "cli/commands.hpp"
#include "common/output_file.hpp"
#include "scenario/scenario_json.hpp"

namespace hcpsim {

void check_cost_params(Scenario& sc) {
  for (const std::string& w : cost_params_for(sc).warnings) {
    if (std::find(sc.warnings.begin(), sc.warnings.end(), w) != sc.warnings.end()) continue;
    std::cerr << "warning: " << w << "\n";
    sc.warnings.push_back(w);
  }
}

void emit(const CliOptions& opt, const std::string& text) {
  if (opt.out_file.empty()) {
    std::cout << text << std::flush;
    return;
  }
  write_file_atomically(opt.out_file, text);
}

int validate_command(const std::vector<NamedScenario>& inputs, const CliOptions& opt) {
  // Reaching here means every input parsed and validated (errors throw earlier).
  if (opt.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& in : inputs)
      out.push_back({{"source", in.source}, {"valid", true}, {"warnings", in.scenario.warnings},
                     {"parallel", parallel_to_json(in.scenario)}});
    emit(opt, (inputs.size() == 1 ? out[0] : out).dump(2) + "\n");
    return kExitOk;
  }
  std::string text;
  for (const auto& in : inputs) {
    text += "valid: " + in.source + " (" + in.scenario.name + ")\n";
    for (const auto& w : in.scenario.warnings) text += "  warning: " + w + "\n";
  }
  emit(opt, text);
  return kExitOk;
}

}  // namespace hcpsim
