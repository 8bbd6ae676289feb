// hcpcal: measures on GPUs what hcpsim's cost model stands for (attention kernels, cuBLAS
// GEMMs, copy bandwidth, CP attention, NCCL collectives, their interference) and writes
// measurements.json for `hcpsim fit` / `check`.
// Launch (launch.h): one process per GPU under mpirun or srun (NCCL bootstrapped over MPI),
// or one process driving -g N GPUs, or one process and one GPU. The one-GPU suites
// (attention, gemm, copy; cp when the launch has one rank, with virtual ranks) run on process
// 0's first GPU; nccl, interference and cp with several ranks (one CP group of every rank)
// run on every rank, process 0 prints and writes the file (gathering the others' results).
// Output follows nccl-tests: every non-data line starts with '#'. Exit 0 when every check
// passed, 1 when any element was wrong, 2 on bad flags or an impossible launch, 3 on a
// CUDA/NCCL/MPI failure (finished measurements stay in the file).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "cuda_check.h"
#include "environment.h"
#include "launch.cuh"
#include "options.h"
#include "results.h"
#include "suites.h"

namespace {

using namespace hcpcal;

// Every rank's host and GPU model, by rank, from each process's "host\tmodel0\tmodel1...".
RunInfo gather_run(const ProcessGroup& pg, const LaunchInfo& l, std::vector<std::string>* process_hosts) {
  int visible = 0;
  HCPSIM_CUDA_CHECK(cudaGetDeviceCount(&visible));
  std::string mine = host_name();
  for (int s = 0; s < l.gpus_per_process; ++s) {
    cudaDeviceProp prop{};
    HCPSIM_CUDA_CHECK(cudaGetDeviceProperties(&prop, device_for_slot(l, s, visible)));
    mine += std::string("\t") + prop.name;
  }
  RunInfo run;
  run.launch = launcher_name(l.launcher);
  run.mpi = pg.uses_mpi();
  run.processes = l.processes;
  run.gpus_per_process = l.gpus_per_process;
  run.ranks = l.ranks();
  for (const std::string& p : pg.allgather(mine)) {
    const size_t tab = p.find('\t');
    process_hosts->push_back(p.substr(0, tab));
    for (size_t at = tab; at != std::string::npos;) {
      const size_t next = p.find('\t', at + 1);
      run.rank_hosts.push_back(process_hosts->back());
      run.rank_gpus.push_back(p.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1));
      at = next;
    }
  }
  return run;
}

int run(const Options& o, const ProcessGroup& pg, const LaunchInfo& l) {
  int visible = 0;
  HCPSIM_CUDA_CHECK(cudaGetDeviceCount(&visible));
  HCPSIM_CUDA_CHECK(cudaSetDevice(device_for_slot(l, 0, visible)));
  std::vector<std::string> process_hosts;
  const RunInfo info = gather_run(pg, l, &process_hosts);
  const bool writer = pg.rank() == 0;
  std::unique_ptr<MeasurementLog> log;
  if (writer) {
    std::string summary;
    const std::string env = environment_json(info, &summary);
    std::printf("# hcpcal: %s\n# iterations %d, warm-up %d runs and >= %g ms, check %d, out %s\n", summary.c_str(),
                o.iters, o.warmup, o.warmup_ms, int(o.check), o.out.c_str());
    for (int r = 0; r < info.ranks; ++r)
      std::printf("#  Rank %3d on %s (%s)\n", r, info.rank_hosts[r].c_str(), info.rank_gpus[r].c_str());
    log = std::make_unique<MeasurementLog>(o.out, o.argv, env);
    // The one-GPU suites: process 0's first GPU.
    if (wants(o, "attention")) run_attention_suite(o, *log);
    if (wants(o, "gemm")) run_gemm_suite(o, *log);
    if (wants(o, "copy")) run_copy_suite(o, *log);
    if (wants(o, "cp") && l.ranks() == 1) run_cp_suite(o, *log);
  }
  const bool cp_on_ranks = wants(o, "cp") && l.ranks() > 1;
  if (wants(o, "nccl") || wants(o, "interference") || cp_on_ranks) {
    pg.barrier();
    NcclWorld world(pg, l, place_ranks(process_hosts, l.gpus_per_process));
    if (cp_on_ranks) run_cp_suite(o, world, log.get());
    if (wants(o, "nccl")) run_nccl_suite(o, world, log.get());
    if (wants(o, "interference")) run_interference_suite(o, world, log.get());
  }
  long long wrong = 0;
  if (writer) {
    log->finish();
    wrong = log->total_wrong();
    std::printf("#\n# Out of bounds values : %lld %s\n", wrong, wrong ? "FAILED" : "OK");
  }
  double verdict = double(wrong);
  pg.broadcast(&verdict, sizeof verdict);  // every process exits as process 0 does
  return verdict ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  LaunchInfo l;
  try {
    o = parse_options(argc, argv);
    if (o.help) {
      std::printf("%s", usage().c_str());
      return 0;
    }
    l = detect_launch([](const char* name) -> const char* { return std::getenv(name); }, o.gpus);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "hcpcal: %s\n%s", e.what(), usage().c_str());
    return 2;
  }
  std::unique_ptr<ProcessGroup> pg;
  try {
    pg = std::make_unique<ProcessGroup>(&argc, &argv, l);
  } catch (const LaunchError& e) {
    std::fprintf(stderr, "hcpcal: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hcpcal: %s\n", e.what());
    return 3;
  }
  try {  // a launch this machine cannot serve (too few GPUs for -g): exit 2
    int visible = 0;
    HCPSIM_CUDA_CHECK(cudaGetDeviceCount(&visible));
    for (int s = 0; s < l.gpus_per_process; ++s) device_for_slot(l, s, visible);
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "hcpcal (process %d): %s\n", pg->rank(), e.what());
    pg->abort(2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hcpcal (process %d): %s\n", pg->rank(), e.what());
    pg->abort(3);
  }
  try {
    return run(o, *pg, l);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hcpcal (process %d): %s\n", pg->rank(), e.what());
    pg->abort(3);
  }
}
