// `hcpsim sweep FILE`, `hcpsim merge A.json B.json ...` and `hcpsim compare STUDY` (one sweep
// over several clusters): options, loading and output; the work is in sweep/, compare/, report/.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cassert>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <unistd.h>

#include "compare/compare.hpp"
#include "report/compare_outputs.hpp"
#include "report/compare_report.hpp"
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
#include "sweep/state.hpp"
#include "sweep/timelines.hpp"

namespace hcpsim {

struct SweepCommands {
  CLI::App* sweep = nullptr;
  CLI::App* merge = nullptr;
  CLI::App* compare = nullptr;
  std::string rank_by = "time";
  std::vector<std::string> merge_files;  // compare --merge
  CliOptions out;  // format, out_file, reproducible
  std::string report_dir;
  int top = 3;
  // sweep
  std::string file, state_dir, shard = "1/1", recompute, sequence_parallel;
  std::vector<int64_t> tp, cp, pp, vpp, mbs;
  std::vector<std::string> comm, hcp;
  int jobs = 0;
  bool resume = false;
  bool simulate_unfit = false;
  // merge
  std::vector<std::string> inputs;
};

namespace {

// A user error on the command line: printed as error: <flag>: ..., exit 2.
int default_jobs() { return std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)); }

void add_output_options(CLI::App* c, SweepCommands& s) {
  c->add_option("--format", s.out.format, "Output: text (a ranked table), json (one row per candidate), csv")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  c->add_option("-o,--out", s.out.out_file, "Write the output to this file (atomically) instead of stdout");
  c->add_option("--report", s.report_dir, "Write a self-contained HTML report (DIR/index.html)")
      ->transform([](std::string dir) {  // "report/" names the folder "report": its page is report/index.html
        while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
        return dir;
      });
  c->add_option("--top", s.top, "Configurations with a timeline in the report")->check(CLI::Range(0, 20));
  c->add_flag("--reproducible", s.out.reproducible, "Leave host wall times out of the output");
}

// The exit a script tests (sweep and merge): whether the recommendation fits.
void add_fit_requirement_options(CLI::App* c, SweepCommands& s) {
  c->add_flag("--require-fit", s.out.require_fit,
              "Exit 4 (after the output) when there is no recommendation: no option fits in GPU memory");
  c->add_flag("--require-margin", s.out.require_margin,
              "As --require-fit, and also when the recommendation fits with less headroom than PyTorch's caching "
              "allocator's margin (its reasons name the fastest option that leaves it)");
}

// The flags as a "sweep" section, so that one parser checks file and flags alike.
// The sweep section's key each bound flag sets; an error in a value a flag gave is the flag's.
constexpr std::pair<const char*, const char*> kSweepFlagKeys[] = {
    {"--tp", "tensor_model_parallel_size"},
    {"--cp", "context_parallel_size"},
    {"--pp", "pipeline_model_parallel_size"},
    {"--vpp", "virtual_pipeline_model_parallel_size"},
    {"--micro-batch", "micro_batch_size"},
    {"--comm", "cp_comm_type"},
    {"--hcp", "hierarchical_context_parallel_sizes"},
    {"--recompute", "recompute_granularity"},
    {"--sequence-parallel", "sequence_parallel"}};

const char* key_of(std::string_view flag) {
  for (const auto& [f, key] : kSweepFlagKeys)
    if (flag == f) return key;
  assert(false && "a sweep flag without a key");
  return "";
}

nlohmann::json flags_section(const SweepCommands& s) {
  nlohmann::json j = nlohmann::json::object();
  if (!s.tp.empty()) j[key_of("--tp")] = s.tp;
  if (!s.cp.empty()) j[key_of("--cp")] = s.cp;
  if (!s.pp.empty()) j[key_of("--pp")] = s.pp;
  if (!s.vpp.empty()) j[key_of("--vpp")] = s.vpp;
  if (!s.mbs.empty()) j[key_of("--micro-batch")] = s.mbs;
  if (!s.comm.empty()) j[key_of("--comm")] = s.comm;
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
        throw InputError({{"--hcp", "\"" + h + "\" is not AxP, A the inner a2a size and P the outer p2p ring's",
                           "two whole numbers joined by x", "write e.g. --hcp 8x2,4x4"}});
      }
    }
    j[key_of("--hcp")] = list;
  }
  if (!s.recompute.empty()) {
    if (s.recompute == "lightest_fitting") j[key_of("--recompute")] = s.recompute;
    else {
      nlohmann::json list = nlohmann::json::array();
      std::stringstream in(s.recompute);
      for (std::string r; std::getline(in, r, ',');) list.push_back(r);
      j[key_of("--recompute")] = list;
    }
  }
  if (s.sequence_parallel == "on") j[key_of("--sequence-parallel")] = true;
  if (s.sequence_parallel == "off") j[key_of("--sequence-parallel")] = false;
  return j;
}

