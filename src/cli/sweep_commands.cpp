// `hcpsim sweep FILE` and `hcpsim merge A.json B.json ...`: options, loading,
// and output; the work is in sweep_space / sweep_run / sweep_outcome / report_html.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <unistd.h>

#include "report/sweep_outputs.hpp"
#include "common/json_text.hpp"
#include "scenario/parse.hpp"
#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "common/output_file.hpp"
#include "report/html_report.hpp"
#include "report/scenario_summary.hpp"
#include "sweep/outcome_json.hpp"
#include "sweep/run_sweep.hpp"
#include "sweep/timelines.hpp"

namespace hcpsim {

struct SweepCommands {
  CLI::App* sweep = nullptr;
  CLI::App* merge = nullptr;
  CliOptions out;  // format, out_file, reproducible
  std::string report_dir;
  int top = 3;
  // sweep
  std::string file, state_dir, shard = "1/1", recompute, sequence_parallel;
  std::vector<int64_t> tp, cp, mbs;
  std::vector<std::string> comm, hcp;
  int jobs = 0;
  bool resume = false;
  // merge
  std::vector<std::string> inputs;
};

namespace {

// A user error on the command line: printed as error: <flag>: ..., exit 2.
struct FlagError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

int default_jobs() { return std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)); }

void add_output_options(CLI::App* c, SweepCommands& s) {
  c->add_option("--format", s.out.format, "Output: text (a ranked table), json (one row per candidate), csv")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  c->add_option("-o,--out", s.out.out_file, "Write the output to this file (atomically) instead of stdout");
  c->add_option("--report", s.report_dir, "Write a self-contained HTML report (DIR/index.html)");
  c->add_option("--top", s.top, "Configurations with a timeline in the report")->check(CLI::Range(0, 20));
  c->add_flag("--reproducible", s.out.reproducible, "Leave host wall times out of the output");
}

// The flags as a "sweep" section, so that one parser checks file and flags alike.
nlohmann::json flags_section(const SweepCommands& s) {
  nlohmann::json j = nlohmann::json::object();
  if (!s.tp.empty()) j["tensor_model_parallel_size"] = s.tp;
  if (!s.cp.empty()) j["context_parallel_size"] = s.cp;
  if (!s.mbs.empty()) j["micro_batch_size"] = s.mbs;
  if (!s.comm.empty()) j["cp_comm_type"] = s.comm;
  if (!s.hcp.empty()) {
    nlohmann::json list = nlohmann::json::array();
    for (const std::string& h : s.hcp) {
      const size_t x = h.find('x');
      try {
        size_t used_a = 0, used_b = 0;
        const long long a = std::stoll(h.substr(0, x), &used_a), b = std::stoll(h.substr(x + 1), &used_b);
        if (x == std::string::npos || used_a != x || used_b != h.size() - x - 1) throw std::invalid_argument(h);
        list.push_back({a, b});
      } catch (const std::exception&) {
        throw FlagError("error: --hcp: \"" + h + "\" is not AxP (inner a2a size x outer p2p size) — write e.g. --hcp 8x2,4x4");
      }
    }
    j["hierarchical_context_parallel_sizes"] = list;
  }
  if (!s.recompute.empty()) {
    if (s.recompute == "lightest_fitting") j["recompute_granularity"] = s.recompute;
    else {
      nlohmann::json list = nlohmann::json::array();
      std::stringstream in(s.recompute);
      for (std::string r; std::getline(in, r, ',');) list.push_back(r);
      j["recompute_granularity"] = list;
    }
  }
  if (s.sequence_parallel == "on") j["sequence_parallel"] = true;
  if (s.sequence_parallel == "off") j["sequence_parallel"] = false;
  return j;
}

SweepSpec read_spec(const nlohmann::json& doc, const SweepCommands& s) {
  nlohmann::json section = doc.contains("sweep") ? doc["sweep"] : nlohmann::json::object();
  const nlohmann::json flags = flags_section(s);
  for (const auto& [k, v] : flags.items()) section[k] = v;  // a flag overrides the file, key by key
  DiagnosticSink sink;
  SweepSpec spec = parse_sweep_spec(section, sink);
  sink.throw_if_any();
  return spec;
}

void parse_shard(const std::string& text, int& index, int& count) {
  const size_t slash = text.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument(text);
    index = std::stoi(text.substr(0, slash));
    count = std::stoi(text.substr(slash + 1));
  } catch (const std::exception&) {
    index = count = 0;
  }
  if (count < 1 || index < 1 || index > count)
    throw FlagError("error: --shard: \"" + text + "\" is not i/N with 1 <= i <= N (shard numbering) — use e.g. --shard 2/4; "
                    "in a Slurm array: --shard $((SLURM_ARRAY_TASK_ID + 1))/$SLURM_ARRAY_TASK_COUNT");
}

