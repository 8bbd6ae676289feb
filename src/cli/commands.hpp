// One function per hcpsim command; cli.cpp parses arguments and dispatches.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "scenario/rank_layout.hpp"
#include "scenario/scenario.hpp"

namespace CLI {
class App;
}

namespace hcpsim {

class InputError;
struct Diagnostic;
struct MemoryEstimate;
struct SimulationResult;

struct CliOptions {
  std::string scenario_file;  // empty: the built-in study
  bool validate_only = false;
  bool dump_workload = false;
  bool show_placement = false;
  std::string format = "text";  // text | json
  std::vector<int> ranks;       // --dump-workload: which ranks to print
  std::string out_file;         // empty: stdout
  std::string trace_file;       // Chrome/Perfetto trace of the simulation
  bool reproducible = false;    // leave host wall time out, so equal inputs give equal bytes
  bool require_fit = false;     // exit kExitDoesNotFit when the run (or the pick) does not fit
  bool require_margin = false;  // ... or fits with less headroom than the allocator's margin
};

struct NamedScenario {
  std::string source;  // file name, or "<built-in ...>"
  Scenario scenario;
};

int validate_command(const std::vector<NamedScenario>& inputs, const CliOptions& opt);
int dump_workload_command(const std::vector<NamedScenario>& inputs, const CliOptions& opt);
int placement_command(const std::vector<NamedScenario>& inputs, const CliOptions& opt);
int run_command(const std::vector<NamedScenario>& inputs, const CliOptions& opt);

// `hcpsim sweep` and `hcpsim merge` (cli_sweep.cpp): registered on `app`;
// run_sweep_commands returns the exit code, or -1 when neither was given.
struct SweepCommands;
std::shared_ptr<SweepCommands> add_sweep_commands(CLI::App& app);
int run_sweep_commands(const SweepCommands& s);

// Builds the scenario's cost parameters (reading its calibration file, if it names one:
// InputError at "calibration" when the file cannot be read or used) and adds what the user should
// know about them (a calibration of another GPU model or backend, a GPU timed by a roofline) to
// the scenario's warnings, printing each on stderr.
void check_cost_params(Scenario& sc);

// Every diagnostic of `e` on stderr, then "hcpsim: N errors in <source>" (no "in" when empty).
// With `format` "json" the same errors also go to stdout as one JSON object, for scripts that read
// hcpsim's JSON: {"source", "valid": false, "errors": [{"path", "what", "rule", "fix"}]}.
void print_diagnostics(const InputError& e, const std::string& source, const std::string& format);

// One error of a flag or an output file, its flag as the path ("error: --flag: what (rule) — fix"),
// on stderr; with `format` "json" also on stdout in print_diagnostics' form.
void print_flag_error(const Diagnostic& error, const std::string& source, const std::string& format);

// Throws InputError at `flag` where the output `path` names the same file as one of `inputs` (links
// followed): writing it would replace a file the command reads, or another of its outputs.
void check_output_not_input(const std::string& flag, const std::string& path, const std::vector<std::string>& inputs);

// An OutputFileError (`what`) of the files `flags` names ("--out/--trace"), as print_flag_error takes it.
Diagnostic output_file_error(const std::string& flags, const std::string& what);

// The flag a fit requirement came from, for its messages: --require-margin over --require-fit.
inline const char* fit_requirement_flag(const CliOptions& opt) {
  return opt.require_margin ? "--require-margin" : "--require-fit";
}

// What --require-fit and --require-margin make of the memory `m` of `what` (the run; the study's or
// the sweep's recommendation), or, with `m` nullptr (no recommendation), of `what` as the reason
// there is none: kExitDoesNotFit with the reason on stderr when it fails the requirement, else
// kExitOk. Called after the output is written.
int fit_requirement_exit(const CliOptions& opt, const SimulationResult* r, const std::string& what);

// Writes `text` to opt.out_file atomically, or to stdout.
void emit(const CliOptions& opt, const std::string& text);

}  // namespace hcpsim