SweepSpec read_spec(const nlohmann::json& doc, const SweepCommands& s) {
  nlohmann::json section = doc.contains("sweep") ? doc["sweep"] : nlohmann::json::object();
  const nlohmann::json flags = flags_section(s);
  for (const auto& [k, v] : flags.items()) section[k] = v;  // a flag overrides the file, key by key
  DiagnosticSink sink;
  SweepSpec spec = parse_sweep_spec(section, sink);
  std::vector<Diagnostic> errors = sink.list();
  for (Diagnostic& d : errors)  // "sweep.tensor_model_parallel_size[0]" from --tp 0 is --tp's
    for (const auto& [flag, key] : kSweepFlagKeys) {
      const std::string at = std::string("sweep.") + key;
      if (flags.contains(key) && d.path.rfind(at, 0) == 0 && (d.path.size() == at.size() || d.path[at.size()] == '[')) {
        d.path = flag;
        break;
      }
    }
  if (!errors.empty()) throw InputError(errors);
  return spec;
}

void parse_shard(const std::string& text, int& index, int& count) {
  const size_t slash = text.find('/');
  // Digits, a slash, digits: nothing else ("1/2/3", "1/2x" and "+1/2" are no shard).
  const auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 9 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  index = count = 0;
  if (slash != std::string::npos && digits(text.substr(0, slash)) && digits(text.substr(slash + 1))) {
    index = std::stoi(text.substr(0, slash));
    count = std::stoi(text.substr(slash + 1));
  }
  if (count < 1 || index < 1 || index > count)
    throw InputError({{"--shard", "\"" + text + "\" is not i/N with 1 <= i <= N", "shard numbering",
                       "use e.g. --shard 2/4; in a Slurm array: --shard $((SLURM_ARRAY_TASK_ID + 1))/$SLURM_ARRAY_TASK_COUNT"}});
}

// How `command` ("sweep", "compare") runs its candidates: the flags, and the state folder
// <stem>.<command>[-IofN] unless --state names one.
SweepRunOptions run_options(const SweepCommands& s, const std::filesystem::path& file, const std::string& command,
                            int shard_index, int shard_count) {
  SweepRunOptions ro;
  ro.jobs = s.jobs > 0 ? s.jobs : default_jobs();
  ro.shard_index = shard_index - 1;
  ro.shard_count = shard_count;
  ro.state_dir = !s.state_dir.empty() ? s.state_dir
                 : file.stem().string() + "." + command +
                       (shard_count > 1 ? "-" + std::to_string(shard_index) + "of" + std::to_string(shard_count) : "");
  ro.resume = s.resume;
  ro.simulate_unfit = s.simulate_unfit;
  ro.reproducible = s.out.reproducible;
  ro.progress = ::isatty(STDERR_FILENO);
  return ro;
}

