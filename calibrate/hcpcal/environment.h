#pragma once
#include <string>
#include <vector>

namespace hcpcal {

// How the run was laid out, for the environment block (gathered from every process).
struct RunInfo {
  std::string launch = "single";          // launcher_name()
  bool mpi = false;                       // NCCL bootstrapped over MPI
  int processes = 1, gpus_per_process = 1, ranks = 1;
  std::vector<std::string> rank_hosts;    // hostname of every rank, by rank
  std::vector<std::string> rank_gpus;     // GPU model of every rank, by rank
};

// This process's hostname.
std::string host_name();

// JSON object text for measurements.json's "environment" (this process's GPU, driver and
// library versions; the run's ranks, hosts and GPUs); `summary` gets one line for the banner.
std::string environment_json(const RunInfo& run, std::string* summary);

}  // namespace hcpcal
