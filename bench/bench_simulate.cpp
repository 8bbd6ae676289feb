// Simulation cost of one training step's programs (layer + step phases) for
// the seed model (Llama-3.1-8B, 128K, TP1 CP16) on growing DGX-H100 clusters:
// GPUs, SimGrid activities, wall seconds and peak RSS per run. Each run is a
// forked child (SimGrid: one simulation per process).
//
//   bench_simulate [GPUs ...]      default: 64 512 1024 4096 8192
//
// Columns: fold = DP replica folding asked; K = ring macro-steps at most;
// layer-rk / step-rk = ranks simulated in each phase; activities = SimGrid
// execs + flows; sim-wall = execute_programs' wall time; tot-wall = the run's
// wall time with scenario, workload and graph building; cpu = the run's user +
// system CPU seconds; RSS = its peak resident memory; layer / step = the
// simulated span of each phase.
//
// Kernel times are a PLACEHOLDER rule of this benchmark only (FLOPs / peak +
// bytes / HBM bandwidth): the cost of simulating does not depend on them much;
// hcpsim's predictions use cost/cost_model.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "scenario/parse.hpp"
#include "workload/builder.hpp"
#include "engine/execute.hpp"

using namespace hcpsim;

namespace {

struct Config {
  const char* name;
  const char* cp_comm_type;
  const char* hcp;  // JSON array or ""
  bool fold;
  int ring_max_macro_steps;
  int64_t max_gpus;  // run only up to this size (unfolded runs are for comparison)
};

Scenario seed_scenario(const Config& c, int64_t gpus) {
  const int64_t dp = gpus / 16;
  std::string json = R"({"name": "bench", "model": {"preset": "llama3.1-8b"},
    "training": {"seq_length": 131072, "micro_batch_size": 1, "global_batch_size": )" + std::to_string(4 * dp) + R"(},
    "parallel": {"tensor_model_parallel_size": 1, "context_parallel_size": 16, "cp_comm_type": ")" +
                     c.cp_comm_type + "\"" + (c.hcp[0] != 0 ? std::string(", \"hierarchical_context_parallel_sizes\": ") + c.hcp : "") +
                     R"(}, "cluster": {"preset": "dgx-h100", "num_nodes": )" + std::to_string(gpus / 8) + "}}";
  return parse_scenario_text(json, {});
}

// PLACEHOLDER kernel times (this benchmark only): FLOPs at peak plus bytes at HBM bandwidth.
std::vector<std::vector<double>> placeholder_times(const std::vector<RankProgram>& programs, const GpuSpec& gpu) {
  std::vector<std::vector<double>> t;
  for (const RankProgram& p : programs) {
    t.emplace_back();
    for (const Op& op : p.ops)
      t.back().push_back(op.kind == OpKind::Compute ? op.flops / gpu.peak_bf16_flops_per_s + op.bytes / gpu.hbm_bytes_per_s : 0);
  }
  return t;
}

// One run, in the calling (child) process; prints one table row.
void run_one(const Config& c, int64_t gpus) {
  const auto begin = std::chrono::steady_clock::now();
  const Scenario sc = seed_scenario(c, gpus);
  const Workload w = build_workload(sc);
  const auto layer_s = placeholder_times(w.layer, sc.cluster.gpu), step_s = placeholder_times(w.step, sc.cluster.gpu);
  ExecuteInput in;
  in.graph = build_cluster_graph(sc.cluster);
  in.layout = {.tp = 1, .cp = 16, .dp = sc.parallel.data_parallel_size};
  in.placement = megatron_placement(in.graph, in.layout);
  in.options.fold_dp_replicas = c.fold;
  in.options.ring_max_macro_steps = c.ring_max_macro_steps;
  in.phases = {{"layer", w.layer, w.groups, layer_s}, {"step", w.step, w.groups, step_s}};
  const Timeline t = execute_programs(in);
  const double total_wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  const double cpu_s = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                       1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  std::printf("%-10s %5s %3d %6lld %9lld %9lld %10lld %8.2f %8.2f %8.2f %8.1f %10.3f %10.3f\n", c.name,
              c.fold ? "on" : "off", c.ring_max_macro_steps, static_cast<long long>(gpus), static_cast<long long>(t.phases[0].simulated_ranks),
              static_cast<long long>(t.phases[1].simulated_ranks), static_cast<long long>(t.activities), t.wall_s,
              total_wall_s, cpu_s, static_cast<double>(u.ru_maxrss) / 1024.0, 1e3 * (t.phase_end_s[0] - t.phase_start_s[0]),
              1e3 * (t.phase_end_s[1] - t.phase_start_s[1]));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoll(argv[i]));
  if (sizes.empty()) sizes = {64, 512, 1024, 4096, 8192};
  // Fold on, K = 4 (the defaults) at every size; K = 16 and unfolded runs up to 1024 GPUs for comparison.
  const Config configs[] = {{"A:a2a+p2p", "a2a+p2p", "[8, 2]", true, 4, 1 << 30},
                            {"A:a2a+p2p", "a2a+p2p", "[8, 2]", true, 16, 1024},
                            {"A:a2a+p2p", "a2a+p2p", "[8, 2]", false, 4, 1024},
                            {"C:p2p", "p2p", "", true, 4, 1 << 30},
                            {"C:p2p", "p2p", "", false, 4, 1024}};
  std::printf("# hcpsim bench_simulate: seed model llama3.1-8b, seq 131072, TP1 CP16, dgx-h100 nodes\n");
  std::printf("# kernel times: PLACEHOLDER flops/peak + bytes/HBM (benchmark only)\n");
  std::printf("# layer-ranks/step-ranks: ranks simulated per phase (fold on: the layer phase runs DP replica 0)\n");
  std::printf("# sim-wall: execute_programs' own wall time; tot-wall: + scenario, workload and graph building;\n");
  std::printf("# cpu: user + system CPU seconds of the run (wall times include waiting for a shared CPU)\n");
  std::printf("%-10s %5s %3s %6s %9s %9s %10s %8s %8s %8s %8s %10s %10s\n", "#config", "fold", "K", "GPUs", "layer-rk",
              "step-rk", "activities", "sim-wall", "tot-wall", "cpu", "RSS", "layer", "step");
  std::printf("%-10s %5s %3s %6s %9s %9s %10s %8s %8s %8s %8s %10s %10s\n", "#", "", "", "", "", "", "", "s", "s", "s", "MiB",
              "ms", "ms");
  std::fflush(stdout);
  int failures = 0;
  for (int64_t gpus : sizes)
    for (const Config& c : configs) {
      if (gpus > c.max_gpus) continue;
      const pid_t pid = fork();
      if (pid == 0) {
        try {
          run_one(c, gpus);
          _exit(0);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "%s %lld GPUs: %s\n", c.name, static_cast<long long>(gpus), e.what());
          _exit(1);
        }
      }
      int status = 0;
      waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
    }
  return failures == 0 ? 0 : 1;
}