// The exit code when the run stopped (130) and what it kept; throws the one input error every
// simulation failed on; -1 when it finished (saying what --resume kept).
int interrupted_or_failed(const SweepRun& run, const SweepRunOptions& ro, const std::string& command) {
  if (run.set_aside > 0)  // said however the run ends
    std::cerr << "hcpsim " << command << ": without --resume, the " << run.set_aside << " results an earlier run left in "
              << ro.state_dir << " were appended to " << SweepState{ro.state_dir}.previous_path() << "\n";
  if (run.unreadable_set_aside > 0)
    std::cerr << "hcpsim " << command << ": " << run.unreadable_set_aside << " lines of " << SweepState{ro.state_dir}.results_path()
              << " are no result (torn or edited): moved to " << SweepState{ro.state_dir}.previous_path()
              << "; any candidate they held is simulated again\n";
  if (run.interrupted) {
    std::cerr << "hcpsim " << command << ": interrupted; " << run.reused + run.simulated << " finished results are kept in "
              << ro.state_dir << "/results.jsonl - run the same command with --resume to continue\n";
    return 130;
  }
  if (run.common_input_error) {  // every simulation failed on the same input error: that is the answer
    std::cerr << "hcpsim " << command << ": every candidate simulated failed on the same input error:\n";
    throw InputError(*run.common_input_error);
  }
  if (ro.resume)
    std::cerr << "hcpsim " << command << ": resumed: " << run.reused << " results kept from " << ro.state_dir << ", "
              << run.simulated << " simulated now\n";
  // Every simulation run now failed (an internal error each, not the input): no answer to give.
  const auto& rows = run.outcome.rows;
  const auto failed = std::find_if(rows.begin(), rows.end(), [](const SweepRow& r) { return r.status == RowStatus::Failed; });
  if (failed != rows.end() && std::none_of(rows.begin(), rows.end(), [](const SweepRow& r) { return r.ok(); })) {
    std::cerr << "hcpsim " << command << ": internal error: every candidate simulated failed (first: " << failed->label
              << ": " << failed->error << ")\n";
    return kExitInternal;
  }
  return -1;
}

// The candidate rows of a sweep or comparison result file `f`; `writer` names the command that
// writes such files (the fix of the error when the list is missing or not a list).
std::vector<SweepRow> candidate_rows(const nlohmann::json& doc, const std::string& f, const std::string& writer) {
  const nlohmann::json* candidates = doc.contains("candidates") ? &doc.at("candidates") : nullptr;
  if (!candidates || !candidates->is_array())
    throw InputError({{f + ": candidates", "missing or not a list", "a result file lists its candidates",
                       "give the files written by " + writer}});
  std::vector<SweepRow> rows;
  for (size_t i = 0; i < candidates->size(); ++i)
    rows.push_back(row_from_json((*candidates)[i], f + ": candidates[" + std::to_string(i) + "]"));
  return rows;
}

// The shards a file holds: its own, or a merged file's list of them.
std::vector<SweepShardFile> shards_of(const std::string& f, const SweepMeta& m) {
  if (m.shards.empty()) return {{f, m.shard}};
  std::vector<SweepShardFile> held;
  for (const SweepShardFile& s : m.shards) held.push_back({f, s.shard});
  return held;
}

// Adds file `f`'s shards to those `merged` holds, after what a merge checks of each file beside its
// space: none of its shards merged already (a file given twice, or inside a merged file), and its
// candidates' indices in the space (a row outside it would hide a missing candidate from the count).
void admit_merged_file(const std::string& f, const SweepMeta& m, const std::vector<SweepRow>& rows,
                       std::vector<SweepShardFile>& merged) {
  for (const SweepShardFile& mine : shards_of(f, m))
    for (const SweepShardFile& other : merged)
      if (other.shard == mine.shard)
        throw InputError({{f + ": shard", "shard " + std::to_string(mine.shard.index) + "/" +
                                              std::to_string(mine.shard.count) + " is " + other.file + "'s too",
                           "each shard once", "give each shard's file once"}});
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].index < 0 || rows[i].index >= m.candidates_total)
      throw InputError({{f + ": candidates[" + std::to_string(i) + "].index",
                         "candidate " + std::to_string(rows[i].index) + " of a space of " +
                             std::to_string(m.candidates_total),
                         "0 <= index < candidates_total", "write the file with hcpsim"}});
  for (const SweepShardFile& held : shards_of(f, m)) merged.push_back(held);
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
  return fit_requirement_exit(s.out, rec.row >= 0 ? &*o.rows[rec.row].result : nullptr,
                              rec.row >= 0 ? "the recommendation, " + o.rows[rec.row].label : rec.reasons);
}