int finish(const SweepCommands& s, const SweepOutcome& o) {
  const SweepRecommendation rec = recommend_sweep(o);
  if (!s.report_dir.empty()) {
    const int jobs = s.jobs > 0 ? s.jobs : default_jobs();
    write_sweep_report(s.report_dir, o, rec, simulate_timelines(o, rows_with_timelines(o, rec, s.top), jobs));
    std::cerr << "hcpsim sweep: report written to " << s.report_dir << "/index.html\n";
  }
  if (s.out.format == "json") emit(s.out, sweep_to_json(o, rec));
  else if (s.out.format == "csv") emit(s.out, sweep_to_csv(o));
  else emit(s.out, format_sweep_table(o, rec));
  return kExitOk;
}

void check_outputs(const SweepCommands& s) {
  if (!s.out.out_file.empty()) check_writable(s.out.out_file);
  if (!s.report_dir.empty()) {
    if (!html_report_available())
      throw FlagError("error: --report: this hcpsim was built without Chart.js (report needs it) — install libjs-chart.js "
                      "(scripts/install-deps.sh) and re-run cmake");
    std::error_code ec;
    std::filesystem::create_directories(s.report_dir, ec);
    check_writable(s.report_dir + "/index.html");
  }
}

int sweep_main(const SweepCommands& s) {
  Scenario base = load_scenario_file(s.file);
  check_cost_params(base);
  DiagnosticSink sink;
  const auto text = read_text_file(s.file, "", sink);
  const auto doc = text ? parse_json_text(*text, s.file, "", sink) : std::nullopt;
  sink.throw_if_any();
  const SweepSpec spec = read_spec(*doc, s);
  int shard_index = 1, shard_count = 1;
  parse_shard(s.shard, shard_index, shard_count);
  check_outputs(s);

  ParseOptions popt;
  const std::filesystem::path path(s.file);
  popt.base_dir = path.has_parent_path() ? path.parent_path().string() : ".";
  popt.default_name = path.stem().string();
  const SweepSpace space = enumerate_sweep(*doc, base, spec, popt);

  SweepRunOptions ro;
  ro.jobs = s.jobs > 0 ? s.jobs : default_jobs();
  ro.shard_index = shard_index - 1;
  ro.shard_count = shard_count;
  ro.state_dir = !s.state_dir.empty() ? s.state_dir
                 : path.stem().string() + ".sweep" +
                       (shard_count > 1 ? "-" + std::to_string(shard_index) + "of" + std::to_string(shard_count) : "");
  ro.resume = s.resume;
  ro.reproducible = s.out.reproducible;
  ro.progress = ::isatty(STDERR_FILENO);
  std::string summary;  // the base scenario less its layout, which the sweep varies
  std::istringstream lines(format_scenario_summary(base));
  for (std::string l; std::getline(lines, l);)
    if (l.rfind("  parallel:", 0) != 0 && l.rfind("scenario:", 0) != 0) summary += l + "\n";
  SweepMeta meta;
  meta.scenario = base.name;
  meta.source = s.file;
  meta.base_dir = popt.base_dir;
  meta.summary = summary;
  const SweepRun run = run_sweep(space, ro, meta);
  if (run.interrupted) {
    std::cerr << "hcpsim sweep: interrupted; " << run.reused + run.simulated << " finished results are kept in "
              << ro.state_dir << "/results.jsonl - run the same command with --resume to continue\n";
    return 130;
  }
  if (run.common_input_error) {  // every simulation failed on the same input error: that is the answer
    std::cerr << "hcpsim sweep: every candidate simulated failed on the same input error:\n";
    throw InputError(*run.common_input_error);
  }
  if (s.resume)
    std::cerr << "hcpsim sweep: resumed: " << run.reused << " results kept from " << ro.state_dir << ", " << run.simulated
              << " simulated now\n";
  return finish(s, run.outcome);
}

