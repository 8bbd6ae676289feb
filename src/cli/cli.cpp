#include "cli/cli.hpp"

#include <filesystem>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <new>
#include <sstream>
#include <nlohmann/json.hpp>

#include "common/diagnostics.hpp"
#include "common/json_reader.hpp"
#include "scenario/presets.hpp"
#include "cli/collective_command.hpp"
#include "scenario/parse.hpp"
#include "cli/builtin_study.hpp"
#include "cli/calibrate_commands.hpp"
#include "cli/commands.hpp"
#include "common/output_file.hpp"

namespace hcpsim {

namespace {
void print_errors_json(const std::vector<Diagnostic>& errors, const std::string& source) {
  nlohmann::json list = nlohmann::json::array();
  for (const Diagnostic& d : errors) list.push_back({{"path", d.path}, {"what", d.what}, {"rule", d.rule}, {"fix", d.fix}});
  // Bytes that are not UTF-8 (a mistyped name echoed back) become U+FFFD rather than an exception here.
  std::cout << nlohmann::json{{"source", source}, {"valid", false}, {"errors", list}}.dump(
                   2, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n"
            << std::flush;
}

// Every flag of one command (a subcommand's, or the run's own), for a did-you-mean.
std::vector<std::string> flag_names(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::Option* o : command.get_options())
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
  return names;
}

// An error of the argument parser (CLI11), whose message is its own text: "--flag: what" takes the
// flag as the path; an argument not expected is the path itself (its flag where it has one: CLI11
// lists the extra arguments last first), with the nearest flag of the command (`flags`) as the fix;
// any other message names the flag it mentions, or else `command`.
Diagnostic parser_error_diagnostic(const std::string& message, const std::vector<std::string>& flags,
                                   const std::string& command) {
  Diagnostic d;
  d.what = message;
  if (const size_t colon = message.find(": "); message.rfind("--", 0) == 0 && colon != std::string::npos) {
    d.path = message.substr(0, colon);
    d.what = message.substr(colon + 2);
  }
  for (const char* lead : {"The following argument was not expected: ", "The following arguments were not expected: "})
    if (message.rfind(lead, 0) == 0) {
      std::istringstream extras(message.substr(std::string(lead).size()));
      for (std::string w; extras >> w;)  // the flag among them, else the first given (listed last)
        if (d.path.rfind("--", 0) != 0) d.path = w;
      d.what = "not a flag or argument " + command + " takes";
      d.rule = command + " --help lists them";
      const auto near = d.path.rfind("--", 0) == 0 ? did_you_mean(d.path, flags) : std::nullopt;
      d.fix = near && *near != d.path ? "did you mean " + *near + "?" : "remove it";
    }
  // A value that is not the flag's type ("Could not convert: --ranks = 0,seedb.json"): which word, and
  // where the flag took a file's name among its words (a flag of several values takes every word up
  // to the next flag), that it did.
  if (const std::string lead = "Could not convert: "; message.rfind(lead, 0) == 0) {
    const size_t eq = message.find(" = ", lead.size());
    if (eq != std::string::npos) {
      d.path = message.substr(lead.size(), eq - lead.size());
      const std::string values = message.substr(eq + 3);
      d.what = "\"" + values + "\" is not a value it takes";
      d.rule = command + " --help gives its values";
      d.fix = "write a value of its type";
      std::istringstream words(values);
      for (std::string w; std::getline(words, w, ',');) {
        std::error_code ec;
        if (std::filesystem::exists(w, ec)) {
          d.fix = "\"" + w + "\" is a file the flag took: it takes every word up to the next flag, so give the file before it";
          break;
        }
      }
      return d;
    }
  }
  if (d.path.empty()) {  // any other message that names a flag: that flag
    const size_t at = message.find(" --");
    d.path = at != std::string::npos ? message.substr(at + 1, message.find_first_of(" :=,", at + 1) - at - 1) : command;
  }
  return d;
}
}  // namespace

void print_diagnostics(const InputError& e, const std::string& source, const std::string& format) {
  for (const auto& d : e.diagnostics()) std::cerr << d.str() << "\n";
  std::cerr << "hcpsim: " << e.diagnostics().size() << " error" << (e.diagnostics().size() == 1 ? "" : "s")
            << (source.empty() ? "" : " in " + source) << "\n";
  if (format == "json") print_errors_json(e.diagnostics(), source);
}

Diagnostic output_file_error(const std::string& flags, const std::string& what) {
  return {flags, what, "output files must be writable", "check that the folder exists and is writable"};
}

void print_flag_error(const Diagnostic& error, const std::string& source, const std::string& format) {
  std::cerr << error.str() << "\n";
  if (format == "json") print_errors_json({error}, source);
}

namespace {
// Whether the command line asks for JSON output (--format json or --format=json), for the errors
// the argument parser finds before the options are read.
bool asks_for_json(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--format=json" || (a == "--format" && i + 1 < argc && std::string(argv[i + 1]) == "json")) return true;
  }
  return false;
}
}  // namespace

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
  // One row of numbers per node type (per GPU unless said), its sources wrapped under it: 100 columns.
  std::cout << "\n# cluster presets (per node; an NVL72 'node' is one rack). Per GPU: dense TFLOP/s, memory in\n"
               "# GB (1e9 bytes), HBM TB/s, NVLink GB/s per direction x GPUs it joins (or the PCIe link), host: GB/s per\n"
               "# direction to host memory (the activation offload's link)\n";
  char row[200];
  std::snprintf(row, sizeof row, "  %-12s %4s  %-19s %15s %6s %5s  %-11s %-9s %6s %5s", "preset", "GPUs", "GPU",
                "bf16/fp8/fp4", "mem GB", "TB/s", "NVLink GB/s", "NICs Gb/s", "max kW", "host");
  std::cout << row << "\n";
  // The words of `text` filled into lines of at most `width` characters, each starting with `indent`;
  // a word longer than a line (a URL) is broken after a '/'.
  const auto print_wrapped = [](const std::string& text, const std::string& indent, size_t width) {
    const size_t room = width - indent.size();
    std::string line = indent;
    for (size_t at = 0; at < text.size();) {
      const size_t space = std::min(text.find(' ', at), text.size());
      std::string word = text.substr(at, space - at);
      at = space + 1;
      if (word.empty()) continue;
      if (line.size() > indent.size() && line.size() + 1 + word.size() > width) {
        std::cout << line << "\n";
        line = indent;
      }
      while (word.size() > room) {
        const size_t slash = word.rfind('/', room - 1);
        const size_t cut = slash == std::string::npos || slash == 0 ? room : slash + 1;
        std::cout << indent << word.substr(0, cut) << "\n";
        word.erase(0, cut);
      }
      line += (line.size() > indent.size() ? " " : "") + word;
    }
    if (line.size() > indent.size()) std::cout << line << "\n";
  };
  for (const auto& p : cluster_presets()) {
    const ClusterSpec& c = p.spec;
    const std::string flops = std::to_string(std::lround(c.gpu.peak_bf16_flops_per_s / 1e12)) + "/" +
                              (c.gpu.peak_fp8_flops_per_s > 0
                                   ? std::to_string(std::lround(c.gpu.peak_fp8_flops_per_s / 1e12))
                                   : std::string("-")) +  // no fp8 tensor cores
                              "/" +
                              (c.gpu.peak_fp4_flops_per_s > 0 ? std::to_string(std::lround(c.gpu.peak_fp4_flops_per_s / 1e12))
                                                              : std::string("-"));  // no NVFP4
    const std::string intra_GBps = std::to_string(std::lround(c.intra_node.bandwidth_bytes_per_s / 1e9));
    const std::string link = c.intra_node.kind == IntraNodeKind::PCIe
                                 ? "PCIe " + intra_GBps
                                 : intra_GBps + " x " + std::to_string(c.gpus_per_node);
    const std::string nics = std::to_string(c.inter_node.nics_per_node) + " x " +
                             std::to_string(std::lround(c.inter_node.nic_bandwidth_bytes_per_s * 8 / 1e9));
    const std::string power = p.node_max_power_w > 0 ? [&] {
      char kw[32];
      std::snprintf(kw, sizeof kw, "%.1f", p.node_max_power_w / 1e3);
      return std::string(kw);
    }() : std::string("-");
    std::snprintf(row, sizeof row, "  %-12s %4lld  %-19s %15s %6.0f %5.2f  %-11s %-9s %6s %5.0f", p.name.c_str(),
                  static_cast<long long>(c.gpus_per_node), c.gpu.name.c_str(), flops.c_str(), c.gpu.memory_bytes / 1e9,
                  c.gpu.hbm_bytes_per_s / 1e12, link.c_str(), nics.c_str(), power.c_str(), c.host_link_bytes_per_s / 1e9);
    std::cout << row << "\n";
    print_wrapped(p.source, "      ", 100);
  }
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
  app.add_flag("--require-fit", opt.require_fit,
               "Exit 4 (after the output) when the step does not fit in GPU memory; with the built-in study, when "
               "there is no recommendation (no option fits)");
  app.add_flag("--require-margin", opt.require_margin,
               "As --require-fit, and also when the step (the study's recommendation) fits with less headroom than "
               "PyTorch's caching allocator's margin");
  app.add_flag("--reproducible", opt.reproducible,
               "Leave the host wall time out of the output: the same input then gives byte-identical output");
  auto* presets = app.add_subcommand("presets", "List the built-in model presets, and the cluster presets with their numbers (compute, memory, "
                                   "NVLink, NICs, power) beside their sources");
  auto calibrate = add_calibrate_commands(app);  // fit, check
  const auto sweep = add_sweep_commands(app);
  auto collective = add_collective_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e) == 0 ? kExitOk : kExitInvalidInput;  // --help, --version
    const CLI::App& command = app.get_subcommands().empty() ? app : *app.get_subcommands().front();
    const std::string name = &command == &app ? std::string("hcpsim") : "hcpsim " + command.get_name();
    Diagnostic d = parser_error_diagnostic(e.what(), flag_names(command), name);
    const std::vector<std::string> run_flags = flag_names(app), own = flag_names(command);
    const auto has = [&d](const std::vector<std::string>& v) { return std::find(v.begin(), v.end(), d.path) != v.end(); };
    if (&command != &app && has(run_flags) && !has(own) && d.path != "--help" && d.path != "--version")
      d.fix = d.path + " is a flag of a run (hcpsim SCENARIO " + d.path + "), which " + name + " does not take: drop it";
    print_flag_error(d, "", asks_for_json(argc, argv) ? "json" : "text");
    std::cerr << "Run with --help for more information.\n";
    return kExitInvalidInput;
  }
  // An empty value (an unset shell variable: hcpsim "$SCENARIO") is no value: "" as the scenario
  // ran the built-in study, as --calibration it was ignored. Every flag's, every command's.
  const std::string format = asks_for_json(argc, argv) ? "json" : "text";
  for (const CLI::App* a : std::vector<const CLI::App*>{&app, app.get_subcommands().empty() ? nullptr : app.get_subcommands().front()})
    for (const CLI::Option* o : a ? a->get_options() : std::vector<const CLI::Option*>{})
      for (const std::string& v : o->count() > 0 && o->get_type_size() != 0 ? o->results() : std::vector<std::string>{})
        if (v.empty()) {
          print_flag_error({o->get_name(), "an empty value", "a value is a path, a number or a name, not \"\"",
                            "give the value (is a shell variable unset?), or leave " + o->get_name() + " out"},
                           "", format);
          return kExitInvalidInput;
        }
  // The run's own flags (and its scenario) do not reach a command given after them (CLI11 reads
  // them as the run's): say so rather than drop them, and whether the command takes the flag.
  if (!app.get_subcommands().empty()) {
    const CLI::App* sub = app.get_subcommands().front();
    for (const CLI::Option* o : app.get_options()) {
      const std::string name = o->get_name();
      if (o->count() == 0 || name == "--help" || name == "--version") continue;
      const bool takes_it = !o->get_lnames().empty() && sub->get_option_no_throw(name) != nullptr;
      print_flag_error({name, "given before '" + sub->get_name() + "', where hcpsim reads it as the run's",
                        "a command's flags follow it",
                        takes_it ? "put it after '" + sub->get_name() + "'"
                                 : "'" + sub->get_name() + "' takes no " + name + "; drop it"},
                       "", format);
      return kExitInvalidInput;
    }
  }
  if ((opt.require_fit || opt.require_margin) && (opt.validate_only || opt.dump_workload || opt.show_placement)) {
    print_flag_error({fit_requirement_flag(opt), "judges a simulated step's memory",
                      "--validate, --dump-workload and --show-placement simulate none",
                      "run the scenario with it, without those flags"},
                     opt.scenario_file.empty() ? "the built-in study" : opt.scenario_file, opt.format);
    return kExitInvalidInput;
  }
  // The run's modes are one at a time, and --ranks picks the ranks of one of them: a flag that
  // would be ignored is an error, not silence.
  const int modes = int(opt.validate_only) + int(opt.dump_workload) + int(opt.show_placement);
  const std::string run_source = opt.scenario_file.empty() ? "the built-in study" : opt.scenario_file;
  if (modes > 1) {
    print_flag_error({opt.validate_only ? "--validate" : "--dump-workload", "given with " +
                          std::string(opt.validate_only && opt.dump_workload ? "--dump-workload"
                                                                             : "--show-placement"),
                      "--validate, --dump-workload and --show-placement are one at a time",
                      "run hcpsim once for each"},
                     run_source, opt.format);
    return kExitInvalidInput;
  }
  if (!opt.ranks.empty() && !opt.dump_workload) {
    print_flag_error({"--ranks", "given without --dump-workload", "--ranks picks the ranks --dump-workload prints",
                      "add --dump-workload, or drop --ranks"},
                     run_source, opt.format);
    return kExitInvalidInput;
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
    std::vector<std::string> files = {opt.scenario_file};  // what the run reads: the scenario, its model's and costs' files
    for (const auto& in : inputs)
      for (const std::string& f : in.scenario.files_read()) files.push_back(f);
    check_output_not_input("--out", opt.out_file, files);
    files.push_back(opt.out_file);
    check_output_not_input("--trace", opt.trace_file, files);
    if (!opt.out_file.empty()) check_writable(opt.out_file);
    if (!opt.trace_file.empty()) check_writable(opt.trace_file);
    if (opt.validate_only) return validate_command(inputs, opt);
    if (opt.dump_workload) return dump_workload_command(inputs, opt);
    if (opt.show_placement) return placement_command(inputs, opt);
    return run_command(inputs, opt);
  } catch (const InputError& e) {
    print_diagnostics(e, source, opt.format);
    return kExitInvalidInput;
  } catch (const OutputFileError& e) {
    print_flag_error(output_file_error("--out/--trace", e.what()), source, opt.format);
    return kExitInvalidInput;
  } catch (const std::bad_alloc&) {  // a valid scenario too large for this machine: said as such, not as a bug
    std::cerr << "hcpsim: out of memory: simulating " << source
              << " needs more memory than this machine gives (a micro batch, sequence or pipeline far beyond a "
                 "training run's?); shrink the scenario, or run it on a machine with more memory\n";
    return kExitInternal;
  } catch (const std::exception& e) {
    std::cerr << "hcpsim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

}  // namespace hcpsim