// `read`: the files the scenarios read besides the command's own (Scenario::files_read);
// `state_dir`: the state folder the command keeps (run_options'), whose logs are no output's.
void check_outputs(const SweepCommands& s, const std::vector<std::string>& read = {}, const std::string& state_dir = "") {
  std::vector<std::string> files = {s.file};  // what the command reads and keeps: its inputs, the state log
  files.insert(files.end(), s.inputs.begin(), s.inputs.end());
  files.insert(files.end(), s.merge_files.begin(), s.merge_files.end());
  files.insert(files.end(), read.begin(), read.end());
  if (!state_dir.empty())
    for (const std::string& log : {SweepState{state_dir}.results_path(), SweepState{state_dir}.previous_path()})
      files.push_back(log);
  check_output_not_input("--out", s.out.out_file, files);
  files.push_back(s.out.out_file);
  if (!s.report_dir.empty()) check_output_not_input("--report", s.report_dir + "/index.html", files);
  if (!s.out.out_file.empty()) check_writable(s.out.out_file);
  if (!s.report_dir.empty()) {
    if (!html_report_available())
      throw InputError({{"--report", "this hcpsim was built without Chart.js", "report needs it",
                         "install libjs-chart.js (scripts/install-deps.sh) and re-run cmake"}});
    std::error_code ec;
    std::filesystem::create_directories(s.report_dir, ec);
    if (!std::filesystem::is_directory(s.report_dir, ec))
      throw InputError({{"--report", "\"" + s.report_dir + "\" is not a folder hcpsim can make or use",
                         "--report names the folder the HTML report is written to",
                         "name a new folder, e.g. --report " + s.report_dir + ".report"}});
    check_writable(s.report_dir + "/index.html");
  }
}

// The sweep's base scenario. Its own layout is only the sweep's default: where it is invalid on
// the cluster (TP x CP not dividing the GPUs, say), the rest is checked without it and the sweep
// explores the space all the same, saying why the starting layout was left.
// Where the sweep tries Megatron-FSDP on and off (sweep.use_megatron_fsdp), the scenario's own FSDP
// setting is the layout's too: a rule it breaks (FSDP under MXFP8, say) is checked without it, and
// the candidates with FSDP are rejected one by one.
Scenario load_sweep_base_without_fsdp(const std::string& file, const InputError& why) {
  DiagnosticSink sink;
  const auto text = read_text_file(file, "", sink);
  std::optional<nlohmann::json> doc = text ? parse_json_text(*text, file, "", sink) : std::nullopt;
  const auto on = [](const nlohmann::json& d) {
    return d.is_object() && d.contains("sweep") && d["sweep"].is_object() && d["sweep"].contains("use_megatron_fsdp") &&
           d.contains("parallel") && d["parallel"].is_object() && d["parallel"].value("use_megatron_fsdp", false) == true;
  };
  if (!doc || !on(*doc)) throw why;
  (*doc)["parallel"]["use_megatron_fsdp"] = false;
  ParseOptions o = parse_options_for_file(file);
  o.scope = ValidationScope::LayoutFree;
  Scenario base = parse_scenario_text(doc->dump(), o);  // throws what is wrong besides the layout and FSDP
  const Diagnostic& d = why.diagnostics().front();
  std::cerr << "hcpsim sweep: the scenario's own Megatron-FSDP is not valid here (" << d.path << ": " << d.what
            << "); the sweep tries it on and off regardless\n";
  return base;
}

Scenario load_sweep_base(const std::string& file) {
  try {
    return load_scenario_file(file);
  } catch (const InputError& full) {
    Scenario base;
    try {
      base = load_scenario_file(file, ValidationScope::LayoutFree);  // throws what is wrong besides the layout
    } catch (const InputError& layout_free) {
      return load_sweep_base_without_fsdp(file, layout_free);
    }
    const Diagnostic& d = full.diagnostics().front();
    std::cerr << "hcpsim sweep: the scenario's own layout is not valid here (" << d.path << ": " << d.what
              << (full.diagnostics().size() > 1 ? "; and " + std::to_string(full.diagnostics().size() - 1) + " more" : "")
              << "); the sweep explores every layout regardless\n";
    return base;
  }
}

