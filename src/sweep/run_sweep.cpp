#include "sweep/run_sweep.hpp"

#include <chrono>
#include <csignal>
#include <map>
#include <cstdio>
#include <unistd.h>

#include "memory/estimate.hpp"
#include "run/simulate.hpp"
#include "common/child_process.hpp"
#include "run/result_json.hpp"
#include "sweep/outcome_json.hpp"
#include "sweep/state.hpp"

namespace hcpsim {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

// SIGINT / SIGTERM (Ctrl-C, Slurm's time limit) stop the sweep between results.
struct StopOnSignal {
  struct sigaction old_int {}, old_term {};
  StopOnSignal() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  ~StopOnSignal() {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
};

void draw_progress(size_t done, size_t total, size_t running, double elapsed_s) {
  constexpr int kWidth = 30;
  const int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
  std::string bar(filled, '#');
  bar.append(kWidth - filled, '.');
  const double left_s = done ? elapsed_s * (total - done) / done : 0;
  std::fprintf(stderr, "\r  sweep [%s] %zu/%zu simulated, %zu running, %.0f s, ~%.0f s left ", bar.c_str(), done, total,
               running, elapsed_s, left_s);
  if (done == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace

SweepRow candidate_row(const SweepCandidate& c, bool simulate_unfit) {
  SweepRow row;
  row.index = c.index;
  row.key = c.key;
  row.label = c.label;
  row.digest = c.digest;
  row.input = c.input;
  if (!c.scenario) {
    row.status = RowStatus::Rejected;
    row.rejected_by = c.rejected;
    return row;
  }
  if (!simulate_unfit) {
    const MemoryEstimate m = estimate_memory(*c.scenario);
    if (!m.fits) {
      row.status = RowStatus::Unfit;
      row.unfit = MemoryShortfall{m.peak_bytes, m.capacity_bytes, m.peak_phase};
    }
  }
  return row;  // otherwise status set when it is simulated (or reused)
}

SweepRun run_sweep(const SweepSpace& space, const SweepRunOptions& opt, SweepMeta meta) {
  SweepRun run;
  meta.space_digest = space.digest;
  meta.candidates_total = static_cast<int64_t>(space.candidates.size());
  meta.shard = {opt.shard_index + 1, opt.shard_count};
  run.outcome.meta = meta;

  const SweepState state = open_sweep_state(opt.state_dir);
  std::map<std::string, nlohmann::json> done;
  if (opt.resume) done = load_results(state, run.unreadable_set_aside);
  else run.set_aside = reset_results(state);

  std::vector<size_t> todo;  // positions in outcome.rows still to simulate
  std::vector<const SweepCandidate*> todo_candidates;
  for (const SweepCandidate& c : space.candidates) {
    if (c.index % opt.shard_count != opt.shard_index) continue;
    SweepRow row = candidate_row(c, opt.simulate_unfit);
    if (c.scenario && row.status != RowStatus::Unfit) {
      const auto it = done.find(c.key);
      std::optional<SweepRow> kept;
      if (it != done.end() && it->second.value("digest", "") == c.digest && it->second.value("status", "") == "ok") {
        try {
          kept = row_from_json(it->second, opt.state_dir + "/results.jsonl[" + c.key + "]");
        } catch (const InputError&) {
          // written by another hcpsim: simulated again
        }
      }
      if (kept) {
        row = std::move(*kept);
        ++run.reused;
      } else {
        todo.push_back(run.outcome.rows.size());
        todo_candidates.push_back(&c);
      }
    }
    run.outcome.rows.push_back(std::move(row));
  }

  // Candidates of one simulation (full recompute of every layer, by units or by block: their
  // documents differ in recompute_method and recompute_num_layers alone) share one child: the layer
  // is simulated once and each candidate's step composed from it (simulate_scenarios). A child
  // that fails fails its group's rows alike: run alone, each would run the same simulation.
  std::vector<std::vector<size_t>> groups;  // positions in todo
  std::map<std::string, size_t> group_of;    // a full recompute candidate's document without those keys
  for (size_t i = 0; i < todo.size(); ++i) {
    const SweepCandidate& c = *todo_candidates[i];
    if (c.scenario->training.full_recompute()) {
      nlohmann::json doc = c.input;
      doc.erase("name");
      if (doc.contains("training") && doc["training"].is_object()) {
        doc["training"].erase("recompute_method");
        doc["training"].erase("recompute_num_layers");
      }
      const auto [it, fresh] = group_of.try_emplace(doc.dump(), groups.size());
      if (!fresh && same_simulation(*todo_candidates[groups[it->second].front()]->scenario, *c.scenario)) {
        groups[it->second].push_back(i);
        continue;
      }
    }
    groups.push_back({i});
  }

  StopOnSignal stop_guard;
  const auto t0 = std::chrono::steady_clock::now();
  size_t finished = 0, groups_finished = 0, input_errors = 0;
  if (opt.progress && !todo.empty()) draw_progress(0, todo.size(), 0, 0);
  const auto work = [&](size_t g) {
    std::vector<Scenario> scenarios;
    for (const size_t i : groups[g]) scenarios.push_back(*todo_candidates[i]->scenario);
    nlohmann::json results = nlohmann::json::array();
    for (SimulationResult& r : simulate_scenarios(scenarios, SimulateOptions{})) {
      if (opt.reproducible) r.wall_s.reset();
      results.push_back(result_to_json(r));
    }
    return results.dump();
  };
  const auto on_done = [&](size_t g, const ChildOutcome& out) {
    const nlohmann::json results = out.ok() ? nlohmann::json::parse(out.text) : nlohmann::json();
    for (size_t k = 0; k < groups[g].size(); ++k) {
      SweepRow& row = run.outcome.rows[todo[groups[g][k]]];
      if (out.ok()) {
        row.status = RowStatus::Ok;
        row.result = result_from_json(results.at(k), "<simulation of " + row.key + ">");
      } else {
        row.status = RowStatus::Failed;
        row.error = out.text;
        if (out.status == ChildOutcome::Status::InputError) {
          if (input_errors == 0) run.common_input_error = out.diagnostics;
          else if (run.common_input_error && *run.common_input_error != out.diagnostics) run.common_input_error.reset();
          ++input_errors;
        }
      }
      append_result(state, row_to_json(row));
      ++finished;
    }
    ++groups_finished;
    if (opt.progress) {
      const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      draw_progress(finished, todo.size(), std::min<size_t>(opt.jobs, groups.size() - groups_finished), el);
    }
  };
  run_pool(groups.size(), opt.jobs, work, on_done, &g_stop);
  run.simulated = static_cast<int>(finished);
  run.interrupted = g_stop != 0;
  if (input_errors == 0 || input_errors < finished) run.common_input_error.reset();
  if (run.interrupted && opt.progress) std::fprintf(stderr, "\n");
  return run;
}

}  // namespace hcpsim
