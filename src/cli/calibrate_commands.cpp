#include "cli/calibrate_commands.hpp"

#include <algorithm>
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "fit/check.hpp"
#include "fit/fit.hpp"
#include "fit/replay.hpp"
#include "common/diagnostics.hpp"
#include "cli/cli.hpp"
#include "common/output_file.hpp"

namespace hcpsim {

namespace {

constexpr int kExitCheckFailed = 3;  // a check's error is above --max-error

struct Args {
  std::vector<std::string> measurements;  // one set (read_measurement_files)
  std::string out, calibration, gpu_preset;
  std::vector<std::string> kinds;
  int knots = 0;       // --knots; 0: not given (FitOptions' default)
  std::string method;  // --method; empty: not given (curve)
  std::string backend;  // --backend: cudnn, flash, hcpsim; empty = the one the measurements hold
  double max_error_pct = -1;
  bool in_sample = false;
};

bool kind_selected(const Args& a, const Measurement& m) {
  if (a.kinds.empty()) return true;
  const char* k = m.kind == MeasurementKind::Attention      ? "attention"
                  : m.kind == MeasurementKind::Gemm         ? "gemm"
                  : m.kind == MeasurementKind::Copy         ? "copy"
                  : m.kind == MeasurementKind::Collective   ? "collective"
                  : m.kind == MeasurementKind::Interference ? "interference"
                  : m.kind == MeasurementKind::Layer        ? "layer"
                  : m.kind == MeasurementKind::Elementwise  ? "elementwise"
                                                            : "cp";
  return std::find(a.kinds.begin(), a.kinds.end(), k) != a.kinds.end();
}

std::string join_names(const std::vector<std::string>& files) {
  std::string s;
  for (const auto& f : files) s += (s.empty() ? "" : ", ") + f;
  return s;
}

void print_warnings(const std::vector<std::string>& w) {
  for (const auto& s : w) std::cerr << "warning: " << s << "\n";
}

std::optional<AttentionBackend> backend_option(const Args& a) {
  for (AttentionBackend b : kAttentionBackends)
    if (a.backend == to_string(b)) return b;
  return std::nullopt;  // CLI11 checked the name; empty: not given
}

// The files fit and check read: the measurements and the calibration.
std::vector<std::string> files_read(const Args& a) {
  std::vector<std::string> files = a.measurements;
  files.push_back(a.calibration);
  return files;
}

// How fit (and check's fit half) fits the tables; --knots belongs to --method knots.
FitOptions fit_options(const Args& a) {
  if (a.knots > 0 && a.method != "knots")
    throw InputError({{"--knots", "given with --method " + (a.method.empty() ? std::string("curve (the default)") : a.method),
                       "--knots bounds the table points of --method knots", "add --method knots, or drop --knots"}});
  FitOptions opt;
  if (a.knots > 0) opt.max_knots = a.knots;
  opt.method = a.method == "knots" ? TableMethod::Knots : TableMethod::Curve;
  opt.measurements_name = join_names(a.measurements);
  opt.backend = backend_option(a);
  return opt;
}

// A fit or check of no measurement is an input error, not an empty table (whose max error of
// 0 % would pass a CI gate): at the flag that selected none, or the files that hold none.
template <typename Include>
void check_some_selected(const Args& a, const MeasurementSet& set, const Include& include) {
  if (std::any_of(set.items.begin(), set.items.end(), include)) return;
  if (set.items.empty())
    throw InputError({{join_names(a.measurements) + ": measurements", "empty", "a fit or check needs measurements",
                       "give the measurements.json hcpcal wrote"}});
  const std::string flag = a.kinds.empty() ? "--backend" : a.backend.empty() ? "--kind" : "--kind, --backend";
  throw InputError({{flag, "selects none of the " + std::to_string(set.items.size()) + " measurements",
                     "a fit or check needs measurements", "select kinds or a backend the files hold"}});
}

// What fit and check read first, their output checked before: the measurements and the node they
// ran on (with what its choice warns of).
std::pair<MeasurementSet, ClusterSpec> read_measured(const Args& a) {
  check_output_not_input("--out", a.out, files_read(a));
  if (!a.out.empty()) check_writable(a.out);
  MeasurementSet set = read_measurement_files(a.measurements);
  std::vector<std::string> node_warnings;
  ClusterSpec node = node_for_measurements(set.gpu_model, a.gpu_preset, &node_warnings);
  print_warnings(node_warnings);
  return {std::move(set), std::move(node)};
}

int run_fit(const Args& a) {
  const auto [set, node] = read_measured(a);
  const FitOptions opt = fit_options(a);
  check_some_selected(a, set, [&](const Measurement& m) { return of_backend(m, opt.backend); });
  const FitResult r = fit_calibration(set, node, opt);
  print_warnings(r.warnings);
  std::cout << "# hcpsim fit: " << set.items.size() << " measurements on " << set.gpu_model << ", efficiencies of "
            << node.gpu.name << " peaks\n"
            << format_fit(r.calibration);
  if (!a.out.empty()) {
    write_file_atomically(a.out, calibration_to_json(r.calibration));
    std::cout << "# wrote " << a.out << "\n";
  }
  return kExitOk;
}

int run_check(const Args& a) {
  const auto [set, node] = read_measured(a);
  const std::optional<AttentionBackend> only = backend_option(a);
  auto include = [&](const Measurement& m) { return kind_selected(a, m) && of_backend(m, only); };
  check_some_selected(a, set, include);
  CheckReport r;
  std::string title;
  if (a.in_sample) {
    if (a.calibration.empty())
      throw InputError({{"--calibration", "missing", "--in-sample predicts from a calibration file",
                            "give --calibration calibration.json"}});
    if (!a.method.empty() || a.knots > 0)  // they would shape a fit that --in-sample never makes
      throw InputError({{a.method.empty() ? "--knots" : "--method", "given with --in-sample",
                         "--in-sample fits nothing: it predicts every case from --calibration; --method and --knots "
                         "shape the half fit of an out-of-sample check",
                         "drop --method and --knots, or drop --in-sample"}});
    r = check_against(set, read_calibration_file(a.calibration, "--calibration"), node, include);
    title = "hcpsim check, in-sample: every measurement predicted from " + a.calibration;
  } else {
    r = check_out_of_sample(set, node, fit_options(a), include);
    title = "hcpsim check, out-of-sample: fitted on half of the shapes, predicting the other half";
  }
  print_warnings(r.warnings);
  std::string text = format_check(r, title);
  if (!a.in_sample && !a.calibration.empty()) {
    const CheckReport all = check_against(set, read_calibration_file(a.calibration, "--calibration"), node, include);
    char buf[200];
    std::snprintf(buf, sizeof buf, "# in-sample with %s: cases %zu  median |error| %.2f%%  max |error| %.2f%%\n",
                  a.calibration.c_str(), summarized_cases(all), 100 * all.median_abs_error, 100 * all.max_abs_error);
    text += buf;
    if (a.max_error_pct >= 0)  // the bound is the out-of-sample table's: say which, beside the other number
      text += "# --max-error bounds the out-of-sample table above; with --in-sample it bounds " + a.calibration + "'s\n";
  }
  if (a.out.empty()) {
    std::cout << text;
  } else {
    write_file_atomically(a.out, text);
  }
  if (a.max_error_pct >= 0 && 100 * r.max_abs_error > a.max_error_pct) {
    std::cerr << "hcpsim check: max |error| " << 100 * r.max_abs_error << "% is above --max-error " << a.max_error_pct
              << "%\n";
    return kExitCheckFailed;
  }
  return kExitOk;
}

class Commands : public CalibrateCommands {
 public:
  explicit Commands(CLI::App& app) {
    app.add_option("--calibration", run_calibration_,
                   "calibration.json from `hcpsim fit`, for every scenario (the built-in study too)");
    fit_ = app.add_subcommand("fit", "Fit cost-model parameters to hcpcal's measurements.json");
    fit_->add_option("measurements", fit_args_.measurements, "measurements.json from hcpcal (several: one set)")
        ->required();
    fit_->add_option("-o,--out", fit_args_.out, "Write calibration.json here (atomically)");
    fit_->add_option("--gpu", fit_args_.gpu_preset, "Cluster preset the measurements ran on: its GPU peaks and link rates (default: from gpu_model)");
    fit_->add_option("--method", fit_args_.method, "Table fit: curve (saturating power law) or knots (default curve)")
        ->check(CLI::IsMember({"curve", "knots"}));
    fit_->add_option("--knots", fit_args_.knots, "--method knots: most table points (default 8)")->check(CLI::Range(1, 64));
    fit_->add_option("--backend", fit_args_.backend,
                     "Attention backend to fit (cudnn, flash, hcpsim): required when the measurements hold several")
        ->check(CLI::IsMember({"cudnn", "flash", "hcpsim"}));

    check_ = app.add_subcommand("check", "Predict every measurement with the cost model; signed error per case");
    check_->add_option("measurements", check_args_.measurements,
                       "measurements.json from hcpcal (several: one set, e.g. attention and cp suites)")
        ->required();
    check_->add_option("--calibration", check_args_.calibration, "calibration.json (in-sample summary, --in-sample)");
    check_->add_flag("--in-sample", check_args_.in_sample, "Predict all cases from --calibration instead of a half fit");
    check_->add_option("--max-error", check_args_.max_error_pct,
                       "Exit 3 when max |error| exceeds this (percent) in the table checked: out of sample, or with "
                       "--in-sample --calibration's")
        ->check(CLI::Validator(
            [](std::string& s) {  // CLI11's NonNegativeNumber takes "nan", under which no error exceeds
              char* end = nullptr;
              const double v = std::strtod(s.c_str(), &end);
              return end != s.c_str() && *end == '\0' && std::isfinite(v) && v >= 0
                         ? std::string()
                         : "\"" + s + "\" is not a percentage (a finite number >= 0)";
            },
            "PERCENT"));
    check_->add_option("--kind", check_args_.kinds,
                       "Only these kinds: attention, gemm, copy, cp (CP steps and runs), collective, interference, "
                       "layer, elementwise")
        ->check(CLI::IsMember({"attention", "gemm", "copy", "cp", "collective", "interference", "layer", "elementwise"}))
        ->delimiter(',');
    check_->add_option("--gpu", check_args_.gpu_preset, "Cluster preset the measurements ran on: its GPU peaks and link rates (default: from gpu_model)");
    check_->add_option("--method", check_args_.method, "Table fit of the fit half: curve or knots (default curve)")
        ->check(CLI::IsMember({"curve", "knots"}));
    check_->add_option("--knots", check_args_.knots, "--method knots: most table points (default 8)")
        ->check(CLI::Range(1, 64));
    check_->add_option("-o,--out", check_args_.out, "Write the table here (atomically) instead of stdout");
    check_->add_option("--backend", check_args_.backend,
                       "Only this attention backend (cudnn, flash, hcpsim); default: each the measurements hold, apart")
        ->check(CLI::IsMember({"cudnn", "flash", "hcpsim"}));
  }
  bool active() const override { return fit_->parsed() || check_->parsed(); }
  void apply_to(std::vector<NamedScenario>& inputs) const override {
    if (run_calibration_.empty()) return;
    read_calibration_file(run_calibration_, "--calibration");
    for (auto& in : inputs) in.scenario.calibration_path = run_calibration_;
  }
  int run() override {
    const std::string source = join_names(fit_->parsed() ? fit_args_.measurements : check_args_.measurements);
    try {
      return fit_->parsed() ? run_fit(fit_args_) : run_check(check_args_);
    } catch (const InputError& e) {
      print_diagnostics(e, source, "text");  // fit and check write text
      return kExitInvalidInput;
    } catch (const OutputFileError& e) {
      print_flag_error(output_file_error("--out", e.what()), source, "text");
      return kExitInvalidInput;
    }
  }

 private:
  CLI::App* fit_ = nullptr;
  CLI::App* check_ = nullptr;
  Args fit_args_, check_args_;
  std::string run_calibration_;  // top-level --calibration
};

}  // namespace

std::unique_ptr<CalibrateCommands> add_calibrate_commands(CLI::App& app) { return std::make_unique<Commands>(app); }

}  // namespace hcpsim