int sweep_main(const SweepCommands& s) {
  int shard_index = 1, shard_count = 1;  // the flag first: it needs no scenario
  parse_shard(s.shard, shard_index, shard_count);
  if (shard_count > 1 && (s.out.require_fit || s.out.require_margin))
    throw InputError({{fit_requirement_flag(s.out), "a shard holds only part of the options",
                       "it judges the recommendation of all of them", "give it to hcpsim merge instead"}});
  Scenario base = load_sweep_base(s.file);
  check_cost_params(base);
  DiagnosticSink sink;
  const auto text = read_text_file(s.file, "", sink);
  const auto doc = text ? parse_json_text(*text, s.file, "", sink) : std::nullopt;
  sink.throw_if_any();
  const SweepSpec spec = read_spec(*doc, s);
  const SweepRunOptions ro = run_options(s, s.file, "sweep", shard_index, shard_count);
  check_outputs(s, base.files_read(), ro.state_dir);

  const ParseOptions popt = parse_options_for_file(s.file);
  const SweepSpace space = enumerate_sweep(*doc, base, spec, popt);
  check_sweep_space(space, s.hcp.empty() || !spec.hcp_sizes ? std::vector<std::vector<int64_t>>{} : *spec.hcp_sizes,
                    base);

  std::string summary;  // the base scenario less its layout, which the sweep varies
  std::istringstream lines(format_scenario_summary(base));
  for (std::string l; std::getline(lines, l);)
    if (l.rfind("  parallel:", 0) != 0 && l.rfind("scenario:", 0) != 0) summary += l + "\n";
  const nlohmann::json* training = doc->contains("training") ? &(*doc)["training"] : nullptr;
  if (!training || !training->is_object() || !training->contains("global_batch_size"))
    summary += "  note:     the scenario sets no training.global_batch_size: each layout trains one micro batch a DP rank "
               "a step (micro batch x DP sequences), so layouts of other DP train other batches, a pipeline never fills "
               "and none interleaves; set global_batch_size to compare them on one job\n";
  SweepMeta meta;
  meta.scenario = base.name;
  meta.source = s.file;
  meta.base_dir = popt.base_dir;
  meta.summary = summary;
  const SweepRun run = run_sweep(space, ro, meta);
  if (const int code = interrupted_or_failed(run, ro, "sweep"); code >= 0) return code;
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
      throw InputError({{f + ": format", "not a sweep result", std::string("format ") + kSweepFormat,
                         "give the files written by hcpsim sweep --format json -o FILE"}});
    const SweepMeta meta = meta_from_json(*doc, f + ": ");
    if (&f == &s.inputs.front()) {
      merged.meta = meta;
      merged.meta.shards.clear();  // filled below, file by file; what is missing, counted after
      merged.meta.missing_candidates = 0;
    } else if (meta.space_digest != merged.meta.space_digest) {
      throw InputError({{f + ": space_digest", "belongs to a different sweep than " + s.inputs.front(),
                         "space_digest differs", "merge shards of one sweep: same scenario, bounds and hcpsim version"}});
    }
    std::vector<SweepRow> file_rows = candidate_rows(*doc, f, "hcpsim sweep --format json -o FILE");
    admit_merged_file(f, meta, file_rows, merged.meta.shards);
    for (SweepRow& row : file_rows) rows.emplace(row.key, std::move(row));
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

// The rows of a comparison's shard files (compare --format json), checked against the plan.
SweepOutcome read_compare_shards(const std::vector<std::string>& files, const ComparePlan& plan, SweepMeta meta) {
  SweepOutcome merged;
  merged.meta = meta;
  merged.meta.space_digest = plan.space.digest;
  merged.meta.candidates_total = static_cast<int64_t>(plan.space.candidates.size());
  std::map<std::string, SweepRow> rows;
  for (const std::string& f : files) {
    DiagnosticSink sink;
    const auto text = read_text_file(f, "--merge", sink);
    const auto doc = text ? parse_json_text(*text, f, "", sink) : std::nullopt;
    sink.throw_if_any();
    if (!doc->is_object() || doc->value("format", "") != kCompareFormat)
      throw InputError({{f + ": format", "not a comparison result", std::string("format ") + kCompareFormat,
                         "give --merge the files written by hcpsim compare STUDY --shard i/N --format json -o FILE"}});
    nlohmann::json meta_doc = *doc;  // the sweep's part of the document
    for (const char* k : {"study", "options", "rank_by", "notes"}) meta_doc.erase(k);
    const SweepMeta m = meta_from_json(meta_doc, f + ": ");
    if (m.space_digest != plan.space.digest)
      throw InputError({{f + ": space_digest", "belongs to another comparison", "space_digest differs from this study's",
                         "merge shards of this study file, written by this hcpsim version"}});
    std::vector<SweepRow> file_rows = candidate_rows(*doc, f, "hcpsim compare STUDY --shard i/N --format json -o FILE");
    admit_merged_file(f, m, file_rows, merged.meta.shards);
    for (SweepRow& row : file_rows) {
      if (row.status != RowStatus::Missing) rows[row.key] = std::move(row);
    }
  }
  for (const SweepCandidate& c : plan.space.candidates) {
    const auto it = rows.find(c.key);
    if (it != rows.end()) merged.rows.push_back(it->second);
    else ++merged.meta.missing_candidates;
  }
  if (merged.meta.missing_candidates > 0)  // deciding from part of the space would be a silent wrong answer
    throw InputError({{"--merge",
                       std::to_string(merged.meta.missing_candidates) + " of " +
                           std::to_string(merged.meta.candidates_total) + " candidates are in none of the files",
                       "every shard's rows are needed to decide", "merge every shard of --shard i/N"}});
  return merged;
}

int compare_main(const SweepCommands& s) {
  int shard_index = 1, shard_count = 1;  // the flags first: they need no study
  parse_shard(s.shard, shard_index, shard_count);
  if (shard_count > 1 && (s.out.format != "json" || s.out.out_file.empty()))
    throw InputError({{"--shard", "a shard's output is for --merge", "a shard writes its rows as JSON to a file",
                       "add --format json -o FILE"}});
  const Study st = load_study_file(s.file);
  std::vector<std::string> read;
  for (const StudyOption& o : st.options) {
    Scenario sc = o.base;
    check_cost_params(sc);
    for (const std::string& f : sc.files_read()) read.push_back(f);
  }
  const SweepRunOptions ro = run_options(s, s.file, "compare", shard_index, shard_count);
  check_outputs(s, read, ro.state_dir);
  const ParseOptions popt = parse_options_for_file(s.file);
  const ComparePlan plan = plan_compare(st, popt);
  SweepMeta meta;
  meta.scenario = st.name;
  meta.source = s.file;
  meta.base_dir = popt.base_dir;
  SweepOutcome outcome;
  if (!s.merge_files.empty()) {
    outcome = read_compare_shards(s.merge_files, plan, meta);
  } else {
    const SweepRun run = run_sweep(plan.space, ro, meta);
    if (const int code = interrupted_or_failed(run, ro, "compare"); code >= 0) return code;
    outcome = run.outcome;
    if (shard_count > 1) {  // a shard's rows alone decide nothing: write them for --merge
      emit(s.out, compare_to_json(st, plan, outcome, CompareResult{}));
      return kExitOk;
    }
  }
  const CompareResult r = decide_compare(st, plan, outcome, s.rank_by == "cost" ? CompareRank::Cost : CompareRank::Time);
  if (!s.report_dir.empty()) {
    std::optional<LayerTimeline> winner;
    if (const int row = r.verdicts[r.ranking.front()].row; row >= 0) {
      const auto t = simulate_timelines(outcome, {row}, 1);
      if (const auto it = t.find(row); it != t.end()) winner = it->second;
    }
    write_compare_report(s.report_dir, st, plan, outcome, r, winner);
    std::cerr << "hcpsim compare: report written to " << s.report_dir << "/index.html\n";
  }
  if (s.out.format == "json") emit(s.out, compare_to_json(st, plan, outcome, r));
  else if (s.out.format == "csv") emit(s.out, compare_to_csv(st, plan, outcome, r));
  else emit(s.out, format_compare_table(st, plan, outcome, r));
  return kExitOk;
}

}  // namespace

