// `hcpsim [FILE]`: simulate one training step (or layer / attention) and report
// it; with no FILE, the built-in seed decision study, side by side.
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "report/memory_table.hpp"
#include "cli/cli.hpp"
#include "cli/commands.hpp"
#include "common/child_process.hpp"
#include "common/output_file.hpp"
#include "report/result_text.hpp"
#include "run/result_json.hpp"
#include "report/scenario_summary.hpp"
#include "report/study_table.hpp"
#include "sweep/choose.hpp"
#include "run/simulate.hpp"
#include "report/trace.hpp"

namespace hcpsim {

namespace {

// Simulates in a child process (SimGrid: one simulation per process) and returns its
// result; writes the trace there too when asked. An input error in the child (a calibration
// file that cannot be read, say) is thrown here as the InputError it was.
SimulationResult simulate(const Scenario& sc, const CliOptions& opt, const std::string& trace_file) {
  const std::string text = result_of_child([&]() {
    SimulationArtifacts art;
    SimulationResult r = simulate_scenario(sc, SimulateOptions{}, trace_file.empty() ? nullptr : &art);
    if (!trace_file.empty()) {
      std::vector<TracePhase> phases = {{"layer", &art.workload.layer}};
      if (!art.workload.step.empty()) phases.push_back({"step", &art.workload.step});
      if (!art.workload.pipeline.empty()) phases.push_back({"pipeline", &art.workload.pipeline});
      const PipelineTiming* schedule = art.workload.pipeline.empty() ? nullptr : &art.pipeline;
      write_file_atomically(trace_file, chrome_trace_json(art.timeline, phases, art.workload.groups, &art.routes, schedule));
    }
    if (opt.reproducible) r.wall_s.reset();
    return result_to_json(r).dump();
  });
  return result_from_json(nlohmann::json::parse(text), "<simulation of " + sc.name + ">");
}

// "trace.json" for one input; "trace-<stem>.json" for each of several.
std::string trace_path(const CliOptions& opt, const NamedScenario& in, bool several) {
  if (opt.trace_file.empty() || !several) return opt.trace_file;
  std::filesystem::path p(opt.trace_file);
  std::string stem = std::filesystem::path(in.source).stem().string();
  for (char& c : stem)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return (p.parent_path() / (p.stem().string() + "-" + stem + p.extension().string())).string();
}

std::string short_label(const std::string& name) { return name.size() <= 28 ? name : name.substr(0, 27) + "~"; }

// The scenario under the lightest recompute setting that fits, if its own does not, and under the
// lightest that also leaves the allocator's margin where that is another, or where its own fits
// within the margin (lightest_fitting_recompute).
std::vector<Scenario> fitting_variants(const Scenario& sc) {
  const LightestRecompute r = lightest_fitting_recompute(sc);
  std::vector<Scenario> out;
  for (const auto& g : {r.fits, r.leaves_margin}) {
    if (!g || (!out.empty() && out.front().training.recompute_granularity == *g)) continue;
    Scenario v = sc;
    v.training.recompute_granularity = *g;
    v.training.recompute_method = RecomputeMethod::Uniform;  // full: every layer on its own
    v.training.recompute_num_layers = 1;
    v.name = sc.name.substr(0, sc.name.find(':')) + " + " + to_string(*g) + " recompute";
    out.push_back(std::move(v));
  }
  return out;
}

double tps(const SimulationResult& r) { return r.step->tokens_per_s_per_gpu; }
double attn_ms(const SimulationResult& r) { return 1e3 * (r.attention.forward_s + r.attention.backward_s); }
double component_gb(const SimulationResult& r, const std::string& name) {
  for (const MemoryComponent& c : r.memory.breakdown)
    if (c.name == name) return c.bytes / 1e9;
  return 0;
}

// The seed study's claim, checked against what hcpsim computed.
std::string seed_check(const std::vector<StudyRow>& rows) {
  const StudyRow *a = nullptr, *b = nullptr;
  // Each option, or where it does not fit, its first fitting variant (the lightest recompute that
  // fits, listed before the lightest that also leaves the allocator's margin).
  const auto take = [](const StudyRow*& pick, const StudyRow& r) {
    if (!pick || (!pick->result.memory.fits && r.result.memory.fits)) pick = &r;
  };
  for (const auto& r : rows) {
    if (r.label.rfind("A", 0) == 0) take(a, r);
    if (r.label.rfind("B", 0) == 0) take(b, r);
  }
  if (!a || !b) return "";
  char buf[1024];
  std::string o = "Seed claim (Megatron-Bridge docs/training/hierarchical-context-parallel.md): B matches A's throughput\n"
                  "with more memory headroom. hcpsim compares " + a->label + " with " + b->label + ":\n";
  std::snprintf(buf, sizeof buf, "  throughput: B reaches %.1f%% of A's tokens/s per GPU (%.1f vs %.1f)%s\n",
                100 * tps(b->result) / tps(a->result), tps(b->result), tps(a->result),
                throughput_tie(a->result, b->result) ? " - a match within the band of the comparison, as the seed says"
                                                     : " - not a match");
  o += buf;
  const double dh = (b->result.memory.headroom_bytes - a->result.memory.headroom_bytes) / 1e9;
  std::snprintf(buf, sizeof buf, "  headroom: B has %+.1f GB relative to A%s\n", dh,
                dh > 0 ? " - more, as the seed says" : " - less, unlike the seed");
  o += buf;
  std::snprintf(buf, sizeof buf,
                "  why: attention per layer A %.1f ms (CP comm exposed %.2f ms) vs B %.1f ms (exposed %.2f ms); B's TP2 halves\n"
                "       weights+grads (%.1f vs %.1f GB) but keeps %.1f GB of activations against A's %.1f GB.\n",
                attn_ms(a->result), 1e3 * a->result.attention.exposed_comm_s, attn_ms(b->result),
                1e3 * b->result.attention.exposed_comm_s,
                component_gb(b->result, "weights") + component_gb(b->result, "main grads"),
                component_gb(a->result, "weights") + component_gb(a->result, "main grads"),
                component_gb(b->result, "activations (saved)"), component_gb(a->result, "activations (saved)"));
  o += buf;
  return o;
}

int run_study(const std::vector<NamedScenario>& inputs, const CliOptions& opt) {
  std::vector<StudyRow> rows;
  for (const auto& in : inputs) {
    rows.push_back({short_label(in.scenario.name), simulate(in.scenario, opt, trace_path(opt, in, true))});
    for (const Scenario& v : fitting_variants(in.scenario)) rows.push_back({short_label(v.name), simulate(v, opt, "")});
  }
  std::string reasons;
  const int pick = recommend(rows, reasons);
  const SimulationResult* picked = pick >= 0 ? &rows[pick].result : nullptr;
  const std::string picked_name = pick >= 0 ? "the recommendation, " + rows[pick].label : reasons;
  if (opt.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : rows) out.push_back({{"option", r.label}, {"result", result_to_json(r.result)}});
    emit(opt, out.dump(2) + "\n");
    return fit_requirement_exit(opt, picked, picked_name);
  }
  std::string text = "hcpsim study: " + std::to_string(inputs.size()) + " options";
  text += opt.scenario_file.empty() ? " (built-in seed decision: Llama-3.1-8B, 128K tokens, 4 x DGX-H100)\n\n" : "\n\n";
  for (const auto& in : inputs) text += format_scenario_summary(in.scenario);
  text += "\n";
  text += format_study_table(rows);
  text += "(options that do not fit are also shown with the lightest recompute setting that fits, and the lightest "
          "that leaves the allocator's margin where that is another)\n\n";
  text += (pick >= 0 ? "Recommendation: " + rows[pick].label + "\n  " : "Recommendation: none\n  ") + reasons + "\n\n";
  if (opt.scenario_file.empty()) text += seed_check(rows) + "\n";
  text += "simulated: " + rows.front().result.simulated + "\n";
  text += "composed:  " + rows.front().result.composed + "\n";
  text += "costs:     " + rows.front().result.cost_source + "\n";
  emit(opt, text);
  return fit_requirement_exit(opt, picked, picked_name);
}

}  // namespace

int run_command(const std::vector<NamedScenario>& inputs, const CliOptions& opt) {
  if (inputs.size() > 1) return run_study(inputs, opt);
  const NamedScenario& in = inputs.front();
  const SimulationResult r = simulate(in.scenario, opt, trace_path(opt, in, false));
  if (opt.format == "json") emit(opt, result_to_json(r).dump(2) + "\n");
  else  // the result's scenario: the input's, with what the simulation found to warn of (a host-bound step)
    emit(opt, format_scenario_summary(r.scenario) + format_result(r) + format_memory(r.memory));
  return fit_requirement_exit(opt, &r, in.source);
}

}  // namespace hcpsim