int merge_main(const SweepCommands& s) {
  check_outputs(s);
  SweepOutcome merged;
  std::map<std::string, SweepRow> rows;
  for (const std::string& f : s.inputs) {
    DiagnosticSink sink;
    const auto text = read_text_file(f, "", sink);
    const auto doc = text ? parse_json_text(*text, f, "", sink) : std::nullopt;
    sink.throw_if_any();
    if (!doc->is_object() || doc->value("format", "") != kSweepFormat)
      throw FlagError("error: " + f + ": not a sweep result (format " + kSweepFormat + ") — give the files written by "
                      "hcpsim sweep --format json -o FILE");
    const SweepMeta meta = meta_from_json(*doc, f);
    if (merged.meta.shards.empty()) {
      merged.meta = meta;
    } else if (meta.space_digest != merged.meta.space_digest) {
      throw FlagError("error: " + f + ": belongs to a different sweep than " + s.inputs.front() +
                      " (space_digest differs) — merge shards of one sweep: same scenario, bounds and hcpsim version");
    }
    merged.meta.shards.push_back({f, meta.shard});
    const nlohmann::json* candidates = doc->contains("candidates") ? &doc->at("candidates") : nullptr;
    if (!candidates || !candidates->is_array())
      throw InputError({{f + ": candidates", "missing or not a list", "a sweep result lists its candidates",
                         "give the files written by hcpsim sweep --format json -o FILE"}});
    for (size_t i = 0; i < candidates->size(); ++i) {
      SweepRow row = row_from_json((*candidates)[i], f + ": candidates[" + std::to_string(i) + "]");
      rows.emplace(row.key, std::move(row));
    }
  }
  for (auto& [k, r] : rows) merged.rows.push_back(std::move(r));
  std::sort(merged.rows.begin(), merged.rows.end(), [](const SweepRow& a, const SweepRow& b) { return a.index < b.index; });
  const int64_t missing = merged.meta.candidates_total - static_cast<int64_t>(merged.rows.size());
  if (missing > 0) {
    merged.meta.missing_candidates = missing;
    std::cerr << "hcpsim merge: " << missing << " of " << merged.meta.candidates_total
              << " candidates are in none of the files: merge every shard\n";
  }
  return finish(s, merged);
}

}  // namespace

std::shared_ptr<SweepCommands> add_sweep_commands(CLI::App& app) {
  auto s = std::make_shared<SweepCommands>();
  CLI::App* c = app.add_subcommand("sweep", "Simulate every valid TP x CP x cp_comm_type x HCP split for the scenario's "
                                            "model, sequence and cluster; rank them and recommend one");
  s->sweep = c;
  c->add_option("scenario", s->file, "Scenario JSON file (its parallel section gives the defaults)")->required();
  c->add_option("--tp", s->tp, "TP sizes to try (default: divisors of gpus_per_node up to 8 dividing the heads)")->delimiter(',');
  c->add_option("--cp", s->cp, "CP sizes to try (default: powers of two with TP*CP dividing the world)")->delimiter(',');
  c->add_option("--comm", s->comm, "cp_comm_types to try (default: p2p,all_gather,a2a,a2a+p2p)")->delimiter(',');
  c->add_option("--hcp", s->hcp, "HCP splits AxP to try, e.g. 8x2,4x4 (default: every split of CP)")->delimiter(',');
  c->add_option("--micro-batch", s->mbs, "Micro batch sizes to try (default: the scenario's)")->delimiter(',');
  c->add_option("--recompute", s->recompute,
                "Recompute settings to try, e.g. none,full; or lightest_fitting (default): the scenario's, plus the "
                "lightest heavier one that fits when it does not");
  c->add_option("--sequence-parallel", s->sequence_parallel, "auto (on when TP > 1), on or off")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  c->add_option("-j,--jobs", s->jobs, "Simulations at once (default: the number of cores)")->check(CLI::Range(1, 4096));
  c->add_option("--shard", s->shard, "Simulate slice i of N (1-based), e.g. 2/8; join the slices with hcpsim merge");
  c->add_option("--state", s->state_dir, "Folder keeping finished results (default: <stem>.sweep[-IofN] in the current folder)");
  c->add_flag("--resume", s->resume, "Continue an interrupted sweep: keep the results in --state, simulate the rest");
  add_output_options(c, *s);

  CLI::App* m = app.add_subcommand("merge", "Join the --format json results of sweep shards into one ranked result");
  s->merge = m;
  m->add_option("files", s->inputs, "Shard results (hcpsim sweep --shard i/N --format json -o FILE)")->required();
  add_output_options(m, *s);
  return s;
}

int run_sweep_commands(const SweepCommands& s) {
  if (!*s.sweep && !*s.merge) return -1;
  try {
    return *s.sweep ? sweep_main(s) : merge_main(s);
  } catch (const InputError& e) {
    print_diagnostics(e, "");
    return kExitInvalidInput;
  } catch (const FlagError& e) {
    std::cerr << e.what() << "\n";
    return kExitInvalidInput;
  } catch (const OutputFileError& e) {
    std::cerr << "error: --out/--state/--report: " << e.what()
              << " (output files must be writable) \u2014 check that the folder exists and is writable\n";
    return kExitInvalidInput;
  } catch (const std::exception& e) {
    std::cerr << "hcpsim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

}  // namespace hcpsim
