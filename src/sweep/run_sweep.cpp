#include "sweep/run_sweep.hpp"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <unistd.h>

#include "run/result_json.hpp"
#include "run/simulate.hpp"
#include "sweep/pool.hpp"
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

nlohmann::json candidate_row(const SweepCandidate& c) {
  nlohmann::json row = {{"index", c.index}, {"key", c.key}, {"label", c.label}, {"digest", c.digest}, {"input", c.input}};
  if (c.scenario) return row;
  row["status"] = "rejected";
  nlohmann::json why = nlohmann::json::array();
  for (const auto& d : c.rejected) why.push_back({{"path", d.path}, {"what", d.what}, {"rule", d.rule}, {"fix", d.fix}});
  row["rejected_by"] = why;
  return row;
}

SweepRun run_sweep(const SweepSpace& space, const SweepRunOptions& opt, nlohmann::json meta) {
  SweepRun run;
  meta["space_digest"] = space.digest;
  meta["candidates_total"] = space.candidates.size();
  meta["shard"] = {{"index", opt.shard_index + 1}, {"count", opt.shard_count}};
  run.outcome.meta = meta;

  const SweepState state = open_sweep_state(opt.state_dir);
  std::map<std::string, nlohmann::json> done;
  if (opt.resume) done = load_results(state);
  else reset_results(state);

  std::vector<size_t> todo;  // positions in outcome.rows still to simulate
  std::vector<const SweepCandidate*> todo_candidates;
  for (const SweepCandidate& c : space.candidates) {
    if (c.index % opt.shard_count != opt.shard_index) continue;
    nlohmann::json row = candidate_row(c);
    if (c.scenario) {
      const auto it = done.find(c.key);
      if (it != done.end() && it->second.value("digest", "") == c.digest && it->second.value("status", "") == "ok") {
        row = it->second;
        ++run.reused;
      } else {
        todo.push_back(run.outcome.rows.size());
        todo_candidates.push_back(&c);
      }
    }
    run.outcome.rows.push_back(std::move(row));
  }

  StopOnSignal stop_guard;
  const auto t0 = std::chrono::steady_clock::now();
  size_t finished = 0;
  if (opt.progress && !todo.empty()) draw_progress(0, todo.size(), 0, 0);
  const auto work = [&](size_t i) {
    const Scenario& sc = *todo_candidates[i]->scenario;
    return result_to_json(sc, simulate_scenario(sc, SimulateOptions{}), opt.reproducible).dump();
  };
  const auto on_done = [&](size_t i, const PoolOutcome& out) {
    nlohmann::json& row = run.outcome.rows[todo[i]];
    if (out.ok) {
      row["status"] = "ok";
      row["result"] = nlohmann::json::parse(out.text);
    } else {
      row["status"] = "failed";
      row["error"] = out.text;
    }
    append_result(state, row);
    ++finished;
    if (opt.progress) {
      const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      draw_progress(finished, todo.size(), std::min<size_t>(opt.jobs, todo.size() - finished), el);
    }
  };
  run.simulated = static_cast<int>(run_pool(todo.size(), opt.jobs, work, on_done, &g_stop));
  run.interrupted = g_stop != 0;
  if (run.interrupted && opt.progress) std::fprintf(stderr, "\n");
  return run;
}

}  // namespace hcpsim
