#include "cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/diagnostics.hpp"
#include "scenario/presets.hpp"
#include "cli/collective_command.hpp"
#include "scenario/parse.hpp"
#include "cli/builtin_study.hpp"
#include "cli/calibrate_commands.hpp"
#include "cli/commands.hpp"
#include "common/output_file.hpp"

namespace hcpsim {

void print_diagnostics(const InputError& e, const std::string& source) {
  for (const auto& d : e.diagnostics()) std::cerr << d.str() << "\n";
  std::cerr << "hcpsim: " << e.diagnostics().size() << " error" << (e.diagnostics().size() == 1 ? "" : "s")
            << (source.empty() ? "" : " in " + source) << "\n";
}

namespace {

// The scenarios a command acts on: the file given, or the built-in study.
std::vector<NamedScenario> load_inputs(const std::string& file) {
  std::vector<NamedScenario> out;
  if (!file.empty()) {
    out.push_back({file, load_scenario_file(file)});
    return out;
  }
  for (const auto& b : builtin_study()) {
    ParseOptions opt;
    opt.source_name = "<built-in " + b.file_name + ">";
    opt.default_name = b.file_name;
    out.push_back({opt.source_name, parse_scenario_text(b.json_text, opt)});
  }
  return out;
}

int list_presets() {
  std::cout << "# model presets\n";
  for (const auto& p : model_presets()) std::cout << "  " << p.name << "  -- " << p.source << "\n";
  std::cout << "# cluster presets (per node)\n";
  for (const auto& p : cluster_presets()) std::cout << "  " << p.name << "  -- " << p.source << "\n";
  return kExitOk;
}

}  // namespace

int cli_main(int argc, char** argv) {
  CLI::App app{
      "hcpsim: simulate one training step of context-parallel attention on a modelled GPU cluster.\n"
      "With no scenario it runs the built-in seed decision study (Llama-3.1-8B, 128K, 4 x DGX-H100)."};
  app.set_version_flag("--version", HCPSIM_VERSION);
  CliOptions opt;
  app.add_option("scenario", opt.scenario_file, "Scenario JSON file (default: the built-in study)");
  app.add_flag("--validate", opt.validate_only, "Validate the scenario and exit (0 valid, 2 invalid)");
  app.add_flag("--dump-workload", opt.dump_workload, "Print every rank's operation graph for one layer");
  app.add_flag("--show-placement", opt.show_placement, "Print where each rank runs and its groups");
  app.add_option("--format", opt.format, "Output format")->check(CLI::IsMember({"text", "json"}));
  app.add_option("--ranks", opt.ranks, "Ranks to show with --dump-workload (default: rank 0)");
  app.add_option("-o,--out", opt.out_file, "Write the output to this file (atomically) instead of stdout");
  app.add_option("--trace", opt.trace_file, "Write a Chrome/Perfetto trace of the simulation (ui.perfetto.dev)");
  app.add_flag("--reproducible", opt.reproducible,
               "Leave the host wall time out of the output: the same input then gives byte-identical output");
  auto* presets = app.add_subcommand("presets", "List the built-in model and cluster presets with their sources");
  auto calibrate = add_calibrate_commands(app);  // fit, check
  const auto sweep = add_sweep_commands(app);
  auto collective = add_collective_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitOk : kExitInvalidInput;
  }
  if (*presets) return list_presets();
  if (calibrate->active()) return calibrate->run();
  if (collective->active()) return collective->run();
  if (const int code = run_sweep_commands(*sweep); code >= 0) return code;

  const std::string source = opt.scenario_file.empty() ? "the built-in study" : opt.scenario_file;
  try {
    auto inputs = load_inputs(opt.scenario_file);
    calibrate->apply_to(inputs);
    for (auto& in : inputs) check_cost_params(in.scenario);
    if (!opt.out_file.empty()) check_writable(opt.out_file);
    if (!opt.trace_file.empty()) check_writable(opt.trace_file);
    if (opt.validate_only) return validate_command(inputs, opt);
    if (opt.dump_workload) return dump_workload_command(inputs, opt);
    if (opt.show_placement) return placement_command(inputs, opt);
    return run_command(inputs, opt);
  } catch (const InputError& e) {
    print_diagnostics(e, source);
    return kExitInvalidInput;
  } catch (const OutputFileError& e) {
    std::cerr << "error: --out/--trace: " << e.what() << " (output files must be writable) \u2014 check that the folder "
              << "exists and is writable\n";
    return kExitInvalidInput;
  } catch (const std::exception& e) {
    std::cerr << "hcpsim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

}  // namespace hcpsim