std::shared_ptr<SweepCommands> add_sweep_commands(CLI::App& app) {
  auto s = std::make_shared<SweepCommands>();
  CLI::App* c = app.add_subcommand("sweep", "Simulate every valid TP x CP x cp_comm_type x HCP split for the scenario's "
                                            "model, sequence and cluster; rank them and recommend one");
  s->sweep = c;
  c->add_option("scenario", s->file, "Scenario JSON file (its parallel section gives the defaults)")->required();
  c->add_option("--tp", s->tp, "TP sizes to try (default: divisors of gpus_per_node up to 8 dividing the heads and ffn_hidden_size)")->delimiter(',');
  c->add_option("--cp", s->cp, "CP sizes to try (default: powers of two with TP*CP dividing the world)")->delimiter(',');
  c->add_option("--pp", s->pp, "PP sizes to try (default: depths up to 16 that split the layers and divide the world)")
      ->delimiter(',');
  c->add_option("--vpp", s->vpp, "Virtual pipeline sizes to try (default: 1, and 2 where PP > 1 splits its layers in two and a global batch is given)")->delimiter(',');
  c->add_option("--comm", s->comm, "cp_comm_types to try (default: p2p,all_gather,a2a,a2a+p2p)")->delimiter(',');
  c->add_option("--hcp", s->hcp, "HCP splits AxP to try, e.g. 8x2,4x4 (default: every split of CP)")->delimiter(',');
  c->add_option("--micro-batch", s->mbs,
                "Micro batch sizes to try (default: 1, 2, 4, ... while they divide the global batch and fit; the "
                "scenario's own when it sets no global batch)")
      ->delimiter(',');
  c->add_option("--recompute", s->recompute,
                "Recompute settings to try, e.g. none,full,block (default: none,selective,full,block; block: full "
                "recompute of the fewest layers a model chunk that fit and leave the allocator's margin, where a layout "
                "needs recompute); or "
                "lightest_fitting: the scenario's, plus, when it does not fit, the lightest heavier one that fits and the "
                "lightest that leaves the allocator's margin where that is another (when it fits within the margin, "
                "the latter)");
  c->add_option("--sequence-parallel", s->sequence_parallel, "auto (on when TP > 1), on or off")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  c->add_option("-j,--jobs", s->jobs, "Simulations at once (default: the number of cores)")->check(CLI::Range(1, 4096));
  c->add_option("--shard", s->shard, "Simulate slice i of N (1-based), e.g. 2/8; join the slices with hcpsim merge");
  c->add_option("--state", s->state_dir, "Folder keeping finished results (default: <stem>.sweep[-IofN] in the current folder)");
  c->add_flag("--resume", s->resume, "Continue an interrupted sweep: keep the results in --state, simulate the rest");
  c->add_flag("--simulate-unfit", s->simulate_unfit,
              "Also simulate candidates whose memory estimate exceeds the GPU (default: listed as not fitting, "
              "with the estimate, unsimulated)");
  add_output_options(c, *s);
  add_fit_requirement_options(c, *s);

  CLI::App* m = app.add_subcommand("merge", "Join the --format json results of sweep shards into one ranked result");
  s->merge = m;
  m->add_option("files", s->inputs, "Shard results (hcpsim sweep --shard i/N --format json -o FILE)")->required();
  add_output_options(m, *s);
  add_fit_requirement_options(m, *s);

  CLI::App* cmp = app.add_subcommand("compare", "Compare clusters for one training job: the best layout on each, time to "
                                                "train the token budget, GPU-hours, cost and energy, with bands");
  s->compare = cmp;
  cmp->add_option("study", s->file, "Study JSON file (a job and the cluster options; docs/compare.md)")->required();
  cmp->add_option("--rank", s->rank_by, "Rank the options by time to train or by cost")->check(CLI::IsMember({"time", "cost"}));
  cmp->add_option("-j,--jobs", s->jobs, "Simulations at once (default: the number of cores)")->check(CLI::Range(1, 4096));
  cmp->add_option("--shard", s->shard, "Simulate slice i of N (1-based) and write it with --format json -o FILE; join with --merge");
  cmp->add_option("--merge", s->merge_files, "Decide from these shard files (compare --shard i/N --format json -o FILE)");
  cmp->add_option("--state", s->state_dir, "Folder keeping finished results (default: <stem>.compare[-IofN])");
  cmp->add_flag("--resume", s->resume, "Continue an interrupted comparison: keep the results in --state, simulate the rest");
  add_output_options(cmp, *s);
  return s;
}

int run_sweep_commands(const SweepCommands& s) {
  if (!*s.sweep && !*s.merge && !*s.compare) return -1;
  try {
    if (*s.compare) return compare_main(s);
    return *s.sweep ? sweep_main(s) : merge_main(s);
  } catch (const InputError& e) {
    print_diagnostics(e, s.file, s.out.format);
    return kExitInvalidInput;
  } catch (const OutputFileError& e) {
    print_flag_error(output_file_error("--out/--state/--report", e.what()), s.file, s.out.format);
    return kExitInvalidInput;
  } catch (const std::exception& e) {
    std::cerr << "hcpsim: internal error: " << e.what() << "\n";
    return kExitInternal;
  }
}

}  // namespace hcpsim
